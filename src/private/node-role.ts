import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicies } from './nag';

/**
 * The role of worker nodes: the two AWS-maintained policies EKS documents for
 * them, joining the cluster and pulling images from ECR. The CNI and every pod
 * take their permissions from Pod Identity roles, and IMDSv2 with one hop keeps
 * pods from this one.
 */
export function workerNodeRole(scope: Construct, id: string, description: string, autoMode: boolean = false): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `${description}: join the cluster and pull images (the CNI has its own Pod Identity role)`,
    managedPolicies: [
      // An Auto Mode node needs only the minimal policy: EKS, not the node, manages its networking.
      iam.ManagedPolicy.fromAwsManagedPolicyName(autoMode ? 'AmazonEKSWorkerNodeMinimalPolicy' : 'AmazonEKSWorkerNodePolicy'),
      iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly'),
    ],
  });
  acknowledgeManagedPolicies(role.node.defaultChild as iam.CfnRole,
    'The AWS-maintained policies EKS documents for worker nodes: joining the cluster and pulling images from ECR. ' +
    'Pod permissions come from Pod Identity roles, and IMDSv2 with hop limit 1 keeps pods from this role.');
  return role;
}
