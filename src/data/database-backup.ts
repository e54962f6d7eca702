import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { ConfigurationError } from '../private/errors';
import { acknowledge } from '../private/nag';
import { requireWholeDays } from '../private/validate';

/** How long AWS Backup keeps the daily recovery points, and the vault lock's minimum. */
const BACKUP_RETENTION = Duration.days(35);

/** What the database's backups are made of and from. */
export interface DatabaseBackupsOptions {
  readonly instance: rds.DatabaseInstanceBase;
  /** The writer's identifier, which names the plan and the restore testing plan. */
  readonly identifier: string;
  readonly encryptionKey: kms.IKey;
  readonly vpc: ec2.IVpc;
  readonly subnetGroup: rds.ISubnetGroup;
  readonly parameterGroup: rds.IParameterGroup;
  readonly locked: boolean;
  readonly lockChangeableFor?: Duration;
  readonly copyVault?: backup.IBackupVault;
  readonly restoreTesting: boolean;
  readonly restoreTestingSchedule?: events.Schedule;
}

/** The database's AWS Backup resources. */
export interface DatabaseBackups {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  readonly restoreTestingPlan?: backup.CfnRestoreTestingPlan;
}

/**
 * The writer's AWS Backup vault (locked in production), its daily plan (copied to
 * `copyVault` when given), and a weekly restore test, in `scope`.
 */
export function addBackups(scope: Construct, options: DatabaseBackupsOptions): DatabaseBackups {
  if (options.lockChangeableFor !== undefined) {
    if (!options.locked) {
      throw new ConfigurationError('`backupVaultLockChangeableFor` is set but `backupVaultLock` is false: set `backupVaultLock: true`, or remove it.');
    }
    requireWholeDays('backupVaultLockChangeableFor', options.lockChangeableFor, 3, undefined,
      'AWS Backup gives a compliance-mode lock a grace period of 3 days at least');
  }
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: options.encryptionKey,
    lockConfiguration: options.locked ? {
      // As long as the plan keeps its recovery points: a longer minimum fails every backup.
      minRetention: BACKUP_RETENTION,
      changeableFor: options.lockChangeableFor,
    } : undefined,
    // Named: kept on update and delete, removed when a first create rolls back.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  const plan = new backup.BackupPlan(scope, 'BackupPlan', {
    backupPlanName: options.identifier,
    backupVault: vault,
    backupPlanRules: [new backup.BackupPlanRule({
      ruleName: 'daily',
      scheduleExpression: events.Schedule.cron({ hour: '5', minute: '0' }),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(2),
      deleteAfter: BACKUP_RETENTION,
      copyActions: options.copyVault
        ? [{ destinationBackupVault: options.copyVault, deleteAfter: BACKUP_RETENTION }]
        : undefined,
    })],
  });
  const selection = plan.addSelection('Writer', {
    resources: [backup.BackupResource.fromRdsDatabaseInstance(options.instance)],
  });
  acknowledge(selection, {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]':
      'The AWS-maintained service role policy of AWS Backup, which it documents for backup selections and updates as the service changes.',
  });

  if (options.restoreTestingSchedule !== undefined && !options.restoreTesting) {
    throw new ConfigurationError('`restoreTestingSchedule` is set but `restoreTesting` is false: set `restoreTesting: true`, or remove it.');
  }
  const restoreTestingPlan = options.restoreTesting
    ? addRestoreTesting(scope, vault, options, options.restoreTestingSchedule ?? events.Schedule.cron({ weekDay: 'SUN', hour: '7', minute: '0' }))
    : undefined;
  return { vault, plan, restoreTestingPlan };
}

/**
 * A restore testing plan and its selection: the writer's latest recovery point of
 * the last week, restored small, single-AZ, private and unreachable, then deleted.
 */
function addRestoreTesting(scope: Construct, vault: backup.IBackupVault, options: DatabaseBackupsOptions,
  schedule: events.Schedule): backup.CfnRestoreTestingPlan {
  const expression = schedule.expressionString;
  if (!expression.startsWith('cron(')) {
    throw new ConfigurationError(`\`restoreTestingSchedule\` ('${expression}') must be a cron expression: AWS Backup runs restore tests ` +
      'only on cron schedules. Use `events.Schedule.cron({ weekDay: \'SUN\', hour: \'7\', minute: \'0\' })`.');
  }
  // AWS Backup names plans with letters, digits and '_', 50 at most, unique in the
  // account and region, as the instance identifier is.
  const planName = options.identifier.replace(/-/g, '_');
  const plan = new backup.CfnRestoreTestingPlan(scope, 'RestoreTestingPlan', {
    restoreTestingPlanName: planName,
    scheduleExpression: expression,
    scheduleExpressionTimezone: 'Etc/UTC',
    startWindowHours: 24,
    recoveryPointSelection: {
      algorithm: 'LATEST_WITHIN_WINDOW',
      includeVaults: [vault.backupVaultArn],
      recoveryPointTypes: ['SNAPSHOT'],
      selectionWindowDays: 7,
    },
  });
  const role = new iam.Role(scope, 'RestoreTestingRole', {
    assumedBy: new iam.ServicePrincipal('backup.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
    }),
    description: `Restores the recovery points of ${scope.node.path} in restore tests`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores')],
  });
  acknowledge(role, {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]':
      'The AWS-maintained service role policy that AWS Backup documents for restore testing; AWS Backup deletes the restored instance itself.',
  });
  // The restored instance is reachable by nothing: no rule admits anyone.
  const closed = new ec2.SecurityGroup(scope, 'RestoreTestingSecurityGroup', {
    vpc: options.vpc,
    description: 'Restore tests of the database: admits nothing, reaches nothing',
    allowAllOutbound: false,
  });
  const selection = new backup.CfnRestoreTestingSelection(scope, 'RestoreTestingSelection', {
    restoreTestingPlanName: plan.restoreTestingPlanName,
    restoreTestingSelectionName: 'writer',
    protectedResourceType: 'RDS',
    protectedResourceArns: [options.instance.instanceArn],
    iamRoleArn: role.roleArn,
    validationWindowHours: 1,
    restoreMetadataOverrides: {
      dbInstanceClass: 'db.t3.small',
      multiAz: 'false',
      publiclyAccessible: 'false',
      dbSubnetGroupName: options.subnetGroup.subnetGroupName,
      dbParameterGroupName: options.parameterGroup.bindToInstance({}).parameterGroupName,
      vpcSecurityGroupIds: Stack.of(scope).toJsonString([closed.securityGroupId]),
    },
  });
  // The selection names its plan by name, not by a reference: it must come after it.
  selection.node.addDependency(plan);
  return plan;
}

/** A count of AWS Backup's jobs on the vault `vaultName` for RDS, summed per hour. */
export function backupJobs(metricName: string, vaultName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Backup',
    metricName,
    dimensionsMap: { BackupVaultName: vaultName, ResourceType: 'RDS' },
    statistic: 'Sum',
    period: Duration.hours(1),
    ...props,
  });
}
