import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { INodeScaling } from './node-scaling-target';
import { SandboxNodesOptions } from './sandbox-nodes';
import { PlatformProfile } from '../profile';

/**
 * The size of a managed node group.
 */
export interface NodeGroupSize {
  /**
   * The fewest nodes.
   *
   * @default - 2 on demand in production, 1 in development; 0 spot
   */
  readonly minSize?: number;

  /**
   * The most nodes, at most 100.
   *
   * @default - 10 on demand in production, 3 in development; 10 spot
   */
  readonly maxSize?: number;

  /**
   * The nodes at creation. Node scaling changes it afterwards.
   *
   * @default - 3 on demand in production, 1 in development; 0 spot
   */
  readonly desiredSize?: number;
}

/**
 * A scheduled change of the on-demand node group's size, for predictable traffic.
 */
export interface ScheduledNodeScaling {
  /** A name for the action, unique in the cluster. */
  readonly name: string;

  /**
   * When, as a cron expression in the time zone (`0 7 * * MON-FRI`).
   */
  readonly schedule: string;

  /**
   * The time zone of the schedule (IANA name).
   *
   * @default 'UTC'
   */
  readonly timeZone?: string;

  /**
   * The new fewest nodes.
   *
   * @default - unchanged
   */
  readonly minSize?: number;

  /**
   * The new most nodes.
   *
   * @default - unchanged
   */
  readonly maxSize?: number;

  /**
   * The new number of nodes.
   *
   * @default - unchanged
   */
  readonly desiredSize?: number;
}

/**
 * What a user may set on the cluster.
 */
export interface ClusterOptions {
  /**
   * The Kubernetes version. A different version needs the matching `kubectlLayer`.
   *
   * @default eks.KubernetesVersion.V1_36
   */
  readonly kubernetesVersion?: eks.KubernetesVersion;

  /**
   * The EKS AMI release the nodes run (`1.36.2-20261118`: the cluster's Kubernetes
   * version, then the AMI's build date). Setting a newer release rolls the nodes
   * onto it, `maxUnavailable` a third at a time; the newest for a version is
   * `aws ssm get-parameter --name /aws/service/eks/optimized-ami/<version>/amazon-linux-2023/x86_64/standard/recommended/release_version`.
   * The node groups always run the cluster's Kubernetes version: an upgrade of
   * `kubernetesVersion` rolls them after the control plane.
   *
   * @default - the newest release of the cluster's version when the node groups are created or upgraded; kept until then
   */
  readonly nodeReleaseVersion?: string;

  /**
   * What the cluster does when its Kubernetes version leaves standard support.
   * `STANDARD`: EKS upgrades the control plane to the next version itself (the
   * platform's versions table warns 90 days before). `EXTENDED`: it stays, for 12
   * more months at $0.60 an hour instead of $0.10.
   *
   * @default ClusterSupportType.STANDARD
   */
  readonly supportType?: ClusterSupportType;

  /**
   * The Lambda layer with `kubectl` and `helm` that applies Kubernetes objects.
   *
   * @default - the kubectl 1.36 layer of `@aws-cdk/lambda-layer-kubectl-v36`
   */
  readonly kubectlLayer?: lambda.ILayerVersion;

  /**
   * One-minute (detailed) EC2 monitoring of the nodes, so that node alarms and
   * target tracking react within a minute rather than five. CloudWatch bills its
   * seven metrics, about $2.10 a node a month.
   *
   * @default - true in production, false in development
   */
  readonly detailedMonitoring?: boolean;

  /**
   * Versions of the EKS add-ons, by add-on name (`vpc-cni`, `kube-proxy`,
   * `eks-pod-identity-agent`, `coredns`, `metrics-server`, `aws-ebs-csi-driver`),
   * such as `{ 'vpc-cni': 'v1.20.4-eksbuild.2' }`. An add-on without a version
   * gets EKS's default for the cluster's Kubernetes version when it is created, and
   * keeps it: raise the versions with each cluster upgrade (list them with
   * `aws eks describe-addon-versions --kubernetes-version <version>`).
   *
   * @default - EKS's default version of each add-on when it is created
   */
  readonly addonVersions?: { [addon: string]: string };

  /**
   * CIDR blocks that may reach the Kubernetes API from the internet, besides the
   * private endpoint inside the VPC.
   *
   * @default - none: the endpoint is private
   */
  readonly publicEndpointCidrs?: string[];

  /**
   * The instance type of the on-demand node group. The specification names
   * t3.medium, or m5.large for production traffic.
   *
   * @default - t3.medium in production; t3.large in development, whose one node holds the add-ons and every service (35 pods, 8 GiB)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The size of the on-demand node group.
   *
   * @default - min 2, max 10, desired 3 in production (the specification's); min 1, max 3, desired 1 in development
   */
  readonly nodes?: NodeGroupSize;

  /**
   * Add a spot node group for workloads that tolerate interruption. Its nodes
   * carry the taint `codelearn.dev/capacity=spot:NoSchedule`.
   *
   * @default - true in production, false in development
   */
  readonly spot?: boolean;

  /**
   * The instance types of the spot node group: several, so that spot capacity is
   * found when one type is short, and of one shape (the Cluster Autoscaler plans a
   * group with its first type). Check that each is offered in your region.
   *
   * @default - t3.medium, t3a.medium, c5.large, c5a.large, c6i.large, c6a.large (2 vCPU, 4 GiB)
   */
  readonly spotInstanceTypes?: ec2.InstanceType[];

  /**
   * The size of the spot node group.
   *
   * @default - min 0, max 10, desired 0
   */
  readonly spotNodes?: NodeGroupSize;

  /**
   * The node group of the sandboxes (`SandboxService`): on-demand nodes tainted
   * `codelearn.dev/workload=sandbox:NoSchedule`.
   *
   * @default - none, until a sandbox needs it: then 1 to 3 of the on-demand type, 1024 processes a pod
   */
  readonly sandboxNodes?: SandboxNodesOptions;

  /**
   * How the nodes scale.
   *
   * @default - NodeScaling.clusterAutoscaler()
   */
  readonly nodeScaling?: INodeScaling;

  /**
   * Scheduled changes of the on-demand node group's size.
   *
   * @default - none
   */
  readonly scheduledScaling?: ScheduledNodeScaling[];

  /**
   * How long the control-plane logs are kept.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that envelope-encrypts Kubernetes secrets and encrypts node
   * volumes and the control-plane logs.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Properties of a `Cluster`.
 */
export interface ClusterProps extends ClusterOptions {
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets of the control-plane interfaces and the nodes.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * A security group the nodes (and so their pods) carry besides the cluster's,
   * such as the one that the data stores admit.
   *
   * @default - none
   */
  readonly workloadSecurityGroup?: ec2.ISecurityGroup;

  /**
   * The profile whose defaults apply.
   *
   * @default PlatformProfile.PRODUCTION
   */
  readonly profile?: PlatformProfile;
}

/** The default spot types: one shape, 2 vCPU and 4 GiB, in several families. */

/** What an EKS cluster does when its Kubernetes version leaves standard support. */
export enum ClusterSupportType {
  /** EKS upgrades the control plane to the next version at the end of standard support. */
  STANDARD = 'STANDARD',
  /** The version stays for 12 more months of extended support, billed at $0.60 an hour. */
  EXTENDED = 'EXTENDED',
}
