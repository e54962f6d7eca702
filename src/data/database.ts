import { Annotations, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { addBackups, backupJobs } from './database-backup';
import { DatabaseProps } from './database-options';
import { addProxy, dbUserArn, instanceIdentifier } from './database-parts';
import { estimatedMaxConnections, RESERVED_USERNAMES, validateDatabaseName, validateSnapshotIdentifier, validateStorage, validateUsername } from './database-validation';
import { adoptLogGroup } from '../private/adopted-log-group';
import { AwsCalls } from '../private/aws-calls';
import { DatabaseUsers } from '../private/database-users';
import { PLAIN_IDENTIFIER } from '../private/database-users/postgres';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret, grantThroughSharedPolicy } from '../private/grants';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, HIPAA_AND_NIST } from '../private/nag';
import { profileDefaults } from '../private/profile';
import { dataSubnets, subnetCidrs } from '../private/subnets';
import { checkSupport } from '../private/support';
import { requireInstanceType, requireWholeDays, requireWholeNumber } from '../private/validate';
import { PlatformProfile } from '../profile';

const POSTGRES_PORT = 5432;
const MAX_READ_REPLICAS = 5;
const LOG_TYPES = ['postgresql', 'upgrade'];
/** The tag that names a role's database user, for the replicas' connect policy. */
const DATABASE_USER_TAG = 'codelearn-database-user';

/** The database user each role connects to the replicas as. */
const DATABASE_USERS = new WeakMap<iam.IRole, string>();
/** How often the master password is rotated. */
const ROTATION_PERIOD = Duration.days(30);

/**
 * RDS for PostgreSQL: a Multi-AZ writer, read replicas, an RDS Proxy, and AWS
 * Backup, encrypted with a customer-managed key.
 *
 * - TLS is forced (`rds.force_ssl`) and IAM authentication is on. The master
 *   password is generated in Secrets Manager and rotated every 30 days by a
 *   hosted rotation function in the VPC (RDS cannot create read replicas of an
 *   instance whose password it manages itself).
 * - The RDS Proxy authenticates end to end with IAM: clients sign in as their own
 *   database users, and so does the proxy, with no password in between.
 * - Performance Insights, enhanced monitoring, and PostgreSQL and upgrade logs in
 *   encrypted CloudWatch log groups with retention.
 * - Deletion protection, a snapshot on delete, 7 days of automated backups, and a
 *   daily AWS Backup plan kept 35 days.
 * - Clients reach the database only through `connections`: nothing is open until
 *   a peer is allowed.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const workloads: ec2.ISecurityGroup;
 * const database = new Database(this, 'Database', {
 *   vpc,
 *   instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE),
 *   readReplicas: 2,
 * });
 * database.connections.allowDefaultPortFrom(workloads);
 */
export class Database extends Construct implements ec2.IConnectable {
  /** The writer: a `rds.DatabaseInstance`, or a `rds.DatabaseInstanceFromSnapshot` with `snapshotIdentifier`. */
  public readonly instance: rds.DatabaseInstanceBase;

  /** The read replicas, possibly none. */
  public readonly readReplicas: rds.DatabaseInstanceReadReplica[] = [];

  /**
   * The fixed identifiers of the read replicas, as literal strings: for commands
   * such as `aws rds promote-read-replica`, and for metrics that should not wait
   * for a replica to exist.
   */
  public readonly readReplicaIdentifiers: string[] = [];

  /**
   * The proxy in front of the writer.
   *
   * @default - none in development
   */
  public readonly proxy?: rds.DatabaseProxy;

  /** The master user's secret, attached to the writer and rotated every 30 days. */
  public readonly secret: secretsmanager.ISecret;

  /** The key that encrypts everything the database stores. */
  public readonly encryptionKey: kms.IKey;

  /**
   * Who may connect: allowing a peer opens the PostgreSQL port on the writer,
   * the replicas and the proxy together.
   */
  public readonly connections: ec2.Connections;

