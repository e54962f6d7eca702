import { App, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Deployment } from './deployment';
import { ByoVpcPlatformStack } from '../../examples/byo-vpc-platform';
import { CustomServicesPlatformStack } from '../../examples/custom-services-platform';
import { DefaultPlatformStack } from '../../examples/default-platform';
import { DevelopmentPlatformStack } from '../../examples/development-platform';
import {
  CacheEngine, Cluster, CodeLearnPlatform, DataAccess, Edge, MessageBroker, Microservice, Network, NodeScaling, PlatformProfile, Storage,
} from '../../src';
import { Flags, testApp } from '../support/app';

/** One configuration the deploy rules judge. */
export interface Configuration {
  readonly name: string;
  readonly flags: Flags;
  readonly build: (app: App) => void;
}

const US_EAST_1 = { account: '123456789012', region: 'us-east-1' };
const EU_WEST_1 = { account: '123456789012', region: 'eu-west-1' };

/**
 * Every configuration the tests synthesize: the default platform (with and
 * without the `cdk init` flags), the development profile, every example app, one
 * with every option set, one outside us-east-1, Kafka, and the parts alone.
 */
export const CONFIGURATIONS: Configuration[] = [
  { name: 'the default platform', flags: Flags.NONE, build: app => new DefaultPlatformStack(app, 'CodeLearn') },
  { name: 'the default platform', flags: Flags.CDK_INIT, build: app => new DefaultPlatformStack(app, 'CodeLearn') },
  { name: 'the development example', flags: Flags.CDK_INIT, build: app => new DevelopmentPlatformStack(app, 'CodeLearnDev') },
  { name: 'the custom services example', flags: Flags.CDK_INIT, build: app => new CustomServicesPlatformStack(app, 'CodeLearnCustom') },
  { name: 'the brought VPC example', flags: Flags.CDK_INIT, build: app => new ByoVpcPlatformStack(app, 'CodeLearnByoVpc') },
  {
    name: 'the Kafka platform',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnKafka'), 'Platform', { messaging: { broker: MessageBroker.kafka() } }),
  },
  {
    name: 'a platform in eu-west-1',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnEu', { env: EU_WEST_1 }), 'Platform'),
  },
  { name: 'every option in us-east-1', flags: Flags.CDK_INIT, build: app => maximal(new Stack(app, 'CodeLearnMax', { env: US_EAST_1 })) },
  {
    name: '64 services with every kind of data access',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnScale'), 'Platform', {
      services: [
        { name: 'api-gateway', access: [DataAccess.CACHE] },
        ...Array.from({ length: 63 }, (_, index) => ({
          name: `service-${index + 1}`,
          path: `/api/s${index + 1}/*`,
          access: [DataAccess.DATABASE, DataAccess.CACHE, DataAccess.MESSAGING, DataAccess.UPLOADS],
        })),
      ],
    }),
  },
  {
    name: 'a Microservice with an Edge on a Cluster',
    flags: Flags.CDK_INIT,
    build: app => {
      const stack = new Stack(app, 'Parts', { env: US_EAST_1 });
      const network = new Network(stack, 'Network');
      const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
      const storage = new Storage(stack, 'Storage');
      new Edge(stack, 'Edge', {
        vpc: network.vpc,
        services: [
          new Microservice(stack, 'Gateway', { cluster, name: 'api-gateway' }),
          new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*', canary: { weight: 50 } }),
        ],
        workloadSecurityGroup: network.workloadSecurityGroup,
        serverAccessLogsBucket: storage.accessLogsBucket,
        staticAssetsBucket: storage.staticAssetsBucket,
      });
    },
  },
];

/** The platform with every option set. */
function maximal(stack: Stack): void {
  const drKey = (id: string) => kms.Key.fromKeyArn(stack, id, 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  new CodeLearnPlatform(stack, 'Platform', {
    network: { cidr: '10.8.0.0/16', maxAzs: 3, natGateways: 3, interfaceEndpoints: Network.eksInterfaceEndpoints() },
    database: {
      readReplicas: 2,
      backupCopyVault: backup.BackupVault.fromBackupVaultArn(stack, 'DrVault', 'arn:aws:backup:us-west-2:123456789012:backup-vault:dr'),
      automatedBackupReplication: { region: 'us-west-2', encryptionKey: drKey('DrDatabaseKey') },
    },
    cache: { engine: CacheEngine.VALKEY, shards: 3, replicasPerShard: 2 },
    messaging: { broker: MessageBroker.kafka({ brokersPerAz: 2 }) },
    cluster: {
      publicEndpointCidrs: ['203.0.113.0/24'],
      spotNodes: { minSize: 1, desiredSize: 1 },
      nodeScaling: NodeScaling.clusterAutoscaler({ cpuTargetTrackingPercent: 70 }),
      scheduledScaling: [{ name: 'weekday-morning', schedule: '0 7 * * MON-FRI', minSize: 4, desiredSize: 4 }],
    },
    services: [
      ...CodeLearnPlatform.defaultServices(),
      {
        name: 'feed-service',
        path: '/api/feed/*',
        spot: true,
        memoryTarget: 80,
        canary: { weight: 20 },
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
    observability: { alarmEmails: ['oncall@example.com'] },
    logRetention: logs.RetentionDays.TWO_YEARS,
    profile: PlatformProfile.PRODUCTION,
    storage: {
      uploadsAllowedOrigins: ['https://learn.example.com'],
      replication: {
        uploadsDestination: s3.Bucket.fromBucketName(stack, 'UploadsDr', 'codelearn-uploads-dr'),
        backupsDestination: s3.Bucket.fromBucketArn(stack, 'BackupsDr', 'arn:aws:s3:::codelearn-backups-dr'),
        destinationKey: drKey('DrKey'),
      },
    },
  });
}

const cache = new Map<string, Deployment>();

/** The deployment of `configuration`, synthesized once per test file. */
export function deploymentOf(configuration: Configuration): Deployment {
  const key = `${configuration.name} (${configuration.flags})`;
  let deployment = cache.get(key);
  if (!deployment) {
    const app = testApp({ flags: configuration.flags });
    configuration.build(app);
    deployment = Deployment.of(key, app);
    cache.set(key, deployment);
  }
  return deployment;
}
