import { DeployedResource, Deployment, flatten } from '../deployment';
import { DeployRule, list, where } from '../rule';

/**
 * S3 replicates KMS-encrypted objects only with a destination key: with
 * `SseKmsEncryptedObjects` enabled, `Destination.EncryptionConfiguration`
 * (`ReplicaKmsKeyID`) is required.
 */
export const replicationOfKmsObjectsNamesAKey: DeployRule = {
  id: 'replication-of-kms-objects-names-a-key',
  constraint: 'A replication rule that replicates SSE-KMS objects names the destination key (`Destination.EncryptionConfiguration.ReplicaKmsKeyID`).',
  source: 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_Destination.html ("If SourceSelectionCriteria is specified, you must specify this element")',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const bucket of deployment.resources('AWS::S3::Bucket')) {
      for (const rule of list(bucket.properties.ReplicationConfiguration?.Rules)) {
        const kmsObjects = rule.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status === 'Enabled';
        if (kmsObjects && !rule.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID) {
          violations.push(`${where(bucket)}: replicates KMS-encrypted objects without a destination key`);
        }
      }
    }
    return violations;
  },
};

/**
 * RDS does not create a read replica of an instance whose master password it
 * manages in Secrets Manager.
 */
export const replicasOfUnmanagedPasswords: DeployRule = {
  id: 'replicas-of-unmanaged-passwords',
  constraint: 'No read replica has a source whose master password RDS manages (`ManageMasterUserPassword`).',
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations',
  check(deployment: Deployment): string[] {
    return deployment.resources('AWS::RDS::DBInstance')
      .filter(replica => replica.properties.SourceDBInstanceIdentifier !== undefined)
      .filter(replica => deployment.referenced(replica.template, replica.properties.SourceDBInstanceIdentifier, 'AWS::RDS::DBInstance')?.properties.ManageMasterUserPassword === true)
      .map(replica => `${where(replica)}: its source's master password is managed by RDS`);
  },
};

/**
 * A replica applies the writer's changes: when the writer's storage grows by
 * autoscaling and the replica's cannot, the replica runs out of space and
 * stops replicating.
 */
export const replicasGrowWithTheWriter: DeployRule = {
  id: 'replicas-grow-with-the-writer',
  constraint: 'A read replica of a writer with storage autoscaling autoscales at least as far (`MaxAllocatedStorage`).',
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const replica of deployment.resources('AWS::RDS::DBInstance')) {
      if (replica.properties.SourceDBInstanceIdentifier === undefined) continue;
      const source = deployment.referenced(replica.template, replica.properties.SourceDBInstanceIdentifier, 'AWS::RDS::DBInstance');
      const writerMax = source?.properties.MaxAllocatedStorage;
      if (writerMax !== undefined && !(replica.properties.MaxAllocatedStorage >= writerMax)) {
        violations.push(`${where(replica)}: grows to ${replica.properties.MaxAllocatedStorage ?? 'its allocated storage'}, its writer to ${writerMax} GiB`);
      }
    }
    return violations;
  },
};

/**
 * S3 refuses a lifecycle rule that expires objects before, or when, it moves them
 * to their last storage class, and a transition to Standard-IA or One Zone-IA
 * before 30 days.
 */
export const lifecycleExpiresAfterTransitions: DeployRule = {
  id: 'lifecycle-expires-after-transitions',
  constraint: 'In every lifecycle rule, objects (and noncurrent versions) expire after their last transition; transitions to STANDARD_IA or ONEZONE_IA come at 30 days or later.',
  source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html; ' +
    'https://docs.aws.amazon.com/AmazonS3/latest/API/API_Transition.html ("STANDARD_IA or ONEZONE_IA ... greater than 30")',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const bucket of deployment.resources('AWS::S3::Bucket')) {
      for (const rule of list(bucket.properties.LifecycleConfiguration?.Rules)) {
        const transitions = list(rule.Transitions).map((transition: any) => [transition.StorageClass, transition.TransitionInDays]);
        const noncurrent = list(rule.NoncurrentVersionTransitions).map((transition: any) => [transition.StorageClass, transition.TransitionInDays]);
        const lastTransition = Math.max(0, ...transitions.map(([, days]) => days));
        const lastNoncurrentTransition = Math.max(0, ...noncurrent.map(([, days]) => days));
        if (rule.ExpirationInDays !== undefined && transitions.length > 0 && !(rule.ExpirationInDays > lastTransition)) {
          violations.push(`${where(bucket)}: rule ${rule.Id} expires objects at ${rule.ExpirationInDays} days, not after their transition at ${lastTransition}`);
        }
        const noncurrentDays = rule.NoncurrentVersionExpiration?.NoncurrentDays;
        if (noncurrentDays !== undefined && noncurrent.length > 0 && !(noncurrentDays > lastNoncurrentTransition)) {
          violations.push(`${where(bucket)}: rule ${rule.Id} expires noncurrent versions at ${noncurrentDays} days, not after their transition at ${lastNoncurrentTransition}`);
        }
        for (const [storageClass, days] of [...transitions, ...noncurrent]) {
          if (['STANDARD_IA', 'ONEZONE_IA'].includes(storageClass) && days < 30) {
            violations.push(`${where(bucket)}: rule ${rule.Id} moves objects to ${storageClass} after ${days} days, before 30`);
          }
        }
      }
    }
    return violations;
  },
};

