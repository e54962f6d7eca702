import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { CfnWaitConditionHandle } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Microservice, WorkloadCluster } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { kubernetesObjects } from '../support/kubernetes';

/** An EKS cluster of the user's own, with a kubectl provider, and a service on it. */
function setup(options: { agent?: boolean; controller?: boolean } = {}) {
  const stack = testStack({ env: TEST_ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'] });
  const eksCluster = new eks.Cluster(stack, 'Mine', {
    version: eks.KubernetesVersion.V1_36,
    vpc,
    defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
    kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(stack, 'Kubectl') },
  });
  const agent = options.agent ? new eks.Addon(stack, 'Agent', { cluster: eksCluster, addonName: 'eks-pod-identity-agent' }) : undefined;
  // Stands in for the controller's Helm release.
  const controller = options.controller ? new CfnWaitConditionHandle(stack, 'Controller') : undefined;
  const cluster = new WorkloadCluster(stack, 'Workloads', {
    eksCluster, podIdentityAgent: agent, loadBalancerController: controller, capacity: options.controller ? eksCluster.defaultNodegroup : undefined,
  });
  const users = new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*' });
  const feed = new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*' });
  return { stack, users, feed, template: Template.fromStack(stack) };
}

describe('a Microservice on an EKS cluster of your own (WorkloadCluster)', () => {
  test('runs there: its objects through the cluster\'s kubectl provider, its Pod Identity association in the cluster', () => {
    const { template } = setup();
    const objects = kubernetesObjects(template.toJSON()).map(object => `${object.kind}/${object.metadata.name}`);
    expect(objects).toEqual(expect.arrayContaining(['Namespace/codelearn', 'Deployment/user-service', 'TargetGroupBinding/user-service-8080', 'Deployment/feed-service']));
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: { Ref: Match.stringLikeRegexp('^Mine') }, Namespace: 'codelearn', ServiceAccount: 'user-service',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'ip', VpcId: { Ref: Match.stringLikeRegexp('^Vpc') } });
  });

  test('makes the namespace once, and every service\'s objects wait for it', () => {
    const { template } = setup();
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const namespaces = Object.entries(manifests).filter(([, resource]) => JSON.stringify(resource.Properties.Manifest).includes('"kind\\":\\"Namespace'));
    expect(namespaces).toHaveLength(1);
    const [namespaceId] = namespaces[0];
    for (const prefix of ['UsersManifest', 'FeedManifest']) {
      const [, manifest] = Object.entries(manifests).find(([id]) => id.startsWith(prefix))!;
      expect(manifest.DependsOn).toContain(namespaceId);
    }
  });

  test('waits for the Pod Identity agent and the Load Balancer Controller when this app makes them', () => {
    const { template } = setup({ agent: true, controller: true });
    template.hasResource('AWS::EKS::PodIdentityAssociation', { DependsOn: Match.arrayWith([Match.stringLikeRegexp('^Agent')]) });
    const manifests = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([id]) => /^(Users|Feed)Binding/.test(id));
    expect(manifests).toHaveLength(2);
    for (const [, manifest] of manifests) expect(manifest.DependsOn).toContain('Controller');
    // The namespace waits for the nodes: on delete it goes first, while the controller still runs.
    const [, namespace] = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).find(([id]) => id.startsWith('WorkloadsNamespace'))!;
    expect(namespace.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^MineNodegroupDefaultCapacity/)]));
    const { template: bare } = setup();
    bare.hasResource('AWS::EKS::PodIdentityAssociation', { DependsOn: Match.absent() });
  });
});
