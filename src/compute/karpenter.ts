import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { systemNodes } from './node-scaling-helpers';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';
import { ConfigurationError } from '../private/errors';
import { ec2NodeClass, nodePoolDuration, SPOT_FALLBACK_VALUE, SPOT_VALUE, workloadNodePools } from '../private/karpenter';
import { acknowledge, findingValue } from '../private/nag';
import { pascalCase } from '../private/names';
import { workerNodeRole } from '../private/node-role';
import { requireWholeNumber } from '../private/validate';
import { KARPENTER_KUBERNETES, KARPENTER_VERSION } from '../private/versions';

/** How long Karpenter's pods may take to be ready: within the kubectl provider's 15-minute invocation. */
const CHART_TIMEOUT = Duration.minutes(10);
const REGISTRY = 'oci://public.ecr.aws/karpenter';
const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'karpenter';

/**
 * Options of Karpenter.
 */
export interface KarpenterOptions {
  /**
   * The version of the `karpenter` and `karpenter-crd` Helm charts
   * (oci://public.ecr.aws/karpenter), which is Karpenter's own. The controller's
   * permissions and the NodePools are written for 1.14; another minor version warns.
   *
   * @default '1.14.1'
   */
  readonly chartVersion?: string;

  /**
   * Whether spot services may run on on-demand nodes of their own pool, tainted as
   * spot ones are, when EC2 has no spot capacity of any type the spot pool allows:
   * a NodePool of lower weight. Karpenter's consolidation replaces those nodes
   * with spot ones once spot is offered again. Without it, a spot service's pods
   * wait for spot capacity.
   *
   * @default true
   */
  readonly spotFallback?: boolean;

  /**
   * How long a node must be empty or underused before Karpenter consolidates it
   * (moves its pods and removes it).
   *
   * @default Duration.minutes(1)
   */
  readonly consolidateAfter?: Duration;

  /**
   * How long a node lives before Karpenter replaces it: nodes take a fresh AMI
   * at least this often. From 1 hour to 90 days.
   *
   * @default Duration.days(30)
   */
  readonly expireAfter?: Duration;

  /**
   * The vCPUs the on-demand NodePool may launch in all.
   *
   * @default - the on-demand node group's `maxSize` times its instance type's vCPUs
   */
  readonly cpuLimit?: number;

  /**
   * The memory, in GiB, the on-demand NodePool may launch in all.
   *
   * @default - the on-demand node group's `maxSize` times its instance type's memory
   */
  readonly memoryLimitGiB?: number;
}

/**
 * Karpenter, which launches nodes for pending pods from NodePools and
 * consolidates them: what `NodeScaling.karpenter()` returns.
 *
 * - Its controller runs on the managed on-demand node group (never on a node it
 *   launched), with a least-privilege Pod Identity role, and reads spot
 *   interruptions, rebalance recommendations, instance state changes and AWS
 *   Health scheduled changes from an SQS queue that EventBridge fills.
 * - One `EC2NodeClass`: Amazon Linux 2023, IMDSv2 with one hop, encrypted gp3
 *   root volumes with the cluster's key, the node groups' subnets and security
 *   groups, and a node role of its own with an EKS access entry.
 * - NodePools: `codelearn-on-demand` for ordinary pods; with `spot`,
 *   `codelearn-spot` (tainted, weight 100) and `codelearn-spot-fallback`
 *   (on-demand, tainted, weight 50) for `spot: true` services, whose pods then
 *   require those nodes. The cluster makes no spot node group.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', { vpc, nodeScaling: new KarpenterScaling({ spotFallback: false }) });
 */
export class KarpenterScaling implements INodeScaling {
  public readonly strategy = NodeScalingStrategy.KARPENTER;
  public readonly launchesSpotCapacity?: boolean = true;
  public readonly spotCapacityValues?: string[];

  private readonly chartVersion: string;
  private readonly consolidateAfter: string;
  private readonly expireAfter: string;

