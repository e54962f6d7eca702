import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Dependable } from 'constructs';
import { Database, DatabaseOptions, Network, PlatformProfile } from '../../src';
import { TEST_ENV, testStack } from '../support/app';

function setup(props: DatabaseOptions & { profile?: PlatformProfile } = {}, stack: Stack = testStack({ env: TEST_ENV })) {
  const network = new Network(stack, 'Network');
  const database = new Database(stack, 'Database', { vpc: network.vpc, ...props });
  database.connections.allowDefaultPortFrom(network.workloadSecurityGroup);
  return { stack, network, database, template: Template.fromStack(stack) };
}

describe('Database', () => {
  describe('with defaults', () => {
    const { database, template, stack } = setup();

    test('runs PostgreSQL 15 on a Multi-AZ db.t3.medium with 100 GiB of gp3 growing to 500', () => {
      template.hasResource('AWS::RDS::DBInstance', {
        Properties: Match.objectLike({
          Engine: 'postgres',
          EngineVersion: '15',
          DBInstanceClass: 'db.t3.medium',
          MultiAZ: true,
          AllocatedStorage: '100',
          MaxAllocatedStorage: 500,
          StorageType: 'gp3',
          DBName: 'codelearn',
          PubliclyAccessible: false,
          DBSubnetGroupName: { Ref: Match.stringLikeRegexp('^DatabaseSubnetGroup') },
        }),
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
      });
      template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
        SubnetIds: [{ Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcIsolatedSubnet2') }],
      });
    });

    test('upgrades to a new major version when engineVersion says so', () => {
      // RDS refuses a major EngineVersion change without it; it only permits.
      template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceIdentifier: Match.stringLikeRegexp('^test-database-[a-z0-9]+$'), AllowMajorVersionUpgrade: true });
      // Replicas follow their writer: RDS upgrades them with it, so they name no version.
      const replica = Object.values(template.findResources('AWS::RDS::DBInstance', { Properties: { SourceDBInstanceIdentifier: Match.anyValue() } }))[0];
      expect(replica.Properties.EngineVersion).toBeUndefined();
    });

    test('keeps 7 days of backups, protects against deletion and upgrades minor versions', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        SourceDBInstanceIdentifier: Match.absent(),
        BackupRetentionPeriod: 7,
        PreferredBackupWindow: '03:00-04:00',
        PreferredMaintenanceWindow: 'sun:04:30-sun:05:30',
        DeletionProtection: true,
        AutoMinorVersionUpgrade: true,
        CopyTagsToSnapshot: true,
      });
    });

    test('encrypts storage, the master secret and Performance Insights with a rotated key', () => {
      const key = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] };
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        StorageEncrypted: true,
        KmsKeyId: key,
        MasterUsername: 'codelearn_admin',
        // RDS creates no read replica of an instance whose password it manages.
        ManageMasterUserPassword: Match.absent(),
        MasterUserPassword: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('DatabaseInstanceSecret') }, ':SecretString:password::}}']] },
        EnablePerformanceInsights: true,
        PerformanceInsightsKMSKeyId: key,
        PerformanceInsightsRetentionPeriod: 7,
        EnableIAMDatabaseAuthentication: true,
        CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      });
      template.hasResource('AWS::KMS::Key', {
        Properties: { Description: Match.stringLikeRegexp('PostgreSQL'), EnableKeyRotation: true },
        DeletionPolicy: 'Retain',
      });
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: Match.objectLike({
          KmsKeyId: key,
          GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"codelearn_admin"}', GenerateStringKey: 'password' }),
        }),
        // A snapshot of the writer is useless without its password.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
        TargetId: { Ref: Match.stringLikeRegexp('^DatabaseInstance') }, TargetType: 'AWS::RDS::DBInstance',
      });
    });

    test('rotates the master password every 30 days with a hosted rotation function in the private subnets', () => {
      expect(template.toJSON().Transform).toEqual('AWS::SecretsManager-2024-09-16');
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: Match.stringLikeRegexp('^DatabaseInstanceSecretAttachment') },
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
        HostedRotationLambda: Match.objectLike({
          RotationType: 'PostgreSQLSingleUser',
          KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
          VpcSubnetIds: { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet1') }, ',', { Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet2') }]] },
          VpcSecurityGroupIds: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseRotationSecurityGroup'), 'GroupId'] },
        }),
      });
      // HTTPS (Secrets Manager, the RDS trust store, CloudFormation), PostgreSQL to the writer, nothing else.
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Functions that sign in as the master user'),
        SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', Description: 'Secrets Manager, the RDS trust store, CloudFormation', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 }],
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseSecurityGroup'), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseRotationSecurityGroup'), 'GroupId'] },
        FromPort: 5432,
      });
    });

    test('forces TLS and logs slow statements through its parameter group', () => {
      template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
        Family: 'postgres15',
        Parameters: { 'rds.force_ssl': '1', 'log_min_duration_statement': '1000' },
      });
    });

    test('enables enhanced monitoring every minute', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        MonitoringInterval: 60,
        MonitoringRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseMonitoringRole'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'monitoring.rds.amazonaws.com' } })] },
      });
    });

    test('exports PostgreSQL and upgrade logs to encrypted log groups it creates first, kept a year', () => {
      const resources = template.toJSON().Resources;
      const writer = Object.values(resources).find((r: any) => r.Type === 'AWS::RDS::DBInstance' && !r.Properties.SourceDBInstanceIdentifier) as any;
      const identifier = writer.Properties.DBInstanceIdentifier;
      expect(identifier).toMatch(/^test-database-[0-9a-f]{8}$/);
      expect(writer.Properties.EnableCloudwatchLogsExports).toEqual(['postgresql', 'upgrade']);
      for (const type of ['postgresql', 'upgrade']) {
        const [logicalId] = Object.entries(template.findResources('AWS::Logs::LogGroup', {
          Properties: { LogGroupName: `/aws/rds/instance/${identifier}/${type}` },
        }))[0];
        expect(resources[logicalId]).toMatchObject({
          Properties: { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseKey/), 'Arn'] } },
          // Named after the instance: removed when a first create rolls back, kept otherwise.
          DeletionPolicy: 'RetainExceptOnCreate',
        });
        expect(writer.DependsOn).toContain(logicalId);
      }
      expect(Object.keys(database.logGroups)).toEqual([
        `${identifier}/postgresql`, `${identifier}/upgrade`,
        `${identifier}-replica1/postgresql`, `${identifier}-replica1/upgrade`,
      ]);
    });

    test('adds one read replica of the same class that grows with the writer, deleted with it and by a rolled-back create', () => {
      template.resourceCountIs('AWS::RDS::DBInstance', 2);
      template.hasResource('AWS::RDS::DBInstance', {
        Properties: Match.objectLike({
          SourceDBInstanceIdentifier: Match.anyValue(),
          DBInstanceClass: 'db.t3.medium',
          StorageType: 'gp3',
          MaxAllocatedStorage: 500,
          DeletionProtection: false,
          EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
          MonitoringInterval: 60,
          EnablePerformanceInsights: true,
        }),
        DeletionPolicy: 'Delete',
      });
      expect(database.readReplicas).toHaveLength(1);
      expect(database.readerEndpoints).toHaveLength(1);
    });

    test('grants IAM connections to the replicas through a policy of its own, attached to the role', () => {
      expect(database.readReplicaIdentifiers).toHaveLength(1);
      expect(database.readReplicaIdentifiers[0]).toMatch(/^[a-z][a-z0-9-]+-replica1$/);
      const other = testStack({ env: TEST_ENV });
      const otherDatabase = new Database(other, 'Database', { vpc: new Network(other, 'Network').vpc });
      const role = new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      const grant = otherDatabase.grantReplicaConnect(role, 'app_user');
      // An iam.Grant like every other grant: what waits for it waits for the policy.
      expect(grant.success).toBe(true);
      expect(Dependable.of(grant).dependencyRoots).toEqual([otherDatabase.node.findChild('ReplicaConnect')]);
      const otherTemplate = Template.fromStack(other);
      const replica = Object.keys(otherTemplate.findResources('AWS::RDS::DBInstance', { Properties: { SourceDBInstanceIdentifier: Match.anyValue() } }))[0];
      // One statement for every role: the user is the role's tag, so the policy does not grow with the roles.
      otherTemplate.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Description: Match.stringLikeRegexp('^IAM authentication to the read replicas'),
        Roles: [{ Ref: Match.stringLikeRegexp('^App') }],
        PolicyDocument: {
          Statement: [{
            Effect: 'Allow',
            Action: 'rds-db:connect',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [replica, 'DbiResourceId'] }, '/${aws:PrincipalTag/codelearn-database-user}'])] },
          }],
        },
      });
      otherTemplate.hasResourceProperties('AWS::IAM::Role', {
        Tags: Match.arrayWith([{ Key: 'codelearn-database-user', Value: 'app_user' }]),
      });
      // The user exists on the replicas because it is made on the writer on deploy.
      otherTemplate.hasResourceProperties('Custom::DatabaseUsers', { Users: ['app_user'] });
      // Without replicas, nothing is granted.
      const dev = testStack({ env: TEST_ENV });
      const devDatabase = new Database(dev, 'Database', { vpc: new Network(dev, 'Network').vpc, profile: PlatformProfile.DEVELOPMENT });
      const none = devDatabase.grantReplicaConnect(new iam.Role(dev, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }), 'app_user');
      expect(Dependable.of(none).dependencyRoots).toEqual([]);
      const policies = Object.values(Template.fromStack(dev).findResources('AWS::IAM::ManagedPolicy'));
      expect(policies.filter(policy => String(policy.Properties.Description).startsWith('IAM authentication to the read replicas'))).toEqual([]);
      expect(policies.length).toBeGreaterThan(0);
    });

    test('puts an RDS Proxy in front of the writer: TLS, and IAM authentication end to end', () => {
      template.hasResourceProperties('AWS::RDS::DBProxy', {
        EngineFamily: 'POSTGRESQL',
        RequireTLS: true,
        IdleClientTimeout: 1800,
        DBProxyName: Match.stringLikeRegexp('^test-database-[0-9a-f]{8}-proxy$'),
        DefaultAuthScheme: 'IAM_AUTH',
        Auth: Match.absent(),
      });
      template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
        ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 90 }),
        DBInstanceIdentifiers: [{ Ref: Match.stringLikeRegexp('^DatabaseInstance') }],
      });
      expect(database.proxy).toBeDefined();
      expect(Stack.of(database).resolve(database.writerEndpoint)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DatabaseProxy/), 'Endpoint'] });
    });

    test('lets the proxy sign in to the writer as the users made for its clients, and reads no secret', () => {
      const other = testStack({ env: TEST_ENV });
      const otherDatabase = new Database(other, 'Database', { vpc: new Network(other, 'Network').vpc });
      otherDatabase.grantConnect(new iam.Role(other, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }), 'app_user');
      otherDatabase.grantConnect(new iam.Role(other, 'Reports', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }), 'reports');
      const otherTemplate = Template.fromStack(other);
      // The proxy's role is fixed when the proxy is made: any user of the writer, the users themselves
      // being made on deploy, with rds_iam and nothing else.
      otherTemplate.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^DatabaseProxyRole') }],
        PolicyDocument: {
          Statement: [{
            Effect: 'Allow',
            Action: 'rds-db:connect',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseInstance'), 'DbiResourceId'] }, '/*'])] },
          }],
        },
      });
      otherTemplate.hasResourceProperties('Custom::DatabaseUsers', {
        Users: ['app_user', 'reports'],
        SecretArn: { Ref: Match.stringLikeRegexp('^DatabaseInstanceSecret') },
        Database: 'codelearn',
      });
      const proxyPolicies = JSON.stringify([
        otherTemplate.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DatabaseProxyRole') }] } }),
        otherTemplate.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DatabaseProxyRole') }] } }),
      ]);
      expect(proxyPolicies).toContain('rds-db:connect');
      expect(proxyPolicies).not.toContain('secretsmanager:');
      // Clients sign in to the proxy as their own users.
      otherTemplate.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^App') }],
        PolicyDocument: { Statement: [Match.objectLike({ Action: 'rds-db:connect', Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/app_user'])] }) })] },
      });
    });

    test('opens PostgreSQL only to the proxy and the allowed workloads, never to a CIDR', () => {
      const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(r => r.Properties);
      // The proxy, the workloads, the writer's own rule for the proxy, and the rotation function.
      expect(rules).toHaveLength(4);
      for (const rule of rules) {
        expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
        expect(rule.CidrIp).toBeUndefined();
        expect(rule.SourceSecurityGroupId).toBeDefined();
      }
      template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
        FromPort: 5432,
        ToPort: 5432,
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseProxySecurityGroup'), 'GroupId'] },
        DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseSecurityGroup'), 'GroupId'] },
      });
      // The proxy's only egress is that rule: its own list keeps the "disallow all"
      // placeholder, or EC2's default allow-all egress would stay.
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^RDS Proxy'),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: 'PostgreSQL writer and replicas: admits the proxy and the allowed clients',
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      });
    });

    test('backs up the writer daily with AWS Backup into an encrypted, retained vault, locked for 35 days', () => {
      template.hasResource('AWS::Backup::BackupVault', {
        Properties: {
          EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
          // Governance mode: no recovery point is deleted younger than the plan keeps it.
          LockConfiguration: { MinRetentionDays: 35 },
        },
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      template.hasResourceProperties('AWS::Backup::BackupPlan', {
        BackupPlan: {
          BackupPlanName: Match.stringLikeRegexp('^test-database-'),
          BackupPlanRule: [{
            RuleName: 'daily',
            ScheduleExpression: 'cron(0 5 * * ? *)',
            StartWindowMinutes: 60,
            CompletionWindowMinutes: 120,
            Lifecycle: { DeleteAfterDays: 35 },
            TargetBackupVault: Match.anyValue(),
          }],
        },
      });
      template.hasResourceProperties('AWS::Backup::BackupSelection', {
        BackupSelection: Match.objectLike({
          Resources: [{ 'Fn::Join': ['', Match.arrayWith([':rds:us-east-1:123456789012:db:', { Ref: Match.stringLikeRegexp('^DatabaseInstance') }])] }],
        }),
      });
      expect(database.backupPlan).toBeDefined();
    });

    test('tests a restore of the latest recovery point every Sunday: small, single-AZ, private, unreachable, deleted after an hour', () => {
      template.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
        RestoreTestingPlanName: Match.stringLikeRegexp('^test_database_[a-z0-9_]+$'),
        ScheduleExpression: 'cron(0 7 ? * SUN *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        StartWindowHours: 24,
        RecoveryPointSelection: {
          Algorithm: 'LATEST_WITHIN_WINDOW',
          IncludeVaults: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseBackupVault'), 'BackupVaultArn'] }],
          RecoveryPointTypes: ['SNAPSHOT'],
          SelectionWindowDays: 7,
        },
      });
      const [planId, plan] = Object.entries(template.findResources('AWS::Backup::RestoreTestingPlan'))[0];
      expect(plan.Properties.RestoreTestingPlanName.length).toBeLessThanOrEqual(50);
      template.hasResource('AWS::Backup::RestoreTestingSelection', {
        Properties: {
          RestoreTestingPlanName: plan.Properties.RestoreTestingPlanName,
          RestoreTestingSelectionName: 'writer',
          ProtectedResourceType: 'RDS',
          ProtectedResourceArns: [{ 'Fn::Join': ['', Match.arrayWith([':rds:us-east-1:123456789012:db:', { Ref: Match.stringLikeRegexp('^DatabaseInstance') }])] }],
          IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseRestoreTestingRole'), 'Arn'] },
          ValidationWindowHours: 1,
          RestoreMetadataOverrides: {
            dbInstanceClass: 'db.t3.small',
            multiAz: 'false',
            publiclyAccessible: 'false',
            dbSubnetGroupName: { Ref: Match.stringLikeRegexp('^DatabaseSubnetGroup') },
            dbParameterGroupName: { Ref: Match.stringLikeRegexp('^DatabaseParameters') },
            vpcSecurityGroupIds: { 'Fn::Join': ['', ['["', { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseRestoreTestingSecurityGroup'), 'GroupId'] }, '"]']] },
          },
        },
        DependsOn: Match.arrayWith([planId]),
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } })],
        },
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores']] }],
      });
      // The restored copy admits nothing and reaches nothing.
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: 'Restore tests of the database: admits nothing, reaches nothing',
        SecurityGroupIngress: Match.absent(),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      });
      expect(database.restoreTestingPlan).toBeDefined();
    });

    test('counts the failed backup and restore jobs of its vault, for the alarms', () => {
      const vaultName = { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseBackupVault/), 'BackupVaultName'] };
      expect(stack.resolve(database.metricBackupJobsFailed())).toMatchObject({
        namespace: 'AWS/Backup',
        metricName: 'NumberOfBackupJobsFailed',
        statistic: 'Sum',
        period: { amount: 1, unit: { label: 'hours' } },
        dimensions: { BackupVaultName: vaultName, ResourceType: 'RDS' },
      });
      expect(stack.resolve(database.metricRestoreJobsFailed())).toMatchObject({
        namespace: 'AWS/Backup', metricName: 'NumberOfRestoreJobsFailed', dimensions: { BackupVaultName: vaultName, ResourceType: 'RDS' },
      });
      expect(database.backupMonitoring).toBe(true);
    });

    test('exposes the metrics an operator reads: replica lag by fixed identifier, the proxy, the connection limit', () => {
      expect(stack.resolve(database.metricReplicaLag(0))).toMatchObject({
        namespace: 'AWS/RDS', metricName: 'ReplicaLag', statistic: 'Maximum', dimensions: { DBInstanceIdentifier: database.readReplicaIdentifiers[0] },
      });
      expect(() => database.metricReplicaLag(1)).toThrow(new Error('`metricReplicaLag(1)` asks for a replica the database does not have: it has 1.'));
      expect(stack.resolve(database.metricProxy('ClientConnections'))).toMatchObject({ namespace: 'AWS/RDS', dimensions: { ProxyName: { Ref: expect.stringMatching(/^DatabaseProxy/) } } });
      // LEAST(DBInstanceClassMemory / 9531392, 5000) with 90% of 4 GiB.
      expect(database.maxConnections).toBe(405);
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    });
  });

  test('estimates the connection limit of memory-optimized classes, and of none it does not know', () => {
    const limit = (instanceType: ec2.InstanceType) => setup({ instanceType, profile: PlatformProfile.DEVELOPMENT }).database.maxConnections;
    expect(limit(ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE))).toBe(1622);
    expect(limit(ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.XLARGE24))).toBe(5000);
    expect(limit(ec2.InstanceType.of(ec2.InstanceClass.X2G, ec2.InstanceSize.LARGE))).toBe(0);
  });

  test('development profile: single AZ, no replica, no proxy, a month of logs, and a warning', () => {
    const { database, template, stack } = setup({ profile: PlatformProfile.DEVELOPMENT });
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, DeletionProtection: true });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/rds/'), RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: Match.absent() });
    // No restore tests and no backup alarms: a development database is rebuilt, not recovered.
    template.resourceCountIs('AWS::Backup::RestoreTestingPlan', 0);
    template.resourceCountIs('AWS::Backup::RestoreTestingSelection', 0);
    expect(database.backupMonitoring).toBe(false);
    expect(database.metricProxy('ClientConnections')).toBeUndefined();
    expect(database.metricBackupJobsFailed()).toBeUndefined();
    expect(database.metricRestoreJobsFailed()).toBeUndefined();
    expect(database.proxy).toBeUndefined();
    expect(Stack.of(database).resolve(database.writerEndpoint)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DatabaseInstance/), 'Endpoint.Address'] });
    Annotations.fromStack(stack).hasWarning('/Test/Database', Match.stringLikeRegexp('^The database runs in one Availability Zone'));
  });

  test('a vault lock in compliance mode, after its grace period', () => {
    const { template } = setup({ backupVaultLockChangeableFor: Duration.days(7) });
    template.hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: { MinRetentionDays: 35, ChangeableForDays: 7 } });
  });

  describe('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const key = new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true });
    const copyVault = backup.BackupVault.fromBackupVaultArn(stack, 'DrVault', 'arn:aws:backup:us-west-2:123456789012:backup-vault:codelearn-dr');
    const drKey = kms.Key.fromKeyArn(stack, 'DrKey', 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const { database, template } = setup({
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE),
      engineVersion: rds.PostgresEngineVersion.VER_16,
      allocatedStorage: 200,
      maxAllocatedStorage: 1000,
      backupRetention: Duration.days(14),
      multiAz: true,
      readReplicas: 3,
      proxy: true,
      databaseName: 'learn',
      masterUsername: 'platform_owner',
      deletionProtection: false,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: key,
      logRetention: logs.RetentionDays.TWO_YEARS,
      backupCopyVault: copyVault,
      automatedBackupReplication: { region: 'us-west-2', encryptionKey: drKey },
      restoreTestingSchedule: events.Schedule.cron({ day: '1', hour: '9', minute: '30' }),
    }, stack);

    test('tests restores on its schedule, and watches the copies to the second region', () => {
      template.hasResourceProperties('AWS::Backup::RestoreTestingPlan', { ScheduleExpression: 'cron(30 9 1 * ? *)' });
      const failed = database.metricBackupJobsFailed() as cloudwatch.MathExpression;
      expect(failed.expression).toBe('FILL(backups, 0) + FILL(copies, 0)');
      // AWS Backup counts a copy job under its destination vault.
      expect(stack.resolve(failed.usingMetrics.copies)).toMatchObject({
        metricName: 'NumberOfCopyJobsFailed', dimensions: { BackupVaultName: 'codelearn-dr', ResourceType: 'RDS' },
      });
    });

    test('applies the class, version, storage, names and protection', () => {
      template.hasResource('AWS::RDS::DBInstance', {
        Properties: Match.objectLike({
          DBInstanceClass: 'db.r5.large',
          EngineVersion: '16',
          AllocatedStorage: '200',
          MaxAllocatedStorage: 1000,
          BackupRetentionPeriod: 14,
          DBName: 'learn',
          MasterUsername: 'platform_owner',
          DeletionProtection: false,
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BroughtKey'), 'Arn'] },
        }),
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres16' });
      template.resourceCountIs('AWS::KMS::Key', 2);
    });

    test('adds three replicas with their log groups', () => {
      template.resourceCountIs('AWS::RDS::DBInstance', 4);
      template.resourcePropertiesCountIs('AWS::RDS::DBInstance', { DBInstanceClass: 'db.r5.large' }, 4);
      template.resourcePropertiesCountIs('AWS::RDS::DBInstance', { MaxAllocatedStorage: 1000 }, 4);
      // The writer's two groups are resources (and the calls' function's own); each replica's are made
      // (or found kept) by deploy-time calls.
      template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 731 }, 3);
      for (const replica of [1, 2, 3]) {
        for (const type of ['postgresql', 'upgrade']) {
          const name = `/aws/rds/instance/${database.readReplicaIdentifiers[replica - 1]}/${type}`;
          const calls = Object.values(template.findResources('Custom::AWS')).map(resource => JSON.stringify(resource.Properties.Create));
          expect(calls.filter(call => call.includes(name)).map(call => /\\"action\\":\\"(\w+)/.exec(call)?.[1]).sort())
            .toEqual(['associateKmsKey', 'createLogGroup', 'putRetentionPolicy']);
        }
      }
      // Each replica is created after its groups have their key and retention: RDS would otherwise make them bare.
      const calls = template.findResources('Custom::AWS');
      const replicas = template.findResources('AWS::RDS::DBInstance', { Properties: { SourceDBInstanceIdentifier: Match.anyValue() } });
      for (const [replica, identifier] of database.readReplicaIdentifiers.entries()) {
        const own = Object.keys(calls).filter(id => JSON.stringify(calls[id].Properties.Create).includes(`/aws/rds/instance/${identifier}/`));
        expect(own).toHaveLength(6);
        const logicalId = Object.keys(replicas).find(id => replicas[id].Properties.DBInstanceIdentifier === identifier);
        expect(replicas[logicalId ?? `replica ${replica + 1}`].DependsOn).toEqual(expect.arrayContaining(own));
      }
      expect(database.readReplicas).toHaveLength(3);
      expect(database.readReplicaIdentifiers.map(id => id.replace(/^.*-/, ''))).toEqual(['replica1', 'replica2', 'replica3']);
    });

    test('copies recovery points to the second region and replicates automated backups', () => {
      template.hasResourceProperties('AWS::Backup::BackupPlan', {
        BackupPlan: {
          BackupPlanRule: [Match.objectLike({
            CopyActions: [{
              DestinationBackupVaultArn: 'arn:aws:backup:us-west-2:123456789012:backup-vault:codelearn-dr',
              Lifecycle: { DeleteAfterDays: 35 },
            }],
          })],
        },
      });
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        AutomaticBackupReplicationRegion: 'us-west-2',
        AutomaticBackupReplicationKmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        AutomaticBackupReplicationRetentionPeriod: 14,
      });
    });
  });

  test('grants IAM connections through the proxy, or to the writer without one', () => {
    for (const profile of [PlatformProfile.PRODUCTION, PlatformProfile.DEVELOPMENT]) {
      const stack = testStack({ env: TEST_ENV });
      const network = new Network(stack, 'Network');
      const database = new Database(stack, 'Database', { vpc: network.vpc, profile });
      const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      database.grantConnect(role, 'app_user');
      database.grantReadMasterSecret(role);
      const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy');
      const text = JSON.stringify(statements);
      expect(text).toContain('rds-db:connect');
      expect(text).toContain('app_user');
      expect(text).toContain(profile === PlatformProfile.PRODUCTION ? 'DBProxyArn' : 'DbiResourceId');
      expect(text).toContain('secretsmanager:GetSecretValue');
      // The master secret is decrypted through the reader's policy; the key's policy names no reader.
      expect(text).toContain('kms:ViaService');
      expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::KMS::Key'))).not.toMatch(/"App[0-9A-F]{8}"/);
    }
  });

  describe('restored from a snapshot', () => {
    const snapshot = 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1a2b3c4d';
    const { database, template } = setup({ snapshotIdentifier: snapshot });

    test('creates the writer from the snapshot, with a new generated password and the snapshot\'s own database and key', () => {
      const writer = Object.values(template.findResources('AWS::RDS::DBInstance', { Properties: { DBSnapshotIdentifier: snapshot } }));
      expect(writer).toHaveLength(1);
      expect(writer[0].Properties).toMatchObject({
        DBInstanceIdentifier: expect.stringMatching(/^test-database-/),
        MultiAZ: true,
        DeletionProtection: true,
        MasterUserPassword: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: expect.stringMatching(/DatabaseInstanceSecret/) }, ':SecretString:password::}}']] },
      });
      // The snapshot brings its database, master user and KMS key: restoring rejects them.
      for (const property of ['DBName', 'MasterUsername', 'KmsKeyId', 'StorageEncrypted']) {
        expect(writer[0].Properties[property]).toBeUndefined();
      }
      expect(writer[0].DeletionPolicy).toBe('Snapshot');
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"codelearn_admin"}' }),
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
    });

    test('keeps its replica (inheriting the snapshot\'s key), proxy, backups and restore tests', () => {
      const replica = Object.values(template.findResources('AWS::RDS::DBInstance', { Properties: { SourceDBInstanceIdentifier: Match.anyValue() } }));
      expect(replica).toHaveLength(1);
      expect(replica[0].Properties.KmsKeyId).toBeUndefined();
      expect(replica[0].Properties.StorageEncrypted).toBeUndefined();
      template.resourceCountIs('AWS::RDS::DBProxy', 1);
      template.resourceCountIs('AWS::Backup::BackupSelection', 1);
      template.resourceCountIs('AWS::Backup::RestoreTestingSelection', 1);
      expect(database.instance).toBeInstanceOf(rds.DatabaseInstanceFromSnapshot);
      expect(database.secret).toBeDefined();
    });
  });

  describe('fails on bad input', () => {
    const cases: [string, DatabaseOptions, string][] = [
      ['a restore test schedule without restore tests', { restoreTesting: false, restoreTestingSchedule: events.Schedule.cron({ hour: '7', minute: '0' }) },
        '`restoreTestingSchedule` is set but `restoreTesting` is false: set `restoreTesting: true`, or remove it.'],
      ['a restore test schedule that is a rate', { restoreTestingSchedule: events.Schedule.rate(Duration.days(7)) },
        '`restoreTestingSchedule` (\'rate(7 days)\') must be a cron expression: AWS Backup runs restore tests only on cron schedules. ' +
        'Use `events.Schedule.cron({ weekDay: \'SUN\', hour: \'7\', minute: \'0\' })`.'],
      ['a snapshot named by its recovery point', { snapshotIdentifier: 'arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45' },
        '`snapshotIdentifier` (\'arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45\') is not the ARN of a DB snapshot: ' +
        'an AWS Backup recovery point of RDS is restored by its RDS snapshot ARN (\'arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-…\'), and a cluster ' +
        'snapshot makes a cluster. Give the name or ARN of a DB snapshot in this region, such as \'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c\'.'],
      ['a cluster snapshot', { snapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:cluster-snapshot:nightly' },
        '`snapshotIdentifier` (\'arn:aws:rds:us-east-1:123456789012:cluster-snapshot:nightly\') is not the ARN of a DB snapshot: ' +
        'an AWS Backup recovery point of RDS is restored by its RDS snapshot ARN (\'arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-…\'), and a cluster ' +
        'snapshot makes a cluster. Give the name or ARN of a DB snapshot in this region, such as \'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c\'.'],
      ['a snapshot name with a space', { snapshotIdentifier: 'nightly backup' },
        '`snapshotIdentifier` (\'nightly backup\') is not a DB snapshot name: letters, digits, \'-\' and \':\', starting with a letter. ' +
        'Give the name or ARN of a DB snapshot in this region, such as \'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c\'.'],
      ['a compliance-mode grace period without a lock', { backupVaultLock: false, backupVaultLockChangeableFor: Duration.days(3) },
        '`backupVaultLockChangeableFor` is set but `backupVaultLock` is false: set `backupVaultLock: true`, or remove it.'],
      ['a grace period under 3 days', { backupVaultLockChangeableFor: Duration.days(1) },
        '`backupVaultLockChangeableFor` (1 day) must be a whole number of days, at least 3: AWS Backup gives a compliance-mode lock a grace period of 3 days at least.'],
      ['too little storage', { allocatedStorage: 10 },
        '`allocatedStorage` (10) must be a whole number of GiB from 20 to 65536.'],
      ['fractional storage', { allocatedStorage: 100.5 },
        '`allocatedStorage` (100.5) must be a whole number of GiB from 20 to 65536.'],
      ['a storage maximum below the allocation', { allocatedStorage: 200, maxAllocatedStorage: 100 },
        '`maxAllocatedStorage` (100) must be a whole number of GiB from 220 (10% above `allocatedStorage`, 200) to 65536: storage autoscaling needs room to grow. Raise it, or lower `allocatedStorage`.'],
      ['a storage maximum equal to the allocation', { maxAllocatedStorage: 100 },
        '`maxAllocatedStorage` (100) must be a whole number of GiB from 110 (10% above `allocatedStorage`, 100) to 65536: storage autoscaling needs room to grow. Raise it, or lower `allocatedStorage`.'],
      ['backups kept 0 days', { backupRetention: Duration.days(0) },
        '`backupRetention` (0 days) must be a whole number of days from 1 to 35: RDS keeps automated backups for at most 35 days.'],
      ['backups kept 60 days', { backupRetention: Duration.days(60) },
        '`backupRetention` (60 days) must be a whole number of days from 1 to 35: RDS keeps automated backups for at most 35 days.'],
      ['negative replicas', { readReplicas: -1 },
        '`readReplicas` (-1) must be a whole number from 0 to 5.'],
      ['too many replicas', { readReplicas: 6 },
        '`readReplicas` (6) must be a whole number from 0 to 5.'],
      ['the spec\'s admin user', { masterUsername: 'admin' },
        '`masterUsername` (\'admin\') is reserved by PostgreSQL on RDS: choose another, such as \'codelearn_admin\'.'],
      ['a pg_ user', { masterUsername: 'pg_owner' },
        '`masterUsername` (\'pg_owner\') is reserved by PostgreSQL on RDS: choose another, such as \'codelearn_admin\'.'],
      ['a user name too long', { masterUsername: 'a_very_long_user_name' },
        '`masterUsername` (\'a_very_long_user_name\') must be 1 to 16 letters, digits or underscores, starting with a letter.'],
      ['a database name with a dash', { databaseName: 'code-learn' },
        '`databaseName` (\'code-learn\') must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.'],
      ['a database name in capitals', { databaseName: 'Learn' },
        '`databaseName` (\'Learn\') must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      const stack = testStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(() => new Database(stack, 'Database', { vpc, ...props })).toThrow(new Error(message));
    });

    test('a snapshot of another region', () => {
      const stack = testStack({ env: { account: '123456789012', region: 'us-west-2' } });
      const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-west-2a', 'us-west-2b'] });
      expect(() => new Database(stack, 'Database', { vpc, snapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1a2b3c' })).toThrow(new Error(
        '`snapshotIdentifier` (\'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1a2b3c\') is in us-east-1, but the database is in us-west-2: ' +
        'RDS restores only snapshots of its own region. Copy it here first (`aws rds copy-db-snapshot`, or a copy action of AWS Backup).'));
    });

    test('a database user that is not a plain PostgreSQL name, a role with two users, a role from elsewhere', () => {
      const stack = testStack({ env: TEST_ENV });
      const database = new Database(stack, 'Database', { vpc: new ec2.Vpc(stack, 'Vpc') });
      const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
      expect(() => database.grantConnect(role, 'User-Service')).toThrow(new Error(
        '`dbUser` (\'User-Service\') is not a plain PostgreSQL name: use 1 to 63 lowercase letters, digits and \'_\', starting with a letter or \'_\'.'));
      for (const reserved of ['codelearn_admin', 'rds_superuser', 'rdsadmin', 'pg_monitor', 'public']) {
        expect(() => database.addIamUser(reserved)).toThrow(new Error(
          `\`dbUser\` ('${reserved}') is a role of PostgreSQL, of RDS or the master user: give the user another name ` +
          '(a service of the platform signs in as its name with \'_\' for \'-\').'));
      }
      database.grantReplicaConnect(role, 'app_user');
      expect(() => database.grantReplicaConnect(role, 'reports')).toThrow(new Error(
        'grantReplicaConnect: Test/App connects as \'app_user\' already and cannot also connect as \'reports\': a role has one database user.'));
      const imported = iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::123456789012:role/elsewhere');
      expect(() => database.grantReplicaConnect(imported, 'app_user')).toThrow(new Error(
        'grantReplicaConnect needs a role made in this app (Test/Imported is not): it tags the role with its database user.'));
    });
  });
});
