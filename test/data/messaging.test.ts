import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { KafkaOptions, MessageBroker, MessageBrokerEngine, Messaging, MessagingOptions, Network, PlatformProfile, RabbitMqOptions } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { expectSecretReadThroughRolePolicy } from '../support/grants';

function setup(props: MessagingOptions & { profile?: PlatformProfile } = {}) {
  const stack = testStack({ env: TEST_ENV });
  const network = new Network(stack, 'Network');
  const messaging = new Messaging(stack, 'Messaging', { vpc: network.vpc, ...props });
  messaging.allowFrom(network.workloadSecurityGroup, 'Workloads');
  return { stack, messaging, template: Template.fromStack(stack) };
}

const workloads = { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkWorkloadSecurityGroup'), 'GroupId'] };

/** The first part of the stack's ID, as a template writes it. */
const STACK_ID_PART = { 'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] };

describe('Messaging', () => {
  describe('with defaults: RabbitMQ', () => {
    const { messaging, template, stack } = setup();

    test('gives clients one grant and one environment, whichever the engine', () => {
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      expect(messaging.grantConnect(role).success).toBe(true);
      const document = JSON.stringify(stack.resolve((role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).policyDocument));
      expect(document).toContain('secretsmanager:GetSecretValue');
      expect(document).not.toContain('kafka');
      expect(stack.resolve(messaging.connectionEnvironment())).toEqual({
        BROKER_ENGINE: 'rabbitmq', BROKER_CREDENTIALS_SECRET_ARN: { Ref: expect.stringMatching(/^MessagingCredentials/) },
      });
    });

    test('publishes its metrics by broker name', () => {
      expect(stack.resolve(messaging.metric('RabbitMQMemUsed'))).toMatchObject({
        namespace: 'AWS/AmazonMQ', metricName: 'RabbitMQMemUsed', statistic: 'Average', dimensions: { Broker: { 'Fn::Join': ['', [expect.stringMatching(/^Test-Messaging-/), expect.anything()]] } },
      });
      expect(messaging.metricKafkaBroker('UnderReplicatedPartitions', 1)).toBeUndefined();
    });

    test('runs a private three-node RabbitMQ 3.13 cluster across the isolated subnets', () => {
      expect(messaging.engine).toBe(MessageBrokerEngine.RABBITMQ);
      template.hasResource('AWS::AmazonMQ::Broker', {
        Properties: Match.objectLike({
          EngineType: 'RABBITMQ',
          EngineVersion: '3.13',
          HostInstanceType: 'mq.m7g.large',
          DeploymentMode: 'CLUSTER_MULTI_AZ',
          PubliclyAccessible: false,
          AutoMinorVersionUpgrade: true,
          SubnetIds: [{ Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet2') }],
          SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingSecurityGroup'), 'GroupId'] }],
          MaintenanceWindowStartTime: { DayOfWeek: 'SUNDAY', TimeOfDay: '06:30', TimeZone: 'UTC' },
          Logs: { General: true },
          // The name ends with the stack ID's first part: a broker kept from a deleted stack does not hold the next one's name.
          BrokerName: { 'Fn::Join': ['', [Match.stringLikeRegexp('^Test-Messaging-[A-F0-9]{8}-$'), STACK_ID_PART]] },
        }),
        // A fixed name: removed when a first create rolls back, kept otherwise.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
    });

    test('generates the administrative user in Secrets Manager, encrypted with the broker key', () => {
      template.hasResourceProperties('AWS::AmazonMQ::Broker', {
        Users: [{
          Username: 'codelearn',
          Password: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^MessagingCredentials') }, ':SecretString:password::}}']] },
        }],
      });
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          Description: Match.stringLikeRegexp('^Administrative user of the RabbitMQ broker'),
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingKey'), 'Arn'] },
          GenerateSecretString: {
            SecretStringTemplate: '{"username":"codelearn"}',
            GenerateStringKey: 'password',
            PasswordLength: 32,
            ExcludePunctuation: true,
          },
        },
        DeletionPolicy: 'Retain',
      });
      expect(messaging.credentials).toBeDefined();
    });

    test('gives the general log group Amazon MQ creates the broker key and the retention, right after the broker', () => {
      // The calls as JSON, with every reference written as <LogicalId>.
      const calls = Object.values(template.findResources('Custom::AWS')).map(resource => JSON.parse(
        (resource.Properties.Create['Fn::Join']?.[1] ?? [resource.Properties.Create])
          .map((part: any) => typeof part === 'string' ? part : `<${part.Ref ?? part['Fn::GetAtt']?.[0]}>`).join('')));
      const call = (action: string) => calls.find(candidate => candidate.action === action);
      expect(call('createLogGroup')).toEqual(expect.objectContaining({
        service: 'CloudWatchLogs',
        parameters: { logGroupName: expect.stringMatching(/^\/aws\/amazonmq\/broker\/<MessagingBroker[0-9A-F]{8}>\/general$/), kmsKeyId: expect.stringMatching(/^<MessagingKey/) },
        ignoreErrorCodesMatching: 'ResourceAlreadyExistsException',
      }));
      expect(call('associateKmsKey').parameters.kmsKeyId).toMatch(/^<MessagingKey/);
      // A replaced broker has a new ID, so a new group: it is made on update too.
      const creates = Object.values(template.findResources('Custom::AWS')).filter(resource => JSON.stringify(resource.Properties.Create).includes('createLogGroup'));
      expect(creates).toHaveLength(1);
      expect(JSON.stringify(creates[0].Properties.Update)).toContain('createLogGroup');
      expect(call('putRetentionPolicy').parameters.retentionInDays).toBe(365);
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith(['logs:CreateLogGroup', 'logs:AssociateKmsKey', 'logs:PutRetentionPolicy'].map(action => ({
            Effect: 'Allow',
            Action: action,
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:/aws/amazonmq/broker/*']] },
          }))),
        },
      });
    });

    test('lets Amazon MQ write its general log for this account only', () => {
      const policy = Object.values(template.findResources('AWS::Logs::ResourcePolicy'))[0];
      const document = JSON.parse(Stack.of(messaging).resolve(policy.Properties.PolicyDocument)['Fn::Join'][1].map((part: any) => typeof part === 'string' ? part : 'aws').join(''));
      expect(document.Statement).toEqual([{
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        Effect: 'Allow',
        Principal: { Service: 'mq.amazonaws.com' },
        Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/amazonmq/*',
      }]);
    });

    test('admits the allowed clients on AMQPS only: the management console is opened on its own', () => {
      const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(r => r.Properties);
      expect(rules).toEqual([
        expect.objectContaining({ FromPort: 5671, ToPort: 5671, SourceSecurityGroupId: expect.anything(), Description: 'Workloads' }),
      ]);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5671, SourceSecurityGroupId: workloads });
    });

    test('opens the management console to the peer an administrator names', () => {
      const other = testStack({ env: TEST_ENV });
      const network = new Network(other, 'Network');
      const broker = new Messaging(other, 'Messaging', { vpc: network.vpc });
      const bastion = new ec2.SecurityGroup(other, 'Bastion', { vpc: network.vpc });
      broker.allowManagementFrom(bastion, 'Bastion to the console');
      Template.fromStack(other).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bastion'), 'GroupId'] },
        Description: 'Bastion to the console',
      });
    });

    test('exposes its AMQPS endpoints and grants its credentials, not Kafka', () => {
      expect(Stack.of(stack).resolve(messaging.endpoints)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^MessagingBroker/), 'AmqpEndpoints'] });
      const role = new iam.Role(new Stack(), 'Role', { assumedBy: new iam.AccountRootPrincipal() });
      expect(() => messaging.grantKafkaClient(role))
        .toThrow(new Error('grantKafkaClient: the RabbitMQ broker authenticates with its credentials; use grantReadCredentials.'));
    });
  });

  test('RabbitMQ in development: one small node, named so that production can replace it', () => {
    const { template } = setup({ profile: PlatformProfile.DEVELOPMENT });
    template.hasResourceProperties('AWS::AmazonMQ::Broker', {
      HostInstanceType: 'mq.t3.micro',
      DeploymentMode: 'SINGLE_INSTANCE',
      SubnetIds: [{ Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet1') }],
      // A deployment mode cannot change in place, and CloudFormation replaces a named
      // broker only under another name: the production broker's name is the plain one.
      BrokerName: { 'Fn::Join': ['', [Match.stringLikeRegexp('^Test-Messaging-[A-F0-9]{8}-single-$'), STACK_ID_PART]] },
    });
    const [broker] = Object.values(template.findResources('AWS::AmazonMQ::Broker'));
    // The stack ID's first part is 8 hexadecimal digits.
    expect(broker.Properties.BrokerName['Fn::Join'][1][0].length + 8).toBeLessThanOrEqual(50);
    // Replaced (production to development and back), it is deleted: kept, it would hold the name the next switch needs.
    expect(broker.UpdateReplacePolicy).toBe('Delete');
  });

  test('RabbitMQ with every option', () => {
    const { template } = setup({
      broker: MessageBroker.rabbitMq({ instanceType: new ec2.InstanceType('m7g.xlarge'), engineVersion: '3.12', username: 'platform' }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    template.hasResource('AWS::AmazonMQ::Broker', {
      Properties: Match.objectLike({
        HostInstanceType: 'mq.m7g.xlarge',
        EngineVersion: '3.12',
        Users: [Match.objectLike({ Username: 'platform' })],
      }),
      DeletionPolicy: 'Delete',
    });
  });

  describe('Kafka', () => {
    const { messaging, template } = setup({ broker: MessageBroker.kafka() });

    test('gives clients the IAM grant and the cluster ARN', () => {
      const stack = Stack.of(messaging);
      const role = new iam.Role(stack, 'KafkaClient', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      messaging.grantConnect(role);
      const document = JSON.stringify(stack.resolve((role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).policyDocument));
      expect(document).toContain('kafka-cluster:Connect');
      expect(document).toContain('kafka:GetBootstrapBrokers');
      expect(stack.resolve(messaging.connectionEnvironment())).toEqual({
        BROKER_ENGINE: 'kafka', KAFKA_CLUSTER_ARN: { 'Fn::GetAtt': [expect.stringMatching(/^MessagingCluster/), 'Arn'] },
      });
    });

    test('publishes its metrics by cluster name, and per broker', () => {
      const stack = Stack.of(messaging);
      expect(stack.resolve(messaging.metric('OfflinePartitionsCount'))).toMatchObject({
        namespace: 'AWS/Kafka', dimensions: { 'Cluster Name': expect.stringMatching(/^Test-Messaging-/) },
      });
      expect(stack.resolve(messaging.metricKafkaBroker('UnderReplicatedPartitions', 2))).toMatchObject({
        statistic: 'Maximum', dimensions: { 'Cluster Name': expect.stringMatching(/^Test-Messaging-/), 'Broker ID': '2' },
      });
    });

    test('runs MSK 3.9.x with one kafka.m5.large broker per zone and 100 GiB volumes', () => {
      expect(messaging.engine).toBe(MessageBrokerEngine.KAFKA);
      template.hasResource('AWS::MSK::Cluster', {
        Properties: Match.objectLike({
          KafkaVersion: '3.9.x',
          NumberOfBrokerNodes: 2,
          ClusterName: Match.stringLikeRegexp('^Test-Messaging-'),
          BrokerNodeGroupInfo: {
            InstanceType: 'kafka.m5.large',
            ClientSubnets: [{ Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet2') }],
            SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingSecurityGroup'), 'GroupId'] }],
            StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } },
          },
          EnhancedMonitoring: 'PER_BROKER',
        }),
        // A fixed name: removed when a first create rolls back, kept otherwise.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      template.resourceCountIs('AWS::AmazonMQ::Broker', 0);
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    });

    test('grows the brokers\' volumes up to four times their size at 60% used, and never shrinks them', () => {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        ServiceNamespace: 'kafka',
        ScalableDimension: 'kafka:broker-storage:VolumeSize',
        ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingCluster'), 'Arn'] },
        MinCapacity: 100,
        MaxCapacity: 400,
        // Application Auto Scaling's service-linked role for MSK, which registering creates.
        RoleARN: Match.absent(),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        ScalingTargetId: { Ref: Match.stringLikeRegexp('^MessagingStorageScaling') },
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' },
          TargetValue: 60,
          DisableScaleIn: true,
        },
      });
      // A stack of a known Region needs no condition.
      expect(template.toJSON().Conditions ?? {}).toEqual({});
    });

    test('encrypts volumes with the key and all traffic with TLS, and authenticates with IAM only', () => {
      template.hasResourceProperties('AWS::MSK::Cluster', {
        EncryptionInfo: {
          EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingKey'), 'Arn'] } },
          EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
        },
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      });
    });

    test('sends broker logs to an encrypted log group kept a year', () => {
      template.hasResourceProperties('AWS::MSK::Cluster', {
        LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^MessagingBrokerLogs') } } } },
      });
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingKey'), 'Arn'] } },
        DeletionPolicy: 'Retain',
      });
      expect(messaging.logGroup).toBeDefined();
    });

    test('admits clients on 9098 and brokers to each other on 9092-9098', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 9098, ToPort: 9098, SourceSecurityGroupId: workloads });
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 9092,
        ToPort: 9098,
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingSecurityGroup'), 'GroupId'] },
      });
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
      // The broker-to-broker egress rule is a separate resource: the group's own list
      // keeps the "disallow all" placeholder, or EC2's allow-all egress would stay.
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Message broker'),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      });
    });

    test('grants reading the RabbitMQ credentials through the grantee\'s policy alone', () => {
      const other = testStack({ env: TEST_ENV });
      const rabbit = new Messaging(other, 'Messaging', { vpc: new ec2.Vpc(other, 'Vpc') });
      rabbit.grantReadCredentials(new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }));
      expectSecretReadThroughRolePolicy(Template.fromStack(other), 'MessagingCredentials', 'MessagingKey');
    });

    test('grants IAM clients the cluster, its topics and groups, and no credentials', () => {
      const stack = testStack({ env: TEST_ENV });
      const kafka = new Messaging(stack, 'Messaging', { vpc: new ec2.Vpc(stack, 'Vpc'), broker: MessageBroker.kafka() });
      const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      kafka.grantKafkaClient(role);
      const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0];
      const [statement] = policy.Properties.PolicyDocument.Statement;
      expect(statement.Action).toEqual([
        'kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic',
        'kafka-cluster:WriteData', 'kafka-cluster:ReadData', 'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup',
      ]);
      expect(JSON.stringify(statement.Resource)).toMatch(/:topic\/.*:group\//);
      // MSK gives the bootstrap brokers only through its API.
      expect(policy.Properties.PolicyDocument.Statement[1]).toEqual({
        Effect: 'Allow',
        Action: ['kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MessagingCluster/), 'Arn'] },
      });
      expect(() => kafka.grantReadCredentials(role))
        .toThrow(new Error('grantReadCredentials: the Kafka broker authenticates with IAM and has no credentials; use grantKafkaClient.'));
      expect(() => kafka.allowManagementFrom(role as unknown as ec2.IConnectable))
        .toThrow(new Error('allowManagementFrom: only Amazon MQ for RabbitMQ has a management console; MSK is managed through its API.'));
    });
  });

  test('Kafka with every option, in development', () => {
    const stack = testStack({ env: TEST_ENV });
    const network = new Network(stack, 'Network', { maxAzs: 3 });
    new Messaging(stack, 'Messaging', {
      vpc: network.vpc,
      profile: PlatformProfile.DEVELOPMENT,
      broker: MessageBroker.kafka({ instanceType: new ec2.InstanceType('m7g.large'), kafkaVersion: '3.8.x', brokersPerAz: 2, volumeSize: 500 }),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true }),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.8.x',
      NumberOfBrokerNodes: 6,
      BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.m7g.large', StorageInfo: { EBSStorageInfo: { VolumeSize: 500 } } }),
      EncryptionInfo: Match.objectLike({ EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BroughtKey'), 'Arn'] } } }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90, LogGroupName: Match.absent() });
  });

  test('Kafka storage scaling: off at maxVolumeSize, absent where MSK has none, conditional in a stack of no Region', () => {
    const synth = (env: { account?: string; region?: string } | undefined, options: KafkaOptions = {}) => {
      const stack = testStack({ env });
      const network = new Network(stack, 'Network', env?.region ? {} : { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } as any);
      new Messaging(stack, 'Messaging', { vpc: network.vpc, broker: MessageBroker.kafka(options) });
      return { stack, template: Template.fromStack(stack) };
    };
    synth(TEST_ENV, { volumeSize: 200, maxVolumeSize: 200 }).template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    synth(TEST_ENV, { volumeSize: 5000 }).template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 16384 });
    const osaka = synth({ account: '123456789012', region: 'ap-northeast-3' });
    osaka.template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    Annotations.fromStack(osaka.stack).hasWarning('/Test/Messaging', Match.stringLikeRegexp('MSK has no storage auto scaling in ap-northeast-3'));
    const agnostic = synth(undefined).template;
    agnostic.hasResource('AWS::ApplicationAutoScaling::ScalableTarget', { Condition: Match.stringLikeRegexp('^MessagingStorageScalingSupported') });
    agnostic.hasResource('AWS::ApplicationAutoScaling::ScalingPolicy', { Condition: Match.stringLikeRegexp('^MessagingStorageScalingSupported') });
    expect(JSON.stringify(agnostic.toJSON().Conditions)).toContain('ap-southeast-5');
  });

  describe('fails on bad input', () => {
    const cases: [string, () => MessageBroker, string][] = [
      ['a Kafka option given to RabbitMQ', () => MessageBroker.rabbitMq({ brokersPerAz: 2 } as RabbitMqOptions),
        '`brokersPerAz` is not an option of MessageBroker.rabbitMq() (it takes `instanceType`, `engineVersion`, `username`): use MessageBroker.kafka() for it, or remove it.'],
      ['a RabbitMQ option given to Kafka', () => MessageBroker.kafka({ username: 'x' } as KafkaOptions),
        '`username` is not an option of MessageBroker.kafka() (it takes `instanceType`, `kafkaVersion`, `brokersPerAz`, `volumeSize`, `maxVolumeSize`): use MessageBroker.rabbitMq() for it, or remove it.'],
      ['a RabbitMQ version with a patch', () => MessageBroker.rabbitMq({ engineVersion: '3.13.7' }),
        '`engineVersion` (\'3.13.7\') is not a version this broker takes: write it as \'3.13\'.'],
      ['a Kafka version without a patch', () => MessageBroker.kafka({ kafkaVersion: '3.6' }),
        '`kafkaVersion` (\'3.6\') is not a version this broker takes: write it as \'3.9.x\'.'],
      ['an MSK type for RabbitMQ', () => MessageBroker.rabbitMq({ instanceType: new ec2.InstanceType('kafka.m5.large') }),
        '`instanceType` (\'kafka.m5.large\') is an MSK type; this takes an Amazon MQ type without its \'mq.\' prefix, such as \'m7g.large\' for \'mq.m7g.large\'.'],
      ['the prefix the broker adds', () => MessageBroker.rabbitMq({ instanceType: new ec2.InstanceType('mq.m7g.large') }),
        '`instanceType` (\'mq.m7g.large\') carries the \'mq.\' prefix, which the library adds: write \'m7g.large\'.'],
      ['a misspelled MQ type', () => MessageBroker.rabbitMq({ instanceType: new ec2.InstanceType('m7g.larg') }),
        '`instanceType` (\'m7g.larg\') is not an instance type: write a family and a size that exist, such as \'m7g.large\' (for \'mq.m7g.large\').'],
      ['the prefix the cluster adds', () => MessageBroker.kafka({ instanceType: new ec2.InstanceType('kafka.m5.large') }),
        '`instanceType` (\'kafka.m5.large\') carries the \'kafka.\' prefix, which the library adds: write \'m5.large\'.'],
      ['the guest user', () => MessageBroker.rabbitMq({ username: 'guest' }),
        '`username` (\'guest\') must be 2 to 100 letters, digits, \'-\', \'_\', \'.\' or \'~\', and not \'guest\'.'],
      ['no broker per zone', () => MessageBroker.kafka({ brokersPerAz: 0 }),
        '`brokersPerAz` (0) must be a whole number from 1 to 5.'],
      ['an empty volume', () => MessageBroker.kafka({ volumeSize: 0 }),
        '`volumeSize` (0) must be a whole number of GiB from 1 to 16384.'],
      ['a maximum below the volume', () => MessageBroker.kafka({ volumeSize: 200, maxVolumeSize: 150 }),
        '`maxVolumeSize` (150) must be a whole number of GiB from 200 to 16384.'],
    ];
    test.each(cases)('%s', (_name, broker, message) => {
      const stack = testStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(() => new Messaging(stack, 'Messaging', { vpc, broker: broker() })).toThrow(new Error(message));
    });
  });
});
