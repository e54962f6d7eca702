import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { Cluster, CodeLearnPlatform, Database, Edge, MessageBroker, Microservice, Network, Observability, ObservabilityOptions, PlatformProfile, Storage } from '../../src';
import { mergedTemplate, TEST_ENV, testApp, testStack } from '../support/app';

/**
 * The template properties of every alarm of `observability`, by its name. A
 * service's alarms live in the service's stack (a nested stack in the platform).
 */
function alarmsOf(observability: Observability): Record<string, any> {
  const templates = new Map<Stack, any>();
  return Object.fromEntries(Object.entries(observability.alarms).map(([name, alarm]) => {
    const stack = Stack.of(alarm);
    if (!templates.has(stack)) templates.set(stack, Template.fromStack(stack).toJSON());
    const logicalId = stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).logicalId);
    return [name, templates.get(stack).Resources[logicalId].Properties];
  }));
}

describe('Observability', () => {
  describe('in the platform', () => {
    const stack = testStack({ env: TEST_ENV });
    const platform = new CodeLearnPlatform(stack, 'Platform', { observability: { alarmEmails: ['oncall@example.com', 'lead@example.com'] } });
    const template = Template.fromStack(stack);
    const alarms = alarmsOf(platform.observability);

    test('notifies an encrypted, TLS-only topic with email subscriptions', () => {
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformObservabilityKey'), 'Arn'] },
      });
      // A topic policy replaces SNS's default one: CloudWatch may publish only through its own statement.
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: [
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            {
              Sid: 'AllowCloudWatchAlarms',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: Match.stringLikeRegexp('^PlatformObservabilityAlarmTopic') },
              Condition: {
                StringEquals: { 'aws:SourceAccount': '123456789012' },
                ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-east-1:123456789012:alarm:*']] } },
              },
            },
          ],
        },
      });
      template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 2);
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
      });
    });

    test('alarms on what pages someone, every alarm on the topic', () => {
      expect(Object.keys(alarms).sort()).toEqual([
        'Alb5xxRate', 'AlbLatencyP99',
        'ApiGatewayCrashLoop', 'ApiGatewayErrorRate', 'ApiGatewayLatencyP99', 'ApiGatewayUnhealthyTargets',
        'BrokerDisk', 'BrokerMemory',
        // One alarm of each kind per cache shard, on its highest member (2 shards).
        ...[1, 2].flatMap(shard => [`CacheShard${shard}EngineCpu`, `CacheShard${shard}Evictions`, `CacheShard${shard}Memory`]),
        'CloudFront5xxRate',
        'DatabaseBackupJobsFailed', 'DatabaseConnections', 'DatabaseCpu', 'DatabaseFreeStorage', 'DatabaseReplica1Lag', 'DatabaseRestoreJobsFailed',
        'GroupServiceCrashLoop', 'GroupServiceErrorRate', 'GroupServiceLatencyP99', 'GroupServiceUnhealthyTargets',
        'NodeCpu', 'NodeMemory',
        'PostServiceCrashLoop', 'PostServiceErrorRate', 'PostServiceLatencyP99', 'PostServiceUnhealthyTargets',
        'UserServiceCrashLoop', 'UserServiceErrorRate', 'UserServiceLatencyP99', 'UserServiceUnhealthyTargets',
      ]);
      // Every alarm of the templates is in the map: the platform's and each service's.
      mergedTemplate(stack).resourceCountIs('AWS::CloudWatch::Alarm', 35);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 35 - 4 * 4);
      // A service's alarms reach the topic through their nested stack's parameter.
      const topic = /^(referencetoTest)?PlatformObservabilityAlarmTopic/;
      for (const alarm of Object.values(alarms)) {
        expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(topic) }]);
        expect(alarm.OKActions).toEqual([{ Ref: expect.stringMatching(topic) }]);
        expect(alarm.TreatMissingData).toBe('notBreaching');
        expect(alarm.AlarmDescription).toBeTruthy();
      }
      expect(Object.keys(platform.observability.alarms)).toHaveLength(35);
    });

    test('holds the sub-second goal: p99 over 1 s pages, per service too', () => {
      expect(alarms.AlbLatencyP99).toMatchObject({
        MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3,
      });
      expect(alarms.UserServiceLatencyP99).toMatchObject({
        MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 1,
      });
      expect(alarms.UserServiceLatencyP99.Dimensions.map((d: any) => d.Name)).toEqual(['LoadBalancer', 'TargetGroup']);
      expect(alarms.UserServiceErrorRate.Threshold).toBe(1);
      expect(alarms.Alb5xxRate.Threshold).toBe(5);
      // 0 while there are no requests: CloudWatch drops a point divided by zero.
      expect(alarms.Alb5xxRate.Metrics[0]).toMatchObject({ Expression: 'IF(requests > 0, 100 * (FILL(elb, 0) + FILL(target, 0)) / requests, 0)', ReturnData: true });
      expect(alarms.UserServiceErrorRate.Metrics[0]).toMatchObject({ Expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)' });
    });

    test('uses thresholds a platform team would defend', () => {
      expect(alarms.DatabaseCpu).toMatchObject({ MetricName: 'CPUUtilization', Namespace: 'AWS/RDS', Threshold: 80 });
      expect(alarms.DatabaseFreeStorage).toMatchObject({ MetricName: 'FreeStorageSpace', Threshold: 10737418240, ComparisonOperator: 'LessThanThreshold' });
      expect(alarms.DatabaseReplica1Lag).toMatchObject({ MetricName: 'ReplicaLag', Statistic: 'Maximum', Threshold: 30 });
      // 80% of PostgreSQL's default limit on a db.t3.medium (about 405 connections).
      expect(alarms.DatabaseConnections).toMatchObject({ MetricName: 'DatabaseConnections', Threshold: 324 });
      // One failed backup or restore of the vault pages, within the hour.
      for (const [alarm, metricName] of [['DatabaseBackupJobsFailed', 'NumberOfBackupJobsFailed'], ['DatabaseRestoreJobsFailed', 'NumberOfRestoreJobsFailed']] as const) {
        expect(alarms[alarm]).toMatchObject({
          Namespace: 'AWS/Backup',
          MetricName: metricName,
          Statistic: 'Sum',
          Period: 3600,
          Dimensions: [
            { Name: 'BackupVaultName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformDatabaseBackupVault/), 'BackupVaultName'] } },
            { Name: 'ResourceType', Value: 'RDS' },
          ],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
        });
      }
      // ElastiCache publishes engine and host metrics by CacheClusterId and CacheNodeId, and
      // numbers a shard's members itself: each shard's alarm takes the highest of all six
      // members a shard can hold, whichever exist.
      const shard = (metricName: string, group: string, statistic = 'Average') => [
        { Id: 'expr_1', Expression: 'MAX([m1, m2, m3, m4, m5, m6])', ReturnData: true, Label: `${metricName}, highest member of shard ${group}` },
        ...[1, 2, 3, 4, 5, 6].map(member => ({
          Id: `m${member}`,
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ElastiCache',
              MetricName: metricName,
              Dimensions: [
                { Name: 'CacheClusterId', Value: `${platform.cache.replicationGroupId}-${group}-00${member}` },
                { Name: 'CacheNodeId', Value: '0001' },
              ],
            },
            Period: 300,
            Stat: statistic,
          },
        })),
      ];
      for (const [name, metricName, group, threshold, statistic] of [
        ['CacheShard1Evictions', 'Evictions', '0001', 0, 'Sum'],
        ['CacheShard2Memory', 'DatabaseMemoryUsagePercentage', '0002', 80, 'Average'],
        ['CacheShard1EngineCpu', 'EngineCPUUtilization', '0001', 80, 'Average'],
      ] as const) {
        expect(alarms[name]).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3 });
        expect(alarms[name].Metrics).toEqual(shard(metricName, group, statistic));
      }
      expect(alarms.NodeCpu).toMatchObject({ Namespace: 'ContainerInsights', MetricName: 'node_cpu_utilization', Threshold: 80 });
      // Per Deployment, a gauge of containers in CrashLoopBackOff: the restart count is a total
      // since each pod started, whose highest over the pods hides a new pod's crashes.
      expect(alarms.UserServiceCrashLoop).toEqual(expect.objectContaining({
        Namespace: 'ContainerInsights',
        MetricName: 'pod_container_status_waiting_reason_crash_loop_back_off',
        Dimensions: [
          { Name: 'ClusterName', Value: expect.anything() },
          { Name: 'Namespace', Value: 'codelearn' },
          { Name: 'PodName', Value: 'user-service' },
        ],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      }));
      // The fullest node against one node's limit: Amazon MQ sums both over a cluster's three nodes.
      expect(alarms.BrokerMemory.Metrics).toEqual([
        { Id: 'expr_1', Expression: 'IF((limit / 3) > 0, 100 * fullest / (limit / 3), 0)', Label: 'memory used by the fullest node (% of its limit)', ReturnData: true },
        {
          Id: 'fullest',
          Expression: Stack.of(platform).resolve(
            `SELECT MAX(RabbitMQMemUsed) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${platform.messaging.rabbitMqBroker!.brokerName}'`),
          Label: 'memory used by the fullest node',
          Period: 300,
          ReturnData: false,
        },
        {
          Id: 'limit',
          MetricStat: {
            Metric: { Namespace: 'AWS/AmazonMQ', MetricName: 'RabbitMQMemLimit', Dimensions: [{ Name: 'Broker', Value: expect.anything() }] },
            Period: 300,
            Stat: 'Maximum',
          },
          ReturnData: false,
        },
      ]);
      // The fullest node's disk, not the nodes' sum.
      expect(alarms.BrokerDisk).toMatchObject({ Threshold: 5 * 1024 ** 3, ComparisonOperator: 'LessThanThreshold' });
      expect(alarms.BrokerDisk.Metrics[0].Expression).toEqual(Stack.of(platform).resolve(
        `SELECT MIN(RabbitMQDiskFree) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${platform.messaging.rabbitMqBroker!.brokerName}'`));
    });

    test('installs Container Insights and X-Ray with a Pod Identity role, and injects nothing into the services\' pods', () => {
      template.hasResourceProperties('AWS::EKS::Addon', {
        AddonName: 'amazon-cloudwatch-observability',
        ResolveConflicts: 'OVERWRITE',
        // Automatic instrumentation would inject init containers the restricted namespace rejects.
        ConfigurationValues: JSON.stringify({ manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } } }),
        PodIdentityAssociations: [{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformObservabilityCloudWatchAgentRole'), 'Arn'] } }],
      });
      // The add-on owns the association: EKS keeps one per service account, and an add-on cannot adopt one.
      template.resourcePropertiesCountIs('AWS::EKS::PodIdentityAssociation', { ServiceAccount: 'cloudwatch-agent' }, 0);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'aws:RequestTag/kubernetes-namespace': 'amazon-cloudwatch', 'aws:RequestTag/kubernetes-service-account': 'cloudwatch-agent' }) },
          })],
        },
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/CloudWatchAgentServerPolicy']] },
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSXrayWriteOnlyAccess']] },
        ],
      });
    });

    test('draws one dashboard grouped by tier', () => {
      const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
      const body = JSON.stringify(Stack.of(platform).resolve(dashboard.Properties.DashboardBody));
      for (const section of ['## Edge', '## Services', '## Cluster', '## Database', '## Cache', '## Messaging',
        'WAF allowed and blocked', 'ALB target response time', 'RDS Proxy connections', 'Cache engine CPU by node']) {
        expect(body).toContain(section);
      }
      // One section compares the services: five graphs with a line per service (crash loops: per Deployment).
      for (const title of ['Requests by service', 'p99 response time by service', '5xx responses by service', 'Unhealthy pods by service',
        'Containers in CrashLoopBackOff by Deployment']) {
        expect(body).toContain(title);
      }
      for (const service of ['api-gateway', 'user-service', 'post-service', 'group-service']) {
        expect(body.split(`\\"label\\":\\"${service}\\"`)).toHaveLength(6);
      }
      // Counts of the moment are drawn at their highest, not summed over the period.
      for (const gauge of ['MessageReadyCount', 'MessageUnacknowledgedCount', 'ConnectionCount', 'ConsumerCount']) {
        expect(body).toMatch(new RegExp(`\\\\"${gauge}\\\\".{0,200}?\\\\"stat\\\\":\\\\"Maximum\\\\"`));
      }
      expect(body).not.toContain('## Service api-gateway');
      // CloudFront's cache hit rate exists only with its paid additional metrics, which the platform does not turn on.
      expect(body).not.toContain('CacheHitRate');
      // The WAF names web ACLs by their metric names, the regional one with its region.
      expect(body).toContain('\\"AWS/WAFV2\\",\\"AllowedRequests\\",\\"Region\\",\\"us-east-1\\",\\"Rule\\",\\"ALL\\",\\"WebACL\\",\\"Test-Platform-Edge-');
    });
  });

  test('watches services of another stack: their alarms and rules stay with the observability and the edge', () => {
    const app = testApp();
    const infra = new Stack(app, 'Infra', { env: TEST_ENV });
    const network = new Network(infra, 'Network');
    const cluster = new Cluster(infra, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const apps = new Stack(app, 'Services', { env: TEST_ENV });
    const services = [
      new Microservice(apps, 'Gateway', { cluster, name: 'api-gateway' }),
      new Microservice(apps, 'Users', { cluster, name: 'user-service', path: '/api/users/*' }),
    ];
    const front = new Stack(app, 'Front', { env: TEST_ENV });
    // The static assets bucket's policy names the distribution: it lives with the edge.
    const storage = new Storage(front, 'Storage');
    const edge = new Edge(front, 'Edge', {
      vpc: network.vpc,
      routes: services.map(service => service.route),
      workloadSecurityGroup: network.workloadSecurityGroup,
      serverAccessLogsBucket: storage.accessLogsBucket,
      staticAssetsBucket: storage.staticAssetsBucket,
    });
    const watch = new Stack(app, 'Watch', { env: TEST_ENV });
    const observability = new Observability(watch, 'Observability', { services, edge });

    expect(() => app.synth()).not.toThrow();
    for (const name of ['ApiGatewayLatencyP99', 'UserServiceErrorRate', 'UserServiceUnhealthyTargets']) {
      expect(Stack.of(observability.alarms[name])).toBe(watch);
    }
    // Three a service, and the edge's: ALB 5xx rate and p99, CloudFront 5xx (a us-east-1 stack).
    Template.fromStack(watch).resourceCountIs('AWS::CloudWatch::Alarm', 4 * 2 + 3);
    Template.fromStack(front).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 2);
    Template.fromStack(apps).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    Template.fromStack(apps).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
  });

  test('a canary\'s Deployment has a crash-loop alarm of its own, for as long as it runs', () => {
    const stack = testStack({ env: TEST_ENV });
    const services = CodeLearnPlatform.defaultServices().map(service => service.name === 'post-service' ? { ...service, canary: { weight: 20 } } : service);
    const platform = new CodeLearnPlatform(stack, 'Platform', { services });
    const alarms = alarmsOf(platform.observability);
    const podName = (alarm: any) => alarm.Dimensions.find((d: any) => d.Name === 'PodName').Value;
    expect(podName(alarms.PostServiceCrashLoop)).toBe('post-service');
    expect(podName(alarms.PostServiceCanaryCrashLoop)).toBe('post-service-canary');
    expect(platform.services['post-service'].pods.deployments).toEqual(['post-service', 'post-service-canary']);
    expect(Object.keys(alarms).filter(name => name.endsWith('CanaryCrashLoop'))).toEqual(['PostServiceCanaryCrashLoop']);
  });

  test('a single-instance broker (development): its one node against its whole limit', () => {
    const stack = testStack({ env: TEST_ENV });
    const platform = new CodeLearnPlatform(stack, 'Platform', { profile: PlatformProfile.DEVELOPMENT });
    expect(platform.messaging.rabbitMqBroker!.deploymentMode).toBe('SINGLE_INSTANCE');
    expect(alarmsOf(platform.observability).BrokerMemory.Metrics[0].Expression).toBe('IF(limit > 0, 100 * fullest / limit, 0)');
  });

  test('with Kafka: partition and controller alarms', () => {
    const stack = testStack({ env: TEST_ENV });
    const platform = new CodeLearnPlatform(stack, 'Platform', { messaging: { broker: MessageBroker.kafka() } });
    expect(Object.keys(platform.observability.alarms)).toEqual(expect.arrayContaining(['BrokerOfflinePartitions', 'BrokerController', 'BrokerDisk']));
    expect(Object.keys(platform.observability.alarms)).not.toContain('BrokerMemory');
    const alarms = alarmsOf(platform.observability);
    // A gauge each broker publishes every minute: its highest, not the period's sum.
    expect(alarms.BrokerController).toMatchObject({ MetricName: 'ActiveControllerCount', Statistic: 'Maximum', Threshold: 1 });
    // The fullest broker's volume, whatever the number of brokers.
    expect(alarms.BrokerDisk).toMatchObject({ Threshold: 85, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarms.BrokerDisk.Metrics[0].Expression).toBe('SELECT MAX(KafkaDataLogsDiskUsed) FROM SCHEMA("AWS/Kafka", "Broker ID", "Cluster Name") ' +
      `WHERE "Cluster Name" = '${platform.messaging.kafkaCluster!.clusterName}'`);
  });

  test('a service that declares its latency objective gets it; CloudFront alarms only in us-east-1', () => {
    const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
    const platform = new CodeLearnPlatform(stack, 'Platform', {
      services: [{ name: 'api-gateway' }, { name: 'search', path: '/api/search/*', latencyObjective: Duration.millis(250) }],
    });
    const alarms = alarmsOf(platform.observability);
    expect(alarms.SearchLatencyP99.Threshold).toBe(0.25);
    expect(alarms.ApiGatewayLatencyP99.Threshold).toBe(1);
    expect(Object.keys(platform.observability.alarms)).not.toContain('CloudFront5xxRate');
  });

  test('the load balancer\'s latency alarm follows the platform\'s objective', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', { observability: { latencyObjective: Duration.millis(400) } });
    const alarms = alarmsOf(platform.observability);
    expect(alarms.AlbLatencyP99).toMatchObject({ Threshold: 0.4, AlarmDescription: expect.stringContaining('400 millis (`latencyObjective`)') });
    expect(alarms.ApiGatewayLatencyP99.Threshold).toBe(0.4);
  });

  test('a service objective out of range', () => {
    expect(() => new CodeLearnPlatform(testStack(), 'Platform', {
      services: [{ name: 'api-gateway', latencyObjective: Duration.minutes(5) }],
    })).toThrow(new Error('`services[0]` (\'api-gateway\'): `services[0].latencyObjective` (5 minutes) must be a literal duration from 10 milliseconds to 60 seconds.'));
  });

  test('pins the add-on version it is given', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', { observability: { addonVersion: 'v4.5.0-eksbuild.1' } });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Addon', { AddonName: 'amazon-cloudwatch-observability', AddonVersion: 'v4.5.0-eksbuild.1' });
    expect(() => new Observability(testStack(), 'Observability', { addonVersion: 'latest' })).toThrow(new Error(
      '`addonVersion` (\'latest\') is not an EKS add-on version such as \'v1.20.4-eksbuild.2\': ' +
      'list them with `aws eks describe-addon-versions --addon-name <add-on> --kubernetes-version <version>`.'));
  });

  test('turns Application Signals on for the account only when asked: it is one per account and region', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', { observability: { applicationSignals: true } });
    Template.fromStack(stack).resourceCountIs('AWS::ApplicationSignals::Discovery', 1);
    const plain = testStack();
    new CodeLearnPlatform(plain, 'Platform');
    Template.fromStack(plain).resourceCountIs('AWS::ApplicationSignals::Discovery', 0);
  });

  test('watches a service in the scope the caller gives, in the dashboard\'s Services section whenever it is added', () => {
    const stack = testStack({ env: TEST_ENV });
    const network = new Network(stack, 'Network');
    const database = new Database(stack, 'Database', { vpc: network.vpc });
    const observability = new Observability(stack, 'Observability', { database, latencyObjective: Duration.millis(500) });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: network.vpc }).addListener('Http', {
      port: 80, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404),
    });
    const group = (id: string) => listener.addTargets(id, {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      priority: id === 'Search' ? 1 : 2,
      conditions: [elbv2.ListenerCondition.pathPatterns([`/${id}/*`])],
    });
    const unit = new Construct(stack, 'SearchUnit');
    const alarms = observability.watchService(unit, { name: 'search', targetGroup: group('Search'), latencyObjective: Duration.millis(250) });
    observability.watchService(new Construct(stack, 'FeedUnit'), { name: 'feed', targetGroup: group('Feed') });

    expect(alarms.map(alarm => alarm.node.path)).toEqual(['Test/SearchUnit/LatencyP99', 'Test/SearchUnit/ErrorRate', 'Test/SearchUnit/UnhealthyTargets']);
    expect(observability.alarms.SearchLatencyP99).toBe(alarms[0]);
    const properties = alarmsOf(observability);
    expect(properties.SearchLatencyP99.Threshold).toBe(0.25);
    expect(properties.FeedLatencyP99.Threshold).toBe(0.5);
    // The section stays where it belongs, before the database's, with a line a service.
    const body = JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    expect(body.indexOf('## Services')).toBeGreaterThan(-1);
    expect(body.indexOf('## Services')).toBeLessThan(body.indexOf('## Database'));
    expect(body.match(/\\"label\\":\\"(search|feed)\\"/g)).toHaveLength(8);
    expect(() => observability.watchService(stack, { name: '', targetGroup: group('Blank') })).toThrow(new Error(
      '`service.name` (\'\') must be a literal, non-empty name such as \'user-service\': it names the alarms.'));
  });

  test('without services the dashboard has no Services section', () => {
    const stack = testStack({ env: TEST_ENV });
    new Observability(stack, 'Observability', { database: new Database(stack, 'Database', { vpc: new Network(stack, 'Network').vpc }) });
    const body = JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('## Database');
    expect(body).not.toContain('## Services');
  });

  test('alone: a topic, an empty dashboard and the alarms you add', () => {
    const stack = testStack();
    const observability = new Observability(stack, 'Observability', { latencyObjective: Duration.millis(500), errorRateObjectivePercent: 2 });
    observability.addAlarm('Custom', { metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Queue' }), threshold: 100, description: 'The queue is long.' });
    observability.addAlarm('Empty', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Depth' }),
      threshold: 1,
      description: 'The queue is empty.',
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Queue', Threshold: 100, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    // Five periods read, three of them breaching.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Depth', ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(() => observability.addAlarm('Custom', { metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Queue' }), threshold: 1, description: 'again' }))
      .toThrow(new Error('An alarm named \'Custom\' exists already: give each alarm its own name.'));
  });

  describe('fails on bad input', () => {
    const cases: [string, ObservabilityOptions, string][] = [
      ['an invalid email', { alarmEmails: ['oncall'] }, '`alarmEmails` has \'oncall\', which is not an email address such as \'oncall@example.com\'.'],
      ['a latency objective of 0', { latencyObjective: Duration.millis(0) }, '`latencyObjective` (0 millis) must be a literal duration from 10 milliseconds to 60 seconds.'],
      ['a latency objective of 2 minutes', { latencyObjective: Duration.minutes(2) }, '`latencyObjective` (2 minutes) must be a literal duration from 10 milliseconds to 60 seconds.'],
      ['a latency objective that is a token', { latencyObjective: Duration.millis(Lazy.number({ produce: () => 500 })) },
        '`latencyObjective` (<token> millis) must be a literal duration from 10 milliseconds to 60 seconds.'],
      ['an error objective of 0', { errorRateObjectivePercent: 0 }, '`errorRateObjectivePercent` (0) must be above 0 and at most 50.'],
      ['an error objective of 80', { errorRateObjectivePercent: 80 }, '`errorRateObjectivePercent` (80) must be above 0 and at most 50.'],
    ];
    test.each(cases)('%s', (_name, options, message) => {
      expect(() => new Observability(testStack(), 'Observability', options)).toThrow(new Error(message));
    });
  });
});
