import { CfnResource, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Deployment } from './deployment';
import { handWritten, manifest } from './hand-written';
import {
  karpenterControllerCanWork, karpenterDeletesInOrder, karpenterNodesCanJoin, karpenterVolumesUseAUsableKey, oneNodeAutoscaler,
  publicEcrChartsCanBePulled, spotPodsRunOnSpotPools,
} from './rules/karpenter';
import { Cluster, Microservice, Network, NodeScaling } from '../../src';

/** A Karpenter cluster with a spot service, as the library builds it, with one thing broken by an escape hatch. */
function karpenter(breakIt: (stack: Stack, cluster: Cluster) => void = () => {}): Deployment {
  return handWritten('Karpenter', stack => {
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', {
      vpc: network.vpc,
      workloadSecurityGroup: network.workloadSecurityGroup,
      nodeScaling: NodeScaling.karpenter(),
    });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    breakIt(stack, cluster);
  });
}

const child = (cluster: Cluster, id: string) => cluster.node.findChild(id).node.defaultChild as CfnResource;
const deployment = (name: string, spec: object) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec });

describe('the Karpenter rules find what they describe', () => {
  const rules = [karpenterNodesCanJoin, karpenterControllerCanWork, publicEcrChartsCanBePulled, oneNodeAutoscaler, spotPodsRunOnSpotPools,
    karpenterDeletesInOrder, karpenterVolumesUseAUsableKey];
  const violations = (built: Deployment) => rules.flatMap(rule => rule.check(built).map(line => `${rule.id}: ${line}`));

  test('a Karpenter cluster with a spot service, as the library builds it, passes them all', () => {
    expect(violations(karpenter())).toEqual([]);
  });

  test('karpenter-nodes-can-join: an entry of the wrong type, and a node role without one', () => {
    expect(violations(karpenter((_stack, cluster) => {
      (cluster.node.findChild('KarpenterNodeAccess') as CfnResource).addPropertyOverride('Type', 'STANDARD');
    }))).toEqual(['karpenter-nodes-can-join: Karpenter/Cluster/KarpenterNodeAccess: type STANDARD, not EC2_LINUX']);
    expect(violations(karpenter((_stack, cluster) => {
      (cluster.node.findChild('KarpenterNodeAccess') as CfnResource).addPropertyOverride('PrincipalArn', 'arn:aws:iam::123456789012:role/other');
    }))).toEqual(['karpenter-nodes-can-join: EC2NodeClass codelearn: Karpenter/Cluster/KarpenterNodeRole has no access entry, so its nodes never join']);
  });

  test('karpenter-controller-can-work: a missing event rule, a queue EventBridge may not send to, no region', () => {
    expect(violations(karpenter((_stack, cluster) => {
      cluster.node.tryRemoveChild('KarpenterRebalance');
      child(cluster, 'KarpenterInterruptions').node.scope!.node.tryRemoveChild('Policy');
      const chart = cluster.eksCluster.node.findChild('chart-Karpenter').node.defaultChild!.node.defaultChild as CfnResource;
      chart.addPropertyOverride('Values', JSON.stringify({ serviceAccount: { name: 'karpenter' }, settings: { clusterName: cluster.clusterName } }));
    }))).toEqual([
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: no settings.clusterEndpoint (it would call eks:DescribeCluster to find it)',
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: no AWS_REGION: with IMDSv2 at one hop the controller cannot find its region',
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: settings.interruptionQueue is not a queue of the stack',
    ]);
    expect(violations(karpenter((_stack, cluster) => {
      cluster.node.tryRemoveChild('KarpenterRebalance');
      child(cluster, 'KarpenterInterruptions').node.scope!.node.tryRemoveChild('Policy');
    }))).toEqual([
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: no EventBridge rule sends \'EC2 Instance Rebalance Recommendation\' to Karpenter/Cluster/KarpenterInterruptions',
      'karpenter-controller-can-work: Karpenter/Cluster/KarpenterInterruptions: its policy does not let EventBridge send to it',
    ]);
  });

  test('karpenter-controller-can-work: a controller role that may not pass the node role', () => {
    expect(violations(karpenter((_stack, cluster) => {
      const policy = cluster.node.findChild('KarpenterControllerPolicy').node.defaultChild as iam.CfnManagedPolicy;
      const document = Stack.of(cluster).resolve(policy.policyDocument);
      policy.policyDocument = { ...document, Statement: document.Statement.filter((statement: any) => statement.Sid !== 'PassNodeRole') };
    }))).toEqual([
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: its role may not pass Karpenter/Cluster/KarpenterNodeRole, the role of EC2NodeClass codelearn',
    ]);
  });

  test('public-ecr-charts-can-be-pulled: a kubectl handler that may not log in to ECR Public', () => {
    expect(violations(karpenter((_stack, cluster) => {
      const policy = cluster.eksCluster.kubectlProvider!.role!.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
      const document = Stack.of(cluster).resolve(policy.policyDocument);
      policy.policyDocument = { ...document, Statement: document.Statement.filter((statement: any) => statement.Action === 'eks:DescribeCluster') };
    }))).toEqual([
      expect.stringMatching(/^public-ecr-charts-can-be-pulled: Karpenter\/Cluster\/Cluster\/chart-KarpenterCrds: .*Handler.* may not ecr-public:GetAuthorizationToken/),
      expect.stringMatching(/may not sts:GetServiceBearerToken, so the pull fails$/),
      expect.stringMatching(/chart-Karpenter: .* may not ecr-public:GetAuthorizationToken/),
      expect.stringMatching(/chart-Karpenter: .* may not sts:GetServiceBearerToken/),
    ]);
  });

  test('one-node-autoscaler: the Cluster Autoscaler beside Karpenter', () => {
    expect(violations(karpenter((_stack, cluster) => {
      cluster.eksCluster.addHelmChart('Autoscaler', { chart: 'cluster-autoscaler', repository: 'https://kubernetes.github.io/autoscaler', wait: true });
    }))).toEqual(['one-node-autoscaler: Karpenter/Cluster/Cluster/chart-Autoscaler: the Cluster Autoscaler beside Karpenter']);
  });

  test('spot-pods-run-on-spot-pools: a toleration without the required affinity, and one that accepts an untainted pool', () => {
    const toleration = { key: Cluster.CAPACITY_LABEL, operator: 'Equal', value: 'spot', effect: 'NoSchedule' };
    const pod = (affinity?: object) => ({ template: { spec: { tolerations: [toleration], ...(affinity ? { affinity } : {}), containers: [] } } });
    expect(violations(karpenter((_stack, cluster) => {
      cluster.eksCluster.addManifest('Loose', deployment('loose', pod()));
      cluster.eksCluster.addManifest('Wide', deployment('wide', pod({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: Cluster.CAPACITY_LABEL, operator: 'In', values: ['on-demand'] }] }],
          },
        },
      })));
    }))).toEqual([
      'spot-pods-run-on-spot-pools: default/loose: tolerates spot but does not require a spot pool\'s nodes, so it may run on any',
      'spot-pods-run-on-spot-pools: default/wide: accepts codelearn.dev/capacity=on-demand, which no spot-tainted NodePool labels',
      'spot-pods-run-on-spot-pools: default/wide: accepts no NodePool of spot capacity',
    ]);
  });

  test('karpenter-deletes-in-order: a namespace that does not wait for the NodePools', () => {
    expect(violations(karpenter((_stack, cluster) => {
      cluster.eksCluster.addManifest('Stray', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stray' } });
    }))).toEqual(['OnDemand', 'Spot', 'SpotFallback'].map(pool =>
      `karpenter-deletes-in-order: Karpenter/Cluster/Cluster/manifest-Stray: does not wait for Karpenter/Cluster/Cluster/manifest-KarpenterNodePool${pool}, ` +
        'so on delete the nodes may go before the pods stop'));
  });

  test('karpenter-deletes-in-order: a controller that waits for nothing, and a NodePool whose drains outlast the provider', () => {
    expect(violations(karpenter((_stack, cluster) => {
      const chart = cluster.eksCluster.node.findChild('chart-Karpenter').node.defaultChild!.node.defaultChild as CfnResource;
      chart.addOverride('DependsOn', undefined);
    }))).toEqual([
      'karpenter-controller-can-work: Karpenter/Cluster/Cluster/chart-Karpenter: does not follow the karpenter-crd chart, so its CRDs are never upgraded',
      'karpenter-deletes-in-order: Karpenter/Cluster/Cluster/chart-Karpenter: does not wait for its CRDs\' chart',
      'karpenter-deletes-in-order: Karpenter/Cluster/Cluster/chart-Karpenter: does not wait for CoreDNS, which a delete removes first: ' +
        'the controller then resolves no AWS endpoint and ends no node',
    ]);
    const slow = { apiVersion: 'karpenter.sh/v1', kind: 'NodePool', metadata: { name: 'slow' }, spec: { template: { spec: { terminationGracePeriod: '1h' } } } };
    expect(karpenterDeletesInOrder.check(karpenter(stack => manifest(stack, 'Slow', [slow]))).filter(line => line.startsWith('NodePool slow'))).toEqual([
      'NodePool slow: a drain may last 1h, past the provider\'s 15 minutes',
    ]);
  });

  test('karpenter-volumes-use-a-usable-key: a node class whose key only the account root may use', () => {
    const before = '[{"apiVersion":"karpenter.k8s.aws/v1","kind":"EC2NodeClass","metadata":{"name":"plain"},' +
      '"spec":{"blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"kmsKeyID":"';
    const built = karpenter(stack => {
      const key = new kms.Key(stack, 'Plain');
      new CfnResource(stack, 'PlainClass', { type: 'Custom::AWSCDK-EKS-KubernetesResource', properties: { Manifest: Fn.join('', [before, key.keyArn, '"}}]}}]']) } });
    });
    expect(karpenterVolumesUseAUsableKey.check(built)).toEqual(['kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt'].map(action =>
      `Karpenter/Plain: does not let the account use ${action} through EC2, so Karpenter's nodes fail to launch`));
  });
});
