import { App, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Deployment } from './deployment';
import { bindingsKeepTheirTargetGroup, retainedNamesAreNotReused, SEQUENCE_RULES, updatesLeaveNothingBehind, upgradesMoveOneMinorAtATime } from './rules/changes';
import { ClusterSupportType, CodeLearnPlatform, CodeLearnPlatformProps, NodeScaling, PlatformProfile, ServiceDefinition } from '../../src';
import { TEST_ENV, testApp } from '../support/app';

/**
 * Deploy rules over sequences: the platform deployed, then changed the way its
 * users change it (a canary started and promoted, a port changed, replicas
 * removed and added back, a profile switched and back, a stack deleted and
 * deployed again), each rule judging what every step makes CloudFormation,
 * kubectl and the controllers do. docs/operations.md's changes table says what
 * these sequences prove.
 */
const deployments = new Map<string, Deployment>();

/** The platform with `props`, synthesized once per name. */
function platform(name: string, props: CodeLearnPlatformProps = {}): Deployment {
  let deployment = deployments.get(name);
  if (!deployment) {
    const app = testApp();
    new CodeLearnPlatform(new Stack(app, 'Platform', { env: TEST_ENV }), 'Platform', props);
    deployment = Deployment.of(name, app);
    deployments.set(name, deployment);
  }
  return deployment;
}

/** The default services, with `change` made to the post service. */
function withPostService(change: Partial<ServiceDefinition>): ServiceDefinition[] {
  return CodeLearnPlatform.defaultServices().map(service => service.name === 'post-service' ? { ...service, ...change } : service);
}

/** The default platform with a sandbox that the post service calls. */
const SANDBOX: CodeLearnPlatformProps = { services: withPostService({ calls: ['code-runner'] }), sandboxes: [{ name: 'code-runner' }] };

const SEQUENCES: Array<[string, () => Deployment[]]> = [
  ['a canary started, promoted and started again', () => [
    platform('default'),
    platform('canary at 20%', { services: withPostService({ canary: { imageTag: '1.1.0', weight: 20 } }) }),
    platform('promoted', { services: withPostService({ imageTag: '1.1.0' }) }),
    platform('next canary at 20%', { services: withPostService({ imageTag: '1.1.0', canary: { imageTag: '1.2.0', weight: 20 } }) }),
  ]],
  ['a service\'s port changed, with and without a canary', () => [
    platform('default'),
    platform('port 9090', { services: withPostService({ port: 9090 }) }),
    platform('canary on port 9090', { services: withPostService({ port: 9090, canary: { imageTag: '1.1.0', weight: 20 } }) }),
    platform('canary at 20%', { services: withPostService({ canary: { imageTag: '1.1.0', weight: 20 } }) }),
  ]],
  ['read replicas removed and added back', () => [
    platform('default'),
    platform('no replica', { database: { readReplicas: 0 } }),
    platform('two replicas', { database: { readReplicas: 2 } }),
    platform('one replica', { database: { readReplicas: 1 } }),
    platform('two replicas'),
  ]],
  ['production, then development, then production', () => [
    platform('default'),
    platform('development', { profile: PlatformProfile.DEVELOPMENT }),
    platform('default'),
  ]],
  ['a stack deleted and deployed again, importing what it kept', () => [
    platform('default'),
    Deployment.of('deleted', new App()),
    redeploy(),
  ]],
  ['a sandbox added, removed, and added back importing its kept repository', () => [
    platform('default'),
    platform('a sandbox', SANDBOX),
    platform('default'),
    redeploy(SANDBOX),
  ]],
  ['Karpenter adopted, its spot fallback turned off and on, then the Cluster Autoscaler again', () => [
    platform('default'),
    platform('Karpenter', { cluster: { nodeScaling: NodeScaling.karpenter() } }),
    platform('Karpenter, strict spot', { cluster: { nodeScaling: NodeScaling.karpenter({ spotFallback: false }) } }),
    platform('Karpenter'),
    platform('default'),
  ]],
  ['EKS Auto Mode adopted, its spot fallback turned off, then the Cluster Autoscaler again', () => [
    platform('default'),
    platform('EKS Auto Mode', { cluster: { nodeScaling: NodeScaling.autoMode() } }),
    platform('EKS Auto Mode, strict spot', { cluster: { nodeScaling: NodeScaling.autoMode({ spotFallback: false }) } }),
    platform('default'),
  ]],
  ['Kubernetes upgraded', () => [
    // 1.34 left standard support on 2026-12-02: a cluster still on it is in extended support.
    // It reaches the default (1.36) one minor version at a time, through 1.35.
    platform('Kubernetes 1.34', { cluster: { kubernetesVersion: eks.KubernetesVersion.V1_34, supportType: ClusterSupportType.EXTENDED } }),
    platform('Kubernetes 1.35', { cluster: { kubernetesVersion: eks.KubernetesVersion.V1_35 } }),
    platform('default'),
  ]],
];

/** The platform of `props` as `cdk deploy --import-existing-resources` deploys it. */
function redeploy(props: CodeLearnPlatformProps = {}): Deployment {
  const app = testApp();
  new CodeLearnPlatform(new Stack(app, 'Platform', { env: TEST_ENV }), 'Platform', props);
  return Deployment.of('deployed again with --import-existing-resources', app, { importsExistingResources: true });
}

describe.each(SEQUENCES)('%s', (_name, sequence) => {
  test.each(SEQUENCE_RULES.map(rule => [rule.id, rule] as const))('%s', (_id, rule) => {
    expect(rule.check(sequence())).toEqual([]);
  });
});

