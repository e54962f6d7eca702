import { Aws, CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';
import { ConfigurationError } from '../private/errors';
import { autoModeNodeClass, nodePoolDuration, SPOT_FALLBACK_VALUE, SPOT_VALUE, workloadNodePools } from '../private/karpenter';
import { pascalCase } from '../private/names';
import { requireWholeNumber } from '../private/validate';

/** The first Kubernetes version EKS Auto Mode runs on (EKS user guide, "Enable EKS Auto Mode on existing EKS clusters"). */
const AUTO_MODE_LEAST_MINOR = 29;

/** The longest an Auto Mode node lives: EKS replaces it after 21 days whatever the NodePool says. */
const AUTO_MODE_MAX_NODE_LIFETIME_DAYS = 21;

/**
 * Options of EKS Auto Mode.
 */
export interface AutoModeOptions {
  /**
   * Whether spot services may run on on-demand nodes of their own pool, tainted as
   * spot ones are, when EC2 has no spot capacity of any type the spot pool allows:
   * a NodePool of lower weight, whose nodes consolidation replaces with spot ones
   * once spot is offered again. Without it, a spot service's pods wait for spot.
   *
   * @default true
   */
  readonly spotFallback?: boolean;

  /**
   * How long a node must be empty or underused before Auto Mode consolidates it
   * (moves its pods and removes it).
   *
   * @default Duration.minutes(1)
   */
  readonly consolidateAfter?: Duration;

  /**
   * How long a node lives before Auto Mode replaces it with one on a fresh AMI:
   * from 1 hour to 21 days, the longest Auto Mode lets a node live.
   *
   * @default Duration.days(14)
   */
  readonly expireAfter?: Duration;

  /**
   * The vCPUs the on-demand NodePool may launch in all.
   *
   * @default - the `nodes.maxSize` times the instance type's vCPUs
   */
  readonly cpuLimit?: number;

  /**
   * The memory, in GiB, the on-demand NodePool may launch in all.
   *
   * @default - the `nodes.maxSize` times the instance type's memory
   */
  readonly memoryLimitGiB?: number;
}

/**
 * EKS Auto Mode, which launches, patches and replaces the nodes itself (with
 * Karpenter that EKS runs) and runs the node agents the cluster would otherwise
 * install as add-ons: what `NodeScaling.autoMode()` returns.
 *
 * - The cluster enables Auto Mode's compute, block storage and load balancing
 *   (EKS enables the three together), without its built-in `system` and
 *   `general-purpose` pools: their nodes would carry only the cluster's security
 *   group, and the data stores admit the workloads'. It makes no managed node
 *   groups, and installs none of the add-ons Auto Mode provides (VPC CNI,
 *   kube-proxy, CoreDNS, the Pod Identity agent, the EBS CSI driver);
 *   metrics-server stays.
 * - One `NodeClass` (`eks.amazonaws.com/v1`): the node groups' subnets and
 *   security groups, ephemeral storage encrypted with the cluster's key, the
 *   network policy agent on; the cluster's Auto Mode node role (not the node
 *   groups'), with an EKS access entry.
 * - NodePools as Karpenter's, named `codelearn-auto-*`: on-demand for every pod;
 *   with `spot`, a tainted spot pool (weight 100) and its on-demand fallback
 *   (weight 50), which a `spot: true` service's pods then require.
 * - The services' TargetGroupBindings stay with the platform's AWS Load Balancer
 *   Controller (docs/architecture.md says why).
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', { vpc, nodeScaling: new AutoModeScaling({ spotFallback: false }) });
 */
export class AutoModeScaling implements INodeScaling {
  public readonly strategy = NodeScalingStrategy.AUTO_MODE;
  public readonly enablesAutoMode?: boolean = true;
  public readonly launchesSpotCapacity?: boolean = true;
  public readonly spotCapacityValues?: string[];

  private readonly consolidateAfter: string;
  private readonly expireAfter: string;

  constructor(private readonly options: AutoModeOptions = {}) {
    this.consolidateAfter = nodePoolDuration('autoMode.consolidateAfter', options.consolidateAfter ?? Duration.minutes(1), 0, 24 * 3600);
    this.expireAfter = nodePoolDuration('autoMode.expireAfter', options.expireAfter ?? Duration.days(14), 3600,
      AUTO_MODE_MAX_NODE_LIFETIME_DAYS * 24 * 3600);
    if (options.cpuLimit !== undefined) requireWholeNumber('autoMode.cpuLimit', options.cpuLimit, 1, 100_000);
    if (options.memoryLimitGiB !== undefined) requireWholeNumber('autoMode.memoryLimitGiB', options.memoryLimitGiB, 1, 1_000_000);
    this.spotCapacityValues = options.spotFallback === false ? [SPOT_VALUE] : [SPOT_VALUE, SPOT_FALLBACK_VALUE];
  }

  public bind(cluster: INodeScalingTarget): void {
    const minor = cluster.kubernetesVersion.version;
    if (!minor.startsWith('$') && Number(minor.split('.')[1]) < AUTO_MODE_LEAST_MINOR) {
      throw new ConfigurationError(`EKS Auto Mode needs Kubernetes 1.${AUTO_MODE_LEAST_MINOR} or later, and the cluster runs ${minor}: ` +
        'upgrade it first (docs/operations.md, "Upgrade Kubernetes"), or keep `NodeScaling.clusterAutoscaler()`.');
    }
    // The cluster's node role on Auto Mode is one of its own (see Cluster). No built-in pool
    // names it, so EKS makes no entry for it: the strategy makes one.
    const nodeRole = cluster.nodeRole;
    const accessEntry = new eks.CfnAccessEntry(cluster, 'AutoModeNodeAccess', {
      clusterName: cluster.clusterName,
      principalArn: nodeRole.roleArn,
      type: 'EC2',
      accessPolicies: [{ policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy`, accessScope: { type: 'cluster' } }],
    });
    // The cluster's name is known at synth time, so nothing else orders the entry after the cluster.
    accessEntry.node.addDependency(cluster.eksCluster.node.defaultChild!);

    // Auto Mode enforces NetworkPolicies only once this ConfigMap turns its controller on
    // (EKS user guide, "Use Network Policies with EKS Auto Mode"); without it the services'
    // default-deny policies would be objects only. Applied, not created: a cluster that
    // ran the VPC CNI has one already.
    const networkPolicy = new eks.KubernetesManifest(cluster, 'AutoModeNetworkPolicy', {
      cluster: cluster.eksCluster,
      overwrite: true,
      manifest: [{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
        data: { 'enable-network-policy-controller': 'true' },
      }],
    });
    // Kept when the strategy changes back: the VPC CNI add-on that then returns reads the
    // same ConfigMap, and a delete would turn every cluster's network policies off.
    (networkPolicy.node.defaultChild as CfnResource).applyRemovalPolicy(RemovalPolicy.RETAIN);

    const launch = cluster.nodeLaunch;
    const nodeClass = cluster.eksCluster.addManifest('AutoModeNodeClass', autoModeNodeClass({
      roleName: nodeRole.roleName,
      subnetIds: launch.subnets.map(subnet => subnet.subnetId),
      securityGroupIds: launch.securityGroups.map(group => group.securityGroupId),
      kmsKeyArn: launch.encryptionKey.keyArn,
      volumeSizeGib: launch.volumeSizeGib,
    }));
    // Nodes launched from it can join, and enforce the services' network policies from their first pod.
    nodeClass.node.addDependency(accessEntry, networkPolicy);
    const pools = workloadNodePools('auto-mode', launch, {
      consolidateAfter: this.consolidateAfter,
      expireAfter: this.expireAfter,
      spotFallback: this.options.spotFallback !== false,
      cpuLimit: this.options.cpuLimit,
      memoryLimitGib: this.options.memoryLimitGiB,
    });
    // A manifest a pool, so that a pool that goes (`spotFallback: false`) is deleted, not kept by kubectl's prune.
    for (const pool of pools) {
      const manifest = cluster.eksCluster.addManifest(`AutoModeNodePool${pascalCase(pool.metadata.name.replace(/^codelearn-auto-/, ''))}`, pool);
      // Deleted before the node class, which Auto Mode keeps while nodes use it.
      manifest.node.addDependency(nodeClass);
      cluster.addWorkloadCapacity(manifest);
    }
  }
}