/**
 * AWS Backup refuses to store a recovery point in a locked vault for less than the
 * lock's minimum retention: the backup job fails.
 */
export const lockedVaultsKeepWhatPlansStore: DeployRule = {
  id: 'locked-vaults-keep-what-plans-store',
  constraint: 'A backup plan rule that targets a locked vault keeps its recovery points at least the lock\'s `MinRetentionDays` (and at most `MaxRetentionDays`).',
  source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html ("backup and copy jobs ... will fail if the retention period is shorter than the minimum")',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const plan of deployment.resources('AWS::Backup::BackupPlan')) {
      for (const rule of list(plan.properties.BackupPlan?.BackupPlanRule)) {
        const vault = deployment.referenced(plan.template, rule.TargetBackupVault, 'AWS::Backup::BackupVault');
        const lock = vault?.properties.LockConfiguration;
        if (!lock) continue;
        const days = rule.Lifecycle?.DeleteAfterDays;
        if (days === undefined || days < lock.MinRetentionDays || (lock.MaxRetentionDays !== undefined && days > lock.MaxRetentionDays)) {
          violations.push(`${where(plan)}: rule ${rule.RuleName} keeps recovery points ${days ?? 'forever'} days in a vault locked to ${lock.MinRetentionDays}-${lock.MaxRetentionDays ?? '∞'}`);
        }
      }
    }
    return violations;
  },
};

/**
 * A bucket with Object Lock cannot receive server access logs, and S3 replicates
 * a locked object only when the replication role can read its retention and
 * legal hold.
 */
export const lockedBucketsStayUsable: DeployRule = {
  id: 'locked-buckets-stay-usable',
  constraint: 'No bucket logs into a bucket with Object Lock, and a locked bucket that replicates lets its role read `s3:GetObjectRetention` and `s3:GetObjectLegalHold`.',
  source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html ("S3 buckets with Object Lock can\'t be used as destination buckets for server access logs"); ' +
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-replication',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const buckets = deployment.resources('AWS::S3::Bucket');
    const locked = buckets.filter(bucket => bucket.properties.ObjectLockEnabled === true);
    for (const bucket of buckets) {
      const destination = bucket.properties.LoggingConfiguration?.DestinationBucketName;
      const target = destination && deployment.target(bucket.template, destination);
      if (target && locked.some(lockedBucket => lockedBucket.template === target.template && lockedBucket.logicalId === target.logicalId)) {
        violations.push(`${where(bucket)}: delivers access logs into ${where(target)}, which has Object Lock`);
      }
    }
    for (const bucket of locked) {
      const role = bucket.properties.ReplicationConfiguration?.Role;
      if (role === undefined) continue;
      const roleResource = deployment.target(bucket.template, role);
      const actions = deployment.resources('AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy')
        .filter(policy => list(policy.properties.Roles).some(ref => deployment.target(policy.template, ref)?.logicalId === roleResource?.logicalId))
        .flatMap(policy => list(policy.properties.PolicyDocument?.Statement))
        .filter(statement => statement.Effect === 'Allow' && deployment.referenced(bucket.template, statement.Resource, 'AWS::S3::Bucket') !== undefined)
        .flatMap(statement => list<string>(statement.Action));
      for (const action of ['s3:GetObjectRetention', 's3:GetObjectLegalHold']) {
        if (!actions.includes(action)) violations.push(`${where(bucket)}: replicates locked objects, but its role may not ${action}`);
      }
    }
    return violations;
  },
};

