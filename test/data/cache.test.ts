import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Cache, CacheAuthentication, CacheEngine, CacheOptions, Network, PlatformProfile } from '../../src';
import { TEST_ENV, testApp, testStack } from '../support/app';
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
        // Shards are added and removed online, not by replacing the cache.
        UpdatePolicy: { UseOnlineResharding: true },
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

    test('requires TLS, encrypts at rest with a rotated key, and signs clients in as users of a user group', () => {
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AtRestEncryptionEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] },
        AuthToken: Match.absent(),
        UserGroupIds: [{ Ref: Match.stringLikeRegexp('^CacheUserGroup') }],
      });
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('^Encrypts the cache') });
      expect(cache.authentication).toBe(CacheAuthentication.IAM);
      expect(cache.authToken).toBeUndefined();
    });

    test('disables the default user, the only member of a group without clients', () => {
      template.resourceCountIs('AWS::ElastiCache::User', 1);
      template.hasResourceProperties('AWS::ElastiCache::User', {
        UserId: Match.stringLikeRegexp('^test-default-[0-9a-f]{8}$'),
        UserName: 'default',
        Engine: 'redis',
        AccessString: 'off -@all',
        AuthenticationMode: { Type: 'no-password-required' },
      });
      template.hasResourceProperties('AWS::ElastiCache::UserGroup', {
        UserGroupId: Match.stringLikeRegexp('^test-users-[0-9a-f]{8}$'),
        Engine: 'redis',
        UserIds: [{ Ref: Match.stringLikeRegexp('^CacheDefaultUser') }],
      });
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

    test('gives each client its own IAM user, and lets it connect as that user alone', () => {
      const other = testStack({ env: TEST_ENV });
      const otherCache = new Cache(other, 'Cache', { vpc: new ec2.Vpc(other, 'Vpc') });
      const role = new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      const grant = otherCache.grantConnect(role, 'post-service');
      otherCache.grantConnect(new iam.Role(other, 'Worker', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }), 'worker');
      expect(grant.success).toBe(true);
      const userId = otherCache.userIdOf('post-service');
      expect(userId).toMatch(/^test-post-service-[0-9a-f]{8}$/);
      const otherTemplate = Template.fromStack(other);
      otherTemplate.hasResourceProperties('AWS::ElastiCache::User', {
        UserId: userId,
        UserName: userId,
        Engine: 'redis',
        AccessString: 'on ~* &* +@all',
        AuthenticationMode: { Type: 'iam' },
      });
      otherTemplate.hasResourceProperties('AWS::ElastiCache::UserGroup', {
        UserIds: [
          { Ref: Match.stringLikeRegexp('^CacheDefaultUser') },
          { Ref: Match.stringLikeRegexp('^CacheUserpostservice') },
          { Ref: Match.stringLikeRegexp('^CacheUserworker') },
        ],
      });
      otherTemplate.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^App') }],
        PolicyDocument: {
          Statement: [{
            Action: 'elasticache:Connect',
            Effect: 'Allow',
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:us-east-1:123456789012:replicationgroup:', { Ref: Match.stringLikeRegexp('^CacheReplicationGroup') }]] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:us-east-1:123456789012:user:${userId}`]] },
            ],
          }],
        },
      });
      expect(other.resolve(otherCache.connectionEnvironment('post-service'))).toEqual({
        CACHE_HOST: { 'Fn::GetAtt': [expect.stringMatching(/^CacheReplicationGroup/), 'ConfigurationEndPoint.Address'] },
        CACHE_PORT: '6379',
        CACHE_AUTH: 'iam',
        CACHE_USER: userId,
        CACHE_REPLICATION_GROUP_ID: { Ref: expect.stringMatching(/^CacheReplicationGroup/) },
      });
      expect(otherCache.usersReady).toBe(otherCache.userGroup);
    });

    test('names users by stack and cache, so two platforms in one account never collide', () => {
      const ids = ['Blue', 'Green'].map(name => {
        const named = new Stack(testApp(), name, { env: TEST_ENV });
        return new Cache(named, 'Cache', { vpc: new ec2.Vpc(named, 'Vpc') }).userIdOf('user-service');
      });
      expect(ids[0]).toMatch(/^blue-user-service-[0-9a-f]{8}$/);
      expect(ids[1]).toMatch(/^green-user-service-[0-9a-f]{8}$/);
      const long = new Stack(testApp(), 'AVeryLongStackNameThatGoesOnAndOnForeverAndEver', { env: TEST_ENV });
      const longId = new Cache(long, 'Cache', { vpc: new ec2.Vpc(long, 'Vpc') }).userIdOf('a-rather-long-service-name-too');
      expect(longId).toMatch(/^averylongstacknamethatgoesonand-[0-9a-f]{8}$/);
      expect(longId.length).toBeLessThanOrEqual(40);
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('/Test/Cache', Match.anyValue());
    });
  });

  test('development profile: one small shard with one replica, a shape ElastiCache can update', () => {
    const { template, stack } = setup({ profile: PlatformProfile.DEVELOPMENT });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheNodeType: 'cache.t3.micro',
      NumNodeGroups: 1,
      ReplicasPerNodeGroup: 1,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    Annotations.fromStack(stack).hasNoWarning('/Test/Cache', Match.anyValue());
  });

  test('a shard\'s metric reads every member number a shard can hold, whatever its replicas, so its alarms follow them', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const one = new Cache(stack, 'One', { vpc, shards: 2, replicasPerShard: 1 });
    const expression = one.metricShard('EngineCPUUtilization', 2);
    expect(expression.expression).toBe('MAX([m1, m2, m3, m4, m5, m6])');
    expect(Object.values(expression.usingMetrics).map(metric => (metric as cloudwatch.Metric).dimensions)).toEqual(
      [1, 2, 3, 4, 5, 6].map(member => ({ CacheClusterId: `${one.replicationGroupId}-0002-00${member}`, CacheNodeId: '0001' })));
    expect(expression.period.toMinutes()).toBe(5);
    // Five replicas, the most a shard holds: the same six members, so a replica change leaves the alarms as they are.
    const five = new Cache(stack, 'Five', { vpc, shards: 2, replicasPerShard: 5 });
    expect(Object.keys(five.metricShard('EngineCPUUtilization', 2).usingMetrics)).toHaveLength(6);
    expect(() => one.metricShard('EngineCPUUtilization', 3)).toThrow('`shard` (3) must be a whole number from 1 to 2.');
  });

  describe('a fixed replication group ID, so that CloudFormation refuses to replace the cache', () => {
    test('from the stack, the path and the generation, at most 40 characters', () => {
      const { cache, template } = setup();
      expect(cache.replicationGroupId).toMatch(/^test-cache-[0-9a-f]{8}$/);
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { ReplicationGroupId: cache.replicationGroupId });
      // Node IDs are the group's with the shard and member: ElastiCache's 50-character limit on cluster IDs holds.
      expect(cache.nodeIds[0]).toBe(`${cache.replicationGroupId}-0001-001`);
      const next = setup({ generation: 2 }).cache;
      expect(next.replicationGroupId).toMatch(/^test-cache-g2-[0-9a-f]{8}$/);
      expect(next.replicationGroupId).not.toBe(cache.replicationGroupId);
      const longStack = testStack({ stackName: 'a'.repeat(128) });
      const long = new Cache(longStack, 'Cache', { vpc: new ec2.Vpc(longStack, 'Vpc'), generation: 99 });
      expect(long.replicationGroupId.length).toBeLessThanOrEqual(40);
      expect(long.replicationGroupId).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    });
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
      nodeType: new ec2.InstanceType('r7g.large'),
      shards: 4,
      replicasPerShard: 2,
      snapshotRetention: Duration.days(35),
      logRetention: logs.RetentionDays.SIX_MONTHS,
      encryptionKey: new kms.Key(stack, 'BroughtKey'),
      removalPolicy: RemovalPolicy.RETAIN,
      authentication: CacheAuthentication.IAM,
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

  describe('with an AUTH token', () => {
    const { cache, template } = setup({ authentication: CacheAuthentication.AUTH_TOKEN });

    test('authenticates with a token from Secrets Manager, encrypted with the cache key, and makes no users', () => {
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^CacheAuthToken') }, ':SecretString:::}}']] },
        UserGroupIds: Match.absent(),
      });
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          Description: 'AUTH token of the cache of Test/Cache',
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] },
          GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
        },
        DeletionPolicy: 'Retain',
      });
      template.resourceCountIs('AWS::ElastiCache::User', 0);
      template.resourceCountIs('AWS::ElastiCache::UserGroup', 0);
      expect(cache.userGroup).toBeUndefined();
    });

    test('grants reading the token and decrypting it through the grantee\'s policy alone', () => {
      const other = testStack({ env: TEST_ENV });
      const otherCache = new Cache(other, 'Cache', { vpc: new ec2.Vpc(other, 'Vpc'), authentication: CacheAuthentication.AUTH_TOKEN });
      otherCache.grantConnect(new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }), 'post-service');
      expectSecretReadThroughRolePolicy(Template.fromStack(other), 'CacheAuthToken', 'CacheKey');
      expect(other.resolve(otherCache.connectionEnvironment('post-service'))).toEqual({
        CACHE_HOST: { 'Fn::GetAtt': [expect.stringMatching(/^CacheReplicationGroup/), 'ConfigurationEndPoint.Address'] },
        CACHE_PORT: '6379',
        CACHE_AUTH: 'token',
        CACHE_AUTH_TOKEN_SECRET_ARN: { Ref: expect.stringMatching(/^CacheAuthToken/) },
      });
    });

    test('has no users to name', () => {
      expect(() => cache.userIdOf('post-service')).toThrow(new Error(
        '`userIdOf(\'post-service\')` asks for a cache user, but the cache authenticates with an AUTH token: its clients have no users. ' +
        'Use `authentication: CacheAuthentication.IAM`, or read `authToken`.'));
    });
  });

  describe('fails on bad input', () => {
    const cases: [string, CacheOptions, string][] = [
      ['no shard', { shards: 0 }, '`shards` (0) must be a whole number from 1 to 90.'],
      ['too many shards', { shards: 91 }, '`shards` (91) must be a whole number from 1 to 90.'],
      ['negative replicas', { replicasPerShard: -1 }, '`replicasPerShard` (-1) must be a whole number from 1 to 5.'],
      ['too many replicas', { replicasPerShard: 6 }, '`replicasPerShard` (6) must be a whole number from 1 to 5.'],
      ['no replicas', { replicasPerShard: 0 }, '`replicasPerShard` (0) would make a cache that cannot be updated: ElastiCache refuses every change to ' +
        'a cluster-mode replication group without replicas ("must have at least one read replica to enable autofailover", ' +
        'cloudformation-coverage-roadmap #1275), and cluster mode cannot turn automatic failover off. Use 1 or more.'],
      ['generation 0', { generation: 0 }, '`generation` (0) must be a whole number from 1 to 99.'],
      ['a short snapshot retention', { snapshotRetention: Duration.days(7) },
        '`snapshotRetention` (7 days) must be a whole number of days from 15 to 35: HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35.'],
      ['a version without minor', { engineVersion: '7' }, '`engineVersion` (\'7\') must be written as major.minor, such as \'7.1\'.'],
      ['a node type with the prefix the cache adds', { nodeType: new ec2.InstanceType('cache.t3.medium') },
        '`nodeType` (\'cache.t3.medium\') carries the \'cache.\' prefix, which the library adds: write \'t3.medium\'.'],
      ['IAM on Redis 6', { engineVersion: '6.2' },
        '`engineVersion` (\'6.2\') cannot sign clients in with IAM, which needs Redis OSS 7.0 or later: use \'7.1\', or set `authentication: CacheAuthentication.AUTH_TOKEN`.'],
      ['IAM on Valkey 7.1', { engine: CacheEngine.VALKEY, engineVersion: '7.1' },
        '`engineVersion` (\'7.1\') cannot sign clients in with IAM, which needs Valkey 7.2 or later: use \'8.0\', or set `authentication: CacheAuthentication.AUTH_TOKEN`.'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      const stack = testStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(() => new Cache(stack, 'Cache', { vpc, ...props })).toThrow(new Error(message));
    });

    test('more users than a user group holds', () => {
      const stack = testStack();
      const cache = new Cache(stack, 'Cache', { vpc: new ec2.Vpc(stack, 'Vpc') });
      const role = new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() });
      for (let index = 1; index <= 99; index++) cache.grantConnect(role, `service-${index}`);
      expect(() => cache.grantConnect(role, 'service-100')).toThrow(new Error(
        '`grantConnect(…, \'service-100\')` would give the cache 100 users besides the disabled default one, and an ElastiCache user group ' +
        'holds 100 users at most: let services share a user, or split them across caches.'));
    });

    test('a shard count that is a token', () => {
      const stack = testStack();
      expect(() => new Cache(stack, 'Cache', { vpc: new ec2.Vpc(stack, 'Vpc'), shards: Lazy.number({ produce: () => 3 }) })).toThrow(new Error(
        '`shards` must be a literal number, not a token: the library sizes resources from it at synthesis.'));
    });

    test('a user name ElastiCache cannot hold', () => {
      const stack = testStack();
      const cache = new Cache(stack, 'Cache', { vpc: new ec2.Vpc(stack, 'Vpc') });
      expect(() => cache.grantConnect(new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() }), 'Post_Service')).toThrow(new Error(
        '`userName` (\'Post_Service\') must start with a lowercase letter and hold only lowercase letters, digits and \'-\': ' +
        'it names an ElastiCache user, whose ID allows nothing else.'));
    });
  });
});
