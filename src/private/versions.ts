import * as eks from 'aws-cdk-lib/aws-eks-v2';

/**
 * The versions the platform runs, in one place: the Kubernetes version, the
 * kubectl layer that matches it (a peer dependency: `@aws-cdk/lambda-layer-kubectl-v36`),
 * and the Cluster Autoscaler that matches it.
 */
export const KUBERNETES_VERSION = eks.KubernetesVersion.V1_36;

/** The Kubernetes minor version of the kubectl layer the library ships with. */
export const KUBECTL_LAYER_MINOR = '1.36';

/** A Cluster Autoscaler Helm chart, and the autoscaler images its RBAC rules serve. */
export interface AutoscalerChart {
  /** The autoscaler version the chart ships (its appVersion): the image it runs unless told. */
  readonly appVersion: string;
  /**
   * Newer autoscaler images whose API reads the chart's ClusterRole already
   * grants, each checked against the autoscaler's own manifest for its release
   * (cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml
   * at the tag cluster-autoscaler-<version>).
   */
  readonly alsoServes?: string[];
}

/**
 * The cluster-autoscaler Helm charts (https://kubernetes.github.io/autoscaler)
 * the library knows, by chart version: a chart carries the RBAC rules of its own
 * autoscaler version. Autoscaler 1.35 watches `resource.k8s.io` objects, which
 * charts before 9.54.0 do not let it read: it then waits forever and never scales.
 * Charts 9.54.0 to 9.55.0 ship 1.35 but default to the 1.34 image, so the platform
 * always sets the image from this table. No chart in the newest chart index this
 * project could read (the gh-pages branch of kubernetes/autoscaler, 2026-07-26)
 * ships autoscaler 1.36: 9.59.0, appVersion 1.35.0, is the newest. Autoscaler
 * 1.36.1 reads nothing that 9.59.0's ClusterRole does not grant (its manifest adds
 * no rule to 1.35's, and its capacity-buffer controller, which would need more,
 * is off unless `--capacity-buffer-controller-enabled`), so 9.59.0 serves it.
 */
export const CLUSTER_AUTOSCALER_CHARTS: { readonly [chart: string]: AutoscalerChart } = {
  '9.59.0': { appVersion: 'v1.35.0', alsoServes: ['v1.36.1'] },
  '9.58.0': { appVersion: 'v1.35.0' },
  '9.57.0': { appVersion: 'v1.35.0' },
  '9.56.0': { appVersion: 'v1.35.0' },
  '9.55.1': { appVersion: 'v1.35.0' },
  '9.55.0': { appVersion: 'v1.35.0' },
  '9.54.1': { appVersion: 'v1.35.0' },
  '9.54.0': { appVersion: 'v1.35.0' },
  '9.53.0': { appVersion: 'v1.34.2' },
  '9.52.1': { appVersion: 'v1.34.1' },
  '9.52.0': { appVersion: 'v1.34.1' },
};

/** The autoscaler images `chart` can run: its own, then those its rules also serve. */
export function imagesOf(chart: AutoscalerChart): string[] {
  return [chart.appVersion, ...(chart.alsoServes ?? [])];
}

/** The chart and image the platform installs for each Kubernetes minor version. */
/* eslint-disable @stylistic/quote-props -- versions are text: 1.30 unquoted would be the key '1.3' */
export const CLUSTER_AUTOSCALER_FOR_KUBERNETES: { readonly [minor: string]: { readonly chart: string; readonly image: string } } = {
  '1.36': { chart: '9.59.0', image: 'v1.36.1' },
  '1.35': { chart: '9.59.0', image: 'v1.35.0' },
  '1.34': { chart: '9.53.0', image: 'v1.34.2' },
};
/* eslint-enable @stylistic/quote-props */

/** `v1.35.0` or `1.35` becomes `1.35`; undefined when the text is no version. */
export function minorOf(version: string): string | undefined {
  return /^v?(\d+\.\d+)(\.\d+)?$/.exec(version)?.[1];
}

/**
 * Karpenter (https://karpenter.sh), installed from its OCI registry: the
 * `karpenter-crd` chart (its CRDs, which Helm upgrades only as templates) and the
 * `karpenter` chart, both of this version. Karpenter announces no end of support:
 * it patches its newest minor versions only, and each minor version serves the
 * Kubernetes versions of its compatibility matrix
 * (website/content/en/v1.14/upgrading/compatibility.md, read 2026-12-07): 1.36
 * needs Karpenter 1.13 or later.
 */
export const KARPENTER_VERSION = '1.14.1';

/** The Kubernetes minor versions Karpenter 1.14 serves. */
export const KARPENTER_KUBERNETES = ['1.30', '1.31', '1.32', '1.33', '1.34', '1.35', '1.36'];