/** ElastiCache user and user group IDs: a letter, then letters, digits and single hyphens, at most 40. */
const ELASTICACHE_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The oldest engine versions that sign in with IAM. */
const IAM_SIGN_IN: Record<string, number> = { redis: 7.0, valkey: 7.2 };

/**
 * A replication group authenticates one way: ElastiCache refuses a user group on
 * a group with an AUTH token ("User group can't be associated with auth token
 * enabled"), and both need encryption in transit.
 */
export const cacheAuthenticatesOneWay: DeployRule = {
  id: 'cache-authenticates-one-way',
  constraint: 'No replication group carries both `AuthToken` and `UserGroupIds`, and either needs `TransitEncryptionEnabled`.',
  source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html ("--transit-encryption-enabled – Required for authentication and for associating a user group"); ' +
    'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const group of deployment.resources('AWS::ElastiCache::ReplicationGroup')) {
      const token = group.properties.AuthToken !== undefined;
      const userGroups = list(group.properties.UserGroupIds).length > 0;
      if (token && userGroups) violations.push(`${where(group)}: has an AUTH token and user groups`);
      if ((token || userGroups) && group.properties.TransitEncryptionEnabled !== true) {
        violations.push(`${where(group)}: authenticates without encryption in transit`);
      }
    }
    return violations;
  },
};

/**
 * A cluster-mode cache stays updatable and is never emptied by a replacement.
 * ElastiCache creates a cluster-mode replication group without replicas, then
 * refuses every update of it ("must have at least one read replica to enable
 * autofailover"; failover cannot be turned off in cluster mode). And a
 * replacement (engine, key, sign-in, perhaps the replica count) would be a new,
 * empty cache: under a literal `ReplicationGroupId` CloudFormation refuses it
 * instead ("cannot update a stack when a custom-named resource requires
 * replacing"). The ID must fit the rules ElastiCache sets, and leave room for the
 * node IDs (`<id>-0001-001`, 50 characters at most).
 */
export const cachesStayUpdatable: DeployRule = {
  id: 'caches-stay-updatable',
  constraint: 'A cluster-mode replication group has `ReplicasPerNodeGroup` of 1 or more and a literal `ReplicationGroupId` ' +
    '(a letter, then lowercase letters, digits and single hyphens, at most 40 characters).',
  source: 'https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1275; ' +
    'https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html (ReplicationGroupId); ' +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const group of deployment.resources('AWS::ElastiCache::ReplicationGroup')) {
      if (group.properties.ClusterMode !== 'enabled') continue;
      if (!(Number(group.properties.ReplicasPerNodeGroup) >= 1)) {
        violations.push(`${where(group)}: ReplicasPerNodeGroup ${group.properties.ReplicasPerNodeGroup}: ElastiCache refuses every update without a replica`);
      }
      const id = group.properties.ReplicationGroupId;
      if (typeof id !== 'string') {
        violations.push(`${where(group)}: no literal ReplicationGroupId, so a replacement would go through and empty the cache`);
      } else if (!/^[a-z](?!.*--)[a-z0-9-]{0,39}$/.test(id) || id.endsWith('-')) {
        violations.push(`${where(group)}: ReplicationGroupId '${id}' is not a letter, then lowercase letters, digits and single hyphens, at most 40`);
      }
    }
    return violations;
  },
};

/** The Regions where MSK has no storage auto scaling. */
const NO_KAFKA_STORAGE_SCALING = ['ap-northeast-3', 'af-south-1', 'ap-southeast-5'];

/**
 * What Application Auto Scaling and MSK accept of broker storage scaling: the
 * target is an MSK cluster's ARN, its minimum is the volume the cluster starts
 * with and its maximum at most 16384 GiB; the one policy is target tracking on
 * `KafkaBrokerStorageUtilization` from 10 to 80%, scale-in off (MSK never
 * shrinks a volume); and no target is made in a Region without MSK storage
 * scaling (a stack of no Region carries a condition instead).
 */
