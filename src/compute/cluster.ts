import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Annotations, CfnCondition, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { addAddon } from './addons';
import { ClusterProps, ClusterSupportType, NodeGroupSize } from './cluster-options';
import { installLoadBalancerController } from './load-balancer-controller';
import { addScheduledActions, lookUpAutoScalingGroupName, validateSchedules } from './node-groups';
import { NodeScaling } from './node-scaling';
import { INodeScaling, INodeScalingTarget, NodeLaunchSpec, ServiceAccountRole } from './node-scaling-target';
import { SandboxNodesOptions } from './sandbox-nodes';
import { IWorkloadCluster, SandboxBinding, WorkloadBinding } from './workload-cluster';
import { parseIpv4Cidr } from '../private/cidr';
import { ConfigurationError } from '../private/errors';
import { secureManagedLogGroups } from '../private/function-logs';
import { CAPACITY_KEY, namespaceOnce } from '../private/k8s';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, acknowledgeCustomResourceHandler, acknowledgeManagedPolicies } from '../private/nag';
import { workerNodeRole } from '../private/node-role';
import { ManagedPolicyGrantee, podIdentityRole } from '../private/pod-identity';
import { isProduction, profileDefaults } from '../private/profile';
import { ReleaseGates } from '../private/release-gate';
import { acknowledgeRuntimeChoice } from '../private/runtimes';
import { SANDBOX_KEY, SANDBOX_VALUE, sandboxNodeGroup, sandboxUserData } from '../private/sandbox-nodes';
import { checkSupport } from '../private/support';
import { requireAddonVersion, requireInstanceType, requireKubernetesName, requireWholeNumber } from '../private/validate';
import { KUBECTL_LAYER_MINOR, KUBERNETES_VERSION } from '../private/versions';

/** The root volume of every node. */
const NODE_VOLUME_GIB = 50;

/** The tag from which the Cluster Autoscaler learns a node group's local disk before it has a node. */
const SANDBOX_EPHEMERAL_STORAGE_TAG = 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage';

const SPOT_INSTANCE_TYPES = ['t3.medium', 't3a.medium', 'c5.large', 'c5a.large', 'c6i.large', 'c6a.large'];

/**
 * A role that one service account's pods assume through EKS Pod Identity.
 */
export interface IPodIdentity extends iam.IGrantable {
  /**
   * The role. Grant to the pod identity itself, not to the role: its grants go
   * into a customer-managed policy; the role's own would be inline.
   */
  readonly role: iam.IRole;
}

const POD_IDENTITY_AGENT = 'eks-pod-identity-agent';
const ADDONS_WITHOUT_NODES = ['vpc-cni', 'kube-proxy', POD_IDENTITY_AGENT];
const ADDONS_ON_NODES = ['coredns', 'metrics-server', 'aws-ebs-csi-driver'];
/** What EKS Auto Mode runs on its nodes itself (EKS user guide, "Automate cluster infrastructure with EKS Auto Mode"). */
const AUTO_MODE_ADDONS = [...ADDONS_WITHOUT_NODES, 'coredns', 'aws-ebs-csi-driver'];

/**
 * An Amazon EKS cluster (native `AWS::EKS::Cluster`, aws-eks-v2) with managed node
 * groups, EKS add-ons, the AWS Load Balancer Controller and node scaling.
 *
 * - Private API endpoint (public access only for the CIDRs you give), secrets
 *   envelope-encrypted with a KMS key, every control-plane log type in an
 *   encrypted log group with retention, access entries instead of `aws-auth`.
 * - An on-demand node group and a tainted spot node group on Amazon Linux 2023,
 *   through a launch template with IMDSv2 required (hop limit 1, so pods cannot
 *   read node credentials) and KMS-encrypted gp3 volumes.
 * - Add-ons: vpc-cni, kube-proxy, coredns, eks-pod-identity-agent,
 *   metrics-server and aws-ebs-csi-driver; vpc-cni and the EBS CSI driver get
 *   their permissions through EKS Pod Identity, not the node role.
 * - Helm only for what has no add-on: the AWS Load Balancer Controller (it
 *   reconciles TargetGroupBindings on load balancers that CDK owns, so its policy
 *   cannot create or delete load balancers) and the Cluster Autoscaler, each with a
 *   least-privilege Pod Identity role.
 * - On EKS Auto Mode (`NodeScaling.autoMode()`), no node groups and none of the
 *   add-ons Auto Mode runs on its nodes: its NodePools and NodeClass instead.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * const cluster = new Cluster(this, 'Cluster', {
 *   vpc,
 *   instanceType: ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.LARGE),
 *   nodes: { minSize: 3, maxSize: 20 },
 * });
 */
export class Cluster extends Construct implements IWorkloadCluster, INodeScalingTarget {
  /**
   * The label every node carries with its capacity, `on-demand` or `spot`, and the
   * key of the spot nodes' `NoSchedule` taint: a pod of your own tolerates
   * `codelearn.dev/capacity=spot` to run on spot nodes.
   */
  public static readonly CAPACITY_LABEL = CAPACITY_KEY;

