import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { ConfigurationError } from '../private/errors';
import { acknowledgeManagedPolicies } from '../private/nag';
import { pascalCase } from '../private/names';
import { podIdentityPrincipal } from '../private/pod-identity';

/** What an add-on needs of its cluster: the scope of its resources, the EKS cluster and the key of the nodes' volumes. */
export interface AddonTarget extends IConstruct {
  readonly eksCluster: eks.Cluster;
  readonly encryptionKey: kms.IKey;
}

/** The first VPC CNI release whose node agent enforces network policies: v1.14.0-eksbuild.3 (EKS user guide). */
const NETWORK_POLICY_CNI = [1, 14, 0, 3];

/**
 * An EKS add-on of `cluster`, with its own Pod Identity role where it needs AWS
 * permissions. The VPC CNI enforces the services' network policies.
 */
export function addAddon(cluster: AddonTarget, name: string, cfnCluster: eks.CfnCluster, version: string | undefined): eks.CfnAddon {
  const podIdentity = addonPodIdentity(cluster, name);
  if (name === 'vpc-cni' && version !== undefined) {
    // Major, minor, patch and eksbuild (the cluster's checks make sure the version has that shape): the first that differs decides.
    const parts = (/^v(\d+)\.(\d+)\.(\d+)-eksbuild\.(\d+)$/.exec(version) ?? []).slice(1).map(Number);
    const order = NETWORK_POLICY_CNI.map((least, index) => Math.sign(parts[index] - least)).find(sign => sign !== 0) ?? 0;
    if (parts.length === 4 && order < 0) {
      throw new ConfigurationError(`\`addonVersions['vpc-cni']\` ('${version}') does not enforce network policies, which the services rely on: ` +
        'use v1.14.0-eksbuild.3 or later (such as \'v1.20.4-eksbuild.2\'), or leave it out for the newest version EKS offers.');
    }
  }
  const addon = new eks.CfnAddon(cluster, `Addon${pascalCase(name)}`, {
    clusterName: cfnCluster.ref,
    addonName: name,
    addonVersion: version,
    resolveConflicts: 'OVERWRITE',
    podIdentityAssociations: podIdentity && [podIdentity],
    // The node agent enforces every NetworkPolicy; without it they are only objects.
    configurationValues: name === 'vpc-cni' ? JSON.stringify({ enableNetworkPolicy: 'true' }) : undefined,
    // When EKS Auto Mode takes over (NodeScaling.autoMode()), the add-on goes, but its ConfigMap
    // amazon-vpc-cni, which turns the network policy controller on for Auto Mode too, stays.
    preserveOnDelete: name === 'vpc-cni' ? true : undefined,
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
