import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigurationError } from '../private/errors';
import { customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, acknowledgeGrantedWildcards, findingValue } from '../private/nag';
import { requireWholeDays } from '../private/validate';

/**
 * Where the uploads and backups buckets replicate to, for disaster recovery.
 */
export interface StorageReplication {
  /** The bucket in another region that receives copies of the uploads. */
  readonly uploadsDestination: s3.IBucket;

  /** The bucket in another region that receives copies of the backups. */
  readonly backupsDestination: s3.IBucket;

  /**
   * The KMS key in the destination region that encrypts the copies. Every object
   * of these buckets is KMS-encrypted, and S3 replicates KMS-encrypted objects
   * only into a key it is told.
   */
  readonly destinationKey: kms.IKey;
}

/**
 * What a user may set on the storage.
 */
export interface StorageOptions {
  /**
   * Origins that browsers may upload from with presigned URLs (CORS on the uploads
   * bucket). The presigned URL carries the authorization; CORS only decides which
   * web pages may use it.
   *
   * @default ['*']
   */
  readonly uploadsAllowedOrigins?: string[];

  /**
   * How long backups are kept before they expire: at least 31 days, since they
   * move to Glacier Instant Retrieval after 30 (which bills 90 days at least, so a
   * retention under 120 days costs more there than it saves).
   *
   * @default Duration.days(365)
   */
  readonly backupRetention?: Duration;

  /**
   * S3 Object Lock on the backups bucket (write once, read many): every backup
   * version is kept, unchanged, for the retention, whoever asks to delete it.
   * In governance mode (`s3.ObjectLockRetention.governance(Duration.days(30))`), a
   * principal allowed `s3:BypassGovernanceRetention` can still delete a locked
   * version; in compliance mode (`s3.ObjectLockRetention.compliance(...)`) nobody
   * can, the account root included, until the retention ends. The retention may
   * not be longer than `backupRetention`.
   *
   * Decide it before the first deploy: Object Lock cannot be turned off, and
   * turning it on later replaces the backups bucket (CloudFormation creates a new,
   * empty bucket; the old one is retained with its backups). With `replication`,
   * the backups destination must have Object Lock enabled too.
   *
   * @default - no Object Lock: versioning keeps overwritten and deleted backups for 30 days, but a principal allowed `s3:DeleteObjectVersion` can erase them
   */
  readonly backupsObjectLock?: s3.ObjectLockRetention;

  /**
   * How long server access logs are kept.
   *
   * @default Duration.days(365)
   */
  readonly accessLogRetention?: Duration;

  /**
   * Cross-region replication of the uploads and backups buckets.
   *
   * @default - no replication
   */
  readonly replication?: StorageReplication;

  /**
   * The KMS key that encrypts the buckets. A `kms.Key` of this app gets the
   * statement that lets `logging.s3.amazonaws.com` generate data keys for this
   * account's buckets; a key imported by ARN must allow it already, or access logs
   * are not delivered.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the buckets and the key when they leave the stack. Buckets
   * that are destroyed must be empty first.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of a `Storage`.
 */
export interface StorageProps extends StorageOptions {}

const DAYS_TO_INFREQUENT_ACCESS = 30;
const NONCURRENT_VERSIONS_KEPT_DAYS = 90;
const INCOMPLETE_UPLOAD_DAYS = 7;

/**
 * The platform's S3 buckets: static assets, user uploads and backups, and a bucket
 * for their server access logs.
 *
 * Every bucket blocks public access, requires TLS 1.2, disables ACLs, is
 * versioned, logs its access, expires what it no longer needs, and is retained
 * on delete. Every bucket, the log bucket included, is encrypted with one
 * customer-managed KMS key; S3 Bucket Keys keep its cost low.
 *
 * @example
 * const storage = new Storage(this, 'Storage', {
 *   uploadsAllowedOrigins: ['https://learn.example.com'],
 * });
 * declare const role: iam.IRole;
 * storage.grantReadWriteUploads(role);
 */
export class Storage extends Construct {
  /** The bucket that receives the server access logs of the other buckets. */
  public readonly accessLogsBucket: s3.Bucket;