  /**
   * The label the sandbox nodes carry, `codelearn.dev/workload=sandbox`, and the
   * key of their `NoSchedule` taint: only a `SandboxService`'s pods tolerate it.
   */
  public static readonly SANDBOX_LABEL = SANDBOX_KEY;

  /** The EKS cluster. */
  public readonly eksCluster: eks.Cluster;

  /**
   * The on-demand node group.
   *
   * @default - none on EKS Auto Mode (`NodeScaling.autoMode()`), which runs no managed node groups
   */
  public readonly onDemandNodes?: eks.Nodegroup;

  /**
   * The spot node group.
   *
   * @default - none in development
   */
  public readonly spotNodes?: eks.Nodegroup;

  /** The role of every node: the node groups', or on EKS Auto Mode the role of the nodes it launches. */
  public readonly nodeRole: iam.IRole;

  /** The key of the Kubernetes secrets, node volumes and control-plane logs. */
  public readonly encryptionKey: kms.IKey;

  /** The control-plane log group. */
  public readonly logGroup: logs.ILogGroup;

  /** The Kubernetes version of the control plane. */
  public readonly kubernetesVersion: eks.KubernetesVersion;

  /** The EKS add-ons, by name. */
  public readonly addons: { [name: string]: eks.CfnAddon } = {};

  /**
   * The EKS Pod Identity agent add-on, which pods that take their credentials from
   * Pod Identity wait for; on EKS Auto Mode, whose nodes run the agent themselves,
   * the cluster.
   */
  public get podIdentityAgent(): IDependable {
    return this.addons[POD_IDENTITY_AGENT] ?? this.eksCluster.node.defaultChild!;
  }

  /**
   * The capacity the cluster's own agents and controllers run on: the on-demand
   * node group, or on EKS Auto Mode the NodePools Auto Mode launches nodes from.
   * What needs nodes waits for it, and on delete goes before it.
   */
  public get capacity(): IDependable {
    return this.onDemandNodes ?? this.workloadCapacity;
  }

  /** The node scaling strategy in use. */
  public readonly nodeScaling: INodeScaling;

  /** The add-ons that run on the nodes (CoreDNS, metrics-server, the EBS CSI driver). */
  public readonly nodeAddons: IDependable;

  private readonly nodeAddonGroup = new DependencyGroup();

  /** How the node groups launch their nodes: what a strategy that launches its own (Karpenter) uses too. */
  public readonly nodeLaunch: NodeLaunchSpec;

  /**
   * The AWS Load Balancer Controller's Helm release. Objects that use its
   * TargetGroupBinding resource depend on it.
   */
  public readonly loadBalancerController: eks.HelmChart;

  private readonly namespaces = new Map<string, eks.KubernetesManifest>();

  /** The capacity the namespaces outlive: the nodes, and what the node scaling strategy launches them from. */
  private readonly workloadCapacity = new DependencyGroup();
  private publicEcrCharts = false;

  /** The namespaces of the sandboxes, which no other workload may use. */
  private readonly sandboxNamespaces = new Set<string>();

  private sandboxNodeGroup?: eks.Nodegroup;

  /** What a node group of this cluster is made with. */
  private readonly nodeDefaults: { instanceType: ec2.InstanceType; detailedMonitoring: boolean; vpcSubnets: ec2.SubnetSelection };

  /** The cluster's name, fixed at synth time (the control-plane log group is named after it). */
  private readonly name: string;

  /** How long the cluster's own log groups keep their logs. */
  private readonly logRetention: logs.RetentionDays;

  /** The subnets of the nodes, where the deploy-time look-ups run. */
  private vpcSubnets?: ec2.SubnetSelection;
  private releaseGates?: ReleaseGates;

