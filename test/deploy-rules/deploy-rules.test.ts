import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CONFIGURATIONS, deploymentOf } from './configurations';
import { Deployment } from './deployment';
import { RULES } from './rules';
import { cacheAuthenticatesOneWay, cachesStayUpdatable, kafkaStorageScalingIsAccepted, cacheUsersCanSignIn, dataStoresUpgradeInPlace, restoredWritersInherit, restoreTestsCanRun, lifecycleExpiresAfterTransitions, lockedBucketsStayUsable, lockedVaultsKeepWhatPlansStore } from './rules/data';
import { listenerRulesAreAccepted } from './rules/edge';
import { cacheConnectNamesCacheAndUser, keyGrantsOnlyForAwsResources } from './rules/identity';
import { nodeGroupsFollowTheControlPlane } from './rules/kubernetes';
import { alarmsFitPutMetricAlarm, sparseCountsAreFilled } from './rules/observability';
import { denyGrantsBeyondAwsServices } from '../../src/private/keys';
import { testApp } from '../support/app';

/**
 * Deploy rules: what AWS and Kubernetes enforce when the platform deploys and
 * runs, checked over every configuration the tests synthesize (root and nested
 * templates, and the Kubernetes objects inside them). Each rule cites its source
 * in ./rules; docs/architecture.md lists what they guarantee.
 */
describe.each(CONFIGURATIONS.map(configuration => [`${configuration.name} (${configuration.flags})`, configuration] as const))('%s', (_name, configuration) => {
  test.each(RULES.map(rule => [rule.id, rule] as const))('%s', (_id, rule) => {
    expect(rule.check(deploymentOf(configuration))).toEqual([]);
  });
});

