import { CfnResource, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Deployment } from './deployment';
import { handWritten } from './hand-written';
import { promotionsComeFirst, releaseGatesCanJudgeTheirRelease, releaseGatesReachTheCluster } from './rules/releases';
import { Cluster, Microservice, Network, ReleaseTrack } from '../../src';

/**
 * A gated service as the library builds it, with one thing broken by an escape
 * hatch: each rule must find what it describes.
 */
interface Parts {
  readonly stack: Stack;
  readonly gate: CfnResource;
  readonly promotion: CfnResource;
  readonly service: Microservice;
  readonly cluster: Cluster;
}

function gated(breakIt: (parts: Parts) => void = () => {}): Deployment {
  return handWritten('Releases', stack => {
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const service = new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*', canary: { imageTag: '1.1.0', weight: 10 } });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: network.vpc }).addListener('Http', {
      port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404),
    });
    listener.addAction('Posts', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/api/posts/*'])],
      action: elbv2.ListenerAction.weightedForward([
        { targetGroup: service.targetGroup, weight: 90 },
        { targetGroup: service.canaryTargetGroup!, weight: 10 },
      ]),
    });
    const alarm = (id: string) => new cloudwatch.Alarm(stack, id, { metric: new cloudwatch.Metric({ namespace: 'App', metricName: id }), threshold: 1, evaluationPeriods: 1 });
    service.addReleaseAlarms(ReleaseTrack.STABLE, [alarm('Errors')]);
    service.addReleaseAlarms(ReleaseTrack.CANARY, [alarm('CanaryErrors')]);
    const release = service.node.findChild('Release');
    breakIt({
      stack,
      service,
      cluster,
      gate: release.node.findChild('Gate').node.defaultChild as CfnResource,
      promotion: release.node.findChild('Promotion').node.defaultChild as CfnResource,
    });
  });
}

describe('the release rules find what they describe', () => {
  const rules = [releaseGatesCanJudgeTheirRelease, promotionsComeFirst, releaseGatesReachTheCluster];
  const violations = (deployment: Deployment) => rules.flatMap(rule => rule.check(deployment).map(line => `${rule.id}: ${line}`));

  test('a gated service as the library builds it passes all three', () => {
    expect(violations(gated())).toEqual([]);
  });

  test('release-gates-can-judge-their-release: a timeout below the deadline and bake, or above CloudFormation\'s hour', () => {
    expect(violations(gated(({ gate }) => gate.addPropertyOverride('ServiceTimeout', '900')))).toEqual([
      'release-gates-can-judge-their-release: Releases/Posts/Release/Gate: ServiceTimeout 900 s is shorter than the progress deadline, its grace and the bake (1020 s): ' +
      'CloudFormation would time the gate out before it answers',
    ]);
    expect(violations(gated(({ gate }) => gate.addPropertyOverride('ServiceTimeout', '4000')))).toEqual([
      'release-gates-can-judge-their-release: Releases/Posts/Release/Gate: ServiceTimeout 4000 is not a whole number of seconds from 1 to 3600: CloudFormation refuses it',
    ]);
  });

  test('release-gates-can-judge-their-release: a gate that starts before its manifests, its listener rule and its access entry', () => {
    const found = violations(gated(({ gate }) => gate.addOverride('DependsOn', [])));
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/Gate: does not wait for Releases\/Posts\/Manifest, which applies its stable track$/),
      expect.stringMatching(/Gate: does not wait for Releases\/Posts\/CanaryManifest, which applies its canary track$/),
      expect.stringMatching(/Gate: does not wait for the listener rule that forwards to Releases\/Posts\/TargetGroup: the stable track's pods are not ready before it exists$/),
      expect.stringMatching(/Gate: does not wait for the access entry of its function's role$/),
    ]));
  });

  test('release-gates-can-judge-their-release: a deadline the Deployment does not have, no access to the namespace, an alarm it may not read', () => {
    const found = violations(gated(({ gate, cluster }) => {
      gate.addPropertyOverride('ProgressDeadlineSeconds', '300');
      const entry = cluster.node.findChild('ReleaseGates').node.findChild('Access').node.defaultChild as CfnResource;
      entry.addPropertyOverride('AccessPolicies.0.AccessScope.Namespaces', ['other']);
      const policy = cluster.node.findChild('ReleaseGates').node.findChild('Policy').node.defaultChild as CfnResource;
      policy.addPropertyOverride('PolicyDocument.Statement.4.Action', ['cloudwatch:DescribeAlarms']);
    }));
    expect(found).toEqual(expect.arrayContaining([
      'release-gates-can-judge-their-release: Releases/Posts/Release/Gate: the Deployment post-service has progressDeadlineSeconds 600, the gate waits for 300',
      'release-gates-can-judge-their-release: Releases/Posts/Release/Gate: the role of its function has no access entry with AmazonEKSViewPolicy on the namespace codelearn: ' +
      'the Kubernetes API answers 403 to every read',
      'release-gates-can-judge-their-release: Releases/Posts/Release/Gate: its function\'s role may not cloudwatch:DescribeAlarmHistory on Releases/Errors',
    ]));
  });

  test('promotions-come-first: a stable track applied before its promotion check', () => {
    const found = violations(gated(({ stack }) => {
      const manifest = stack.node.findChild('Posts').node.findChild('Manifest').node.findChild('Resource').node.defaultChild as CfnResource;
      manifest.addOverride('DependsOn', []);
    }));
    expect(found).toEqual(expect.arrayContaining([
      'promotions-come-first: Releases/Posts/Manifest: applies the stable track of post-service without waiting for Releases/Posts/Release/Promotion: a bad canary\'s promotion would start',
    ]));
  });

  test('release-gates-reach-the-cluster: a function whose timeout is shorter than a poll', () => {
    const found = violations(gated(({ cluster }) => {
      const fn = cluster.node.findChild('ReleaseGates').node.findChild('IsComplete').node.defaultChild as CfnResource;
      fn.addPropertyOverride('Timeout', 30);
    }));
    expect(found).toEqual(['release-gates-reach-the-cluster: Releases/Cluster/ReleaseGates/IsComplete: a timeout of 30 s is not above the 40 s a poll may take: ' +
      'a function that times out fails the resource, a rollback too']);
  });

  test('release-gates-reach-the-cluster: a function outside the cluster security group', () => {
    const found = violations(gated(({ stack, cluster }) => {
      const other = new ec2.SecurityGroup(stack, 'Other', { vpc: cluster.eksCluster.vpc });
      const fn = cluster.node.findChild('ReleaseGates').node.findChild('IsComplete').node.defaultChild as CfnResource;
      fn.addPropertyOverride('VpcConfig.SecurityGroupIds', [other.securityGroupId]);
    }));
    expect(found).toEqual([
      expect.stringMatching(/^release-gates-reach-the-cluster: Releases\/Cluster\/ReleaseGates\/IsComplete: not in the VPC with the cluster security group of Releases\/Cluster\/Cluster/),
    ]);
  });
});