  /** The Auto Scaling group names looked up so far, by node group. */
  private readonly autoScalingGroupNames = new Map<eks.Nodegroup, string>();
  private readonly nodeReleaseVersion?: string;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    const production = isProduction(props.profile);
    const defaults = profileDefaults(props.profile).cluster;
    this.nodeScaling = props.nodeScaling ?? NodeScaling.clusterAutoscaler();
    const autoMode = this.nodeScaling.enablesAutoMode === true;
    validateAddonVersions(props.addonVersions ?? {}, autoMode);
    if (autoMode && props.sandboxNodes) {
      throw new ConfigurationError('`sandboxNodes` is set, but EKS Auto Mode runs no managed node groups, and the sandbox nodes are one (their kubelet caps ' +
        'each pod\'s processes, which Auto Mode does not let a NodePool set): use `NodeScaling.karpenter()` or `NodeScaling.clusterAutoscaler()`, or remove it.');
    }
    if (autoMode && (props.scheduledScaling ?? []).length > 0) {
      throw new ConfigurationError('`scheduledScaling` resizes the on-demand node group, which a cluster on EKS Auto Mode does not have: ' +
        'Auto Mode launches nodes for pending pods, so schedule the services\' replicas instead, or use `NodeScaling.clusterAutoscaler()`.');
    }
    const onDemandSize = nodeGroupSize('nodes', props.nodes, defaults.nodes);
    const withSpot = props.spot ?? defaults.spot;
    const spotSize = nodeGroupSize('spotNodes', props.spotNodes, { minSize: 0, maxSize: 10, desiredSize: 0 });
    // One shape (2 vCPU, 4 GiB) across several families: the Cluster Autoscaler plans
    // with the group's first type, so a group that mixes shapes scales wrong.
    const spotInstanceTypes = props.spotInstanceTypes ?? SPOT_INSTANCE_TYPES.map(type => new ec2.InstanceType(type));
    if (props.instanceType) requireInstanceType('instanceType', props.instanceType.toString());
    spotInstanceTypes.forEach((type, index) => requireInstanceType(`spotInstanceTypes[${index}]`, type.toString()));
    if (withSpot && spotInstanceTypes.length < 2) {
      throw new ConfigurationError(`\`spotInstanceTypes\` lists ${spotInstanceTypes.length} type(s): a spot group needs at least 2, so that capacity is found when one type is short.`);
    }
    if (!withSpot && (props.spotNodes || props.spotInstanceTypes)) {
      throw new ConfigurationError('`spotNodes` and `spotInstanceTypes` are set but `spot` is false: set `spot: true`, or remove them.');
    }
    for (const cidr of props.publicEndpointCidrs ?? []) {
      const block = parseIpv4Cidr(cidr);
      if (!block || block.prefix === 0) {
        throw new ConfigurationError(`\`publicEndpointCidrs\` has '${cidr}': list IPv4 CIDR blocks narrower than 0.0.0.0/0, such as '203.0.113.0/24'.`);
      }
    }
    const kubernetesVersion = props.kubernetesVersion ?? KUBERNETES_VERSION;
    this.kubernetesVersion = kubernetesVersion;
    const supportType = props.supportType ?? ClusterSupportType.STANDARD;
    if (!Object.values(ClusterSupportType).includes(supportType)) {
      throw new ConfigurationError(`\`supportType\` ('${supportType}') must be ClusterSupportType.STANDARD or ClusterSupportType.EXTENDED.`);
    }
    if (props.nodeReleaseVersion !== undefined && !kubernetesVersion.version.startsWith('$')) {
      const release = /^(\d+\.\d+)\.\d+-\d{8}$/.exec(props.nodeReleaseVersion);
      if (!release || release[1] !== kubernetesVersion.version) {
        throw new ConfigurationError(`\`nodeReleaseVersion\` ('${props.nodeReleaseVersion}') must be an EKS AMI release of Kubernetes ${kubernetesVersion.version}, ` +
          `such as '${kubernetesVersion.version}.0-20261118': find the newest with \`aws ssm get-parameter --name ` +
          `/aws/service/eks/optimized-ami/${kubernetesVersion.version}/amazon-linux-2023/x86_64/standard/recommended/release_version\`.`);
      }
    }
    this.nodeReleaseVersion = props.nodeReleaseVersion;
    checkSupport(this, 'kubernetesVersion', 'Amazon EKS Kubernetes', kubernetesVersion.version, {
      extended: supportType === ClusterSupportType.EXTENDED,
      fix: supportType === ClusterSupportType.EXTENDED
        ? 'Upgrade one minor version at a time (docs/operations.md, "Upgrade Kubernetes").'
        : 'Upgrade one minor version at a time (docs/operations.md, "Upgrade Kubernetes"); EKS upgrades the control plane itself at the end of standard support. ' +
          'To stay, set `supportType: ClusterSupportType.EXTENDED` (billed as extended support).',
    });
    const minor = (version: string) => Number(version.split('.')[1]);
    if (!props.kubectlLayer && Math.abs(minor(kubernetesVersion.version) - minor(KUBECTL_LAYER_MINOR)) > 1) {
      Annotations.of(this).addWarningV2('codelearn:kubectl-layer-skew',
        `The cluster runs Kubernetes ${kubernetesVersion.version} with the kubectl ${KUBECTL_LAYER_MINOR} layer: kubectl supports one minor ` +
        `version of skew. Pass \`kubectlLayer\` with the layer of ${kubernetesVersion.version}.`);
    }
    const stack = Stack.of(this);
    const clusterName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.name = clusterName;

