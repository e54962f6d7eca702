import { requireCpuTarget, trackCpu } from './node-scaling-helpers';
import { INodeScaling, INodeScalingTarget, NodeScalingStrategy } from './node-scaling-target';

/**
 * Options of CPU target tracking on the node groups.
 */
export interface CpuTargetTrackingOptions {
  /**
   * The average CPU utilization of the nodes to keep, in percent (the
   * specification's 70%).
   *
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
}

/**
 * CPU target tracking on the node groups' Auto Scaling groups, without the
 * Cluster Autoscaler: what `NodeScaling.cpuTargetTracking()` returns.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', { vpc, nodeScaling: new CpuTargetTrackingScaling({ targetUtilizationPercent: 60 }) });
 */
export class CpuTargetTrackingScaling implements INodeScaling {
  public readonly strategy = NodeScalingStrategy.CPU_TARGET_TRACKING;
  public readonly cpuTargetTrackingPercent?: number;

  constructor(options: CpuTargetTrackingOptions = {}) {
    this.cpuTargetTrackingPercent = requireCpuTarget(options.targetUtilizationPercent ?? 70);
  }

  public bind(cluster: INodeScalingTarget): void {
    trackCpu(cluster, this.cpuTargetTrackingPercent);
  }
}
