import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigurationError } from './errors';
import { requireInstanceType, requireWholeNumber } from './validate';

/** The label and taint key of the sandbox nodes, and its value (`Cluster.SANDBOX_LABEL`). */
export const SANDBOX_KEY = 'codelearn.dev/workload';
export const SANDBOX_VALUE = 'sandbox';

/** The sandbox node group's options, checked, with their defaults. */
export interface SandboxNodeGroup {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredSize: number;
  readonly podPidsLimit: number;
  readonly instanceType?: ec2.InstanceType;
}

/** The options of the sandbox nodes (`SandboxNodesOptions`). */
export type SandboxNodesInput = Partial<SandboxNodeGroup>;

export function sandboxNodeGroup(options: SandboxNodesInput): SandboxNodeGroup {
  const group = { minSize: 1, maxSize: 3, desiredSize: 1, podPidsLimit: 1024, ...options };
  requireWholeNumber('sandboxNodes.minSize', group.minSize, 0, 100);
  requireWholeNumber('sandboxNodes.maxSize', group.maxSize, 1, 100);
  if (group.maxSize < group.minSize) {
    throw new ConfigurationError(`\`sandboxNodes.maxSize\` (${group.maxSize}) must be >= \`sandboxNodes.minSize\` (${group.minSize}): raise maxSize or lower minSize.`);
  }
  if (!Number.isInteger(group.desiredSize) || group.desiredSize < group.minSize || group.desiredSize > group.maxSize) {
    throw new ConfigurationError(`\`sandboxNodes.desiredSize\` (${group.desiredSize}) must be a whole number from \`sandboxNodes.minSize\` (${group.minSize}) ` +
      `to \`sandboxNodes.maxSize\` (${group.maxSize}).`);
  }
  // The limit holds for the node's daemons too (aws-node, the CloudWatch agent, Fluent Bit),
  // which run dozens of threads each.
  requireWholeNumber('sandboxNodes.podPidsLimit', group.podPidsLimit, 256, 32_768);
  if (group.instanceType) requireInstanceType('sandboxNodes.instanceType', group.instanceType.toString());
  return group;
}

/**
 * The user data of the sandbox nodes: a NodeConfig that nodeadm, the AL2023
 * bootstrap, merges with the one EKS adds for a managed node group. EKS takes
 * user data in a launch template only as a MIME multi-part document.
 */
export function sandboxUserData(group: SandboxNodeGroup): ec2.UserData {
  const userData = new ec2.MultipartUserData();
  userData.addPart(ec2.MultipartBody.fromRawBody({
    contentType: 'application/node.eks.aws',
    body: [
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  kubelet:',
      '    config:',
      `      podPidsLimit: ${group.podPidsLimit}`,
      '',
    ].join('\n'),
  }));
  return userData;
}
