import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct, IDependable } from 'constructs';

/**
 * How the cluster scales its nodes.
 */
export enum NodeScalingStrategy {
  /** The Kubernetes Cluster Autoscaler adds nodes for pending pods and removes idle ones. */
  CLUSTER_AUTOSCALER = 'CLUSTER_AUTOSCALER',

  /** The node groups' Auto Scaling groups track an average CPU utilization. */
  CPU_TARGET_TRACKING = 'CPU_TARGET_TRACKING',

  /** Karpenter launches nodes for pending pods from NodePools, and consolidates them. */
  KARPENTER = 'KARPENTER',

  /** EKS Auto Mode: EKS runs Karpenter, the node agents and the nodes' lifecycle itself, from the cluster's NodePools. */
  AUTO_MODE = 'AUTO_MODE',

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
 * How the cluster launches its nodes, for a strategy that launches nodes of its
 * own (Karpenter): the same subnets, security groups, disk and key as the node
 * groups' launch template.
 */
export interface NodeLaunchSpec {
  /** The subnets of the nodes. */
  readonly subnets: ec2.ISubnet[];

  /** The security groups of every node: the cluster's, and the workloads' (which the data stores admit) when there is one. */
  readonly securityGroups: ec2.ISecurityGroup[];

  /** The key that encrypts the nodes' root volumes. */
  readonly encryptionKey: kms.IKey;

  /** The size of each node's gp3 root volume, in GiB. */
  readonly volumeSizeGib: number;

  /** Whether the nodes publish one-minute EC2 metrics. */
  readonly detailedMonitoring: boolean;

  /**
   * The EKS AMI release the node groups run (`1.36.0-20261118`).
   *
   * @default - the newest release of the cluster's Kubernetes version
   */
  readonly amiReleaseVersion?: string;

  /** The instance type of the on-demand node group. */
  readonly instanceType: ec2.InstanceType;

  /** The most nodes the on-demand node group may have. */
  readonly maxNodes: number;

  /** The fewest nodes the on-demand node group keeps. */
  readonly minNodes: number;

  /**
   * The spot capacity the cluster asks for (`spot`), when it asks for any.
   *
   * @default - no spot capacity
   */
  readonly spot?: SpotCapacitySpec;
}

/** The spot capacity a cluster asks for. */
export interface SpotCapacitySpec {
  /** The most spot nodes (`spotNodes.maxSize`). */
  readonly maxNodes: number;

  /**
   * The instance types the user chose for spot (`spotInstanceTypes`).
   *
   * @default - none chosen: the strategy picks
   */
  readonly instanceTypes?: ec2.InstanceType[];
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

  /**
   * The on-demand node group, where the system's controllers run.
   *
   * @default - none on EKS Auto Mode, which runs no managed node groups
   */
  readonly onDemandNodes?: eks.Nodegroup;

  /** The spot node group, when the cluster has one. */
  readonly spotNodes?: eks.Nodegroup;

  /** The role of the cluster's nodes. */
  readonly nodeRole: iam.IRole;

  /**
   * The add-ons that run on the nodes, CoreDNS among them: a controller that
   * calls AWS waits for them, and on delete goes before them, while it can
   * still resolve AWS's endpoints.
   */
  readonly nodeAddons: IDependable;

  /** How the cluster launches nodes: for a strategy that launches its own. */
  readonly nodeLaunch: NodeLaunchSpec;

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

  /**
   * Adds what the workloads' namespaces wait for: capacity a strategy creates
   * (a NodePool), which is then deleted only after the workloads' pods stopped.
   */
  addWorkloadCapacity(capacity: IDependable): void;

  /**
   * Lets the kubectl provider pull Helm charts from Amazon ECR Public
   * (`oci://public.ecr.aws/...`): it logs in to the public registry first.
   */
  allowPublicEcrCharts(): void;
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
   * Whether the strategy resizes every managed node group of the cluster, the
   * sandbox nodes' included, between its minimum and maximum.
   *
   * @default false
   */
  readonly resizesNodeGroups?: boolean;

  /**
   * Whether the strategy launches the spot capacity itself: the cluster then
   * makes no spot node group.
   *
   * @default false
   */
  readonly launchesSpotCapacity?: boolean;

  /**
   * Whether the cluster runs on EKS Auto Mode: it then enables Auto Mode's
   * compute, block storage and load balancing, makes no managed node groups, and
   * installs none of the add-ons that Auto Mode runs on its nodes itself (VPC CNI,
   * kube-proxy, CoreDNS, the Pod Identity agent, the EBS CSI driver). Read before
   * the cluster is created.
   *
   * @default false
   */
  readonly enablesAutoMode?: boolean;

  /**
   * The values of `Cluster.CAPACITY_LABEL` (`codelearn.dev/capacity`) that the
   * pods of a `spot: true` service must run on: a required node affinity.
   *
   * @default - none required: a spot service tolerates spot nodes and prefers them
   */
  readonly spotCapacityValues?: string[];

  /**
   * Installs the strategy on `cluster`, once its node groups and the Load
   * Balancer Controller exist: what it creates goes in the cluster's scope.
   */
  bind(cluster: INodeScalingTarget): void;
}
