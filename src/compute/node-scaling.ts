import { Annotations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type { Cluster } from './cluster';
import { installClusterAutoscaler } from './cluster-parts';
import { ConfigurationError } from '../private/errors';

/**
 * How the cluster scales its nodes.
 */
export enum NodeScalingStrategy {
  /** The Kubernetes Cluster Autoscaler adds nodes for pending pods and removes idle ones. */
  CLUSTER_AUTOSCALER = 'CLUSTER_AUTOSCALER',

  /** The node groups' Auto Scaling groups track an average CPU utilization. */
  CPU_TARGET_TRACKING = 'CPU_TARGET_TRACKING',

  /** A strategy of your own: a subclass of `NodeScaling` that binds itself. */
  CUSTOM = 'CUSTOM',
}

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
 * How the cluster's nodes scale: the Cluster Autoscaler (the default), CPU target
 * tracking on the node groups' Auto Scaling groups (the specification's policy),
 * or both. A strategy binds itself to the cluster: a new one (Karpenter, EKS Auto
 * Mode) is a new subclass, with no change to `Cluster`.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * new Cluster(this, 'Cluster', {
 *   vpc,
 *   nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.59.0' }),
 * });
 */
export abstract class NodeScaling {
  /**
   * The Kubernetes Cluster Autoscaler, installed with Helm and given a
   * least-privilege Pod Identity role. Pod-level scaling comes from each
   * service's HorizontalPodAutoscaler (70% CPU by default).
   */
  public static clusterAutoscaler(options: ClusterAutoscalerOptions = {}): NodeScaling {
    return new ClusterAutoscalerScaling(options);
  }

  /**
   * The specification's explicit option: the node groups' Auto Scaling groups
   * keep the nodes' average CPU at a target (70%), without the Cluster Autoscaler.
   * Pods that do not fit wait until CPU rises; prefer the Cluster Autoscaler.
   */
  public static cpuTargetTracking(options: CpuTargetTrackingOptions = {}): NodeScaling {
    return new CpuTargetTrackingScaling(options.targetUtilizationPercent ?? 70);
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
    const percent = cpuTargetTrackingPercent;
    if (percent !== undefined && (!Number.isInteger(percent) || percent < 10 || percent > 90)) {
      throw new ConfigurationError(`The CPU target of node scaling (${cpuTargetTrackingPercent}) must be a whole percentage from 10 to 90.`);
    }
    this.cpuTargetTrackingPercent = cpuTargetTrackingPercent;
  }

  /**
   * Installs the strategy on `cluster`, once its node groups and the Load
   * Balancer Controller exist: what it creates goes in the cluster's scope.
   */
  public abstract bind(cluster: Cluster): void;

  /** Target tracking on each node group's Auto Scaling group, when the strategy has a target. */
  protected trackCpu(cluster: Cluster): void {
    if (this.cpuTargetTrackingPercent === undefined) return;
    for (const [name, nodes] of [['OnDemand', cluster.onDemandNodes], ['Spot', cluster.spotNodes]] as const) {
      if (!nodes) continue;
      new autoscaling.CfnScalingPolicy(cluster, `${name}CpuTargetTracking`, {
        autoScalingGroupName: cluster._autoScalingGroupName(nodes),
        policyType: 'TargetTrackingScaling',
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
          targetValue: this.cpuTargetTrackingPercent,
        },
      });
    }
  }
}

/** The Cluster Autoscaler, with CPU target tracking when asked (and a warning). */
class ClusterAutoscalerScaling extends NodeScaling {
  public readonly strategy = NodeScalingStrategy.CLUSTER_AUTOSCALER;

  constructor(private readonly options: ClusterAutoscalerOptions) {
    super(options.cpuTargetTrackingPercent);
  }

  public bind(cluster: Cluster): void {
    installClusterAutoscaler(cluster, this.options);
    if (this.cpuTargetTrackingPercent !== undefined) {
      Annotations.of(cluster).addWarningV2('codelearn:node-scaling-combined',
        'Cluster Autoscaler and CPU target tracking both resize the node groups: the Cluster Autoscaler FAQ advises against ' +
        'combining it with a CPU-based node autoscaler. Prefer the Cluster Autoscaler with the services\' CPU-based HPAs.');
    }
    this.trackCpu(cluster);
  }
}

/** CPU target tracking on the node groups' Auto Scaling groups. */
class CpuTargetTrackingScaling extends NodeScaling {
  public readonly strategy = NodeScalingStrategy.CPU_TARGET_TRACKING;

  constructor(percent: number) {
    super(percent);
  }

  public bind(cluster: Cluster): void {
    this.trackCpu(cluster);
  }
}
