import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { INodeScalingTarget } from './node-scaling-target';
import { ConfigurationError } from '../private/errors';

/* What node scaling strategies share; not part of the API. */

/** `percent`, when it is a CPU target a strategy can track: a whole percentage from 10 to 90. */
export function requireCpuTarget(percent: number | undefined): number | undefined {
  if (percent !== undefined && (!Number.isInteger(percent) || percent < 10 || percent > 90)) {
    throw new ConfigurationError(`The CPU target of node scaling (${percent}) must be a whole percentage from 10 to 90.`);
  }
  return percent;
}

/** Target tracking of `percent` on each node group's Auto Scaling group of `cluster`, when there is a target. */
export function trackCpu(cluster: INodeScalingTarget, percent: number | undefined): void {
  if (percent === undefined) return;
  for (const [name, nodes] of [['OnDemand', cluster.onDemandNodes], ['Spot', cluster.spotNodes]] as const) {
    if (!nodes) continue;
    new autoscaling.CfnScalingPolicy(cluster, `${name}CpuTargetTracking`, {
      autoScalingGroupName: cluster.autoScalingGroupName(nodes),
      policyType: 'TargetTrackingScaling',
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
        targetValue: percent,
      },
    });
  }
}

/**
 * The managed on-demand node group of `cluster`, which `who` needs (it runs
 * there, or scales it); a cluster on EKS Auto Mode has none.
 */
export function systemNodes(cluster: INodeScalingTarget, who: string): eks.Nodegroup {
  if (!cluster.onDemandNodes) {
    throw new ConfigurationError(`${who} needs the managed on-demand node group of ${cluster.node.path}, which a cluster on EKS Auto Mode does not have: ` +
      'use NodeScaling.clusterAutoscaler() or NodeScaling.karpenter(), or leave it out.');
  }
  return cluster.onDemandNodes;
}