export const kafkaStorageScalingIsAccepted: DeployRule = {
  id: 'kafka-storage-scaling-is-accepted',
  constraint: 'A kafka:broker-storage:VolumeSize target names an MSK cluster, starts at its VolumeSize and ends at 16384 GiB or less; ' +
    'its policy tracks KafkaBrokerStorageUtilization at 10 to 80% with scale-in disabled; none exists where MSK has no storage scaling.',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand.html; ' +
    'https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand-details.html (10% to 80%, 16 TiB); ' +
    'https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-msk.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const target of deployment.resources('AWS::ApplicationAutoScaling::ScalableTarget')) {
      const p = target.properties;
      if (p.ServiceNamespace !== 'kafka') continue;
      const cluster = deployment.target(target.template, p.ResourceId);
      if (p.ScalableDimension !== 'kafka:broker-storage:VolumeSize' || cluster?.type !== 'AWS::MSK::Cluster') {
        violations.push(`${where(target)}: not the broker storage of an MSK cluster`);
        continue;
      }
      const volume = cluster.properties.BrokerNodeGroupInfo?.StorageInfo?.EBSStorageInfo?.VolumeSize;
      if (p.MinCapacity !== volume || !(p.MaxCapacity > volume && p.MaxCapacity <= 16384)) {
        violations.push(`${where(target)}: capacity ${p.MinCapacity} to ${p.MaxCapacity} GiB for volumes of ${volume} GiB`);
      }
      const region = target.template.region;
      if (region && NO_KAFKA_STORAGE_SCALING.includes(region)) violations.push(`${where(target)}: MSK has no storage scaling in ${region}`);
      if (!region && !target.resource.Condition) violations.push(`${where(target)}: no condition keeps it out of the Regions without MSK storage scaling`);
      const policies = deployment.resources('AWS::ApplicationAutoScaling::ScalingPolicy')
        .filter(policy => policy.template === target.template &&
          deployment.target(policy.template, policy.properties.ScalingTargetId)?.logicalId === target.logicalId);
      const tracking = policies.map(policy => policy.properties.TargetTrackingScalingPolicyConfiguration);
      if (policies.length !== 1 || !tracking.every(config =>
        config?.PredefinedMetricSpecification?.PredefinedMetricType === 'KafkaBrokerStorageUtilization' &&
        config.TargetValue >= 10 && config.TargetValue <= 80 && config.DisableScaleIn === true)) {
        violations.push(`${where(target)}: needs one target tracking policy on KafkaBrokerStorageUtilization at 10 to 80%, scale-in disabled`);
      }
    }
    return violations;
  },
};

/**
 * What ElastiCache checks of users and user groups: a Redis-engine user group
 * holds a user named `default` (the platform's is disabled), an IAM user's ID
 * equals its name, IDs are unique in the account and region and of the allowed
 * form, a Valkey user group serves only Valkey caches, and IAM sign-in needs Redis
 * OSS 7.0 or Valkey 7.2.
 */
export const cacheUsersCanSignIn: DeployRule = {
  id: 'cache-users-can-sign-in',
  constraint: 'Every user group has a disabled `default` user, IAM users have UserId = UserName, user and group IDs are unique and valid, ' +
    'and a cache whose group has IAM users runs an engine version that signs them in.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-usergroup.html ("A user named default must be included"); ' +
    'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html#auth-iam-limits; https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const seen = new Map<string, string>();
    const claim = (kind: string, id: any, resource: DeployedResource) => {
      if (typeof id !== 'string') return;
      if (id.length > 40 || !ELASTICACHE_ID.test(id)) violations.push(`${where(resource)}: ${kind} ID '${id}' is not a valid ElastiCache ID`);
      const key = `${kind}:${id}`;
      if (seen.has(key)) violations.push(`${where(resource)}: ${kind} ID '${id}' is taken by ${seen.get(key)}`);
      seen.set(key, where(resource));
    };
    for (const user of deployment.resources('AWS::ElastiCache::User')) {
      claim('user', user.properties.UserId, user);
      if (user.properties.AuthenticationMode?.Type === 'iam' && user.properties.UserId !== user.properties.UserName) {
        violations.push(`${where(user)}: signs in with IAM, but its ID and name differ`);
      }
    }
    const groupsOf = new Map<string, DeployedResource>();
    for (const group of deployment.resources('AWS::ElastiCache::UserGroup')) {
      claim('user group', group.properties.UserGroupId, group);
      groupsOf.set(`${group.template.path}#${group.logicalId}`, group);
      const members = list(group.properties.UserIds).map(id => deployment.target(group.template, id));
      const nobody = members.find(member => member?.properties.UserName === 'default');
      if (group.properties.Engine === 'redis' && !nobody) violations.push(`${where(group)}: has no user named default`);
      if (nobody && !/^off\b/.test(String(nobody.properties.AccessString))) violations.push(`${where(group)}: its default user is not disabled`);
    }
    for (const cache of deployment.resources('AWS::ElastiCache::ReplicationGroup')) {
      for (const ref of list(cache.properties.UserGroupIds)) {
        const group = deployment.target(cache.template, ref);
        if (!group) continue;
        if (group.properties.Engine === 'valkey' && cache.properties.Engine !== 'valkey') {
          violations.push(`${where(cache)}: a ${cache.properties.Engine} cache cannot use the Valkey user group ${where(group)}`);
        }
        const iamUsers = list(group.properties.UserIds).map(id => deployment.target(group.template, id))
          .filter(user => user?.properties.AuthenticationMode?.Type === 'iam');
        const oldest = IAM_SIGN_IN[cache.properties.Engine];
        if (iamUsers.length > 0 && !(parseFloat(cache.properties.EngineVersion) >= oldest)) {
          violations.push(`${where(cache)}: ${cache.properties.Engine} ${cache.properties.EngineVersion} cannot sign IAM users in (${oldest} or later)`);
        }
      }
    }
    return violations;
  },
};