  /**
   * The IPv4 CIDR blocks of the subnets the writer, the replicas and the proxy runs in: where its clients
   * connect to, as a service's network policy lets them (`Microservice.allowEgressTo`
   * with `connections.defaultPort`).
   */
  public get subnetCidrs(): string[] {
    return subnetCidrs(this.placement.vpc, this.placement.selection, this.node.path);
  }

  private readonly placement: { vpc: ec2.IVpc; selection: ec2.SubnetSelection };

  /** The name of the database created in the instance. */
  public readonly databaseName: string;

  /** The AWS Backup plan that covers the writer. */
  public readonly backupPlan: backup.BackupPlan;

  /** The vault of the AWS Backup plan. */
  public readonly backupVault: backup.BackupVault;

  /**
   * The restore testing plan that restores the writer's latest recovery point on a schedule.
   *
   * @default - none in development, or with `restoreTesting: false`
   */
  public readonly restoreTestingPlan?: backup.CfnRestoreTestingPlan;

  /**
   * PostgreSQL's default connection limit on the writer's class, estimated with
   * RDS's formula `LEAST(DBInstanceClassMemory / 9531392, 5000)` and the class's
   * memory (90% of it counted as `DBInstanceClassMemory`); 0 for a class whose
   * memory the library does not know.
   */
  public readonly maxConnections: number;

  /** Whether the backup and restore jobs are watched (`backupMonitoring`). */
  public readonly backupMonitoring: boolean;

  private readonly backupCopyVault?: backup.IBackupVault;

  /** The log groups of the exported logs, keyed by instance identifier and log type. */
  public readonly logGroups: { [name: string]: logs.ILogGroup } = {};

