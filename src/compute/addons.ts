import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { acknowledgeManagedPolicies } from '../private/nag';
import { pascalCase } from '../private/names';
import { podIdentityPrincipal } from '../private/pod-identity';

/** What an add-on needs of its cluster: the scope of its resources, the EKS cluster and the key of the nodes' volumes. */
export interface AddonTarget extends IConstruct {
  readonly eksCluster: eks.Cluster;
  readonly encryptionKey: kms.IKey;
}

/** An EKS add-on of `cluster`, with its own Pod Identity role where it needs AWS permissions. */
export function addAddon(cluster: AddonTarget, name: string, cfnCluster: eks.CfnCluster, version: string | undefined): eks.CfnAddon {
  const podIdentity = addonPodIdentity(cluster, name);
  const addon = new eks.CfnAddon(cluster, `Addon${pascalCase(name)}`, {
    clusterName: cfnCluster.ref,
    addonName: name,
    addonVersion: version,
    resolveConflicts: 'OVERWRITE',
    podIdentityAssociations: podIdentity && [podIdentity],
  });
  return addon;
}

/** vpc-cni and the EBS CSI driver get AWS permissions through Pod Identity. */
function addonPodIdentity(cluster: AddonTarget, name: string): eks.CfnAddon.PodIdentityAssociationProperty | undefined {
  const managed: { [addon: string]: [string, string] } = {
    'vpc-cni': ['aws-node', 'AmazonEKS_CNI_Policy'],
    'aws-ebs-csi-driver': ['ebs-csi-controller-sa', 'service-role/AmazonEBSCSIDriverPolicy'],
  };
  const entry = managed[name];
  if (!entry) {
    return undefined;
  }
  const [serviceAccount, policy] = entry;
  const role = new iam.Role(cluster, `${name === 'vpc-cni' ? 'Cni' : 'EbsCsi'}Role`, {
    assumedBy: podIdentityPrincipal({ clusterArn: cluster.eksCluster.clusterArn, namespace: 'kube-system', serviceAccount }),
    description: `Pod Identity role of the ${name} add-on of ${cluster.node.path}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
  });
  acknowledgeManagedPolicies(role.node.defaultChild as iam.CfnRole,
    `The AWS-maintained policy that EKS documents for the ${name} add-on, attached to its own Pod Identity role only.`);
  if (name === 'aws-ebs-csi-driver') {
    // Volumes encrypted with the cluster key: explicit actions, this key only.
    role.addManagedPolicy(new iam.ManagedPolicy(cluster, 'EbsCsiKeyPolicy', {
      description: `Lets the EBS CSI driver of ${cluster.node.path} use the cluster key for volumes`,
      statements: [
        new iam.PolicyStatement({
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey',
            'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
          resources: [cluster.encryptionKey.keyArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:CreateGrant'],
          resources: [cluster.encryptionKey.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
        }),
      ],
    }));
  }
  return { serviceAccount, roleArn: role.roleArn };
}
