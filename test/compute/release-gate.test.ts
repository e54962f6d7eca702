import { Duration, Lazy, NestedStack, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Cluster, CodeLearnPlatform, Microservice, Network, PlatformProfile, ReleaseTrack, WorkloadCluster } from '../../src';
import { allTemplates, testStack } from '../support/app';
import { kubernetesObjects } from '../support/kubernetes';

/** The template of the nested stack whose construct path ends with `unit/Stack`. */
function nestedTemplate(stack: Stack, unit: string): Template {
  const nested = stack.node.findAll().filter(NestedStack.isNestedStack).find(child => child.node.path.endsWith(`/${unit}/Stack`))!;
  const index = stack.node.findAll().filter(NestedStack.isNestedStack).indexOf(nested);
  return Template.fromJSON(allTemplates(stack)[1 + index], { skipCyclicalDependenciesCheck: true });
}

const gateOf = (template: Template) => Object.entries<any>(template.findResources('Custom::ReleaseGate'))[0];
const promotionOf = (template: Template) => Object.entries<any>(template.findResources('Custom::ReleasePromotion'))[0];

describe('the platform gates every release of its services (production)', () => {
  const stack = testStack();
  new CodeLearnPlatform(stack, 'Platform', {
    services: [
      { name: 'user-service', path: '/api/users/*', imageTag: '1.4.0', canary: { imageTag: '1.5.0', weight: 10 } },
      { name: 'api-gateway' },
    ],
  });
  const root = Template.fromStack(stack);
  const users = nestedTemplate(stack, 'UserService');
  const gateway = nestedTemplate(stack, 'ApiGateway');

  test('a gate follows the manifests and the listener rule; CloudFormation waits longer than its deadline plus the bake', () => {
    const [, gate] = gateOf(gateway);
    expect(gate.Properties).toEqual({
      ServiceToken: { Ref: expect.stringMatching(/ReleaseGatesProviderframeworkonEvent/) },
      ServiceTimeout: '1260',
      Service: 'api-gateway',
      Namespace: 'codelearn',
      Tracks: [{
        Name: 'stable',
        Deployment: 'api-gateway',
        Spec: expect.anything(),
        Alarms: [
          { Ref: expect.stringMatching(/^ServiceLatencyP99/) }, { Ref: expect.stringMatching(/^ServiceErrorRate/) },
          { Ref: expect.stringMatching(/^ServiceUnhealthyTargets/) }, { Ref: expect.stringMatching(/^ServiceCrashLoop/) },
        ],
      }],
      CanaryWeight: '0',
      Alarms: [],
      BakeSeconds: '300',
      ProgressDeadlineSeconds: '600',
    });
    // 600 s of progress deadline, 60 s of grace, 300 s of bake, and 300 s for the last polls and the answer.
    expect(Number(gate.Properties.ServiceTimeout)).toBeGreaterThan(600 + 300);
    expect(gate.DependsOn).toEqual(expect.arrayContaining([
      expect.stringMatching(/^ServiceManifest/), expect.stringMatching(/^ServiceRoute/),
    ]));
  });

  test('the Deployment a gate judges is the one the manifest applies, with the progress deadline the gate waits for', () => {
    const [, gate] = gateOf(gateway);
    const spec = JSON.stringify(gate.Properties.Tracks[0].Spec);
    expect(spec).toContain('\\"kind\\":\\"Deployment\\"');
    const deployment = allTemplates(stack).flatMap(kubernetesObjects).find(object => object.kind === 'Deployment' && object.metadata.name === 'api-gateway');
    expect(deployment.spec.progressDeadlineSeconds).toBe(600);
  });

  test('the stable track\'s manifest waits for the promotion check', () => {
    const [promotionId, promotion] = promotionOf(users);
    expect(promotion.Properties).toEqual({
      ServiceToken: { Ref: expect.stringMatching(/ReleaseGatesProviderframeworkonEvent/) },
      ServiceTimeout: '300',
      Service: 'user-service',
      StableImage: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      CanaryImage: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      CanaryWeight: '10',
      CanaryAlarms: [
        { Ref: expect.stringMatching(/^ServiceCanaryLatencyP99/) }, { Ref: expect.stringMatching(/^ServiceCanaryErrorRate/) },
        { Ref: expect.stringMatching(/^ServiceCanaryUnhealthyTargets/) }, { Ref: expect.stringMatching(/^ServiceCanaryCrashLoop/) },
      ],
      BakeSeconds: '300',
    });
    expect(JSON.stringify(promotion.Properties.StableImage)).toContain(':1.4.0');
    expect(JSON.stringify(promotion.Properties.CanaryImage)).toContain(':1.5.0');
    const [, manifest] = Object.entries<any>(users.findResources('Custom::AWSCDK-EKS-KubernetesResource')).find(([id]) => /^ServiceManifest/.test(id))!;
    expect(manifest.DependsOn).toContain(promotionId);
  });

  test('a service with a canary gates both tracks, each by its own alarms', () => {
    const [, gate] = gateOf(users);
    expect(gate.Properties.Tracks.map((track: any) => [track.Name, track.Deployment, track.Alarms.length])).toEqual([
      ['stable', 'user-service', 4], ['canary', 'user-service-canary', 4],
    ]);
    expect(gate.Properties.Tracks[1].Alarms).toEqual(expect.arrayContaining([{ Ref: expect.stringMatching(/^ServiceCanaryErrorRate/) }]));
    expect(gate.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ServiceCanaryManifest/)]));
    users.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'user-service canary: more than 1% of responses are 5xx for 3 of 3 minutes.',
      Metrics: Match.arrayWith([Match.objectLike({
        MetricStat: Match.objectLike({ Metric: Match.objectLike({ Dimensions: Match.arrayWith([Match.objectLike({ Name: 'TargetGroup' })]) }) }),
      })]),
    });
  });

  test('the gate\'s role reads the services\' namespace through an access entry, read-only', () => {
    root.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReleaseGatesRole'), 'Arn'] },
      AccessPolicies: [{
        PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSViewPolicy']] },
        AccessScope: { Type: 'namespace', Namespaces: ['codelearn'] },
      }],
    });
  });

  test('its functions run in the private subnets with the cluster security group, and know the endpoint and the topic', () => {
    for (const handler of ['handler.onEvent', 'handler.isComplete']) {
      root.hasResourceProperties('AWS::Lambda::Function', {
        Handler: handler,
        Runtime: 'nodejs24.x',
        VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformCluster[0-9A-F]{8}$'), 'ClusterSecurityGroupId'] }], SubnetIds: Match.anyValue() },
        Environment: {
          Variables: {
            CLUSTER_NAME: Match.anyValue(),
            CLUSTER_ENDPOINT: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformCluster[0-9A-F]{8}$'), 'Endpoint'] },
            CLUSTER_CA: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformCluster[0-9A-F]{8}$'), 'CertificateAuthorityData'] },
            ALARM_TOPIC_ARN: { Ref: Match.stringLikeRegexp('ObservabilityAlarmTopic') },
          },
        },
        KmsKeyArn: Match.anyValue(),
      });
    }
  });

  test('its policy: its logs, the rollback status of the platform\'s stacks, the alarms, the alarm topic', () => {
    root.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'cloudformation:DescribeStacks',
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':stack/Test/*']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':stack/Test-*']] },
            ],
          },
          {
            Effect: 'Allow',
            Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] },
          },
          { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('ObservabilityAlarmTopic') } },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ObservabilityKey'), 'Arn'] } },
        ]),
      },
    });
  });

  test('the waiter polls every 20 s for at most an hour, and logs every execution', () => {
    root.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"IntervalSeconds":20,"MaxAttempts":180')])] }),
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [Match.anyValue()] },
    });
  });
});

