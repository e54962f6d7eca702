import { App, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CacheEngine, CodeLearnPlatform, CodeLearnPlatformProps, DataAccess, MessageBroker, Network, NodeScaling } from '../../src';

/** Adds a security group open to the world on SSH: a finding for every pack. */
export function openSecurityGroup(stack: Stack): void {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'OtherVpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'] });
  new ec2.SecurityGroup(stack, 'Open', { vpc }).addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
}

/** Synthesizes `app` and returns the error it must throw. */
export function synthError(app: App): string {
  try {
    app.synth();
  } catch (error) {
    return String(error);
  }
  throw new Error('synthesis succeeded, but a finding was expected to fail it');
}

/**
 * The platform's props with every option set: what the compliance, schema and
 * deploy-rule tests build as "a maximal platform".
 */
export function maximalPlatformProps(stack: Stack): CodeLearnPlatformProps {
  const drKey = (id: string) => kms.Key.fromKeyArn(stack, id, 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  return {
    network: { cidr: '10.8.0.0/16', maxAzs: 3, natGateways: 3, interfaceEndpoints: Network.eksInterfaceEndpoints() },
    database: {
      readReplicas: 2,
      backupCopyVault: backup.BackupVault.fromBackupVaultArn(stack, 'DrVault', 'arn:aws:backup:us-west-2:123456789012:backup-vault:dr'),
      automatedBackupReplication: { region: 'us-west-2', encryptionKey: drKey('DrDatabaseKey') },
      backupVaultLockChangeableFor: Duration.days(3),
      restoreTestingSchedule: events.Schedule.cron({ weekDay: 'SAT', hour: '22', minute: '0' }),
      // The writer comes up from a recovery point, as in a region recovery.
      snapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1a2b3c4d',
    },
    cache: { engine: CacheEngine.VALKEY, shards: 3, replicasPerShard: 2 },
    messaging: { broker: MessageBroker.kafka({ brokersPerAz: 2 }) },
    cluster: {
      publicEndpointCidrs: ['203.0.113.0/24'],
      spotNodes: { minSize: 1, desiredSize: 1 },
      nodeScaling: NodeScaling.clusterAutoscaler({ cpuTargetTrackingPercent: 70 }),
      scheduledScaling: [{ name: 'weekday-morning', schedule: '0 7 * * MON-FRI', minSize: 4, desiredSize: 4 }],
      detailedMonitoring: true,
      addonVersions: { 'vpc-cni': 'v1.20.4-eksbuild.2', 'coredns': 'v1.12.4-eksbuild.1' },
      sandboxNodes: { instanceType: new ec2.InstanceType('c6i.large'), minSize: 0, maxSize: 4, desiredSize: 0, podPidsLimit: 512 },
    },
    sandboxes: [{ name: 'code-runner', runtimeClassName: 'gvisor', ephemeralStorage: '1Gi', environment: { LANGUAGES: 'python,javascript' } }],
    services: [
      ...CodeLearnPlatform.defaultServices(),
      {
        name: 'feed-service',
        path: '/api/feed/*',
        spot: true,
        memoryTarget: 80,
        canary: { weight: 20 },
        calls: ['code-runner'],
        access: [DataAccess.MESSAGING, DataAccess.STATIC_ASSETS, DataAccess.UPLOADS],
      },
    ],
    edge: {
      domain: {
        domainName: 'learn.example.com',
        hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
      },
      rateLimit: 500,
    },
    observability: { alarmEmails: ['oncall@example.com'], applicationSignals: true, addonVersion: 'v4.5.0-eksbuild.1' },
    repositoryPrefix: 'codelearn-max',
    logRetention: logs.RetentionDays.TWO_YEARS,
    storage: {
      uploadsAllowedOrigins: ['https://learn.example.com'],
      backupsObjectLock: s3.ObjectLockRetention.governance(Duration.days(30)),
      replication: {
        uploadsDestination: s3.Bucket.fromBucketName(stack, 'UploadsDr', 'codelearn-uploads-dr'),
        backupsDestination: s3.Bucket.fromBucketArn(stack, 'BackupsDr', 'arn:aws:s3:::codelearn-backups-dr'),
        destinationKey: drKey('DrKey'),
      },
    },
  };
}
