import { ClusterAutoscalerOptions, ClusterAutoscalerScaling } from './cluster-autoscaler';
import { CpuTargetTrackingOptions, CpuTargetTrackingScaling } from './cpu-target-tracking';
import { requireCpuTarget, trackCpu } from './node-scaling-helpers';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';

/*
 * The factory of node scaling strategies. Each strategy is a file of its own
 * (cluster-autoscaler.ts, cpu-target-tracking.ts) that knows only the narrow
 * INodeScalingTarget; a new strategy adds a file and a method here.
 */

/**
 * How the cluster's nodes scale: the Cluster Autoscaler (the default), CPU target
 * tracking on the node groups' Auto Scaling groups (the specification's policy),
 * or both. Each strategy lives in a file of its own and binds itself to the narrow
 * `INodeScalingTarget` a cluster gives it: a new one (Karpenter, EKS Auto Mode) is
 * a new file and a factory method here, with no change to `Cluster`.
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

  /** The strategy: `CUSTOM` for a subclass of your own. */
  public abstract readonly strategy: NodeScalingStrategy;

  /**
   * The average node CPU utilization that the Auto Scaling groups track.
   *
   * @default - no target tracking
   */
  public readonly cpuTargetTrackingPercent?: number;

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
