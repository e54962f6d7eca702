import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { DataStoreProps } from './data-store-props';

/**
 * Replication of the automated backups to a second region.
 */
export interface AutomatedBackupReplication {
  /** The region that receives the backups, such as `us-west-2`. */
  readonly region: string;

  /** A KMS key in that region, which encrypts the replicated backups. */
  readonly encryptionKey: kms.IKey;
}

/**
 * What a user may set on the database.
 */
export interface DatabaseOptions {
  /**
   * The instance class of the writer and its replicas. Scale up to
   * `db.r5.large` or beyond by changing it: the instance is modified, not replaced.
   *
   * @default - db.t3.medium
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The PostgreSQL version. A new major version upgrades the writer in place on
   * deploy (`AllowMajorVersionUpgrade` is set, and RDS upgrades the in-Region
   * replicas with it), with the new family's parameter group; the database is
   * unavailable for the upgrade, typically 10 to 30 minutes. Upgrade a restored
   * copy first (docs/operations.md, "Change a running platform").
   *
   * @default rds.PostgresEngineVersion.VER_15
   */
  readonly engineVersion?: rds.PostgresEngineVersion;

  /**
   * Storage allocated at creation, in GiB (gp3), from 20 to 65536.
   *
   * @default 100
   */
  readonly allocatedStorage?: number;

  /**
   * The limit of storage autoscaling, in GiB: at least 10% above `allocatedStorage`.
   *
   * @default 500
   */
  readonly maxAllocatedStorage?: number;

  /**
   * How long automated backups are kept, from 1 to 35 days.
   *
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * Run a standby in a second Availability Zone with automatic failover.
   *
   * @default - true in production, false in development
   */
  readonly multiAz?: boolean;

  /**
   * How many read replicas serve read-heavy work, from 0 to 5.
   *
   * @default - 1 in production, 0 in development
   */
  readonly readReplicas?: number;

  /**
   * Put an RDS Proxy in front of the writer for connection pooling, with TLS and
   * IAM authentication required.
   *
   * @default - true in production, false in development
   */
  readonly proxy?: boolean;

  /**
   * The name of the database created in the instance. Fixed at creation: on a
   * deployed database, CloudFormation refuses a new name (it would replace the
   * writer, whose identifier is fixed) and nothing is lost.
   *
   * @default 'codelearn'
   */
  readonly databaseName?: string;

  /**
   * The master user name. The specification's `admin` is a reserved word of
   * PostgreSQL on RDS, so the default is `codelearn_admin`. Fixed at creation,
   * like `databaseName`: CloudFormation refuses a new one on a deployed database.
   *
   * @default 'codelearn_admin'
   */
  readonly masterUsername?: string;

  /**
   * Refuse to delete the writer and its replicas.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the writer when it leaves the stack. Replicas are copies and
   * are deleted with it.
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The KMS key that encrypts storage, the master secret, Performance Insights,
   * backups and the database's log groups.
   *
   * A key you bring must let IAM policies grant its use (its policy allows the
   * account root, as CDK keys' do): grants to readers of the master secret add
   * `kms:Decrypt` to the reader's policy, not to the key's.
   *
   * Fixed at creation: RDS cannot re-encrypt an instance, so CloudFormation
   * refuses a new key on a deployed database (its writer and vault are named). To
   * move to another key, restore a snapshot copied with it into a new stack
   * (`snapshotIdentifier`).
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the exported PostgreSQL and upgrade logs are kept.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A backup vault in a second region that receives a copy of every AWS Backup
   * recovery point.
   *
   * @default - recovery points stay in this region
   */
  readonly backupCopyVault?: backup.IBackupVault;

  /**
   * Lock the backup vault (AWS Backup Vault Lock): no recovery point can be deleted
   * before it is 35 days old, the plan's retention, by any principal, and the
   * vault's retention rules cannot be loosened. In governance mode (the default) a
   * principal allowed `backup:DeleteBackupVaultLockConfiguration` can still remove
   * the lock; see `backupVaultLockChangeableFor` for compliance mode.
   *
   * @default - true in production, false in development
   */
  readonly backupVaultLock?: boolean;

  /**
   * Compliance mode for the vault lock: after this grace period (3 days at least)
   * nobody, the account's root and AWS included, can change or remove the lock, and
   * the vault cannot be deleted while it holds recovery points. It cannot be undone.
   *
   * @default - governance mode: a principal allowed `backup:DeleteBackupVaultLockConfiguration` can remove the lock
   */
  readonly backupVaultLockChangeableFor?: Duration;

  /**
   * Replicate the automated backups (point-in-time recovery) to a second region.
   *
   * @default - automated backups stay in this region
   */
  readonly automatedBackupReplication?: AutomatedBackupReplication;

  /**
   * Prove the backups restore: an AWS Backup restore testing plan restores the
   * writer's latest recovery point of the last week on `restoreTestingSchedule`,
   * into the database's subnets, as a small (`db.t3.small`), single-AZ, private
   * instance behind a security group that admits nothing, and AWS Backup deletes
   * it after an hour. A failed restore notifies the alarm topic (with
   * `Observability`). Copies in `backupCopyVault` are not tested from here: a
   * restore test runs in its plan's region, so test them with a plan there.
   *
   * @default - true in production, false in development
   */
  readonly restoreTesting?: boolean;

  /**
   * Watch AWS Backup's jobs: `Observability` alarms on the vault's failed backup
   * jobs (and failed copies to `backupCopyVault`) and failed restores, the restore
   * tests' included (`metricBackupJobsFailed`, `metricRestoreJobsFailed`).
   *
   * @default - true in production, false in development
   */
  readonly backupMonitoring?: boolean;

  /**
   * When the restore test runs, as a cron expression in UTC.
   *
   * @default - weekly, Sundays at 07:00 UTC (after the daily backup at 05:00)
   */
  readonly restoreTestingSchedule?: events.Schedule;

  /**
   * Create the writer from an RDS snapshot instead of an empty database: the name
   * or ARN of a DB snapshot in this stack's region (a manual or automated snapshot,
   * a copy from another region, or an AWS Backup recovery point of RDS, whose ARN
   * is `arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-…`). This is how a
   * stack deployed in a standby region comes up with the copied data. The writer
   * keeps the snapshot's master user (`masterUsername` must match it) and KMS key,
   * gets a new generated password, and its replicas, proxy, backups and users
   * follow as usual. The snapshot must be encrypted, as the platform's are: RDS
   * restores an unencrypted one unencrypted, so copy it with a KMS key first
   * (`aws rds copy-db-snapshot --kms-key-id`).
   *
   * Set it when the stack is first deployed. On a deployed stack, adding or
   * changing it would replace the writer, which CloudFormation cannot do (its
   * identifier is fixed), so the update fails and nothing is lost. Keep it set
   * afterwards: CloudFormation reads a writer without it as a new, empty one, and
   * refuses that replacement too.
   *
   * @default - a new, empty database
   */
  readonly snapshotIdentifier?: string;
}

/**
 * Properties of a `Database`.
 */
export interface DatabaseProps extends DatabaseOptions, DataStoreProps {
  /**
   * The subnets of the functions that sign in as the master user: the one that
   * rotates its password, and the one that makes the IAM database users. They call
   * Secrets Manager, answer CloudFormation through S3, and the users function
   * downloads RDS's certificate bundle from truststore.pki.rds.amazonaws.com, so
   * they need a route to the internet (a NAT gateway).
   *
   * @default - the VPC's private subnets with egress, or the database's subnets when the VPC has none
   */
  readonly rotationSubnets?: ec2.SubnetSelection;
}