    // No CT.KMS.PR.3 Deny on this key: EKS creates its secrets-encryption grant as the
    // principal that creates the cluster, and "doesn't support the policy condition
    // kms:GrantIsForAWSResource ... creating a cluster doesn't work" (EKS user guide,
    // "Encrypt Kubernetes secrets with KMS on existing clusters"). Control Tower's
    // CT.KMS.PR.3 reports this one key; the other statements still confine grants.
    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key',
      `Encrypts the Kubernetes secrets, node volumes and control-plane logs of ${this.node.path}`, RemovalPolicy.RETAIN, {
        grantsBeyondAwsResources: 'EKS secrets encryption: EKS creates its grant as the cluster\'s creator, without kms:GrantIsForAWSResource ' +
          '(https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html).',
      });
    allowCloudWatchLogs(this.encryptionKey);
    allowEbsVolumes(this.encryptionKey);

    // EKS writes control-plane logs to this group; made first, with retention and the key.
    this.logGroup = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${clusterName}/cluster`,
      retention: props.logRetention ?? profileDefaults(props.profile).logRetention,
      encryptionKey: this.encryptionKey,
      // Kept on update and delete, removed when a first create rolls back: its fixed
      // name would otherwise make the retry fail with "already exists".
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.logRetention = props.logRetention ?? profileDefaults(props.profile).logRetention;

    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const endpointAccess = props.publicEndpointCidrs && props.publicEndpointCidrs.length > 0
      ? eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...props.publicEndpointCidrs)
      : eks.EndpointAccess.PRIVATE;
    this.eksCluster = new eks.Cluster(this, 'Cluster', {
      clusterName,
      version: kubernetesVersion,
      vpc: props.vpc,
      vpcSubnets: [vpcSubnets],
      endpointAccess,
      secretsEncryptionKey: this.encryptionKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER, eks.ClusterLoggingTypes.SCHEDULER,
      ],
      defaultCapacity: autoMode ? undefined : 0,
      // Auto Mode enables compute, block storage and load balancing in place, without the
      // built-in pools, whose nodes would lack the workloads' security group. The cluster's
      // bootstrapSelfManagedAddons stays unset either way: it cannot change without a new cluster.
      defaultCapacityType: autoMode ? eks.DefaultCapacityType.AUTOMODE : eks.DefaultCapacityType.NODEGROUP,
      compute: autoMode ? { nodePools: [] } : undefined,
      kubectlProviderOptions: {
        kubectlLayer: props.kubectlLayer ?? new KubectlV36Layer(this, 'KubectlLayer'),
        privateSubnets: props.vpc.selectSubnets(vpcSubnets).subnets,
      },
    });
    // aws-eks-v2 tags the subnets for the load balancers the controller would create;
    // imported subnets cannot be tagged, and this controller creates none.
    Annotations.of(this.eksCluster).acknowledgeWarning('@aws-cdk/aws-eks:clusterMustManuallyTagSubnet',
      'The subnet tags let the Load Balancer Controller find subnets for load balancers it creates; this one only binds targets (TargetGroupBinding).');
    const cfnCluster = this.eksCluster.node.defaultChild as eks.CfnCluster;
    // Said, not left to EKS's default (EXTENDED), so that no cluster slides into paid extended support.
    cfnCluster.upgradePolicy = { supportType };
    // The control plane logs to this group by name: it must exist, with its retention
    // and key, before EKS would create one without them.
    cfnCluster.node.addDependency(this.logGroup);
    // The kubectl provider's functions log with the cluster's key and retention (under cdk init's flags).
    secureManagedLogGroups(this.eksCluster.node.tryFindChild('KubectlProvider'), this.encryptionKey, this.logRetention);
    this.acknowledgeClusterFindings(cfnCluster);

    // Auto Mode's nodes get a role apart from the node groups': EKS gave the node groups' role an
    // EC2_LINUX access entry that outlives them, a principal has one entry only, and Auto Mode's
    // needs the EC2 type. A switch of strategy then creates one role and deletes the other.
    this.nodeRole = autoMode
      ? workerNodeRole(this, 'AutoModeNodeRole', `Nodes that EKS Auto Mode launches for ${this.node.path}`, true)
      : workerNodeRole(this, 'NodeRole', `Nodes of ${this.node.path}`);
    const detailedMonitoring = props.detailedMonitoring ?? defaults.detailedMonitoring;
    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T3, defaults.instanceSize);
    this.nodeDefaults = { instanceType, detailedMonitoring, vpcSubnets };

    // Auto Mode runs networking, kube-proxy, DNS, the Pod Identity agent and the EBS CSI driver on its nodes itself.
    const addonsWithoutNodes = autoMode ? [] : ADDONS_WITHOUT_NODES;
    const addonsOnNodes = autoMode ? ADDONS_ON_NODES.filter(name => !AUTO_MODE_ADDONS.includes(name)) : ADDONS_ON_NODES;
    for (const name of addonsWithoutNodes) {
      this.addAddon(name, cfnCluster, props.addonVersions?.[name]);
    }
    const launchTemplate = autoMode ? undefined : this.createLaunchTemplate('NodeLaunchTemplate', props.workloadSecurityGroup, detailedMonitoring);
    if (launchTemplate) {
      this.onDemandNodes = this.addNodeGroup('OnDemandNodes', launchTemplate, vpcSubnets, {
        instanceTypes: [instanceType],
        capacityType: eks.CapacityType.ON_DEMAND,
        ...onDemandSize,
        labels: { [CAPACITY_KEY]: 'on-demand' },
      });
      this.workloadCapacity.add(this.onDemandNodes);
    }
    this.nodeLaunch = {
      subnets: props.vpc.selectSubnets(vpcSubnets).subnets,
      securityGroups: [this.eksCluster.clusterSecurityGroup, ...(props.workloadSecurityGroup ? [props.workloadSecurityGroup] : [])],
      encryptionKey: this.encryptionKey,
      volumeSizeGib: NODE_VOLUME_GIB,
      detailedMonitoring,
      amiReleaseVersion: props.nodeReleaseVersion,
      instanceType,
      minNodes: onDemandSize.minSize,
      maxNodes: onDemandSize.maxSize,
      spot: withSpot ? { maxNodes: spotSize.maxSize, instanceTypes: props.spotInstanceTypes } : undefined,
    };
    // A strategy that launches spot nodes itself (Karpenter) replaces the spot node group.
    if (launchTemplate && withSpot && !this.nodeScaling.launchesSpotCapacity) {
      this.spotNodes = this.addNodeGroup('SpotNodes', launchTemplate, vpcSubnets, {
        instanceTypes: spotInstanceTypes,
        capacityType: eks.CapacityType.SPOT,
        ...spotSize,
        labels: { [CAPACITY_KEY]: 'spot' },
        taints: [{ key: CAPACITY_KEY, value: 'spot', effect: eks.TaintEffect.NO_SCHEDULE }],
      });
    } else if (!production) {
      Annotations.of(this).addWarningV2('codelearn:cluster-development',
        'The cluster runs one small on-demand node group without spot capacity: not sized for production traffic.');
    }
    // These add-ons run as Deployments: without nodes they would wait, degraded.
    // On Auto Mode, the nodes come from its NodePools, which the strategy adds to the workload capacity.
    const systemCapacity: IDependable = this.onDemandNodes ?? this.workloadCapacity;
    for (const name of addonsOnNodes) {
      const addon = this.addAddon(name, cfnCluster, props.addonVersions?.[name]);
      addon.node.addDependency(systemCapacity);
      this.nodeAddonGroup.add(addon);
    }

    this.nodeAddons = this.nodeAddonGroup;
    this.loadBalancerController = installLoadBalancerController(this, stack, systemCapacity);
    this.vpcSubnets = vpcSubnets;
    if (props.sandboxNodes) {
      this.addSandboxNodes(props.sandboxNodes);
    }
    this.nodeScaling.bind(this);
    validateSchedules(props.scheduledScaling ?? []);
    addScheduledActions(this, props.scheduledScaling ?? []);
  }

  /**
   * A Container Insights metric of the whole cluster (`node_cpu_utilization`,
   * `pod_memory_utilization`, `cluster_node_count`, …), published by the
   * amazon-cloudwatch-observability add-on under `ClusterName`. Averaged over five
   * minutes unless told.
   */
  public metricInsights(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: this.clusterName },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** The cluster's name. */
  public get clusterName(): string {
    return this.name;
  }

  /**
   * The namespace `name`, created once, enforcing the restricted Pod Security
   * Standard.
   */
  public addNamespace(name: string): eks.KubernetesManifest {
    return this.namespaceObject(name, true);
  }

  private namespaceObject(name: string, readinessGates: boolean): eks.KubernetesManifest {
    // Deleted before the nodes, so that the pods in it stop gracefully.
    const waitForCapacity = (manifest: eks.KubernetesManifest) => manifest.node.addDependency(this.workloadCapacity);
    return namespaceOnce(this, this.eksCluster, this.namespaces, name, waitForCapacity, readinessGates);
  }

  /**
   * The name of the Auto Scaling group of one of this cluster's node groups,
   * looked up at deploy time (EKS names it then), once per group. For node
   * scaling strategies and schedules.
   */
  public autoScalingGroupName(nodes: eks.Nodegroup): string {
    let name = this.autoScalingGroupNames.get(nodes);
    if (name === undefined) {
      const id = nodes === this.onDemandNodes ? 'OnDemand' : nodes === this.spotNodes ? 'Spot' : undefined;
      if (id === undefined || !this.vpcSubnets) {
        throw new Error(`${nodes.node.path} is not a node group of ${this.node.path}, or the cluster is not built yet.`);
      }
      name = lookUpAutoScalingGroupName(this, nodes, id, this.vpcSubnets, this.logRetention);
      this.autoScalingGroupNames.set(nodes, name);
    }
    return name;
  }

  /**
   * The node group of the sandboxes, when the cluster has one (`sandboxNodes`,
   * `addSandboxNodes`, or the first `SandboxService`).
   *
   * @default - none
   */
  public get sandboxNodes(): eks.Nodegroup | undefined {
    return this.sandboxNodeGroup;
  }

  /**
   * Adds the node group of the sandboxes: on-demand nodes labelled and tainted
   * `codelearn.dev/workload=sandbox:NoSchedule`, which carry only the cluster's
   * security group (not the workloads', which the data stores admit), and whose
   * kubelet caps the processes of each pod. Once per cluster; the first
   * `SandboxService` adds it with the defaults if it is not there.
   */
  public addSandboxNodes(options: SandboxNodesOptions = {}): eks.Nodegroup {
    if (this.sandboxNodeGroup) {
      throw new ConfigurationError(`${this.node.path} has its sandbox nodes already: set \`sandboxNodes\` (or call \`addSandboxNodes\`) once, before any SandboxService.`);
    }
    if (this.nodeScaling.enablesAutoMode) {
      throw new ConfigurationError(`${this.node.path} runs on EKS Auto Mode, which runs no managed node groups: a SandboxService needs the sandbox node group, ` +
        'whose kubelet caps each pod\'s processes. Use `NodeScaling.karpenter()` or `NodeScaling.clusterAutoscaler()` for a platform with sandboxes.');
    }
    const group = sandboxNodeGroup(options);
    if (!this.nodeScaling.resizesNodeGroups && group.minSize !== group.maxSize) {
      Annotations.of(this).addWarningV2('codelearn:sandbox-nodes-fixed',
        `The sandbox node group keeps ${group.desiredSize} node(s): node scaling ${this.nodeScaling.strategy} does not resize managed node groups, ` +
        `so sandboxNodes.maxSize (${group.maxSize}) is never reached. Size it with \`sandboxNodes.desiredSize\`, or use \`NodeScaling.clusterAutoscaler()\`.`);
    }
    const launchTemplate = this.createLaunchTemplate('SandboxLaunchTemplate', undefined, this.nodeDefaults.detailedMonitoring, sandboxUserData(group));
    this.sandboxNodeGroup = this.addNodeGroup('SandboxNodes', launchTemplate, this.nodeDefaults.vpcSubnets, {
      instanceTypes: [group.instanceType ?? this.nodeDefaults.instanceType],
      capacityType: eks.CapacityType.ON_DEMAND,
      minSize: group.minSize,
      maxSize: group.maxSize,
      desiredSize: group.desiredSize,
      labels: { [CAPACITY_KEY]: 'on-demand', [SANDBOX_KEY]: SANDBOX_VALUE },
      taints: [{ key: SANDBOX_KEY, value: SANDBOX_VALUE, effect: eks.TaintEffect.NO_SCHEDULE }],
      // Scaling up from zero, the Cluster Autoscaler plans a node from the group's tags (read with
      // eks:DescribeNodegroup): without its disk, no pod that requests ephemeral storage would fit.
      tags: { [SANDBOX_EPHEMERAL_STORAGE_TAG]: `${NODE_VOLUME_GIB}Gi` },
    });
    return this.sandboxNodeGroup;
  }

  /**
   * Binds a sandbox in `namespaceName`, a namespace of its own: no other
   * workload (a `Microservice`, another sandbox) may use it, before or after. Adds
   * the sandbox nodes if the cluster has none.
   */
  public bindSandbox(namespaceName: string): SandboxBinding {
    requireKubernetesName('namespace', namespaceName);
    if (this.namespaces.has(namespaceName)) {
      throw new ConfigurationError(`\`namespace\` ('${namespaceName}') of a sandbox is used by another workload of ${this.node.path}: ` +
        'a sandbox runs alone in a namespace of its own. Give it another namespace (by default, its name).');
    }
    const nodes = this.sandboxNodeGroup ?? this.addSandboxNodes();
    // No readiness gates: the sandbox has no target group, and the Load Balancer
    // Controller's pod webhook, which the label calls, fails closed while it is down.
    const namespaceObject = this.namespaceObject(namespaceName, false);
    // Deleted before the sandbox nodes, so that the sandbox's pods stop gracefully.
    namespaceObject.node.addDependency(nodes);
    this.sandboxNamespaces.add(namespaceName);
    return { eksCluster: this.eksCluster, namespaceObject, nodeLabel: { key: SANDBOX_KEY, value: SANDBOX_VALUE } };
  }

  /**
   * The release gates of this cluster's services, made by the first service that
   * has one: their functions run in the cluster's private subnets and log with its
   * key and retention.
   *
   * @internal
   */
  public _releaseGates(): ReleaseGates {
    this.releaseGates ??= new ReleaseGates(this, 'ReleaseGates', {
      eksCluster: this.eksCluster,
      vpcSubnets: this.vpcSubnets ?? this.nodeDefaults.vpcSubnets,
      encryptionKey: this.encryptionKey,
      logRetention: this.logRetention,
    });
    return this.releaseGates;
  }

  /** Binds a workload in `namespaceName`: this cluster, the namespace, the Pod Identity agent and the Load Balancer Controller. */
  public bindWorkload(namespaceName: string): WorkloadBinding {
    if (this.sandboxNamespaces.has(namespaceName)) {
      throw new ConfigurationError(`\`namespace\` ('${namespaceName}') is a sandbox's: its pods run untrusted code, and no other workload shares its namespace. ` +
        'Give this one another namespace.');
    }
    return {
      eksCluster: this.eksCluster,
      namespaceObject: this.addNamespace(namespaceName),
      podIdentityAgent: this.podIdentityAgent,
      loadBalancerController: this.loadBalancerController,
      // Without spot capacity a spot service runs where it can, as it prefers spot only.
      spotCapacityValues: this.nodeLaunch.spot ? this.nodeScaling.spotCapacityValues : undefined,
    };
  }

  /**
   * Adds what the workloads' namespaces wait for, and outlive on delete: capacity
   * that the node scaling strategy creates (Karpenter's NodePools), so that on
   * delete the pods stop before their nodes go.
   */
  public addWorkloadCapacity(capacity: IDependable): void {
    this.workloadCapacity.add(capacity);
  }

  /**
   * Lets the kubectl provider pull Helm charts from Amazon ECR Public
   * (`oci://public.ecr.aws/...`): aws-eks-v2's handler logs in to the public
   * registry before it pulls, with `ecr-public:GetAuthorizationToken` and
   * `sts:GetServiceBearerToken`, which this grants (once).
   */
  public allowPublicEcrCharts(): void {
    if (this.publicEcrCharts) return;
    this.publicEcrCharts = true;
    const role = this.eksCluster.kubectlProvider?.role;
    if (!role) return;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecr-public:GetAuthorizationToken'],
      resources: ['*'],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sts:GetServiceBearerToken'],
      resources: ['*'],
      conditions: { StringEquals: { 'sts:AWSServiceName': 'ecr-public.amazonaws.com' } },
    }));
    acknowledge(this.eksCluster.kubectlProvider!, {
      'AwsSolutions-IAM5[Resource::*]': 'The login to Amazon ECR Public, from which the kubectl provider pulls Helm charts ' +
        '(oci://public.ecr.aws): GetAuthorizationToken and GetServiceBearerToken take no resource, and the bearer token is for ECR Public only.',
    });
  }

  /**
   * Creates a role that pods of `serviceAccount` in `namespace` assume through
   * EKS Pod Identity, with no permissions until you grant them. Grant to the
   * result (`bucket.grantRead(identity)`): the grants go into one customer-managed
   * policy attached to the role, which the compliance packs accept, where grants to
   * the role itself would make an inline policy they reject.
   */
  public addPodIdentityRole(id: string, namespace: string, serviceAccount: string): IPodIdentity {
    requireKubernetesName('namespace', namespace);
    requireKubernetesName('serviceAccount', serviceAccount);
    const role = this.addServiceAccountRole(id, namespace, serviceAccount).role;
    return { role, grantPrincipal: new ManagedPolicyGrantee(role, role, `Permissions of ${namespace}/${serviceAccount}`) };
  }

  /**
   * A role that pods of `serviceAccount` in `namespace` assume through EKS Pod
   * Identity, with its association (after the Pod Identity agent), in this
   * cluster's scope under `id`: for the cluster's own controllers and its node
   * scaling strategy.
   */
  public addServiceAccountRole(id: string, namespace: string, serviceAccount: string): ServiceAccountRole {
    return podIdentityRole(this, id, {
      clusterName: this.eksCluster.clusterName,
      clusterArn: this.eksCluster.clusterArn,
      namespace,
      serviceAccount,
      agent: this.podIdentityAgent,
    });
  }

  private createLaunchTemplate(id: string, workloadSecurityGroup: ec2.ISecurityGroup | undefined, detailedMonitoring: boolean,
    userData?: ec2.UserData): ec2.LaunchTemplate {
    // Security groups in a launch template replace the cluster security group that
    // EKS would otherwise attach, so it is listed explicitly.
    const template = new ec2.LaunchTemplate(this, id, {
      userData,
      requireImdsv2: true,
      // One-minute EC2 metrics: node alarms and target tracking see a change within a
      // minute, not five (about $2.10 a node a month).
      detailedMonitoring,
      httpPutResponseHopLimit: 1,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      securityGroup: this.eksCluster.clusterSecurityGroup,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(NODE_VOLUME_GIB, {
          encrypted: true,
          kmsKey: this.encryptionKey,
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          deleteOnTermination: true,
        }),
      }],
    });
    if (workloadSecurityGroup) {
      template.addSecurityGroup(workloadSecurityGroup);
    }
    return template;
  }

  private addNodeGroup(id: string, launchTemplate: ec2.LaunchTemplate, subnets: ec2.SubnetSelection,
    options: eks.NodegroupOptions): eks.Nodegroup {
    const nodegroup = this.eksCluster.addNodegroupCapacity(id, {
      ...options,
      nodeRole: this.nodeRole,
      subnets,
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      releaseVersion: this.nodeReleaseVersion,
      launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
      maxUnavailablePercentage: 33,
      enableNodeAutoRepair: true,
    });
    // The nodes follow the control plane: without a version, an upgrade of the
    // cluster leaves them behind, and EKS refuses the next one.
    (nodegroup.node.defaultChild as eks.CfnNodegroup).version = this.kubernetesVersion.version;
    // Networking, kube-proxy and the Pod Identity agent run on every node: nodes
    // start with them instead of joining without a pod network.
    for (const name of ADDONS_WITHOUT_NODES) {
      nodegroup.node.addDependency(this.addons[name]);
    }
    return nodegroup;
  }

  private addAddon(name: string, cfnCluster: eks.CfnCluster, version: string | undefined): eks.CfnAddon {
    const addon = addAddon(this, name, cfnCluster, version);
    this.addons[name] = addon;
    return addon;
  }

  /**
   * The kubectl provider and the cluster role belong to aws-eks-v2; their findings
   * are acknowledged here, one by one, with the reason each does not apply.
   */
  private acknowledgeClusterFindings(cfnCluster: eks.CfnCluster): void {
    acknowledge(cfnCluster, {
      'CloudFormation-Validate::W9009': 'aws-eks-v2 writes EncryptionConfig Resources: [secrets], the only value the EKS API takes; ' +
        'the schema marks the property deprecated, but the API still reads it to envelope-encrypt secrets.',
    });
    const clusterRole = this.eksCluster.role.node.defaultChild as iam.CfnRole;
    acknowledgeManagedPolicies(clusterRole, 'The AWS-maintained policy that EKS requires for its cluster service role.');
    const provider = this.eksCluster.node.tryFindChild('KubectlProvider');
    if (!provider) {
      return;
    }
    const customResource = 'The kubectl provider of aws-eks-v2 is a custom resource handler: CloudFormation invokes it synchronously ' +
      'through the provider framework, once per Kubernetes object change';
    acknowledge(provider, {
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(provider.node.findChild('Handler').node.defaultChild as lambda.CfnFunction)}.Arn>:*]`]:
        'The provider framework invokes the versions of its own handler function only.',
    });
    acknowledgeControlRule(provider, 'IAMNoInlinePolicy', `${customResource}; aws-eks-v2 creates and scopes the policies of its roles.`);
    acknowledgeCustomResourceHandler(provider, 'The kubectl provider of aws-eks-v2');
    acknowledgeRuntimeChoice(provider, 'A function of aws-eks-v2\'s kubectl provider: aws-cdk-lib chooses the runtime of its handler ' +
      '(the Python that the kubectl layer is built for) and of its provider framework, and moves them in its own releases.');
    for (const role of provider.node.findAll().filter((child): child is iam.CfnRole => child instanceof iam.CfnRole)) {
      // aws-eks-v2 lets its handler pull Helm charts from ECR; both charts come from
      // HTTPS repositories, so the handler reads no registry.
      const arns: any[] = Stack.of(this).resolve(role.managedPolicyArns) ?? [];
      const kept = arns.filter(arn => !JSON.stringify(arn).includes('ContainerRegistry'));
      if (kept.length !== arns.length) {
        role.managedPolicyArns = kept;
        // The condition that chose the public registry's policy is left unused.
        for (const condition of provider.node.findAll().filter((child): child is CfnCondition => child instanceof CfnCondition)) {
          if (/EcrPublic/.test(condition.node.id)) condition.node.scope!.node.tryRemoveChild(condition.node.id);
        }
      }
      acknowledgeManagedPolicies(role, 'The AWS-maintained Lambda execution policies (logs, VPC interfaces) that aws-eks-v2 attaches to its kubectl provider.');
    }
  }
}

function validateAddonVersions(versions: { [addon: string]: string }, autoMode: boolean): void {
  const known = [...ADDONS_WITHOUT_NODES, ...ADDONS_ON_NODES];
  for (const [name, version] of Object.entries(versions)) {
    if (autoMode && AUTO_MODE_ADDONS.includes(name)) {
      throw new ConfigurationError(`\`addonVersions\` names '${name}', which EKS Auto Mode runs on its nodes itself and the cluster does not install: ` +
        'remove it (Auto Mode updates it with the nodes\' AMI).');
    }
    if (!known.includes(name)) {
      throw new ConfigurationError(`\`addonVersions\` names '${name}', which is not an add-on of the cluster: use ${known.map(addon => `'${addon}'`).join(', ')}.`);
    }
    requireAddonVersion(`addonVersions.${name}`, version);
  }
}


