import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { requireCpuTarget, systemNodes, trackCpu } from './node-scaling-helpers';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';
import { ConfigurationError } from '../private/errors';
import { acknowledge, findingValue } from '../private/nag';
import { CLUSTER_AUTOSCALER_CHARTS, CLUSTER_AUTOSCALER_FOR_KUBERNETES, imagesOf, minorOf } from '../private/versions';

/** How long the autoscaler's pods may take to be ready: within the kubectl provider's 15-minute invocation. */
const CHART_TIMEOUT = Duration.minutes(10);

/**
 * Options of the Cluster Autoscaler.
 */
export interface ClusterAutoscalerOptions {
  /**
   * The version of the `cluster-autoscaler` Helm chart (https://kubernetes.github.io/autoscaler).
   * A chart carries the permissions of its own autoscaler version, so the platform
   * runs the image of that version, or of a newer one whose reads the library
   * checked those permissions grant (9.59.0 runs v1.35.0 and v1.36.1).
   *
   * @default - the chart for the cluster's Kubernetes version: '9.59.0' (autoscaler v1.36.1) for 1.36, '9.59.0' (v1.35.0) for 1.35
   */
  readonly chartVersion?: string;

  /**
   * The Cluster Autoscaler image tag. It must be a patch of a version the chart
   * runs (synthesis fails otherwise), and is needed only for a chart the library
   * does not know.
   *
   * @default - the version the chart runs for the cluster's Kubernetes version, else the one it ships
   */
  readonly imageTag?: string;

  /**
   * Also make the node groups' Auto Scaling groups track this average CPU
   * utilization. The Cluster Autoscaler's FAQ advises against combining it with a
   * CPU-based node autoscaler (they fight over the group size), so synthesis warns.
   *
   * @default - no target tracking
   */
  readonly cpuTargetTrackingPercent?: number;
}

/**
 * The Cluster Autoscaler, with CPU target tracking when asked (and a warning):
 * what `NodeScaling.clusterAutoscaler()` returns.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', { vpc, nodeScaling: new ClusterAutoscalerScaling({ chartVersion: '9.59.0' }) });
 */
export class ClusterAutoscalerScaling implements INodeScaling {
  public readonly strategy = NodeScalingStrategy.CLUSTER_AUTOSCALER;
  public readonly resizesNodeGroups?: boolean = true;
  public readonly cpuTargetTrackingPercent?: number;

  constructor(private readonly options: ClusterAutoscalerOptions = {}) {
    this.cpuTargetTrackingPercent = requireCpuTarget(options.cpuTargetTrackingPercent);
  }

  public bind(cluster: INodeScalingTarget): void {
    installClusterAutoscaler(cluster, this.options);
    if (this.cpuTargetTrackingPercent !== undefined) {
      Annotations.of(cluster).addWarningV2('codelearn:node-scaling-combined',
        'Cluster Autoscaler and CPU target tracking both resize the node groups: the Cluster Autoscaler FAQ advises against ' +
        'combining it with a CPU-based node autoscaler. Prefer the Cluster Autoscaler with the services\' CPU-based HPAs.');
    }
    trackCpu(cluster, this.cpuTargetTrackingPercent);
  }
}

/**
 * The Cluster Autoscaler: reads the node groups' Auto Scaling groups and changes
 * the size only of those tagged as owned by this cluster.
 */
