import { CfnResource, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Deployment } from './deployment';
import { handWritten } from './hand-written';
import { autoModeIsEnabledWhole, autoModeNodesCanJoin, autoModeRunsAlone } from './rules/auto-mode';
import { spotPodsRunOnSpotPools } from './rules/karpenter';
import { networkPoliciesAreEnforced } from './rules/network-policies';
import { Cluster, Microservice, Network, NodeScaling } from '../../src';

/** An Auto Mode cluster with a spot service, as the library builds it, with one thing broken by an escape hatch. */
function autoMode(breakIt: (stack: Stack, cluster: Cluster) => void = () => {}): Deployment {
  return handWritten('AutoMode', stack => {
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', {
      vpc: network.vpc,
      workloadSecurityGroup: network.workloadSecurityGroup,
      nodeScaling: NodeScaling.autoMode(),
    });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    breakIt(stack, cluster);
  });
}

const cfnCluster = (cluster: Cluster) => cluster.eksCluster.node.defaultChild as eks.CfnCluster;
/** The custom resource of a manifest that `addManifest` made. */
const manifestResource = (cluster: Cluster, id: string) => cluster.eksCluster.node.findChild(`manifest-${id}`).node.defaultChild as CfnResource;

describe('the Auto Mode rules find what they describe', () => {
  const rules = [autoModeIsEnabledWhole, autoModeRunsAlone, autoModeNodesCanJoin, networkPoliciesAreEnforced, spotPodsRunOnSpotPools];
  const violations = (built: Deployment) => rules.flatMap(rule => rule.check(built).map(line => `${rule.id}: ${line}`));

  test('an Auto Mode cluster with a spot service, as the library builds it, passes them all', () => {
    expect(violations(autoMode())).toEqual([]);
  });

  test('auto-mode-is-enabled-whole: compute without load balancing, the bootstrap flag set, a role without the compute policy', () => {
    expect(violations(autoMode((_stack, cluster) => {
      cfnCluster(cluster).addPropertyOverride('KubernetesNetworkConfig.ElasticLoadBalancing.Enabled', false);
      cfnCluster(cluster).addPropertyOverride('BootstrapSelfManagedAddons', false);
      const role = cluster.eksCluster.role.node.defaultChild as iam.CfnRole;
      role.addPropertyOverride('ManagedPolicyArns', ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy']);
    }))).toEqual([
      'auto-mode-is-enabled-whole: AutoMode/Cluster/Cluster: Auto Mode compute without its load balancing',
      'auto-mode-is-enabled-whole: AutoMode/Cluster/Cluster: sets BootstrapSelfManagedAddons, which only a new cluster can change: ' +
        'a switch of strategy would replace it',
      ...['AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy']
        .map(policy => `auto-mode-is-enabled-whole: AutoMode/Cluster/Cluster/Role: lacks ${policy}, which Auto Mode needs`),
    ]);
  });

  test('auto-mode-runs-alone: a CoreDNS add-on, a managed node group, a NodePool on an EC2NodeClass that outlives 21 days', () => {
    expect(violations(autoMode((_stack, cluster) => {
      new eks.CfnAddon(cluster, 'ExtraCoreDns', { clusterName: cfnCluster(cluster).ref, addonName: 'coredns' });
      new eks.CfnNodegroup(cluster, 'ExtraNodes', { clusterName: cfnCluster(cluster).ref, nodeRole: cluster.nodeRole.roleArn, subnets: ['subnet-1'] });
      const pool = manifestResource(cluster, 'AutoModeNodePoolOnDemand');
      // The pool's manifest is a lazy string of the objects' JSON, with no reference in it.
      const manifest = JSON.parse(Stack.of(pool).resolve((pool as any)._cfnProperties.Manifest));
      manifest[0].spec.template.spec.nodeClassRef = { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'codelearn' };
      manifest[0].spec.template.spec.expireAfter = '720h';
      pool.addPropertyOverride('Manifest', JSON.stringify(manifest));
    }))).toEqual([
      'auto-mode-runs-alone: AutoMode/Cluster/ExtraCoreDns: the coredns add-on on a cluster whose Auto Mode nodes run it themselves',
      'auto-mode-runs-alone: AutoMode/Cluster/ExtraNodes: a managed node group on Auto Mode, without the add-ons its nodes need',
      'auto-mode-runs-alone: NodePool codelearn-auto-on-demand: names karpenter.k8s.aws/EC2NodeClass, which Auto Mode does not launch from',
      'auto-mode-runs-alone: NodePool codelearn-auto-on-demand: expireAfter 720h, past the 21 days Auto Mode lets a node live',
      'auto-mode-nodes-can-join: NodeClass codelearn: AutoMode/Cluster/AutoModeNodeRole is a managed node group\'s role, whose EC2_LINUX entry EKS keeps: ' +
        'a second entry, of type EC2, fails',
    ]);
  });

  test('auto-mode-nodes-can-join: an entry without the Auto Mode policy, then none, then a key EC2 may not use', () => {
    expect(violations(autoMode((_stack, cluster) => {
      (cluster.node.findChild('AutoModeNodeAccess') as CfnResource).addPropertyOverride('Type', 'EC2_LINUX');
      (cluster.node.findChild('AutoModeNodeAccess') as CfnResource).addPropertyOverride('AccessPolicies', []);
    }))).toEqual([
      'auto-mode-nodes-can-join: AutoMode/Cluster/AutoModeNodeAccess: type EC2_LINUX, not EC2, which Auto Mode\'s nodes need',
      'auto-mode-nodes-can-join: AutoMode/Cluster/AutoModeNodeAccess: without AmazonEKSAutoNodePolicy',
    ]);
    expect(violations(autoMode((_stack, cluster) => {
      (cluster.node.findChild('AutoModeNodeAccess') as CfnResource).addPropertyOverride('PrincipalArn', 'arn:aws:iam::123456789012:role/other');
    }))).toEqual(['auto-mode-nodes-can-join: NodeClass codelearn: AutoMode/Cluster/AutoModeNodeRole has no access entry, so Auto Mode\'s nodes never join']);
    expect(violations(autoMode((_stack, cluster) => {
      const key = cluster.encryptionKey.node.defaultChild as CfnResource;
      key.addPropertyOverride('KeyPolicy.Statement', [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }]);
    }))).toEqual(['kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt']
      .map(action => `auto-mode-nodes-can-join: AutoMode/Cluster/Key: does not let the account use ${action} through EC2, so Auto Mode's nodes fail to launch`));
  });

  test('network-policies-are-enforced: Auto Mode without its ConfigMap, or with one that is deleted with its manifest', () => {
    expect(violations(autoMode((_stack, cluster) => {
      cluster.node.tryRemoveChild('AutoModeNetworkPolicy');
    }))).toEqual([
      'network-policies-are-enforced: AutoMode/Cluster/Cluster: on EKS Auto Mode without the ConfigMap kube-system/amazon-vpc-cni, so no network policy is enforced',
    ]);
    expect(violations(autoMode((_stack, cluster) => {
      (cluster.node.findChild('AutoModeNetworkPolicy').node.defaultChild as CfnResource).addOverride('DeletionPolicy', 'Delete');
    }))).toEqual([
      'network-policies-are-enforced: AutoMode/Cluster/AutoModeNetworkPolicy: deleted with its manifest, which turns the network policies off',
    ]);
  });
});
