import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Storage, StorageProps, StorageReplication } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { acknowledgements, complianceFindings } from '../support/nag';

const KEY_ARN = 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function bucketId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket')).filter(id => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('Storage', () => {
  describe('with defaults', () => {
    const stack = testStack();
    const storage = new Storage(stack, 'Storage');
    const template = Template.fromStack(stack);

    test('locks no bucket: Object Lock cannot be undone, so it is chosen', () => {
      template.allResources('AWS::S3::Bucket', { Properties: Match.objectLike({ ObjectLockEnabled: Match.absent(), ObjectLockConfiguration: Match.absent() }) });
    });

    test('creates four buckets: static assets, uploads, backups and access logs', () => {
      template.resourceCountIs('AWS::S3::Bucket', 4);
      expect(storage.staticAssetsBucket).toBeDefined();
      expect(storage.uploadsBucket).toBeDefined();
      expect(storage.backupsBucket).toBeDefined();
      expect(storage.accessLogsBucket).toBeDefined();
    });

    test('every bucket blocks public access, disables ACLs, is versioned, KMS-encrypted and retained', () => {
      const buckets = template.findResources('AWS::S3::Bucket');
      for (const bucket of Object.values(buckets)) {
        expect(bucket.DeletionPolicy).toBe('Retain');
        expect(bucket.UpdateReplacePolicy).toBe('Retain');
        expect(bucket.Properties).toMatchObject({
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          VersioningConfiguration: { Status: 'Enabled' },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^StorageKey/), 'Arn'] },
              },
            }],
          },
        });
      }
    });

    test('every bucket denies requests without TLS 1.2', () => {
      const policies = template.findResources('AWS::S3::BucketPolicy');
      expect(Object.keys(policies)).toHaveLength(4);
      for (const policy of Object.values(policies)) {
        expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]));
      }
    });

    test('the content buckets log their access to the log bucket, each under its own prefix', () => {
      const logs = bucketId(template, 'StorageAccessLogs');
      for (const [id, prefix] of [['StorageStaticAssets', 'static-assets/'], ['StorageUploads', 'uploads/'], ['StorageBackups', 'backups/']]) {
        template.hasResource('AWS::S3::Bucket', Match.objectLike({
          Properties: Match.objectLike({
            LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: prefix },
          }),
        }));
        bucketId(template, id);
      }
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logs },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
          })]),
        },
      });
    });

    test('the key rotates and lets S3 server access logging encrypt, for this account\'s buckets only', () => {
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([{
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 'kms:GenerateDataKey*',
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] } },
            },
          }]),
        },
      });
      // CDK's own statement for the log delivery principal has no condition: it is dropped.
      const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
      const logDelivery = key.Properties.KeyPolicy.Statement.filter((statement: any) => JSON.stringify(statement.Principal).includes('logging.s3'));
      expect(logDelivery).toHaveLength(1);
    });

    test('lifecycle rules: old asset versions expire, uploads tier down, backups archive and expire', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'static-assets/' }),
        LifecycleConfiguration: {
          Rules: [{
            Id: 'expire-old-asset-versions',
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }],
        },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'uploads/' }),
        LifecycleConfiguration: {
          Rules: [{
            Id: 'tier-uploads',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 30 }],
            NoncurrentVersionTransitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }],
        },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'backups/' }),
        LifecycleConfiguration: {
          Rules: [{
            Id: 'archive-and-expire-backups',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }],
        },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: [{
            Id: 'expire-access-logs',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }],
        },
      });
    });

    test('uploads accept browser uploads with presigned URLs from any origin', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        CorsConfiguration: {
          CorsRules: [{
            AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST'],
            AllowedOrigins: ['*'],
            AllowedHeaders: ['*'],
            ExposedHeaders: ['ETag'],
            MaxAge: 3000,
          }],
        },
      });
    });

    test('replicates nothing', () => {
      template.resourceCountIs('AWS::IAM::Role', 0);
      const buckets = template.findResources('AWS::S3::Bucket');
      for (const bucket of Object.values(buckets)) {
        expect(bucket.Properties.ReplicationConfiguration).toBeUndefined();
      }
    });
  });

  test('a grant acknowledges the object wildcard it makes, on the grantee\'s policy, with its reason', () => {
    const stack = testStack();
    const storage = new Storage(stack, 'Storage');
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    storage.grantReadWriteUploads(role);
    expect(complianceFindings(role).filter(finding => finding.startsWith('AwsSolutions-IAM5'))).toEqual([]);
    expect(acknowledgements(role)).toEqual([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<StorageUploads[0-9A-F]{8}\.Arn>\/\*\] Test\/App\/DefaultPolicy$/)]);
  });

  test('grants explicit object actions: uploads read-write, static assets read or write, backups put only', () => {
    const stack = testStack();
    const storage = new Storage(stack, 'Storage');
    const roles = ['Reader', 'Publisher', 'App', 'Backup'].map(id => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }));
    storage.grantReadStaticAssets(roles[0]);
    storage.grantWriteStaticAssets(roles[1]);
    storage.grantReadWriteUploads(roles[2]);
    storage.grantWriteBackups(roles[3]);
    const template = Template.fromStack(stack);
    const actionsOf = (role: string) => {
      const policy = Object.values(template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }] },
      }))[0];
      return policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Action, JSON.stringify(s.Resource).match(/Storage[A-Za-z]+?(?=[0-9A-F]{8})/)?.[0]]);
    };
    expect(actionsOf('Reader')).toEqual([
      ['s3:GetObject', 'StorageStaticAssets'], ['s3:ListBucket', 'StorageStaticAssets'], ['kms:Decrypt', 'StorageKey'],
    ]);
    expect(actionsOf('Publisher')).toEqual([
      [['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], 'StorageStaticAssets'],
      ['s3:ListBucket', 'StorageStaticAssets'], [['kms:Decrypt', 'kms:GenerateDataKey'], 'StorageKey'],
    ]);
    expect(actionsOf('App')).toEqual([
      [['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], 'StorageUploads'],
      ['s3:ListBucket', 'StorageUploads'], [['kms:Decrypt', 'kms:GenerateDataKey'], 'StorageKey'],
    ]);
    expect(actionsOf('Backup')).toEqual([
      [['s3:PutObject', 's3:AbortMultipartUpload'], 'StorageBackups'], ['s3:ListBucket', 'StorageBackups'], [['kms:Decrypt', 'kms:GenerateDataKey'], 'StorageKey'],
    ]);
    // The key only through S3: not for anything else it encrypts.
    const keyStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(policy => policy.Properties.PolicyDocument.Statement)
      .filter((statement: any) => JSON.stringify(statement.Action).includes('kms:'));
    expect(keyStatements).toHaveLength(4);
    for (const statement of keyStatements) {
      expect(statement.Condition).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } });
    }
  });

  test('a brought key keeps its owner\'s statements, and loses only aws-cdk-lib\'s unconditioned one', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Brought', { enableKeyRotation: true });
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OwnersLogging', principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')], actions: ['kms:GenerateDataKey*'], resources: ['*'],
    }));
    new Storage(stack, 'Storage', { encryptionKey: key });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement
      .filter((statement: any) => JSON.stringify(statement.Principal).includes('logging.s3'));
    expect(statements.map((statement: any) => [statement.Sid, statement.Condition === undefined])).toEqual([['OwnersLogging', true], [undefined, false]]);
  });

  describe('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const key = new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true });
    new Storage(stack, 'Storage', {
      uploadsAllowedOrigins: ['https://learn.example.com', 'http://localhost:3000'],
      backupRetention: Duration.days(730),
      backupsObjectLock: s3.ObjectLockRetention.compliance(Duration.days(90)),
      accessLogRetention: Duration.days(14),
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
      replication: {
        uploadsDestination: s3.Bucket.fromBucketName(stack, 'UploadsDr', 'codelearn-uploads-dr'),
        backupsDestination: s3.Bucket.fromBucketName(stack, 'BackupsDr', 'codelearn-backups-dr'),
        destinationKey: kms.Key.fromKeyArn(stack, 'DrKey', KEY_ARN),
      },
    });
    const template = Template.fromStack(stack);

    test('uses the brought key and removal policy', () => {
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    });

    test('limits CORS to the given origins and applies the retentions', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://learn.example.com', 'http://localhost:3000'] })] },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'archive-and-expire-backups', ExpirationInDays: 730 })] },
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 14, Transitions: Match.absent() })] },
      });
    });

    test('replicates uploads and backups, KMS-encrypted, without delete markers', () => {
      for (const name of ['codelearn-uploads-dr', 'codelearn-backups-dr']) {
        template.hasResourceProperties('AWS::S3::Bucket', {
          ReplicationConfiguration: {
            Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageReplicationRole'), 'Arn'] },
            Rules: [{
              Destination: {
                Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}`]] },
                EncryptionConfiguration: { ReplicaKmsKeyID: KEY_ARN },
              },
              SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
              DeleteMarkerReplication: { Status: 'Disabled' },
              Filter: {},
              Priority: 0,
              Status: 'Enabled',
            }],
          },
        });
      }
    });

    test('locks the backups in compliance mode, and only the backups', () => {
      const locked = template.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } });
      expect(Object.keys(locked)).toEqual([bucketId(template, 'StorageBackups')]);
      expect(Object.values(locked)[0].Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 90 } },
      });
      const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Action: ['s3:GetObjectRetention', 's3:GetObjectLegalHold'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(template, 'StorageBackups'), 'Arn'] }, '/*']] },
      });
    });

    test('gives the replication role one managed policy without wildcard actions', () => {
      template.resourceCountIs('AWS::IAM::Role', 1);
      template.resourceCountIs('AWS::IAM::Policy', 0);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          })],
        },
        ManagedPolicyArns: Match.absent(),
      });
      const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
      const actions: string[] = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => s.Action);
      expect(actions).toEqual([
        's3:GetReplicationConfiguration', 's3:ListBucket',
        's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging',
        's3:GetObjectRetention', 's3:GetObjectLegalHold',
        's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner',
        'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey',
      ]);
      expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^StorageReplicationRole/) }]);
    });
  });

  describe('fails on bad input', () => {
    const cases: [string, StorageProps, string][] = [
      ['no origins', { uploadsAllowedOrigins: [] },
        '`uploadsAllowedOrigins` is empty: browsers could not upload. List the origins of your web app, or leave it unset for \'*\'.'],
      ['an origin with a path', { uploadsAllowedOrigins: ['https://learn.example.com/app'] },
        '`uploadsAllowedOrigins` has \'https://learn.example.com/app\', which is not an origin: write it as \'https://learn.example.com\' (scheme and host, no path), or \'*\'.'],
      ['an origin without a scheme', { uploadsAllowedOrigins: ['learn.example.com'] },
        '`uploadsAllowedOrigins` has \'learn.example.com\', which is not an origin: write it as \'https://learn.example.com\' (scheme and host, no path), or \'*\'.'],
      ['backups kept less than a month', { backupRetention: Duration.days(7) },
        '`backupRetention` (7 days) must be a whole number of days, at least 31: backups move to Glacier Instant Retrieval after 30 days, ' +
      'and S3 accepts a lifecycle rule only when objects expire after their last transition.'],
      ['backups kept for part of a day', { backupRetention: Duration.hours(800) },
        '`backupRetention` (33 days 8 hours) must be a whole number of days, at least 31: backups move to Glacier Instant Retrieval after 30 days, ' +
      'and S3 accepts a lifecycle rule only when objects expire after their last transition.'],
      ['a backup lock longer than the backups live', { backupsObjectLock: s3.ObjectLockRetention.governance(Duration.days(400)) },
        '`backupsObjectLock` (400 days) must be a whole number of days from 1 to 365: a backup cannot expire while it is locked, ' +
        'and backups expire after 365 days (`backupRetention`).'],
      ['access logs kept for hours', { accessLogRetention: Duration.hours(12) },
        '`accessLogRetention` (12 hours) must be a whole number of days, at least 1.'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => new Storage(testStack(), 'Storage', props)).toThrow(new Error(message));
    });

    test('replication without a destination key', () => {
      const stack = testStack();
      const replication = {
        uploadsDestination: s3.Bucket.fromBucketName(stack, 'UploadsDr', 'codelearn-uploads-dr'),
        backupsDestination: s3.Bucket.fromBucketName(stack, 'BackupsDr', 'codelearn-backups-dr'),
      } as StorageReplication;
      expect(() => new Storage(stack, 'Storage', { replication })).toThrow(new Error(
        '`replication.destinationKey` is missing: every object of the uploads and backups buckets is KMS-encrypted, and S3 replicates ' +
        'KMS-encrypted objects only with a key in the destination region. Pass that key (`kms.Key.fromKeyArn(...)`).'));
    });

    test('a retention that is a token', () => {
      expect(() => new Storage(testStack(), 'Storage', { backupRetention: Duration.days(Lazy.number({ produce: () => 90 })) }))
        .toThrow(new Error('`backupRetention` must be a literal duration, not a token.'));
    });
  });
});