function nodeGroupSize(name: string, given: NodeGroupSize | undefined, defaults: Required<NodeGroupSize>): Required<NodeGroupSize> {
  const size = { ...defaults, ...given };
  requireWholeNumber(`${name}.minSize`, size.minSize, 0, 100);
  requireWholeNumber(`${name}.maxSize`, size.maxSize, 1, 100);
  if (size.maxSize < size.minSize) {
    throw new ConfigurationError(`\`${name}.maxSize\` (${size.maxSize}) must be >= \`${name}.minSize\` (${size.minSize}): raise maxSize or lower minSize.`);
  }
  if (!Number.isInteger(size.desiredSize) || size.desiredSize < size.minSize || size.desiredSize > size.maxSize) {
    throw new ConfigurationError(`\`${name}.desiredSize\` (${size.desiredSize}) must be a whole number from \`${name}.minSize\` (${size.minSize}) to \`${name}.maxSize\` (${size.maxSize}).`);
  }
  return size;
}

/**
 * Managed node groups launch instances through the Auto Scaling service-linked
 * role, which must be able to use the key of the encrypted node volumes. That
 * role exists only once the account has used Auto Scaling, and KMS refuses a key
 * policy that names a principal that does not exist; so, as the AWS-managed
 * `aws/ebs` key does, the key lets any principal of this account use it through
 * EC2 only, and create grants only for AWS resources.
 */
function allowEbsVolumes(key: kms.IKey): void {
  const stack = Stack.of(key);
  const throughEc2 = {
    'kms:CallerAccount': stack.account,
    'kms:ViaService': `ec2.${stack.region}.amazonaws.com`,
  };
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: { StringEquals: throughEc2 },
  }));
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { StringEquals: throughEc2, Bool: { 'kms:GrantIsForAWSResource': true } },
  }));
}
