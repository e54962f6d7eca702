import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct, IDependable } from 'constructs';

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

/** A role that one service account's pods assume through EKS Pod Identity, and what hands it out. */
export interface ServiceAccountRole {
  /** The role, with no permissions until the caller grants them. */
  readonly role: iam.Role;

  /** The Pod Identity association: pods that use the role start after it. */
  readonly association: IDependable;
}

/**
 * What a cluster gives the strategy that scales its nodes, and no more: its node
 * groups and their Auto Scaling groups, the nodes' role, Pod Identity roles for
 * the strategy's own controller, Helm charts, and the Kubernetes version. A
 * strategy creates its resources in this scope, so their logical IDs are the
 * cluster's. `Cluster` is one.
 */
export interface INodeScalingTarget extends IConstruct {
  /** The cluster's name. */
  readonly clusterName: string;

  /** The Kubernetes version of the control plane. */
  readonly kubernetesVersion: eks.KubernetesVersion;

  /** The EKS cluster, which installs Helm charts and Kubernetes objects (`addHelmChart`, `addManifest`). */
  readonly eksCluster: eks.Cluster;

  /** The on-demand node group, where the system's controllers run. */
  readonly onDemandNodes: eks.Nodegroup;

  /** The spot node group, when the cluster has one. */
  readonly spotNodes?: eks.Nodegroup;

  /** The role of the cluster's nodes. */
  readonly nodeRole: iam.IRole;

  /**
   * The name of the Auto Scaling group of one of the cluster's node groups,
   * which EKS gives only at deploy time: looked up then, once per group.
   */
  autoScalingGroupName(nodes: eks.Nodegroup): string;

  /**
   * A role that pods of `serviceAccount` in `namespace` assume through EKS Pod
   * Identity, with its association, created in this scope under `id`.
   */
  addServiceAccountRole(id: string, namespace: string, serviceAccount: string): ServiceAccountRole;
}

/**
 * A node scaling strategy: what it is, and how it installs itself on a cluster.
 * `NodeScaling` makes the library's strategies; implement this (or extend
 * `NodeScaling`) for one of your own.
 */
export interface INodeScaling {
  /** The strategy: `CUSTOM` for one of your own. */
  readonly strategy: NodeScalingStrategy;

  /**
   * The average node CPU utilization that the Auto Scaling groups track.
   *
   * @default - no target tracking
   */
  readonly cpuTargetTrackingPercent?: number;

  /**
   * Installs the strategy on `cluster`, once its node groups and the Load
   * Balancer Controller exist: what it creates goes in the cluster's scope.
   */
  bind(cluster: INodeScalingTarget): void;
}
