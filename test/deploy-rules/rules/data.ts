import { Deployment } from '../deployment';
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