/** Names AWS Backup gives restore testing plans and selections: letters, digits and '_', 50 at most. */
const RESTORE_TESTING_NAME = /^[A-Za-z0-9_]{1,50}$/;

/**
 * What a restore test of RDS needs to run and stay closed: AWS Backup otherwise
 * infers the default VPC (and fails without one), so the selection names the
 * subnet group and security groups; the restored copy is single-AZ and private;
 * names, windows and ranges are within AWS Backup's limits; the role trusts AWS
 * Backup; and a plan tests the vaults of its own region only.
 */
export const restoreTestsCanRun: DeployRule = {
  id: 'restore-tests-can-run',
  constraint: 'A restore testing selection of RDS overrides dbSubnetGroupName and vpcSecurityGroupIds (a JSON list), is single-AZ and private, ' +
    'its names and windows are valid, its role trusts backup.amazonaws.com, and its plan includes only vaults of its own region.',
  source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html; ' +
    'https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html#restore-testing-troubleshooting; ' +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-backup-restoretestingplan.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const plans = deployment.resources('AWS::Backup::RestoreTestingPlan');
    for (const plan of plans) {
      const name = plan.properties.RestoreTestingPlanName;
      if (typeof name === 'string' && !RESTORE_TESTING_NAME.test(name)) {
        violations.push(`${where(plan)}: plan name '${name}' is not letters, digits and '_' (50 at most)`);
      }
      const hours = plan.properties.StartWindowHours;
      if (hours !== undefined && !(hours >= 1 && hours <= 168)) violations.push(`${where(plan)}: start window of ${hours} hours is not 1 to 168`);
      if (!String(plan.properties.ScheduleExpression).startsWith('cron(')) violations.push(`${where(plan)}: schedule is not a cron expression`);
      const selection = plan.properties.RecoveryPointSelection ?? {};
      const days = selection.SelectionWindowDays;
      if (days !== undefined && !(days >= 1 && days <= 365)) violations.push(`${where(plan)}: selection window of ${days} days is not 1 to 365`);
      for (const vault of list(selection.IncludeVaults)) {
        const target = deployment.target(plan.template, vault);
        const region = target ? target.template.region : typeof vault === 'string' ? vault.split(':')[3] : undefined;
        if (region && plan.template.region && region !== '*' && region !== plan.template.region) {
          violations.push(`${where(plan)}: includes a vault of ${region}, but restore tests run in ${plan.template.region}`);
        }
      }
    }
    for (const selection of deployment.resources('AWS::Backup::RestoreTestingSelection')) {
      const name = selection.properties.RestoreTestingSelectionName;
      if (typeof name === 'string' && !RESTORE_TESTING_NAME.test(name)) {
        violations.push(`${where(selection)}: selection name '${name}' is not letters, digits and '_' (50 at most)`);
      }
      const hours = selection.properties.ValidationWindowHours;
      if (hours !== undefined && !(hours >= 1 && hours <= 168)) violations.push(`${where(selection)}: validation window of ${hours} hours is not 1 to 168`);
      if (!plans.some(plan => plan.properties.RestoreTestingPlanName === selection.properties.RestoreTestingPlanName)) {
        violations.push(`${where(selection)}: names a plan the deployment does not make`);
      }
      const role = deployment.target(selection.template, selection.properties.IamRoleArn);
      const trusted = list(role?.properties.AssumeRolePolicyDocument?.Statement).some((statement: any) =>
        list(statement.Principal?.Service).some(service => String(service).startsWith('backup.')));
      if (!trusted) violations.push(`${where(selection)}: its role does not trust backup.amazonaws.com`);
      if (selection.properties.ProtectedResourceType !== 'RDS') continue;
      // AWS Backup reads override keys in any case.
      const overrides = Object.fromEntries(Object.entries<any>(selection.properties.RestoreMetadataOverrides ?? {})
        .map(([key, value]) => [key.toLowerCase(), value]));
      for (const key of ['dbsubnetgroupname', 'vpcsecuritygroupids']) {
        if (overrides[key] === undefined) violations.push(`${where(selection)}: does not override ${key}, so AWS Backup looks for the default VPC`);
      }
      const groups = flatten(overrides.vpcsecuritygroupids ?? '[]');
      if (!groups.startsWith('[') || !groups.endsWith(']')) violations.push(`${where(selection)}: vpcSecurityGroupIds is not a JSON list`);
      if (String(overrides.multiaz ?? 'false') !== 'false') violations.push(`${where(selection)}: restores a Multi-AZ copy`);
      if (String(overrides.publiclyaccessible ?? 'false') !== 'false') violations.push(`${where(selection)}: restores a public copy`);
    }
    return violations;
  },
};