  constructor(private readonly options: KarpenterOptions = {}) {
    this.chartVersion = options.chartVersion ?? KARPENTER_VERSION;
    if (!/^1\.\d+\.\d+$/.test(this.chartVersion)) {
      throw new ConfigurationError(`\`karpenter.chartVersion\` ('${this.chartVersion}') is not a Karpenter v1 release such as '${KARPENTER_VERSION}'.`);
    }
    this.consolidateAfter = nodePoolDuration('karpenter.consolidateAfter', options.consolidateAfter ?? Duration.minutes(1), 0, 24 * 3600);
    this.expireAfter = nodePoolDuration('karpenter.expireAfter', options.expireAfter ?? Duration.days(30), 3600, 90 * 24 * 3600);
    if (options.cpuLimit !== undefined) requireWholeNumber('karpenter.cpuLimit', options.cpuLimit, 1, 100_000);
    if (options.memoryLimitGiB !== undefined) requireWholeNumber('karpenter.memoryLimitGiB', options.memoryLimitGiB, 1, 1_000_000);
    this.spotCapacityValues = options.spotFallback === false ? [SPOT_VALUE] : [SPOT_VALUE, SPOT_FALLBACK_VALUE];
  }

  public bind(cluster: INodeScalingTarget): void {
    const minor = cluster.kubernetesVersion.version;
    if (!KARPENTER_KUBERNETES.includes(minor)) {
      throw new ConfigurationError(`Karpenter ${KARPENTER_VERSION} does not serve Kubernetes ${minor} (it serves ${KARPENTER_KUBERNETES[0]} to ` +
        `${KARPENTER_KUBERNETES[KARPENTER_KUBERNETES.length - 1]}): choose a Kubernetes version it serves, or \`NodeScaling.clusterAutoscaler()\`.`);
    }
    if (this.chartVersion.split('.')[1] !== KARPENTER_VERSION.split('.')[1]) {
      Annotations.of(cluster).addWarningV2('codelearn:karpenter-version',
        `Karpenter ${this.chartVersion} is not the ${KARPENTER_VERSION} the library writes its permissions and NodePools for: ` +
        'read its upgrade notes (karpenter.sh, "Upgrade Guide") before you deploy it.');
    }
    const nodes = this.nodeAccess(cluster);
    const queue = this.interruptionQueue(cluster);
    const controller = this.installController(cluster, nodes.role, queue);
    const nodeClass = cluster.eksCluster.addManifest('KarpenterNodeClass', ec2NodeClass({
      instanceProfile: nodes.profile.instanceProfileName,
      subnetIds: cluster.nodeLaunch.subnets.map(subnet => subnet.subnetId),
      securityGroupIds: cluster.nodeLaunch.securityGroups.map(group => group.securityGroupId),
      kmsKeyArn: cluster.nodeLaunch.encryptionKey.keyArn,
      volumeSizeGib: cluster.nodeLaunch.volumeSizeGib,
      detailedMonitoring: cluster.nodeLaunch.detailedMonitoring,
      amiReleaseVersion: cluster.nodeLaunch.amiReleaseVersion,
    }));
    // Its CRD and controller first; and nodes launched from it can join the cluster.
    nodeClass.node.addDependency(controller, nodes.accessEntry);
    // A manifest a pool: kubectl's prune keeps custom resources, so a pool that goes
    // (`spotFallback: false`) goes with its own manifest, deleted with `kubectl delete`.
    for (const pool of this.nodePools(cluster)) {
      const manifest = cluster.eksCluster.addManifest(`KarpenterNodePool${pascalCase(pool.metadata.name.replace(/^codelearn-/, ''))}`, pool);
      // Deleted before the node class, whose finalizer waits for the pool's nodes to go.
      manifest.node.addDependency(nodeClass);
      cluster.addWorkloadCapacity(manifest);
    }
  }

  /** The NodePools: on-demand for every pod; with spot, a spot pool and its on-demand fallback, both tainted. */
  private nodePools(cluster: INodeScalingTarget): any[] {
    return workloadNodePools('karpenter', cluster.nodeLaunch, {
      consolidateAfter: this.consolidateAfter,
      expireAfter: this.expireAfter,
      spotFallback: this.options.spotFallback !== false,
      cpuLimit: this.options.cpuLimit,
      memoryLimitGib: this.options.memoryLimitGiB,
    });
  }

