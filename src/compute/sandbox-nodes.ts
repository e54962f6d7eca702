import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * The node group where sandboxes run: nodes of their own, which no other
 * workload tolerates.
 */
export interface SandboxNodesOptions {
  /**
   * The instance type. A burstable type (`t3`, in unlimited mode) bills CPU above
   * its baseline, which code that loops keeps it at: the pods' CPU limits cap it.
   *
   * @default - the cluster's on-demand instance type
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The fewest nodes.
   *
   * @default 1
   */
  readonly minSize?: number;

  /**
   * The most nodes, at most 100.
   *
   * @default 3
   */
  readonly maxSize?: number;

  /**
   * The nodes at creation. Node scaling changes it afterwards.
   *
   * @default 1
   */
  readonly desiredSize?: number;

  /**
   * The most processes (and threads) one pod may run on these nodes: the
   * kubelet's `podPidsLimit`, so that a fork bomb stops at its own pod. It applies
   * to every pod of the nodes, the system's daemons included: at least 256.
   *
   * @default 1024
   */
  readonly podPidsLimit?: number;
}