/**
 * RDS restores a snapshot with the snapshot's database, master user and KMS key:
 * CloudFormation rejects `DBName`, `MasterUsername`, `KmsKeyId`,
 * `StorageEncrypted` and `CharacterSetName` next to `DBSnapshotIdentifier`, and a
 * replica in the writer's region shares the writer's key, so it names none.
 */
export const restoredWritersInherit: DeployRule = {
  id: 'restored-writers-inherit',
  constraint: 'An instance restored from a snapshot sets none of DBName, MasterUsername, KmsKeyId, StorageEncrypted, CharacterSetName, ' +
    'and its replicas name no KmsKeyId.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbsnapshotidentifier',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const instance of deployment.resources('AWS::RDS::DBInstance')) {
      if (instance.properties.DBSnapshotIdentifier !== undefined) {
        for (const property of ['DBName', 'MasterUsername', 'KmsKeyId', 'StorageEncrypted', 'CharacterSetName']) {
          if (instance.properties[property] !== undefined) violations.push(`${where(instance)}: is restored from a snapshot but sets ${property}`);
        }
      }
      const source = instance.properties.SourceDBInstanceIdentifier !== undefined
        && deployment.referenced(instance.template, instance.properties.SourceDBInstanceIdentifier, 'AWS::RDS::DBInstance');
      if (source && source.properties.DBSnapshotIdentifier !== undefined && instance.properties.KmsKeyId !== undefined) {
        violations.push(`${where(instance)}: replicates a restored writer but names a KMS key of its own`);
      }
    }
    return violations;
  },
};

/**
 * The data stores take the changes of the following year in place: RDS refuses a
 * new major `EngineVersion` unless `AllowMajorVersionUpgrade` is set, and
 * CloudFormation replaces a cluster-mode cache whose shard count changes unless
 * its `UseOnlineResharding` update policy is set.
 */
export const dataStoresUpgradeInPlace: DeployRule = {
  id: 'data-stores-upgrade-in-place',
  constraint: 'Every instance that names an EngineVersion (a writer) sets AllowMajorVersionUpgrade, and every cluster-mode replication group ' +
    'has the UseOnlineResharding update policy.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-allowmajorversionupgrade; ' +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html#cfn-attributes-updatepolicy-useonlineresharding',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const instance of deployment.resources('AWS::RDS::DBInstance')) {
      if (instance.properties.EngineVersion !== undefined && instance.properties.AllowMajorVersionUpgrade !== true) {
        violations.push(`${where(instance)}: a new major engineVersion would fail the deploy (no AllowMajorVersionUpgrade)`);
      }
    }
    for (const cache of deployment.resources('AWS::ElastiCache::ReplicationGroup')) {
      if (cache.properties.ClusterMode === 'enabled' && cache.resource.UpdatePolicy?.UseOnlineResharding !== true) {
        violations.push(`${where(cache)}: a new shard count would replace the cache (no UseOnlineResharding)`);
      }
    }
    return violations;
  },
};