  /** The role of the nodes Karpenter launches, their instance profile, and the access entry that lets them join. */
  private nodeAccess(cluster: INodeScalingTarget): { role: iam.Role; profile: iam.InstanceProfile; accessEntry: eks.CfnAccessEntry } {
    const role = workerNodeRole(cluster, 'KarpenterNodeRole', `Nodes that Karpenter launches for ${cluster.node.path}`);
    const profile = new iam.InstanceProfile(cluster, 'KarpenterNodeProfile', { role });
    // EKS makes the entries of managed node groups' roles itself, not of this one.
    const accessEntry = new eks.CfnAccessEntry(cluster, 'KarpenterNodeAccess', {
      clusterName: cluster.clusterName,
      principalArn: role.roleArn,
      type: 'EC2_LINUX',
    });
    // The cluster's name is known at synth time, so nothing else orders the entry after the cluster.
    accessEntry.node.addDependency(cluster.eksCluster.node.defaultChild!);
    return { role, profile, accessEntry };
  }

  /** The queue of EC2 and AWS Health events Karpenter reads, to drain a node before EC2 takes it. */
  private interruptionQueue(cluster: INodeScalingTarget): sqs.Queue {
    const queue = new sqs.Queue(cluster, 'KarpenterInterruptions', {
      // Karpenter's own: an event older than a spot notice's two minutes helps no one.
      retentionPeriod: Duration.minutes(5),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(queue, {
      'AwsSolutions-SQS3': 'Karpenter\'s interruption queue holds EC2 notices for 5 minutes, and Karpenter deletes each one it reads; ' +
        'a notice it cannot read is stale by the time a dead-letter queue would hold it.',
    });
    const rules: Array<[string, events.EventPattern]> = [
      ['SpotInterruption', { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] }],
      ['Rebalance', { source: ['aws.ec2'], detailType: ['EC2 Instance Rebalance Recommendation'] }],
      ['InstanceStateChange', { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'] }],
      ['ScheduledChange', { source: ['aws.health'], detailType: ['AWS Health Event'] }],
    ];
    for (const [name, eventPattern] of rules) {
      new events.Rule(cluster, `Karpenter${name}`, {
        description: `Karpenter of ${cluster.clusterName}: ${eventPattern.detailType![0]}`,
        eventPattern,
        targets: [new targets.SqsQueue(queue)],
      });
    }
    return queue;
  }

  /** The CRDs' chart, then the controller's, with its Pod Identity role and policy. */
  private installController(cluster: INodeScalingTarget, nodeRole: iam.Role, queue: sqs.Queue): eks.HelmChart {
    const stack = Stack.of(cluster);
    const name = cluster.clusterName;
    const { role, association } = cluster.addServiceAccountRole('KarpenterControllerRole', NAMESPACE, SERVICE_ACCOUNT);
    const policy = controllerPolicy(cluster, role, nodeRole, queue);
    cluster.allowPublicEcrCharts();
    // The CRDs as a chart of their own: Helm installs a chart's crds/ once and never upgrades them.
    const crds = cluster.eksCluster.addHelmChart('KarpenterCrds', {
      chart: 'karpenter-crd',
      repository: `${REGISTRY}/karpenter-crd`,
      version: this.chartVersion,
      namespace: NAMESPACE,
      release: 'karpenter-crd',
      // Until the API server serves them (Established): the NodePools come next.
      wait: true,
      timeout: CHART_TIMEOUT,
    });
    const chart = cluster.eksCluster.addHelmChart('Karpenter', {
      chart: 'karpenter',
      repository: `${REGISTRY}/karpenter`,
      version: this.chartVersion,
      namespace: NAMESPACE,
      release: 'karpenter',
      wait: true,
      timeout: CHART_TIMEOUT,
      values: {
        serviceAccount: { create: true, name: SERVICE_ACCOUNT },
        // Two, on two nodes (the chart's anti-affinity), where the node group keeps two.
        replicas: cluster.nodeLaunch.minNodes >= 2 ? 2 : 1,
        settings: {
          clusterName: name,
          clusterEndpoint: cluster.eksCluster.clusterEndpoint,
          interruptionQueue: queue.queueName,
        },
        controller: {
          // IMDSv2 with one hop keeps pods from the instance metadata, where the SDK would find the region.
          env: [{ name: 'AWS_REGION', value: stack.region }],
          resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
        },
      },
    });
    // Its pods need the managed nodes, the CRDs, and their role, policy and Pod
    // Identity association before they ask for credentials; on delete the
    // controller outlives its NodePools, and the CRDs outlive the controller.
    chart.node.addDependency(crds, systemNodes(cluster, 'Karpenter'), role, policy, association);
    // It resolves AWS's endpoints through CoreDNS: on delete, with CoreDNS gone, it could end
    // no node, and the node class's finalizer would wait for them past the provider's 15 minutes.
    chart.node.addDependency(cluster.nodeAddons);
    return chart;
  }
}

/**
 * Karpenter's controller policy, after the one its getting-started guide gives
 * for 1.14, less what this stack does itself: it creates the instance profile
 * (so no instance-profile writes) and turns zonal shift off (no ARC read).
 */
function controllerPolicy(cluster: INodeScalingTarget, role: iam.IRole, nodeRole: iam.IRole, queue: sqs.IQueue): iam.ManagedPolicy {
  const stack = Stack.of(cluster);
  const name = cluster.clusterName;
  const ec2 = (resource: string) => stack.formatArn({ service: 'ec2', account: resource.startsWith('image') || resource.startsWith('snapshot') ? '' : '*', resource });
  const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${name}`]: 'owned' };
  const ownedRequest = { [`aws:RequestTag/kubernetes.io/cluster/${name}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': name };
  const shared = ['image/*', 'snapshot/*', 'security-group/*', 'subnet/*', 'capacity-reservation/*', 'placement-group/*'].map(ec2);
  const launched = ['fleet/*', 'instance/*', 'volume/*', 'network-interface/*', 'launch-template/*', 'spot-instances-request/*'].map(ec2);
  const parameters = stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: 'aws/service/*' });
  const profiles = stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*' });
  const statements = [
    new iam.PolicyStatement({
      sid: 'LaunchFromSharedResources',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: shared,
    }),
    new iam.PolicyStatement({
      sid: 'LaunchFromOwnLaunchTemplates',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [ec2('launch-template/*')],
      conditions: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'CreateOwnedResources',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      resources: launched,
      conditions: { StringEquals: ownedRequest, StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags'],
      resources: launched,
      conditions: {
        StringEquals: { ...ownedRequest, 'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'TagOwnInstances',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance/*')],
      conditions: {
        'StringEquals': owned,
        'StringLike': { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        'StringEqualsIfExists': { 'aws:RequestTag/eks:eks-cluster-name': name },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DeleteOwnResources',
      actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      resources: [ec2('instance/*'), ec2('launch-template/*')],
      conditions: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'PassNodeRole',
      actions: ['iam:PassRole'],
      resources: [nodeRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      // EC2 makes the Spot service-linked role on the first spot launch of an account, as the caller.
      sid: 'CreateSpotServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot' })],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      sid: 'DescribeCluster',
      actions: ['eks:DescribeCluster'],
      resources: [stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: name })],
    }),
    new iam.PolicyStatement({
      sid: 'ReadInterruptions',
      actions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      resources: [queue.queueArn],
    }),
    new iam.PolicyStatement({
      sid: 'DiscoverRegionalResources',
      actions: [
        'ec2:DescribeCapacityReservations', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplates', 'ec2:DescribePlacementGroups',
        'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets', 'pricing:GetProducts', 'iam:ListInstanceProfiles',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadAmiParameters',
      actions: ['ssm:GetParameter'],
      resources: [parameters],
    }),
    new iam.PolicyStatement({
      sid: 'ReadInstanceProfiles',
      actions: ['iam:GetInstanceProfile'],
      resources: [profiles],
    }),
  ];
  const policy = new iam.ManagedPolicy(cluster, 'KarpenterControllerPolicy', {
    description: `Karpenter of ${cluster.node.path}: launches and ends only nodes tagged as this cluster's NodePools'`,
    roles: [role],
    statements,
  });
  const launchReason = 'A launch uses the AMI, snapshot, subnets and security groups that EC2 picks by the node class\'s selectors; ' +
    'what it creates, and what it ends, must carry this cluster\'s tags (conditions).';
  acknowledge(policy, Object.fromEntries([
    ['*', 'Describe actions of EC2, the Pricing API and IAM\'s instance profile list, which take no resource.'],
    ...[...shared, ...launched].map(resource => [resource, launchReason]),
    [parameters, 'AWS\'s public parameters of the EKS AMIs, from which the node class\'s alias resolves.'],
    [profiles, 'Karpenter reads the node class\'s instance profile, whose name CloudFormation generates.'],
  ].map(([resource, reason]) => [`AwsSolutions-IAM5[Resource::${findingValue(cluster, resource)}]`, reason])));
  return policy;
}