function installClusterAutoscaler(cluster: INodeScalingTarget, options: ClusterAutoscalerOptions): void {
  const stack = Stack.of(cluster);
  const kubernetesMinor = cluster.kubernetesVersion.version;
  const { chartVersion, imageTag } = clusterAutoscalerVersions(options, kubernetesMinor);
  if (minorOf(imageTag) !== kubernetesMinor) {
    Annotations.of(cluster).addWarningV2('codelearn:cluster-autoscaler-skew',
      `The Cluster Autoscaler ${imageTag} does not match the cluster's Kubernetes ${kubernetesMinor}: the autoscaler supports the ` +
      'Kubernetes minor version of its own number. Choose the chart that ships it (`NodeScaling.clusterAutoscaler({ chartVersion })`).');
  }
  const serviceAccount = 'cluster-autoscaler';
  const { role, association } = cluster.addServiceAccountRole('ClusterAutoscalerRole', 'kube-system', serviceAccount);
  const nodegroups = stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${cluster.clusterName}/*` });
  const policy = new iam.ManagedPolicy(cluster, 'ClusterAutoscalerPolicy', {
    description: `Cluster Autoscaler of ${cluster.node.path}`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: [
          'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags',
          'ec2:DescribeImages', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        resources: ['*'],
        conditions: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.clusterName}`]: 'owned' } },
      }),
      new iam.PolicyStatement({
        actions: ['eks:DescribeNodegroup'],
        resources: [nodegroups],
      }),
    ],
  });
  acknowledge(policy, {
    'AwsSolutions-IAM5[Resource::*]': 'Describe actions, which Auto Scaling and EC2 do not scope to resources, and resizing, ' +
      'which the condition limits to the Auto Scaling groups tagged as owned by this cluster.',
    [`AwsSolutions-IAM5[Resource::${findingValue(cluster, nodegroups)}]`]:
      'Reading the labels and taints of this cluster\'s node groups, to scale a group up from zero.',
  });
  const chart = cluster.eksCluster.addHelmChart('ClusterAutoscaler', {
    chart: 'cluster-autoscaler',
    repository: 'https://kubernetes.github.io/autoscaler',
    version: chartVersion,
    namespace: 'kube-system',
    release: 'cluster-autoscaler',
    wait: true,
    timeout: CHART_TIMEOUT,
    values: {
      cloudProvider: 'aws',
      awsRegion: stack.region,
      autoDiscovery: { clusterName: cluster.clusterName },
      // The image of the chart's own autoscaler version: its RBAC rules are written for it.
      image: { tag: imageTag },
      rbac: { serviceAccount: { create: true, name: serviceAccount } },
      resources: { requests: { cpu: '100m', memory: '300Mi' }, limits: { memory: '600Mi' } },
      extraArgs: {
        'balance-similar-node-groups': true,
        'skip-nodes-with-system-pods': false,
        // The services' /tmp, metrics-server's and the EBS CSI controller's emptyDirs hold
        // nothing worth keeping: without this a node that ever ran one is never removed.
        'skip-nodes-with-local-storage': false,
        // Prefer the spot group for pods that tolerate it, then the least waste.
        'expander': 'priority,least-waste',
      },
      // Matched against the Auto Scaling group names (eks-<node group>-<id>); groups
      // that match no pattern would be dropped, hence the catch-all.
      expanderPriorities: { 50: ['.*SpotNodes.*'], 10: ['.*'] },
    },
  });
  // Its pods need nodes, and their role, policy and Pod Identity association before
  // they ask for credentials.
  chart.node.addDependency(systemNodes(cluster, 'The Cluster Autoscaler'), role, policy, association);
}

/**
 * The Cluster Autoscaler chart and image: the chart for the cluster's Kubernetes
 * version, and always an image whose API reads that chart's permissions grant:
 * its own, or a newer one the table says its rules serve.
 */
function clusterAutoscalerVersions(options: ClusterAutoscalerOptions, kubernetesMinor: string): { chartVersion: string; imageTag: string } {
  const chartVersion = options.chartVersion ?? CLUSTER_AUTOSCALER_FOR_KUBERNETES[kubernetesMinor]?.chart;
  if (!chartVersion) {
    throw new ConfigurationError(`The library knows no Cluster Autoscaler chart for Kubernetes ${kubernetesMinor}: set \`nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion, imageTag })\` ` +
      'to a chart of https://kubernetes.github.io/autoscaler and the autoscaler version it ships (its appVersion).');
  }
  const chart = CLUSTER_AUTOSCALER_CHARTS[chartVersion];
  const images = chart ? imagesOf(chart) : [];
  // Unless told: the image of the cluster's minor version the chart serves, else the chart's own.
  const imageTag = options.imageTag ?? images.find(image => minorOf(image) === kubernetesMinor) ?? chart?.appVersion;
  if (!imageTag) {
    throw new ConfigurationError(`\`clusterAutoscaler.chartVersion\` ('${chartVersion}') is not a chart the library knows: set \`imageTag\` to the autoscaler ` +
      'version it ships (its appVersion, such as \'v1.36.1\'), so that image and permissions match.');
  }
  if (!minorOf(imageTag)) {
    throw new ConfigurationError(`\`clusterAutoscaler.imageTag\` ('${imageTag}') is not an autoscaler version such as 'v1.36.1'.`);
  }
  if (chart && !images.some(image => minorOf(image) === minorOf(imageTag))) {
    throw new ConfigurationError(`\`clusterAutoscaler.imageTag\` ('${imageTag}') is not an autoscaler version chart ${chartVersion} runs (${images.join(' or ')}): ` +
      `the chart's permissions are written for its own version. Remove \`imageTag\`, or choose the chart that ships ${minorOf(imageTag)}.`);
  }
  return { chartVersion, imageTag };
}
