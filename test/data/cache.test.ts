import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Cache, CacheEngine, CacheOptions, Network, PlatformProfile } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { expectSecretReadThroughRolePolicy } from '../support/grants';

function setup(props: CacheOptions & { profile?: PlatformProfile } = {}) {
  const stack = testStack({ env: TEST_ENV });
  const network = new Network(stack, 'Network');
  const cache = new Cache(stack, 'Cache', { vpc: network.vpc, ...props });
  cache.connections.allowDefaultPortFrom(network.workloadSecurityGroup);
  return { stack, cache, template: Template.fromStack(stack) };
}

describe('Cache', () => {
  describe('with defaults', () => {
    const { cache, template, stack } = setup();

    test('runs Redis 7.1 in cluster mode: two shards of cache.t3.medium with a replica each, Multi-AZ', () => {
      template.hasResource('AWS::ElastiCache::ReplicationGroup', {
        Properties: Match.objectLike({
          Engine: 'redis',
          EngineVersion: '7.1',
          CacheNodeType: 'cache.t3.medium',
          ClusterMode: 'enabled',
          CacheParameterGroupName: 'default.redis7.cluster.on',
          NumNodeGroups: 2,
          ReplicasPerNodeGroup: 1,
          AutomaticFailoverEnabled: true,
          MultiAZEnabled: true,
          Port: 6379,
          AutoMinorVersionUpgrade: true,
          CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('^CacheSubnetGroup') },
        }),
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
      });
      template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
        SubnetIds: [{ Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet2') }],
      });
    });

    test('requires TLS, encrypts at rest with a rotated key and authenticates with a token from Secrets Manager', () => {
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AtRestEncryptionEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] },
        AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^CacheAuthToken') }, ':SecretString:::}}']] },
      });
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          Description: 'AUTH token of the cache of Test/Cache',
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] },
          GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
        },
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('^Encrypts the cache') });
    });

    test('keeps daily snapshots 15 days', () => {
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        SnapshotRetentionLimit: 15,
        SnapshotWindow: '02:00-03:00',
        PreferredMaintenanceWindow: 'sun:05:30-sun:06:30',
      });
    });

    test('delivers slow and engine logs as JSON to encrypted log groups kept a year', () => {
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        LogDeliveryConfigurations: [
          {
            DestinationType: 'cloudwatch-logs',
            DestinationDetails: { CloudWatchLogsDetails: { LogGroup: { Ref: Match.stringLikeRegexp('^CacheSlowLog') } } },
            LogFormat: 'json',
            LogType: 'slow-log',
          },
          {
            DestinationType: 'cloudwatch-logs',
            DestinationDetails: { CloudWatchLogsDetails: { LogGroup: { Ref: Match.stringLikeRegexp('^CacheEngineLog') } } },
            LogFormat: 'json',
            LogType: 'engine-log',
          },
        ],
      });
      template.resourcePropertiesCountIs('AWS::Logs::LogGroup', {
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] },
      }, 2);
      expect(Object.keys(cache.logGroups)).toEqual(['slow-log', 'engine-log']);
    });

    test('admits only the allowed security group on 6379', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSecurityGroup'), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkWorkloadSecurityGroup'), 'GroupId'] },
        FromPort: 6379,
        ToPort: 6379,
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: 'Cache: admits the allowed clients on the cache port',
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      });
    });

    test('exposes its endpoint, port and token', () => {
      expect(Stack.of(cache).resolve(cache.configurationEndpoint)).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^CacheReplicationGroup/), 'ConfigurationEndPoint.Address'],
      });
      expect(cache.port).toBe(6379);
    });

    test('grants reading the token and decrypting it through the grantee\'s policy alone', () => {
      const other = testStack({ env: TEST_ENV });
      const otherCache = new Cache(other, 'Cache', { vpc: new ec2.Vpc(other, 'Vpc') });
      otherCache.grantReadAuthToken(new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }));
      expectSecretReadThroughRolePolicy(Template.fromStack(other), 'CacheAuthToken', 'CacheKey');
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('/Test/Cache', Match.anyValue());
    });
  });

  test('development profile: one small shard without replicas, and a warning', () => {
    const { template, stack } = setup({ profile: PlatformProfile.DEVELOPMENT });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheNodeType: 'cache.t3.micro',
      NumNodeGroups: 1,
      ReplicasPerNodeGroup: 0,
      MultiAZEnabled: false,
      AutomaticFailoverEnabled: true,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    Annotations.fromStack(stack).hasWarning('/Test/Cache', Match.stringLikeRegexp('^The cache has no replicas'));
  });

  test('with every option: Valkey, sizes, retention, key and removal policy', () => {
    const stack = testStack({ env: TEST_ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    new Cache(stack, 'Cache', {
      vpc,
      vpcSubnets: { subnetGroupName: 'Data' },
      engine: CacheEngine.VALKEY,
      engineVersion: '8.1',
      nodeType: 'cache.r7g.large',
      shards: 4,
      replicasPerShard: 2,
      snapshotRetention: Duration.days(35),
      logRetention: logs.RetentionDays.SIX_MONTHS,
      encryptionKey: new kms.Key(stack, 'BroughtKey'),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: Match.objectLike({
        Engine: 'valkey',
        EngineVersion: '8.1',
        CacheParameterGroupName: 'default.valkey8.cluster.on',
        CacheNodeType: 'cache.r7g.large',
        NumNodeGroups: 4,
        ReplicasPerNodeGroup: 2,
        MultiAZEnabled: true,
        SnapshotRetentionLimit: 35,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BroughtKey'), 'Arn'] },
      }),
      DeletionPolicy: 'Retain',
    });
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 180 }, 2);
    template.resourceCountIs('AWS::KMS::Key', 1);
  });

  describe('fails on bad input', () => {
    const cases: [string, CacheOptions, string][] = [
      ['no shard', { shards: 0 }, '`shards` (0) must be a whole number from 1 to 90.'],
      ['too many shards', { shards: 91 }, '`shards` (91) must be a whole number from 1 to 90.'],
      ['negative replicas', { replicasPerShard: -1 }, '`replicasPerShard` (-1) must be a whole number from 0 to 5.'],
      ['too many replicas', { replicasPerShard: 6 }, '`replicasPerShard` (6) must be a whole number from 0 to 5.'],
      ['a short snapshot retention', { snapshotRetention: Duration.days(7) },
        '`snapshotRetention` (7 days) must be a whole number of days from 15 to 35: HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35.'],
      ['a version without minor', { engineVersion: '7' }, '`engineVersion` (\'7\') must be written as major.minor, such as \'7.1\'.'],
      ['a node type without prefix', { nodeType: 't3.medium' }, '`nodeType` (\'t3.medium\') is not an ElastiCache node type: write it as \'cache.t3.medium\'.'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      const stack = testStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(() => new Cache(stack, 'Cache', { vpc, ...props })).toThrow(new Error(message));
    });
  });
});