describe('release options', () => {
  test('development gates the rollout alone: no bake', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', { profile: PlatformProfile.DEVELOPMENT, services: [{ name: 'api-gateway' }] });
    const [, gate] = gateOf(nestedTemplate(stack, 'ApiGateway'));
    expect(gate.Properties).toMatchObject({ BakeSeconds: '0', ServiceTimeout: '960' });
  });

  test('a service sets its bake, adds an alarm, or turns the gate off; development keeps a bake a service gives', () => {
    const stack = testStack();
    const extra = new cloudwatch.Alarm(stack, 'Queue', {
      metric: new cloudwatch.Metric({ namespace: 'CodeLearn', metricName: 'QueueDepth' }), threshold: 100, evaluationPeriods: 1,
    });
    new CodeLearnPlatform(stack, 'Platform', {
      profile: PlatformProfile.DEVELOPMENT,
      // The test's own alarm notifies nobody, which the packs would refuse.
      complianceChecks: false,
      services: [
        { name: 'api-gateway', release: { bakeTime: Duration.minutes(10), alarms: [extra] } },
        { name: 'user-service', path: '/api/users/*', release: { gate: false } },
      ],
    });
    const gateway = nestedTemplate(stack, 'ApiGateway');
    const [, gate] = gateOf(gateway);
    expect(gate.Properties).toMatchObject({ BakeSeconds: '600', ServiceTimeout: '1560', Alarms: [{ Ref: expect.stringMatching(/Queue/) }] });
    expect(JSON.stringify(gateway.toJSON().Parameters)).toContain('Queue');
    const users = nestedTemplate(stack, 'UserService');
    users.resourceCountIs('Custom::ReleaseGate', 0);
    users.resourceCountIs('Custom::ReleasePromotion', 0);
  });

  test('a Microservice of its own on a Cluster is gated', () => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const service = new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*' });
    expect(service.releaseGated).toBe(true);
    expect(service.releaseBakeTime?.toSeconds()).toBe(300);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ReleaseGate', { Service: 'post-service', BakeSeconds: '300', Alarms: [] });
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'namespace', Namespaces: ['codelearn'] } })],
    });
    // Without an observability, nothing to publish to.
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('ALARM_TOPIC_ARN');
  });

  test('alarms added to a track are judged by the gate', () => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const service = new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*' });
    const alarm = new cloudwatch.Alarm(stack, 'Errors', { metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1 });
    service.addReleaseAlarms(ReleaseTrack.STABLE, [alarm]);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ReleaseGate', { Tracks: [Match.objectLike({ Alarms: [{ Ref: Match.stringLikeRegexp('^Errors') }] })] });
  });

  test('a service on a WorkloadCluster is not gated: the gate needs the platform\'s Cluster', () => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const eksCluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup }).eksCluster as eks.ICluster;
    const cluster = new WorkloadCluster(stack, 'Workloads', { eksCluster });
    const service = new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*' });
    expect(service.releaseGated).toBe(false);
    Template.fromStack(stack).resourceCountIs('Custom::ReleaseGate', 0);
  });
});