  private replicaConnectPolicy?: iam.ManagedPolicy;
  private users?: DatabaseUsers;
  private readonly vpc: ec2.IVpc;
  /** The security group of the functions that sign in as the master user. */
  private readonly masterUserFunctions: ec2.SecurityGroup;
  /** The master user's name as PostgreSQL stores it (lowercase: RDS creates it unquoted). */
  private readonly masterUsername: string;
  private readonly rotationSubnets: ec2.SubnetSelection;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.vpc = props.vpc;
    const profile = props.profile ?? PlatformProfile.PRODUCTION;
    const defaults = profileDefaults(profile).database;
    const allocatedStorage = props.allocatedStorage ?? 100;
    const maxAllocatedStorage = props.maxAllocatedStorage ?? 500;
    validateStorage(allocatedStorage, maxAllocatedStorage);
    const backupDays = requireWholeDays('backupRetention', props.backupRetention ?? Duration.days(7), 1, 35,
      'RDS keeps automated backups for at most 35 days');
    const replicaCount = props.readReplicas ?? defaults.readReplicas;
    requireWholeNumber('readReplicas', replicaCount, 0, MAX_READ_REPLICAS);
    const username = props.masterUsername ?? 'codelearn_admin';
    validateUsername(username);
    this.masterUsername = username.toLowerCase();
    const databaseName = props.databaseName ?? 'codelearn';
    validateDatabaseName(databaseName);
    this.databaseName = databaseName;
    const multiAz = props.multiAz ?? defaults.multiAz;
    const withProxy = props.proxy ?? defaults.proxy;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const deletionProtection = props.deletionProtection ?? true;
    const logRetention = props.logRetention ?? profileDefaults(profile).logRetention;
    this.logRetention = logRetention;
    // Functions in the VPC (rotation, database users) call AWS APIs: they need egress.
    this.rotationSubnets = props.rotationSubnets
      ?? (props.vpc.privateSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : props.vpcSubnets ?? dataSubnets(props.vpc));
    const vpcSubnets = props.vpcSubnets ?? dataSubnets(props.vpc);
    this.placement = { vpc: props.vpc, selection: vpcSubnets };
    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE3, ec2.InstanceSize.MEDIUM);
    // RDS adds 'db.' to the EC2 type.
    requireInstanceType('instanceType', instanceType.toString(), 'db');
    this.maxConnections = estimatedMaxConnections(instanceType.toString());
    const engineVersion = props.engineVersion ?? rds.PostgresEngineVersion.VER_15;
    checkSupport(this, 'engineVersion', 'Amazon RDS for PostgreSQL', engineVersion.postgresMajorVersion, {
      fix: 'Upgrade the major version (docs/operations.md, "PostgreSQL 15 to 16"); past it, RDS bills RDS Extended Support, and upgrades the writer itself when that ends.',
    });
    const engine = rds.DatabaseInstanceEngine.postgres({ version: engineVersion });

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the PostgreSQL database of ${this.node.path}: storage, secret, Performance Insights, backups and logs`);
    allowCloudWatchLogs(this.encryptionKey);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'PostgreSQL writer and replicas: admits the proxy and the allowed clients',
      allowAllOutbound: false,
    });
    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets,
      description: `Subnets of the PostgreSQL database of ${this.node.path}`,
      // Kept with a kept instance, which RDS would not let it be deleted from.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Forces TLS and logs statements slower than one second',
      parameters: {
        'rds.force_ssl': '1',
        'log_min_duration_statement': '1000',
      },
    });
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
      description: `Publishes enhanced monitoring metrics of ${this.node.path}`,
    });
    acknowledge(monitoringRole, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]':
        'The AWS-maintained service role policy of RDS enhanced monitoring: it only writes to the RDSOSMetrics log group and follows the service as it changes.',
    });

    const identifier = instanceIdentifier(this);
    const common = {
      vpc: props.vpc,
      vpcSubnets,
      subnetGroup,
      securityGroups: [securityGroup],
      instanceType,
      parameterGroup,
      storageEncryptionKey: this.encryptionKey,
      storageType: rds.StorageType.GP3,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: this.encryptionKey,
      performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT,
      monitoringInterval: Duration.seconds(60),
      monitoringRole,
      cloudwatchLogsExports: LOG_TYPES,
      autoMinorVersionUpgrade: true,
      deletionProtection,
      iamAuthentication: true,
      publiclyAccessible: false,
    };

    const writerProps = {
      ...common,
      engine,
      // A new major version in engineVersion upgrades the writer (and RDS upgrades its
      // in-Region replicas with it); RDS refuses the change without this.
      allowMajorVersionUpgrade: true,
      instanceIdentifier: identifier,
      multiAz,
      allocatedStorage,
      maxAllocatedStorage,
      backupRetention: Duration.days(backupDays),
      preferredBackupWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      copyTagsToSnapshot: true,
      removalPolicy,
    };
    let writer: rds.DatabaseInstance | rds.DatabaseInstanceFromSnapshot;
    if (props.snapshotIdentifier !== undefined) {
      validateSnapshotIdentifier(props.snapshotIdentifier, Stack.of(this).region);
      // The snapshot brings its database, master user and KMS key; the password is
      // new, generated into a secret of this stack (RDS resets it after the restore).
      writer = new rds.DatabaseInstanceFromSnapshot(this, 'Instance', {
        ...writerProps,
        snapshotIdentifier: props.snapshotIdentifier,
        credentials: rds.SnapshotCredentials.fromGeneratedSecret(username, { encryptionKey: this.encryptionKey }),
      });
      const inherited = 'Restored from a snapshot, the writer inherits the snapshot\'s encryption and key: CloudFormation rejects ' +
        'StorageEncrypted and KmsKeyId beside DBSnapshotIdentifier. The platform\'s snapshots and recovery points are encrypted; ' +
        '`snapshotIdentifier` says to copy an unencrypted one with a KMS key first.';
      acknowledge(writer, { 'AwsSolutions-RDS2': inherited });
      acknowledgeControlRule(writer, 'RDSStorageEncrypted', inherited);
    } else {
      writer = new rds.DatabaseInstance(this, 'Instance', {
        ...writerProps,
        databaseName,
        credentials: rds.Credentials.fromGeneratedSecret(username, { encryptionKey: this.encryptionKey }),
      });
    }
    this.instance = writer;
    this.secret = writer.secret!;
    // A snapshot of the writer is useless without its password: the secret is kept.
    (writer.node.findChild('Secret') as secretsmanager.Secret).applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    // The functions that sign in as the master user (rotation, the database users)
    // reach Secrets Manager, RDS's trust store and CloudFormation over HTTPS, and the writer.
    this.masterUserFunctions = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc: props.vpc,
      description: 'Functions that sign in as the master user (password rotation, database users): HTTPS out, PostgreSQL to the writer',
      allowAllOutbound: false,
    });
    this.masterUserFunctions.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Secrets Manager, the RDS trust store, CloudFormation');
    this.masterUserFunctions.connections.allowTo(securityGroup, ec2.Port.tcp(POSTGRES_PORT), 'Master user functions to the writer');
    this.rotateMasterPassword(props.vpc);
    this.addLogGroups(this.instance, 'Instance', identifier, logRetention);
    this.acknowledgeDefaultPort(this.instance);
    if (!multiAz) {
      const singleAz = 'Single-AZ by choice (`multiAz: false` or the development profile), to save cost; synthesis warns about it.';
      acknowledge(this.instance, { 'AwsSolutions-RDS3': singleAz });
      acknowledgeControlRule(this.instance, 'RDSMultiAZSupport', singleAz, HIPAA_AND_NIST);
      Annotations.of(this).addWarningV2('codelearn:database-single-az',
        'The database runs in one Availability Zone: an outage of that zone stops it until it is restored. Use multiAz for production.');
    }
    if (props.automatedBackupReplication) {
      const cfn = this.instance.node.defaultChild as rds.CfnDBInstance;
      cfn.automaticBackupReplicationRegion = props.automatedBackupReplication.region;
      cfn.automaticBackupReplicationKmsKeyId = props.automatedBackupReplication.encryptionKey.keyArn;
      cfn.automaticBackupReplicationRetentionPeriod = backupDays;
    }

    for (let i = 1; i <= replicaCount; i++) {
      const replicaIdentifier = `${identifier}-replica${i}`;
      const replica = new rds.DatabaseInstanceReadReplica(this, `Replica${i}`, {
        ...common,
        sourceDatabaseInstance: this.instance,
        instanceIdentifier: replicaIdentifier,
        // It applies every change of the writer, so it grows as far as the writer does.
        maxAllocatedStorage,
        // A replica holds a copy of the writer's data; RDS takes no final snapshot of a
        // replica, and deletion protection would keep a rolled-back create from removing it.
        deletionProtection: false,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A replica inherits the writer's encryption (KmsKeyId names the key); the
      // schema rejects StorageEncrypted next to SourceDBInstanceIdentifier.
      (replica.node.defaultChild as rds.CfnDBInstance).addPropertyDeletionOverride('StorageEncrypted');
      if (props.snapshotIdentifier !== undefined) {
        // A restored writer keeps the snapshot's key, which a replica in its region
        // must share: the replica inherits it instead of naming this database's key.
        (replica.node.defaultChild as rds.CfnDBInstance).addPropertyDeletionOverride('KmsKeyId');
      }
      this.addLogGroups(replica, `Replica${i}`, replicaIdentifier, logRetention);
      this.acknowledgeDefaultPort(replica);
      const copy = 'A read replica is a copy of the writer that serves reads; the Multi-AZ writer, its automated backups and its AWS Backup plan protect the data.';
      acknowledge(replica, { 'AwsSolutions-RDS3': copy });
      acknowledgeControlRule(replica, 'RDSMultiAZSupport', copy, HIPAA_AND_NIST);
      acknowledge(replica, { 'HIPAA.Security-RDSInBackupPlan': copy, 'NIST.800.53.R5-RDSInBackupPlan': copy });
      const deletable = 'A read replica is a copy of the writer, deleted with the stack; deletion protection would make a ' +
        'rolled-back first deploy fail to delete it. The writer keeps deletion protection.';
      acknowledge(replica, { 'AwsSolutions-RDS10': deletable });
      acknowledgeControlRule(replica, 'RDSInstanceDeletionProtectionEnabled', deletable, HIPAA_AND_NIST);
      this.readReplicas.push(replica);
      this.readReplicaIdentifiers.push(replicaIdentifier);
    }

    const securityGroups: ec2.ISecurityGroup[] = [securityGroup];
    if (withProxy) {
      const proxy = addProxy(this, {
        instance: this.instance, identifier, vpc: props.vpc, vpcSubnets, writerSecurityGroup: securityGroup, port: POSTGRES_PORT,
      });
      this.proxy = proxy.proxy;
      securityGroups.push(proxy.securityGroup);
    }
    this.connections = new ec2.Connections({ securityGroups, defaultPort: ec2.Port.tcp(POSTGRES_PORT) });

    const backups = addBackups(this, {
      instance: this.instance,
      identifier,
      encryptionKey: this.encryptionKey,
      vpc: props.vpc,
      subnetGroup,
      parameterGroup,
      locked: props.backupVaultLock ?? defaults.backupVaultLock,
      lockChangeableFor: props.backupVaultLockChangeableFor,
      copyVault: props.backupCopyVault,
      restoreTesting: props.restoreTesting ?? defaults.restoreTesting,
      restoreTestingSchedule: props.restoreTestingSchedule,
    });
    this.backupVault = backups.vault;
    this.backupPlan = backups.plan;
    this.restoreTestingPlan = backups.restoreTestingPlan;
    this.backupMonitoring = props.backupMonitoring ?? defaults.backupMonitoring;
    this.backupCopyVault = props.backupCopyVault;
  }

  /**
   * The lag of read replica `index` (from 0) behind the writer, in seconds, by the
   * replica's fixed identifier: the metric does not wait for the replica to exist.
   */
  public metricReplicaLag(index: number, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const identifier = this.readReplicaIdentifiers[index];
    if (identifier === undefined) {
      throw new ConfigurationError(`\`metricReplicaLag(${index})\` asks for a replica the database does not have: it has ${this.readReplicaIdentifiers.length}.`);
    }
    return new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName: 'ReplicaLag',
      dimensionsMap: { DBInstanceIdentifier: identifier },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * A metric of the RDS Proxy (`ClientConnections`, `DatabaseConnections`), by its
   * name; nothing without a proxy.
   */
  public metricProxy(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    if (!this.proxy) return undefined;
    return new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: this.proxy.dbProxyName },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * How many backup jobs of the database's vault failed, and with
   * `backupCopyVault` how many copies to it failed (AWS Backup counts a copy under
   * its destination vault), per hour. AWS Backup publishes these only when they are
   * not zero. Nothing without `backupMonitoring`.
   */
  public metricBackupJobsFailed(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric | undefined {
    if (!this.backupMonitoring) return undefined;
    const backups = backupJobs('NumberOfBackupJobsFailed', this.backupVault.backupVaultName, props);
    if (!this.backupCopyVault) return backups;
    return new cloudwatch.MathExpression({
      expression: 'FILL(backups, 0) + FILL(copies, 0)',
      usingMetrics: { backups, copies: backupJobs('NumberOfCopyJobsFailed', this.backupCopyVault.backupVaultName, props) },
      label: props.label ?? 'failed backup and copy jobs',
      period: props.period ?? Duration.hours(1),
    });
  }

  /**
   * How many restores of the database's recovery points failed, the restore tests'
   * included, per hour. Nothing without `backupMonitoring`.
   */
  public metricRestoreJobsFailed(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric | undefined {
    return this.backupMonitoring ? backupJobs('NumberOfRestoreJobsFailed', this.backupVault.backupVaultName, props) : undefined;
  }

  /**
   * Lets `grantee` connect as `dbUser` with IAM authentication, through the proxy
   * when there is one (which signs in to the writer as that user too), and makes
   * the user on deploy (`addIamUser`).
   */
  public grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    this.addIamUser(dbUser);
    return this.proxy ? this.proxy.grantConnect(grantee, dbUser) : this.instance.grantConnect(grantee, dbUser);
  }

  /**
   * Makes `dbUser` exist in the database on deploy: a login role with `rds_iam`
   * (IAM sign-in), `CONNECT` on the database and a schema of its own. A function
   * in the VPC signs in as the master user and runs this, idempotently, whenever
   * the list of users changes; users are never dropped. `grantConnect` calls it.
   */
  public addIamUser(dbUser: string): void {
    if (!PLAIN_IDENTIFIER.test(dbUser)) {
      throw new ConfigurationError(`\`dbUser\` ('${dbUser}') is not a plain PostgreSQL name: use 1 to 63 lowercase letters, digits and '_', starting with a letter or '_'.`);
    }
    // Roles PostgreSQL and RDS own, and the master user itself: making them "users"
    // would fail, or grant and then revoke the master user's own roles.
    if (dbUser === this.masterUsername || RESERVED_USERNAMES.includes(dbUser) || /^(pg_|rds)/.test(dbUser)
      || ['public', 'current_user', 'session_user', 'current_role'].includes(dbUser)) {
      throw new ConfigurationError(`\`dbUser\` ('${dbUser}') is a role of PostgreSQL, of RDS or the master user: give the user another name ` +
        '(a service of the platform signs in as its name with \'_\' for \'-\').');
    }
    if (!this.users) {
      this.users = new DatabaseUsers(this, 'Users', {
        vpc: this.vpc,
        vpcSubnets: this.rotationSubnets,
        securityGroup: this.masterUserFunctions,
        secret: this.secret,
        encryptionKey: this.encryptionKey,
        writer: this.instance,
        databaseName: this.databaseName,
        logRetention: this.logRetention,
      });
    }
    this.users.add(dbUser);
  }

  /**
   * Lets `role` connect to the read replicas with IAM authentication as `dbUser`.
   *
   * The permission names each replica's resource ID, which exists only once the
   * replica does, so it is one policy of the database's own, attached to the role:
   * the role, and whatever waits for it, does not wait for the replicas (the end of
   * the longest chain of a deploy). The policy names the user through the role's
   * `codelearn-database-user` tag (the `aws:PrincipalTag` policy variable), which
   * this method sets, so it keeps one statement whatever the number of services
   * (IAM caps a managed policy at 6,144 characters). The user is made on the
   * writer on deploy (`addIamUser`), and so exists on the replicas. `role` must be
   * a role of this app. Nothing is granted without replicas.
   *
   * @returns the grant, which waits for the policy: what the role runs waits for it. Without replicas nothing
   * is granted: the grant's `success` is false and it waits for nothing.
   */
  public grantReplicaConnect(role: iam.IRole, dbUser: string): iam.Grant {
    if (!(role instanceof iam.Role)) {
      throw new ConfigurationError(`grantReplicaConnect needs a role made in this app (${role.node.path} is not): it tags the role with its database user.`);
    }
    if (this.readReplicas.length === 0) {
      return iam.Grant.drop(role, 'connect to the read replicas, which this database does not have');
    }
    const current = DATABASE_USERS.get(role);
    if (current !== undefined && current !== dbUser) {
      throw new ConfigurationError(`grantReplicaConnect: ${role.node.path} connects as '${current}' already and cannot also connect as '${dbUser}': ` +
        'a role has one database user.');
    }
    this.addIamUser(dbUser);
    DATABASE_USERS.set(role, dbUser);
    Tags.of(role).add(DATABASE_USER_TAG, dbUser);
    const resources = this.readReplicas.map(replica => dbUserArn(this, (replica.node.defaultChild as rds.CfnDBInstance).attrDbiResourceId,
      `\${aws:PrincipalTag/${DATABASE_USER_TAG}}`));
    if (!this.replicaConnectPolicy) {
      this.replicaConnectPolicy = new iam.ManagedPolicy(this, 'ReplicaConnect', {
        description: `IAM authentication to the read replicas of ${this.node.path}, as the database user the role's tag names`,
        statements: [new iam.PolicyStatement({ actions: ['rds-db:connect'], resources })],
      });
    }
    return grantThroughSharedPolicy(role, this.replicaConnectPolicy, ['rds-db:connect'], resources);
  }

  /**
   * What to wait for before signing in as an IAM user: the function that makes the
   * users on deploy (nothing when no user is added).
   */
  public get iamUsersReady(): IDependable {
    return this.users ?? new DependencyGroup();
  }

  /** Lets `grantee` read the master user's secret. For migrations and administration only. */
  public grantReadMasterSecret(grantee: iam.IGrantable): iam.Grant {
    return grantReadSecret(grantee, this.secret, this.encryptionKey);
  }

  /** The endpoint that applications write to: the proxy when there is one, else the writer. */
  public get writerEndpoint(): string {
    return this.proxy ? this.proxy.endpoint : this.instance.dbInstanceEndpointAddress;
  }

  /**
   * The endpoints of the read replicas. Whatever carries them waits for the
   * replicas at deploy time, the end of the longest chain: keep that to one small
   * resource (the platform puts them in one Kubernetes ConfigMap).
   */
  public get readerEndpoints(): string[] {
    return this.readReplicas.map(replica => replica.dbInstanceEndpointAddress);
  }

  /**
   * Rotates the master password every 30 days with a hosted rotation function
   * (Secrets Manager's own, created by its CloudFormation transform: no
   * Serverless Application Repository) that runs in the VPC and reaches the writer
   * on its port.
   */
  private rotateMasterPassword(vpc: ec2.IVpc): void {
    this.secret.addRotationSchedule('Rotation', {
      hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
        vpc,
        vpcSubnets: this.rotationSubnets,
        securityGroups: [this.masterUserFunctions],
      }),
      automaticallyAfter: ROTATION_PERIOD,
    });
  }

  /**
   * Log groups with retention and encryption, created before the instance so that
   * RDS writes into them instead of creating its own without retention. Their
   * names follow RDS's convention, which is why instance identifiers are fixed.
   */
  private addLogGroups(instance: rds.DatabaseInstanceBase, prefix: string, identifier: string, retention: logs.RetentionDays): void {
    const cfnInstance = instance.node.defaultChild as rds.CfnDBInstance;
    for (const type of LOG_TYPES) {
      const name = `/aws/rds/instance/${identifier}/${type}`;
      const id = `${prefix}Log${type[0].toUpperCase()}${type.slice(1)}`;
      if (instance === this.instance) {
        const logGroup = new logs.LogGroup(this, id, {
          logGroupName: name,
          retention,
          encryptionKey: this.encryptionKey,
          // Named: kept on update and delete, removed when a first create rolls back.
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        });
        // RDS would otherwise create the group itself, without retention or the key.
        cfnInstance.node.addDependency(logGroup);
        this.logGroups[`${identifier}/${type}`] = logGroup;
        continue;
      }
      // A replica comes and goes with `readReplicas` and the profile, and its kept
      // group would fail the next create of that name: deploy-time calls make the
      // group, or find it kept, and set its key and retention.
      const adopted = adoptLogGroup(this, id, {
        calls: AwsCalls.of(this, { vpc: this.vpc, vpcSubnets: this.rotationSubnets, encryptionKey: this.encryptionKey, logRetention: retention }),
        logGroupName: name,
        prefix: '/aws/rds/instance/',
        encryptionKey: this.encryptionKey,
        retention,
        acknowledgement: 'The log groups of the read replicas, which RDS names after each instance.',
      });
      // RDS would otherwise create the group itself, without retention or the key.
      cfnInstance.node.addDependency(adopted.ready);
      this.logGroups[`${identifier}/${type}`] = adopted.logGroup;
    }
  }

  private acknowledgeDefaultPort(instance: rds.DatabaseInstanceBase): void {
    acknowledge(instance, {
      'AwsSolutions-RDS11': 'Clients reach PostgreSQL only from the security groups allowed through `connections`, in isolated subnets; ' +
        'RDS Proxy listens on 5432 whatever the instance port, so a non-default port would hide nothing.',
    });
  }
}