describe('a rule finds what it describes', () => {
  test('node-groups-follow-the-control-plane: a node group without a version, a cluster without a support policy', () => {
    const app = testApp();
    const stack = new Stack(app, 'Eks');
    const cluster = new CfnResource(stack, 'Cluster', { type: 'AWS::EKS::Cluster', properties: { Version: '1.35', RoleArn: 'arn', ResourcesVpcConfig: {} } });
    new CfnResource(stack, 'Nodes', { type: 'AWS::EKS::Nodegroup', properties: { ClusterName: cluster.ref, NodeRole: 'arn', Subnets: [] } });
    expect(nodeGroupsFollowTheControlPlane.check(Deployment.of('eks', app))).toEqual([
      'Eks/Cluster: no UpgradePolicy.SupportType: EKS\'s default is EXTENDED',
      'Eks/Nodes: Version undefined is not its cluster\'s ("1.35")',
    ]);
  });

  test('key-grants-only-for-aws-resources: a key as aws-cdk-lib makes it, a grant to anyone, a Deny the control would not match', () => {
    const app = testApp();
    const stack = new Stack(app, 'Keys');
    new kms.Key(stack, 'Plain');
    const open = new kms.Key(stack, 'Open');
    open.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:CreateGrant'], resources: ['*'] }));
    const near = new kms.Key(stack, 'Near');
    near.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': false, 'aws:PrincipalIsAWSService': false } },
    }));
    // An EKS cluster's secrets key: the Deny that every other key needs makes the cluster's create fail.
    const secrets = new kms.Key(stack, 'Secrets');
    denyGrantsBeyondAwsServices(secrets);
    const bare = new kms.Key(stack, 'Bare');
    for (const [id, key] of [['Cluster', secrets], ['Other', bare]] as const) {
      new eks.CfnCluster(stack, id, {
        roleArn: 'arn:aws:iam::123456789012:role/eks',
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
        encryptionConfig: [{ provider: { keyArn: key.keyArn }, resources: ['secrets'] }],
      });
    }
    expect(keyGrantsOnlyForAwsResources.check(Deployment.of('keys', app))).toEqual([
      'Keys/Plain: does not deny grants that no AWS service asks for (CT.KMS.PR.3)',
      expect.stringMatching(/^Keys\/Open: lets .*root.* create grants for any grantee$/),
      'Keys/Open: does not deny grants that no AWS service asks for (CT.KMS.PR.3)',
      'Keys/Near: does not deny grants that no AWS service asks for (CT.KMS.PR.3)',
      'Keys/Secrets: encrypts an EKS cluster\'s secrets, and denies CreateGrant without kms:GrantIsForAWSResource: EKS creates that grant without it, ' +
        'so the cluster\'s create fails',
    ]);
  });

  test('caches-stay-updatable: a cache without replicas, one without an ID, one with an ID ElastiCache refuses', () => {
    const app = testApp();
    const stack = new Stack(app, 'Caches');
    const group = (id: string, props: Partial<elasticache.CfnReplicationGroupProps>) => new elasticache.CfnReplicationGroup(stack, id, {
      replicationGroupDescription: id, clusterMode: 'enabled', numNodeGroups: 1, replicasPerNodeGroup: 1, ...props,
    });
    group('Lonely', { replicasPerNodeGroup: 0, replicationGroupId: 'lonely' });
    group('Anonymous', {});
    group('Shouting', { replicationGroupId: 'Shouting--Cache' });
    group('Fine', { replicationGroupId: 'fine-cache-1234abcd' });
    expect(cachesStayUpdatable.check(Deployment.of('caches', app))).toEqual([
      'Caches/Lonely: ReplicasPerNodeGroup 0: ElastiCache refuses every update without a replica',
      'Caches/Anonymous: no literal ReplicationGroupId, so a replacement would go through and empty the cache',
      'Caches/Shouting: ReplicationGroupId \'Shouting--Cache\' is not a letter, then lowercase letters, digits and single hyphens, at most 40',
    ]);
  });

  test('kafka-storage-scaling-is-accepted: a maximum past 16 TiB, scale-in on, a target in Osaka, one with no condition in a stack of no Region', () => {
    const app = testApp();
    const scaled = (stack: Stack, volumeSize: number, maxCapacity: number, disableScaleIn: boolean) => {
      const cluster = new msk.CfnCluster(stack, 'Cluster', {
        clusterName: 'c',
        kafkaVersion: '3.9.x',
        numberOfBrokerNodes: 2,
        brokerNodeGroupInfo: { instanceType: 'kafka.m5.large', clientSubnets: ['a', 'b'], storageInfo: { ebsStorageInfo: { volumeSize } } },
      });
      const target = new appscaling.CfnScalableTarget(stack, 'Target', {
        serviceNamespace: 'kafka',
        scalableDimension: 'kafka:broker-storage:VolumeSize',
        resourceId: cluster.attrArn,
        minCapacity: volumeSize,
        maxCapacity,
      });
      new appscaling.CfnScalingPolicy(stack, 'Policy', {
        policyName: 'p',
        policyType: 'TargetTrackingScaling',
        scalingTargetId: target.ref,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' }, targetValue: 60, disableScaleIn,
        },
      });
    };
    scaled(new Stack(app, 'Big', { env: { account: '123456789012', region: 'eu-west-1' } }), 100, 20000, false);
    scaled(new Stack(app, 'Osaka', { env: { account: '123456789012', region: 'ap-northeast-3' } }), 100, 400, true);
    scaled(new Stack(app, 'Anywhere'), 100, 400, true);
    scaled(new Stack(app, 'Fine', { env: { account: '123456789012', region: 'eu-west-1' } }), 100, 400, true);
    expect(kafkaStorageScalingIsAccepted.check(Deployment.of('kafka', app))).toEqual([
      'Big/Target: capacity 100 to 20000 GiB for volumes of 100 GiB',
      'Big/Target: needs one target tracking policy on KafkaBrokerStorageUtilization at 10 to 80%, scale-in disabled',
      'Osaka/Target: MSK has no storage scaling in ap-northeast-3',
      'Anywhere/Target: no condition keeps it out of the Regions without MSK storage scaling',
    ]);
  });

  test('alarms-fit-put-metric-alarm: eleven metrics, two results, two periods', () => {
    const app = testApp();
    const stack = new Stack(app, 'Alarms');
    const metric = (index: number, period = 300) => ({
      id: `m${index}`,
      returnData: false,
      metricStat: { metric: { namespace: 'AWS/ElastiCache', metricName: 'Evictions', dimensions: [{ name: 'CacheClusterId', value: `c-${index}` }] }, period, stat: 'Sum' },
    });
    const alarm = (id: string, metrics: any[]) => new cloudwatch.CfnAlarm(stack, id, { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 0, metrics });
    const ids = (count: number) => Array.from({ length: count }, (_, index) => `m${index + 1}`).join(', ');
    alarm('Six', [{ id: 'e', expression: `MAX([${ids(6)}])` }, ...[1, 2, 3, 4, 5, 6].map(index => metric(index))]);
    alarm('Eleven', [{ id: 'e', expression: `MAX([${ids(11)}])` }, ...Array.from({ length: 11 }, (_, index) => metric(index + 1))]);
    alarm('TwoResults', [{ id: 'e', expression: 'MAX([m1, m2])' }, { ...metric(1), returnData: true }, metric(2, 60)]);
    expect(alarmsFitPutMetricAlarm.check(Deployment.of('alarms', app))).toEqual([
      'Alarms/Eleven: 11 metrics, an alarm reads 10',
      'Alarms/TwoResults: 2 queries return data, an alarm needs exactly one',
      'Alarms/TwoResults: its metrics have 2 periods, an alarm\'s share one',
    ]);
  });

  test('sparse-counts-are-filled: an error rate of an unfilled 5xx count', () => {
    const app = testApp();
    const stack = new Stack(app, 'Alarms');
    const metric = (metricName: string) => new cloudwatch.Metric({ namespace: 'AWS/ApplicationELB', metricName, statistic: 'Sum', dimensionsMap: { LoadBalancer: 'app/x/1' } });
    new cloudwatch.Alarm(stack, 'Rate', {
      metric: new cloudwatch.MathExpression({ expression: '100 * errors / requests', usingMetrics: { errors: metric('HTTPCode_Target_5XX_Count'), requests: metric('RequestCount') } }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    new cloudwatch.Alarm(stack, 'Filled', {
      metric: new cloudwatch.MathExpression({ expression: '100 * FILL(errors, 0) / requests', usingMetrics: { errors: metric('HTTPCode_Target_5XX_Count'), requests: metric('RequestCount') } }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(sparseCountsAreFilled.check(Deployment.of('alarms', app))).toEqual([
      expect.stringMatching(/Rate.*'100 \* errors \/ requests' uses the sparse count 'errors' without FILL\(errors, 0\)$/),
    ]);
  });

  test('locked-vaults-keep-what-plans-store: a week in a vault locked for 35 days', () => {
    const app = testApp();
    const stack = new Stack(app, 'Backups');
    const vault = new backup.BackupVault(stack, 'Vault', { lockConfiguration: { minRetention: Duration.days(35) } });
    const plan = new backup.BackupPlan(stack, 'Plan', { backupVault: vault });
    plan.addRule(new backup.BackupPlanRule({ ruleName: 'weekly', deleteAfter: Duration.days(7) }));
    expect(lockedVaultsKeepWhatPlansStore.check(Deployment.of('backups', app))).toEqual([
      expect.stringMatching(/rule weekly keeps recovery points 7 days in a vault locked to 35-∞$/),
    ]);
  });

  test('locked-buckets-stay-usable: access logs into a locked bucket, locked objects replicated blind', () => {
    const app = testApp();
    const stack = new Stack(app, 'Locked');
    const logs = new s3.Bucket(stack, 'Logs', { objectLockEnabled: true });
    const role = new iam.Role(stack, 'Replication', { assumedBy: new iam.ServicePrincipal('s3.amazonaws.com') });
    const source = new s3.Bucket(stack, 'Source', {
      versioned: true,
      objectLockEnabled: true,
      serverAccessLogsBucket: logs,
      replicationRole: role,
      replicationRules: [{ destination: s3.Bucket.fromBucketName(stack, 'Destination', 'destination'), priority: 0 }],
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObjectVersionForReplication'], resources: [source.arnForObjects('*')] }));
    expect(lockedBucketsStayUsable.check(Deployment.of('locked', app))).toEqual([
      expect.stringMatching(/Locked\/Source: delivers access logs into Locked\/Logs, which has Object Lock$/),
      expect.stringMatching(/Locked\/Source: replicates locked objects, but its role may not s3:GetObjectRetention$/),
      expect.stringMatching(/Locked\/Source: replicates locked objects, but its role may not s3:GetObjectLegalHold$/),
    ]);
  });

  test('cache rules: a token beside user groups, a group without its default, users that cannot sign in, a grant to nobody', () => {
    const app = testApp();
    const stack = new Stack(app, 'Cache');
    const user = (id: string, userId: string, userName: string, type: string, accessString = 'on ~* +@all') =>
      new elasticache.CfnUser(stack, id, { userId, userName, engine: 'redis', accessString, authenticationMode: { Type: type } });
    const service = user('Service', 'service', 'service-user', 'iam');
    const twin = user('Twin', 'service', 'service', 'iam');
    const openDefault = user('OpenDefault', 'open-default', 'default', 'no-password-required');
    const users = new elasticache.CfnUserGroup(stack, 'Users', { userGroupId: 'users', engine: 'redis', userIds: [service.ref, twin.ref] });
    const valkeyUsers = new elasticache.CfnUserGroup(stack, 'ValkeyUsers', { userGroupId: 'Valkey_Users', engine: 'valkey', userIds: [openDefault.ref] });
    new elasticache.CfnReplicationGroup(stack, 'Cache', {
      replicationGroupDescription: 'cache',
      engine: 'redis',
      engineVersion: '6.2',
      authToken: 'token',
      userGroupIds: [users.ref, valkeyUsers.ref],
    });
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['elasticache:Connect'], resources: ['arn:aws:elasticache:us-east-1:123456789012:user:nobody'] }));
    const deployment = Deployment.of('cache', app);
    expect(cacheAuthenticatesOneWay.check(deployment)).toEqual([
      'Cache/Cache: has an AUTH token and user groups',
      'Cache/Cache: authenticates without encryption in transit',
    ]);
    expect(cacheUsersCanSignIn.check(deployment)).toEqual([
      'Cache/Service: signs in with IAM, but its ID and name differ',
      'Cache/Twin: user ID \'service\' is taken by Cache/Service',
      'Cache/Users: has no user named default',
      'Cache/ValkeyUsers: user group ID \'Valkey_Users\' is not a valid ElastiCache ID',
      'Cache/ValkeyUsers: its default user is not disabled',
      'Cache/Cache: redis 6.2 cannot sign IAM users in (7 or later)',
      'Cache/Cache: a redis cache cannot use the Valkey user group Cache/ValkeyUsers',
    ]);
    expect(cacheConnectNamesCacheAndUser.check(deployment)).toEqual([
      expect.stringMatching(/^Cache\/App\/DefaultPolicy: allows elasticache:Connect on no replication group$/),
      expect.stringMatching(/^Cache\/App\/DefaultPolicy: allows elasticache:Connect as nobody, which is no IAM user of the deployment$/),
    ]);
  });

  test('restore-tests-can-run: a test left to the default VPC, public and Multi-AZ, badly named, with a stranger\'s role and vault', () => {
    const app = testApp();
    const stack = new Stack(app, 'Restore', { env: { account: '123456789012', region: 'us-east-1' } });
    new backup.CfnRestoreTestingPlan(stack, 'Plan', {
      restoreTestingPlanName: 'weekly-test',
      scheduleExpression: 'rate(7 days)',
      startWindowHours: 200,
      recoveryPointSelection: {
        algorithm: 'LATEST_WITHIN_WINDOW',
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: 400,
        includeVaults: ['arn:aws:backup:us-west-2:123456789012:backup-vault:dr'],
      },
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('rds.amazonaws.com') });
    new backup.CfnRestoreTestingSelection(stack, 'Selection', {
      restoreTestingPlanName: 'weekly_test',
      restoreTestingSelectionName: 'the writer',
      protectedResourceType: 'RDS',
      protectedResourceArns: ['*'],
      iamRoleArn: role.roleArn,
      validationWindowHours: 0,
      restoreMetadataOverrides: { multiAz: 'true', PubliclyAccessible: 'true', vpcSecurityGroupIds: 'sg-1' },
    });
    expect(restoreTestsCanRun.check(Deployment.of('restore', app))).toEqual([
      'Restore/Plan: plan name \'weekly-test\' is not letters, digits and \'_\' (50 at most)',
      'Restore/Plan: start window of 200 hours is not 1 to 168',
      'Restore/Plan: schedule is not a cron expression',
      'Restore/Plan: selection window of 400 days is not 1 to 365',
      'Restore/Plan: includes a vault of us-west-2, but restore tests run in us-east-1',
      'Restore/Selection: selection name \'the writer\' is not letters, digits and \'_\' (50 at most)',
      'Restore/Selection: validation window of 0 hours is not 1 to 168',
      'Restore/Selection: names a plan the deployment does not make',
      'Restore/Selection: its role does not trust backup.amazonaws.com',
      'Restore/Selection: does not override dbsubnetgroupname, so AWS Backup looks for the default VPC',
      'Restore/Selection: vpcSecurityGroupIds is not a JSON list',
      'Restore/Selection: restores a Multi-AZ copy',
      'Restore/Selection: restores a public copy',
    ]);
  });

  test('restored-writers-inherit: a restored writer that names its database and key, and a replica with a key of its own', () => {
    const app = testApp();
    const stack = new Stack(app, 'Restored');
    const writer = new rds.CfnDBInstance(stack, 'Writer', {
      dbSnapshotIdentifier: 'nightly', dbName: 'codelearn', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1', dbInstanceClass: 'db.t3.medium',
    });
    new rds.CfnDBInstance(stack, 'Replica', { sourceDbInstanceIdentifier: writer.ref, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/2', dbInstanceClass: 'db.t3.medium' });
    expect(restoredWritersInherit.check(Deployment.of('restored', app))).toEqual([
      'Restored/Writer: is restored from a snapshot but sets DBName',
      'Restored/Writer: is restored from a snapshot but sets KmsKeyId',
      'Restored/Replica: replicates a restored writer but names a KMS key of its own',
    ]);
  });

  test('data-stores-upgrade-in-place: a writer that cannot take a major version, a cache that reshards by replacement', () => {
    const app = testApp();
    const stack = new Stack(app, 'Upgrades');
    new rds.CfnDBInstance(stack, 'Writer', { engine: 'postgres', engineVersion: '15', dbInstanceClass: 'db.t3.medium' });
    new elasticache.CfnReplicationGroup(stack, 'Cache', { replicationGroupDescription: 'cache', clusterMode: 'enabled', numNodeGroups: 2 });
    expect(dataStoresUpgradeInPlace.check(Deployment.of('upgrades', app))).toEqual([
      'Upgrades/Writer: a new major engineVersion would fail the deploy (no AllowMajorVersionUpgrade)',
      'Upgrades/Cache: a new shard count would replace the cache (no UseOnlineResharding)',
    ]);
  });

  test('listener-rules-are-accepted: a shared priority, too many values, long paths, weights that send nothing, too many groups and rules', () => {
    const app = testApp();
    const stack = new Stack(app, 'Rules');
    const loadBalancer = new elbv2.CfnLoadBalancer(stack, 'Alb', { type: 'application' });
    const listener = new elbv2.CfnListener(stack, 'Listener', {
      loadBalancerArn: loadBalancer.ref, port: 80, protocol: 'HTTP', defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404' } }],
    });
    const group = new elbv2.CfnTargetGroup(stack, 'Group', { targetType: 'ip' });
    const forward = (weights: number[]) => [{ type: 'forward', forwardConfig: { targetGroups: weights.map(weight => ({ targetGroupArn: group.ref, weight })) } }];
    const paths = (...values: string[]) => [{ field: 'path-pattern', pathPatternConfig: { values } }];
    new elbv2.CfnListenerRule(stack, 'First', { listenerArn: listener.ref, priority: 10, conditions: paths('/a/*'), actions: forward([1]) });
    new elbv2.CfnListenerRule(stack, 'Second', { listenerArn: listener.ref, priority: 10, conditions: paths('/b/*'), actions: forward([1]) });
    new elbv2.CfnListenerRule(stack, 'Wide', { listenerArn: listener.ref, priority: 0, conditions: paths('/a', '/b', '/c', '/d'), actions: forward([1]) });
    new elbv2.CfnListenerRule(stack, 'Long', { listenerArn: listener.ref, priority: 20, conditions: paths(`/${'x'.repeat(130)}`), actions: forward([0, 0]) });
    new elbv2.CfnListenerRule(stack, 'Many', { listenerArn: listener.ref, priority: 30, conditions: paths('/m/*'), actions: forward([1, 1, 1, 1, 1, 1000]) });
    for (let index = 0; index < 96; index++) {
      new elbv2.CfnListenerRule(stack, `Filler${index}`, { listenerArn: listener.ref, priority: 100 + index, conditions: paths(`/f${index}/*`), actions: forward([1]) });
    }
    expect(listenerRulesAreAccepted.check(Deployment.of('rules', app))).toEqual([
      'Rules/Second: priority 10 is also Rules/First\'s',
      'Rules/Wide: priority 0 is not 1 to 50000',
      'Rules/Wide: a path-pattern condition has 4 values (3 at most)',
      'Rules/Long: path pattern \'/xxxxxxxxxxxxxxxxxxx…\' is 131 characters (128 at most)',
      'Rules/Long: every target group weighs 0, so its requests go nowhere',
      'Rules/Many: forwards to 6 target groups (5 at most)',
      'Rules/Many: a target group weight is not 0 to 999',
      'Rules/Alb: 101 listener rules (100 at most)',
    ]);
  });

  test('lifecycle-expires-after-transitions: objects that expire on the day they move', () => {
    const app = testApp();
    const stack = new Stack(app, 'Lifecycle');
    new s3.Bucket(stack, 'Backups', {
      lifecycleRules: [{
        id: 'expire-backups',
        transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(30) }],
        expiration: Duration.days(30),
      }, {
        id: 'too-early',
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(7) }],
      }],
    });
    expect(lifecycleExpiresAfterTransitions.check(Deployment.of('lifecycle', app))).toEqual([
      expect.stringMatching(/rule expire-backups expires objects at 30 days, not after their transition at 30$/),
      expect.stringMatching(/rule too-early moves objects to STANDARD_IA after 7 days, before 30$/),
    ]);
  });
});