describe('a sequence rule finds what it describes', () => {
  /** A stack with a target group and, when `bindings` names them, TargetGroupBindings of it in manifests. */
  function cluster(name: string, manifests: Record<string, Array<{ binding: string; port?: number }>>, extra: any[] = []): Deployment {
    const app = testApp();
    const stack = new Stack(app, 'Stack', { env: TEST_ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'] });
    const eksCluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'c',
      kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', { serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl' }),
    });
    const groups = new Map<number, elbv2.ApplicationTargetGroup>();
    const groupOn = (port: number) => groups.get(port) ?? groups.set(port, new elbv2.ApplicationTargetGroup(stack, 'Group', { vpc, port, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP })).get(port)!;
    for (const [id, bindings] of Object.entries(manifests)) {
      new eks.KubernetesManifest(stack, id, {
        cluster: eksCluster,
        manifest: [...bindings.map(({ binding, port }) => ({
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: binding, namespace: 'codelearn' },
          spec: { serviceRef: { name: 'web', port: 80 }, targetGroupARN: groupOn(port ?? 8080).targetGroupArn, targetType: 'ip' },
        })), ...extra],
      });
    }
    return Deployment.of(name, app);
  }

  test('updates-leave-nothing-behind: a cluster-scoped NodePool taken out of a manifest that stays', () => {
    const pool = (name: string) => ({ apiVersion: 'karpenter.sh/v1', kind: 'NodePool', metadata: { name }, spec: {} });
    const both = cluster('two pools', { Manifest: [] }, [pool('spot'), pool('spot-fallback')]);
    const one = cluster('one pool', { Manifest: [] }, [pool('spot')]);
    expect(updatesLeaveNothingBehind.check([both, one])).toEqual([
      'two pools → one pool: Stack/Manifest: NodePool spot-fallback leaves the manifest, and kubectl\'s prune keeps that kind: it stays in the cluster',
    ]);
  });

  test('updates-leave-nothing-behind: a binding taken out of a manifest that stays', () => {
    const both = cluster('both', { Manifest: [{ binding: 'web' }, { binding: 'web-canary', port: 8080 }] });
    const one = cluster('one', { Manifest: [{ binding: 'web' }] });
    expect(updatesLeaveNothingBehind.check([both, one])).toEqual([
      expect.stringMatching(/^both → one: .*Manifest: TargetGroupBinding codelearn\/web-canary leaves the manifest, and kubectl's prune keeps that kind: it stays in the cluster$/),
    ]);
  });

  test('bindings-keep-their-target-group: a port change under one binding name, and a second binding of one group', () => {
    const before = cluster('8080', { Binding: [{ binding: 'web' }] });
    const after = cluster('9090', { Binding: [{ binding: 'web', port: 9090 }] });
    expect(bindingsKeepTheirTargetGroup.check([before, after])).toEqual([
      expect.stringMatching(/^8080 → 9090: .*Binding: TargetGroupBinding codelearn\/web is patched to another target group .*spec.targetGroupARN is immutable$/),
    ]);
    const renamed = cluster('renamed', { Other: [{ binding: 'web-8080' }] });
    expect(bindingsKeepTheirTargetGroup.check([before, renamed])).toEqual([
      expect.stringMatching(/^8080 → renamed: .*Other: TargetGroupBinding codelearn\/web-8080 binds a target group that codelearn\/web already holds: the webhook refuses it$/),
    ]);
    // Apart, each with its own manifest named after its port, a port change passes.
    expect(bindingsKeepTheirTargetGroup.check([cluster('a', { Binding8080: [{ binding: 'web-8080' }] }),
      cluster('b', { Binding9090: [{ binding: 'web-9090', port: 9090 }] })])).toEqual([]);
  });

  test('retained-names-are-not-reused: a retained log group removed and made again', () => {
    const withGroup = (name: string) => {
      const app = testApp();
      const stack = new Stack(app, 'Stack', { env: TEST_ENV });
      new logs.LogGroup(stack, 'Logs', { logGroupName: '/codelearn/replica2', removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
      return Deployment.of(name, app);
    };
    const without = () => {
      const app = testApp();
      new sns.Topic(new Stack(app, 'Stack', { env: TEST_ENV }), 'Topic');
      return Deployment.of('one replica', app);
    };
    expect(retainedNamesAreNotReused.check([withGroup('two replicas'), without(), withGroup('two again')])).toEqual([
      expect.stringMatching(/^one replica → two again: .*Logs: creates AWS::Logs::LogGroup '\/codelearn\/replica2' in us-east-1, which two replicas → one replica removed and kept: "already exists"$/),
    ]);
  });

  test('upgrades-move-one-minor-at-a-time: two minor versions at once, and a node group left behind', () => {
    const eksCluster = (name: string, version: string, nodes: string | undefined) => {
      const app = testApp();
      const stack = new Stack(app, 'Stack', { env: TEST_ENV });
      const control = new CfnResource(stack, 'Cluster', { type: 'AWS::EKS::Cluster', properties: { Version: version, RoleArn: 'arn', ResourcesVpcConfig: {} } });
      new CfnResource(stack, 'Nodes', { type: 'AWS::EKS::Nodegroup', properties: { ClusterName: control.ref, Version: nodes, NodeRole: 'arn', Subnets: [] } });
      return Deployment.of(name, app);
    };
    expect(upgradesMoveOneMinorAtATime.check([eksCluster('1.33', '1.33', '1.33'), eksCluster('1.35', '1.35', undefined)])).toEqual([
      '1.33 → 1.35: Stack/Cluster: Kubernetes 1.33 to 1.35: EKS moves one minor version up per update',
      '1.33 → 1.35: Stack/Nodes: stays on its first version while the cluster moves to 1.35',
    ]);
    expect(upgradesMoveOneMinorAtATime.check([eksCluster('1.34', '1.34', '1.34'), eksCluster('1.35', '1.35', '1.35')])).toEqual([]);
  });
});