describe('release options a user can get wrong', () => {
  function service(release: any, onWorkloadCluster = false) {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const platformCluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const cluster = onWorkloadCluster ? new WorkloadCluster(stack, 'Workloads', { eksCluster: platformCluster.eksCluster }) : platformCluster;
    return () => new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*', release: typeof release === 'function' ? release(stack) : release });
  }

  test.each([
    [{ bakeTime: Duration.minutes(31) }, '`release.bakeTime` (31 minutes) must be at most 30 minutes: CloudFormation waits at most an hour for the gate, ' +
      'which also waits for the rollout. Shorten it, such as Duration.minutes(10).'],
    [{ bakeTime: Duration.millis(1500) }, '`release.bakeTime` (1 second 500 millis) is not whole seconds: the gate bakes by the second. Round it, such as Duration.seconds(2).'],
  ])('%o', (release, message) => {
    expect(service(release)).toThrow(message);
  });

  test('a token bake time', () => {
    expect(service({ bakeTime: Duration.seconds(Lazy.number({ produce: () => 60 })) }))
      .toThrow('`release.bakeTime` must be a literal duration, not a token: it sets how long CloudFormation waits for the gate.');
  });

  test('a composite alarm', () => {
    expect(service((stack: Stack) => {
      const child = new cloudwatch.Alarm(stack, 'Child', { metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1 });
      return { alarms: [new cloudwatch.CompositeAlarm(stack, 'Both', { alarmRule: cloudwatch.AlarmRule.fromAlarm(child, cloudwatch.AlarmState.ALARM) })] };
    })).toThrow('`release.alarms` has the composite alarm Test/Both: the release gate reads metric alarms only (CloudWatch lets composite alarms be read only ' +
      'with a permission on every alarm of the account). Give the alarms it is made of instead.');
  });

  test('a gate asked for on a WorkloadCluster', () => {
    expect(service({ gate: true }, true)).toThrow('`release.gate` is true, but the service runs on a `WorkloadCluster`: the gate needs the platform\'s `Cluster` ' +
      '(its private endpoint, subnets and key). Run the service on a `Cluster`, or leave `release.gate` out.');
  });
});