  /**
   * Static assets served through CloudFront. Versioned, so that a bad deploy of
   * assets can be rolled back; old versions expire after 90 days.
   */
  public readonly staticAssetsBucket: s3.Bucket;

  /** Files users upload, with CORS for presigned browser uploads. */
  public readonly uploadsBucket: s3.Bucket;

  /** Database exports and other backups; moved to Glacier Instant Retrieval after 30 days. */
  public readonly backupsBucket: s3.Bucket;

  /** The key that encrypts every bucket. */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    // S3 server access logs are delivered through a bucket policy, not the
    // LogDeliveryWrite ACL, whatever the app's feature flags: ACLs stay disabled.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const backupDays = requireWholeDays('backupRetention', props.backupRetention ?? Duration.days(365), DAYS_TO_INFREQUENT_ACCESS + 1, undefined,
      `backups move to Glacier Instant Retrieval after ${DAYS_TO_INFREQUENT_ACCESS} days, and S3 accepts a lifecycle rule only when objects expire after their last transition`);
    if (props.backupsObjectLock) {
      requireWholeDays('backupsObjectLock', props.backupsObjectLock.duration, 1, backupDays,
        `a backup cannot expire while it is locked, and backups expire after ${backupDays} days (\`backupRetention\`)`);
    }
    const accessLogDays = requireWholeDays('accessLogRetention', props.accessLogRetention ?? Duration.days(365), 1);
    const origins = props.uploadsAllowedOrigins ?? ['*'];
    validateOrigins(origins);
    if (props.replication && !props.replication.destinationKey) {
      throw new ConfigurationError('`replication.destinationKey` is missing: every object of the uploads and backups buckets is KMS-encrypted, and S3 replicates ' +
        'KMS-encrypted objects only with a key in the destination region. Pass that key (`kms.Key.fromKeyArn(...)`).');
    }

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the buckets of ${this.node.path}`, removalPolicy);

    // S3 server access logging writes into a KMS-encrypted bucket when the key
    // lets the logging service generate data keys, for this account's buckets only.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:s3:::*` },
      },
    }));
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secureBucketDefaults(removalPolicy),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      lifecycleRules: [{
        id: 'expire-access-logs',
        transitions: accessLogDays > DAYS_TO_INFREQUENT_ACCESS
          ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(DAYS_TO_INFREQUENT_ACCESS) }]
          : [],
        expiration: Duration.days(accessLogDays),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    acknowledgeReplication(this.accessLogsBucket,
      'Access logs are operational records kept in the region they describe; they are not replicated for disaster recovery.');

    this.staticAssetsBucket = this.contentBucket('StaticAssets', 'static-assets', removalPolicy, {
      lifecycleRules: [{
        id: 'expire-old-asset-versions',
        noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSIONS_KEPT_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
      }],
    });
    acknowledgeReplication(this.staticAssetsBucket,
      'Static assets are build output that the deployment pipeline can publish again in any region; only uploads and backups are replicated.');

    const replicationRole = props.replication && new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      }),
      description: `Replicates the uploads and backups of ${this.node.path} to another region`,
    });

    this.uploadsBucket = this.contentBucket('Uploads', 'uploads', removalPolicy, {
      cors: [{
        allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD, s3.HttpMethods.PUT, s3.HttpMethods.POST],
        allowedOrigins: origins,
        allowedHeaders: ['*'],
        exposedHeaders: ['ETag'],
        maxAge: 3000,
      }],
      lifecycleRules: [{
        id: 'tier-uploads',
        transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(DAYS_TO_INFREQUENT_ACCESS) }],
        noncurrentVersionTransitions: [{
          storageClass: s3.StorageClass.INFREQUENT_ACCESS,
          transitionAfter: Duration.days(DAYS_TO_INFREQUENT_ACCESS),
        }],
        noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSIONS_KEPT_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
      }],
      replicationRole: replicationRole?.withoutPolicyUpdates(),
      replicationRules: props.replication && [replicationRule(props.replication.uploadsDestination, props.replication.destinationKey)],
    });

    this.backupsBucket = this.contentBucket('Backups', 'backups', removalPolicy, {
      objectLockEnabled: props.backupsObjectLock !== undefined || undefined,
      objectLockDefaultRetention: props.backupsObjectLock,
      lifecycleRules: [{
        id: 'archive-and-expire-backups',
        transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(DAYS_TO_INFREQUENT_ACCESS) }],
        expiration: Duration.days(backupDays),
        noncurrentVersionExpiration: Duration.days(DAYS_TO_INFREQUENT_ACCESS),
        abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
      }],
      replicationRole: replicationRole?.withoutPolicyUpdates(),
      replicationRules: props.replication && [replicationRule(props.replication.backupsDestination, props.replication.destinationKey)],
    });

    dropUnconditionedLogDelivery(this.encryptionKey);
    if (props.replication && replicationRole) {
      this.grantReplication(replicationRole, props.replication, props.backupsObjectLock !== undefined);
    } else {
      for (const bucket of [this.uploadsBucket, this.backupsBucket]) {
        acknowledgeReplication(bucket,
          'Cross-region replication needs a destination bucket in another region, which this stack cannot create; it is enabled by the `replication` option.');
      }
    }
  }

  /** Lets `grantee` read the static assets. */
  public grantReadStaticAssets(grantee: iam.IGrantable): iam.Grant {
    return this.grantObjects(grantee, this.staticAssetsBucket, ['s3:GetObject'], ['kms:Decrypt']);
  }

  /** Lets `grantee` publish static assets: read, write and delete them. */
  public grantWriteStaticAssets(grantee: iam.IGrantable): iam.Grant {
    return this.grantObjects(grantee, this.staticAssetsBucket,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /** Lets `grantee` read, write and delete uploads, and so sign presigned URLs for them. */
  public grantReadWriteUploads(grantee: iam.IGrantable): iam.Grant {
    return this.grantObjects(grantee, this.uploadsBucket,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /** Lets `grantee` write backups (not read or delete them). */
  public grantWriteBackups(grantee: iam.IGrantable): iam.Grant {
    return this.grantObjects(grantee, this.backupsBucket, ['s3:PutObject', 's3:AbortMultipartUpload'], ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /**
   * Explicit object actions (no `s3:*Object*` wildcards), listing of the bucket,
   * and the key actions that those objects need.
   */
  private grantObjects(grantee: iam.IGrantable, bucket: s3.Bucket, objectActions: string[], keyActions: string[]): iam.Grant {
    const objects = iam.Grant.addToPrincipal({ grantee, actions: objectActions, resourceArns: [bucket.arnForObjects('*')] });
    const listing = iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
    // The key only through S3, for these objects: not for decrypting anything else it encrypts.
    const key = iam.Grant.addToPrincipal({
      grantee,
      actions: keyActions,
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    });
    acknowledgeGrantedWildcards(this, objects, [bucket.arnForObjects('*')],
      'The objects of this one bucket: S3 object actions apply to object ARNs, which a client reads and writes by key.');
    return objects.combine(listing).combine(key);
  }

  /**
   * The replication role's permissions, as one managed policy with no wildcard
   * actions: read the versions of the source buckets, write replicas to the
   * destinations, decrypt with the source key and encrypt with the destination key.
   */
  private grantReplication(role: iam.Role, replication: StorageReplication, backupsLocked: boolean): void {
    const pairs = [
      { source: this.uploadsBucket, destination: replication.uploadsDestination },
      { source: this.backupsBucket, destination: replication.backupsDestination },
    ];
    const statements = [
      new iam.PolicyStatement({
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: pairs.map(pair => pair.source.bucketArn),
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        resources: pairs.map(pair => pair.source.arnForObjects('*')),
      }),
      // S3 replicates a locked version with its retention, which it must read.
      ...backupsLocked ? [new iam.PolicyStatement({
        actions: ['s3:GetObjectRetention', 's3:GetObjectLegalHold'],
        resources: [this.backupsBucket.arnForObjects('*')],
      })] : [],
      new iam.PolicyStatement({
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
        resources: pairs.map(pair => pair.destination.arnForObjects('*')),
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.encryptionKey.keyArn] }),
    ];
    statements.push(new iam.PolicyStatement({
      actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [replication.destinationKey.keyArn],
    }));
    const policy = new iam.ManagedPolicy(this, 'ReplicationPolicy', {
      description: `Lets S3 replicate the uploads and backups of ${this.node.path}`,
      statements,
      roles: [role],
    });
    for (const pair of pairs) {
      for (const bucket of [pair.source, pair.destination]) {
        acknowledge(policy, {
          [`AwsSolutions-IAM5[Resource::${findingValue(this, bucket.arnForObjects('*'))}]`]:
            'Replication reads and writes object versions, so it needs the objects (/*) of this one bucket; no other resource is wildcarded.',
        });
      }
    }
  }

  private contentBucket(id: string, purpose: string, removalPolicy: RemovalPolicy, props: s3.BucketProps): s3.Bucket {
    return new s3.Bucket(this, id, {
      ...secureBucketDefaults(removalPolicy),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${purpose}/`,
      ...props,
    });
  }
}

function secureBucketDefaults(removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    removalPolicy,
  };
}

function replicationRule(destination: s3.IBucket, kmsKey: kms.IKey): s3.ReplicationRule {
  return {
    destination,
    kmsKey,
    sseKmsEncryptedObjects: true,
    deleteMarkerReplication: false,
    priority: 0,
    filter: {},
  };
}

function acknowledgeReplication(bucket: s3.Bucket, reason: string): void {
  acknowledgeControlRule(bucket, 'S3BucketReplicationEnabled', reason);
}

function validateOrigins(origins: string[]): void {
  if (origins.length === 0) {
    throw new ConfigurationError('`uploadsAllowedOrigins` is empty: browsers could not upload. List the origins of your web app, or leave it unset for \'*\'.');
  }
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigurationError(`\`uploadsAllowedOrigins\` has '${origin}', which is not an origin: write it as 'https://learn.example.com' (scheme and host, no path), or '*'.`);
    }
  }
}

/**
 * aws-cdk-lib adds, for server access logs into a KMS-encrypted bucket, a key
 * statement that lets `logging.s3.amazonaws.com` decrypt, encrypt and re-encrypt
 * with no condition. Log delivery needs only to generate data keys, which the
 * storage's own statement allows for this account's buckets: the unconditioned
 * one is left out of the key policy as it is written. Only aws-cdk-lib's own
 * statement (no Sid, its four actions) goes: a brought key keeps its owner's.
 */
const CDK_LOG_DELIVERY_ACTIONS = JSON.stringify(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);

function dropUnconditionedLogDelivery(key: kms.IKey): void {
  const cfnKey = key.node.defaultChild;
  if (!(cfnKey instanceof kms.CfnKey)) {
    return;
  }
  const document = cfnKey.keyPolicy;
  cfnKey.keyPolicy = Lazy.uncachedAny({
    produce: context => {
      const rendered = context.resolve(document);
      const statements = [rendered.Statement ?? []].flat().filter((statement: any) =>
        !(statement.Principal?.Service === 'logging.s3.amazonaws.com' && statement.Condition === undefined && statement.Sid === undefined
          && JSON.stringify([statement.Action].flat().sort()) === CDK_LOG_DELIVERY_ACTIONS));
      return { ...rendered, Statement: statements };
    },
  });
}
