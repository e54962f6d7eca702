import { AutoModeOptions, AutoModeScaling } from './auto-mode';
import { ClusterAutoscalerOptions, ClusterAutoscalerScaling } from './cluster-autoscaler';
import { CpuTargetTrackingOptions, CpuTargetTrackingScaling } from './cpu-target-tracking';
import { KarpenterOptions, KarpenterScaling } from './karpenter';
import { requireCpuTarget, trackCpu } from './node-scaling-helpers';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';

/*
 * The factory of node scaling strategies. Each strategy is a file of its own
 * (cluster-autoscaler.ts, cpu-target-tracking.ts, karpenter.ts, auto-mode.ts) that knows only the narrow
 * INodeScalingTarget; a new strategy adds a file and a method here.
 */

/**
 * How the cluster's nodes scale: the Cluster Autoscaler (the default), CPU target
 * tracking on the node groups' Auto Scaling groups (the specification's policy),
 * both, Karpenter, or EKS Auto Mode. Each strategy lives in a file of its own and binds itself to the narrow
 * `INodeScalingTarget` a cluster gives it: a new one is a new file and a
 * factory method here.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', {
 *   vpc,
 *   nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.59.0' }),
 * });
 */
export abstract class NodeScaling implements INodeScaling {
  /**
   * The Kubernetes Cluster Autoscaler, installed with Helm and given a
   * least-privilege Pod Identity role. Pod-level scaling comes from each
   * service's HorizontalPodAutoscaler (70% CPU by default).
   */
  public static clusterAutoscaler(options: ClusterAutoscalerOptions = {}): INodeScaling {
    return new ClusterAutoscalerScaling(options);
  }

  /**
   * The specification's explicit option: the node groups' Auto Scaling groups
   * keep the nodes' average CPU at a target (70%), without the Cluster Autoscaler.
   * Pods that do not fit wait until CPU rises; prefer the Cluster Autoscaler.
   */
  public static cpuTargetTracking(options: CpuTargetTrackingOptions = {}): INodeScaling {
    return new CpuTargetTrackingScaling(options);
  }

  /**
   * Karpenter: it launches nodes for pending pods from NodePools (on-demand, and
   * spot for `spot: true` services, which then run only on the spot pools' nodes)
   * and consolidates them. Its controller runs on the managed on-demand node
   * group, which stays as the system nodes; the cluster makes no spot node group.
   */
  public static karpenter(options: KarpenterOptions = {}): INodeScaling {
    return new KarpenterScaling(options);
  }

  /**
   * EKS Auto Mode: EKS launches, patches and replaces the nodes itself, from
   * NodePools like Karpenter's (spot services run only on the spot pools'
   * nodes), and runs the VPC CNI, kube-proxy, CoreDNS, the Pod Identity agent and
   * the EBS CSI driver on them. The cluster makes no managed node groups, and has
   * no sandboxes or scheduled scaling. Auto Mode adds a management fee to each
   * node's EC2 price.
   */
  public static autoMode(options: AutoModeOptions = {}): INodeScaling {
    return new AutoModeScaling(options);
  }

  /** The strategy: `CUSTOM` for a subclass of your own. */
  public abstract readonly strategy: NodeScalingStrategy;

  /**
   * The average node CPU utilization that the Auto Scaling groups track.
   *
   * @default - no target tracking
   */
  public readonly cpuTargetTrackingPercent?: number;

  /**
   * Whether the strategy resizes every managed node group, the sandbox nodes' included.
   *
   * @default false
   */
  public readonly resizesNodeGroups?: boolean;

  /**
   * Whether the strategy launches the spot capacity itself: the cluster then makes no spot node group.
   *
   * @default false
   */
  public readonly launchesSpotCapacity?: boolean;

  /**
   * Whether the cluster runs on EKS Auto Mode.
   *
   * @default false
   */
  public readonly enablesAutoMode?: boolean;

  /**
   * The values of `Cluster.CAPACITY_LABEL` that a spot service's pods must run on.
   *
   * @default - none required
   */
  public readonly spotCapacityValues?: string[];

  protected constructor(cpuTargetTrackingPercent?: number) {
    this.cpuTargetTrackingPercent = requireCpuTarget(cpuTargetTrackingPercent);
  }

  /**
   * Installs the strategy on `cluster`, once its node groups and the Load
   * Balancer Controller exist: what it creates goes in the cluster's scope.
   */
  public abstract bind(cluster: INodeScalingTarget): void;

  /** Target tracking on each node group's Auto Scaling group, when the strategy has a target. */
  protected trackCpu(cluster: INodeScalingTarget): void {
    trackCpu(cluster, this.cpuTargetTrackingPercent);
  }
}
