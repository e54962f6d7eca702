import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { AddonTarget } from './addons';
import type { ScheduledNodeScaling } from './cluster-options';
import { systemNodes } from './node-scaling-helpers';
import { INodeScalingTarget } from './node-scaling-target';
import { AwsCalls } from '../private/aws-calls';
import { ConfigurationError } from '../private/errors';
import { pascalCase } from '../private/names';
import { requireWholeNumber } from '../private/validate';

/*
 * What the cluster does with its node groups beyond creating them: the deploy-time
 * look-up of their Auto Scaling groups, and the scheduled actions on them.
 */

/**
 * The name of a node group's Auto Scaling group, which EKS gives only at deploy
 * time: looked up then. `name` is the group's in the IDs (`OnDemand`, `Spot`).
 */
export function lookUpAutoScalingGroupName(cluster: AddonTarget & { readonly clusterName: string }, nodes: eks.Nodegroup, name: string,
  vpcSubnets: ec2.SubnetSelection, logRetention: logs.RetentionDays): string {
  const calls = AwsCalls.of(cluster, { vpc: cluster.eksCluster.vpc, vpcSubnets, encryptionKey: cluster.encryptionKey, logRetention });
  // The node group's own name (not the `<cluster>/<nodegroup>` that its Ref
  // returns without the nodegroupNameAttribute feature flag).
  const nodegroupName = (nodes.node.defaultChild as eks.CfnNodegroup).attrNodegroupName;
  const lookup = calls.call(cluster, `${name}AutoScalingGroup`, {
    onUpdate: {
      service: 'EKS',
      action: 'describeNodegroup',
      parameters: { clusterName: cluster.clusterName, nodegroupName },
      physicalResourceId: cr.PhysicalResourceId.of(`${cluster.clusterName}/${name}`),
      outputPaths: ['nodegroup.resources.autoScalingGroups.0.name'],
    },
  }, [new iam.PolicyStatement({ actions: ['eks:DescribeNodegroup'], resources: [nodes.nodegroupArn] })]);
  return lookup.getResponseField('nodegroup.resources.autoScalingGroups.0.name');
}

/** The scheduled actions, on the on-demand node group's Auto Scaling group. */
export function addScheduledActions(cluster: INodeScalingTarget, schedules: ScheduledNodeScaling[]): void {
  for (const schedule of schedules) {
    new autoscaling.CfnScheduledAction(cluster, `Schedule${pascalCase(schedule.name)}`, {
      autoScalingGroupName: cluster.autoScalingGroupName(systemNodes(cluster, 'Scheduled node scaling')),
      recurrence: schedule.schedule,
      timeZone: schedule.timeZone ?? 'UTC',
      minSize: schedule.minSize,
      maxSize: schedule.maxSize,
      desiredCapacity: schedule.desiredSize,
    });
  }
}

export function validateSchedules(schedules: ScheduledNodeScaling[]): void {
  const names = new Set<string>();
  for (const schedule of schedules) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(schedule.name) || names.has(schedule.name)) {
      throw new ConfigurationError(`\`scheduledScaling\` has the name '${schedule.name}': use letters, digits and '-', once per cluster.`);
    }
    names.add(schedule.name);
    if (schedule.schedule.trim().split(/\s+/).length !== 5) {
      throw new ConfigurationError(`\`scheduledScaling.${schedule.name}.schedule\` ('${schedule.schedule}') is not a cron expression of five fields, such as '0 7 * * MON-FRI'.`);
    }
    if (schedule.minSize === undefined && schedule.maxSize === undefined && schedule.desiredSize === undefined) {
      throw new ConfigurationError(`\`scheduledScaling.${schedule.name}\` changes nothing: set minSize, maxSize or desiredSize.`);
    }
    for (const field of ['minSize', 'maxSize', 'desiredSize'] as const) {
      if (schedule[field] !== undefined) {
        requireWholeNumber(`scheduledScaling.${schedule.name}.${field}`, schedule[field]!, 0, 100);
      }
    }
  }
}
