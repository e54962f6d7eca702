import { Token } from 'aws-cdk-lib';
import { ConfigurationError } from '../private/errors';
import { requireWholeNumber } from '../private/validate';

const MIN_STORAGE = 20;
const MAX_STORAGE = 65536;
export const RESERVED_USERNAMES = ['admin', 'rdsadmin', 'rds_superuser', 'rdsrepladmin'];

/** Memory in GiB of the general-purpose (t, m) sizes; memory-optimized (r) classes have twice as much. */
const GENERAL_MEMORY_GIB: { [size: string]: number } = {
  'micro': 1,
  'small': 2,
  'medium': 4,
  'large': 8,
  'xlarge': 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
  '24xlarge': 384,
};

/**
 * RDS for PostgreSQL's default `max_connections`: `LEAST(DBInstanceClassMemory /
 * 9531392, 5000)` (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections),
 * with 90% of the class's memory counted; 0 when the class is not a t, m or r class the table knows.
 */
export function estimatedMaxConnections(instanceType: string): number {
  const [family, size] = instanceType.split('.');
  const general = GENERAL_MEMORY_GIB[size];
  const factor = /^[tm]\d/.test(family) ? 1 : /^r\d/.test(family) && size !== 'micro' && size !== 'small' && size !== 'medium' ? 2 : 0;
  if (general === undefined || factor === 0) return 0;
  return Math.min(Math.floor((general * factor * 0.9 * 2 ** 30) / 9531392), 5000);
}

/**
 * A DB snapshot's name, or its ARN in this region: RDS restores only snapshots of
 * its own region, and an AWS Backup recovery point of RDS is restored by its RDS
 * snapshot ARN, not by the recovery point's.
 */
export function validateSnapshotIdentifier(snapshot: string, region: string): void {
  if (Token.isUnresolved(snapshot)) return;
  const fix = 'Give the name or ARN of a DB snapshot in this region, such as \'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c\'.';
  if (snapshot.startsWith('arn:')) {
    const parts = snapshot.split(':');
    if (parts[2] !== 'rds' || parts[5] !== 'snapshot' || parts.length < 7) {
      throw new ConfigurationError(`\`snapshotIdentifier\` ('${snapshot}') is not the ARN of a DB snapshot: an AWS Backup recovery point of RDS is restored ` +
        `by its RDS snapshot ARN ('arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-…'), and a cluster snapshot makes a cluster. ${fix}`);
    }
    if (!Token.isUnresolved(region) && parts[3] !== region) {
      throw new ConfigurationError(`\`snapshotIdentifier\` ('${snapshot}') is in ${parts[3]}, but the database is in ${region}: RDS restores only ` +
        'snapshots of its own region. Copy it here first (`aws rds copy-db-snapshot`, or a copy action of AWS Backup).');
    }
  } else if (!/^[A-Za-z][A-Za-z0-9:-]{0,254}$/.test(snapshot)) {
    throw new ConfigurationError(`\`snapshotIdentifier\` ('${snapshot}') is not a DB snapshot name: letters, digits, '-' and ':', starting with a letter. ${fix}`);
  }
}

export function validateStorage(allocated: number, max: number): void {
  requireWholeNumber('allocatedStorage', allocated, MIN_STORAGE, MAX_STORAGE, 'GiB');
  const minimumMax = Math.ceil((allocated * 11) / 10);
  if (!Number.isInteger(max) || max < minimumMax || max > MAX_STORAGE) {
    throw new ConfigurationError(
      `\`maxAllocatedStorage\` (${max}) must be a whole number of GiB from ${minimumMax} (10% above \`allocatedStorage\`, ${allocated}) ` +
      `to ${MAX_STORAGE}: storage autoscaling needs room to grow. Raise it, or lower \`allocatedStorage\`.`);
  }
}

export function validateUsername(username: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(username)) {
    throw new ConfigurationError(`\`masterUsername\` ('${username}') must be 1 to 16 letters, digits or underscores, starting with a letter.`);
  }
  if (RESERVED_USERNAMES.includes(username.toLowerCase()) || username.toLowerCase().startsWith('pg_')) {
    throw new ConfigurationError(`\`masterUsername\` ('${username}') is reserved by PostgreSQL on RDS: choose another, such as 'codelearn_admin'.`);
  }
}

export function validateDatabaseName(name: string): void {
  // Lowercase: PostgreSQL folds unquoted names, and the users function grants on it by name.
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) {
    throw new ConfigurationError(`\`databaseName\` ('${name}') must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.`);
  }
}
