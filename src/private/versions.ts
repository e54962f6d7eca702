import * as eks from 'aws-cdk-lib/aws-eks-v2';

/**
 * The versions the platform runs, in one place: the Kubernetes version, the
 * kubectl layer that matches it (a peer dependency: `@aws-cdk/lambda-layer-kubectl-v35`),
 * and the Cluster Autoscaler that matches it.
 */
export const KUBERNETES_VERSION = eks.KubernetesVersion.V1_35;

/** The Kubernetes minor version of the kubectl layer the library ships with. */
export const KUBECTL_LAYER_MINOR = '1.35';

/**
 * The cluster-autoscaler Helm charts (https://kubernetes.github.io/autoscaler)
 * the library knows, by chart version, with the autoscaler version each ships
 * (its appVersion) and so the image it must run: a chart carries the RBAC rules of
 * its own autoscaler version. Autoscaler 1.35 watches `resource.k8s.io` objects,
 * which charts before 9.54.0 do not let it read: it then waits forever and never
 * scales. Charts 9.54.0 to 9.55.0 ship 1.35 but default to the 1.34 image, so the
 * platform always sets the image from this table.
 */
export const CLUSTER_AUTOSCALER_CHARTS: { readonly [chart: string]: string } = {
  '9.59.0': 'v1.35.0',
  '9.58.0': 'v1.35.0',
  '9.57.0': 'v1.35.0',
  '9.56.0': 'v1.35.0',
  '9.55.1': 'v1.35.0',
  '9.55.0': 'v1.35.0',
  '9.54.1': 'v1.35.0',
  '9.54.0': 'v1.35.0',
  '9.53.0': 'v1.34.2',
  '9.52.1': 'v1.34.1',
  '9.52.0': 'v1.34.1',
};

/** The chart the platform installs for each Kubernetes minor version: the newest that ships its autoscaler. */
/* eslint-disable @stylistic/quote-props -- versions are text: 1.30 unquoted would be the key '1.3' */
export const CLUSTER_AUTOSCALER_FOR_KUBERNETES: { readonly [minor: string]: string } = {
  '1.35': '9.59.0',
  '1.34': '9.53.0',
};
/* eslint-enable @stylistic/quote-props */

/** `v1.35.0` or `1.35` becomes `1.35`; undefined when the text is no version. */
export function minorOf(version: string): string | undefined {
  return /^v?(\d+\.\d+)(\.\d+)?$/.exec(version)?.[1];
}
