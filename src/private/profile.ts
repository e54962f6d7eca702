import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { PlatformProfile } from '../profile';

/**
 * What a profile sets wherever the user sets nothing. Every default that differs
 * between the profiles is here, and only here: the table answers "what does
 * development change?".
 */
export interface ProfileDefaults {
  /** How long log groups keep their logs. */
  readonly logRetention: logs.RetentionDays;
  /** A NAT gateway in every Availability Zone, or one for the VPC. */
  readonly natGatewayPerZone: boolean;
  readonly cluster: {
    readonly instanceSize: ec2.InstanceSize;
    readonly nodes: { readonly minSize: number; readonly maxSize: number; readonly desiredSize: number };
    readonly spot: boolean;
    readonly detailedMonitoring: boolean;
  };
  /** What every service gets unless its definition says otherwise. */
  readonly service: {
    readonly minReplicas?: number;
    readonly cpu?: string;
    readonly memory?: string;
    /** The release gate's bake: production's is the services' own default (5 minutes). */
    readonly release?: { readonly bakeTime?: Duration };
  };
  readonly database: {
    readonly multiAz: boolean;
    readonly readReplicas: number;
    readonly proxy: boolean;
    readonly backupVaultLock: boolean;
    readonly backupMonitoring: boolean;
    readonly restoreTesting: boolean;
  };
  /** Instance types without the service's prefix (`cache.`, `mq.`, `kafka.`), which the parts add. */
  readonly cache: { readonly shards: number; readonly replicasPerShard: number; readonly nodeType: string };
  readonly messaging: {
    readonly rabbitMqInstanceType: string;
    /** A three-node cluster across zones, or a single instance. */
    readonly rabbitMqCluster: boolean;
    readonly kafkaInstanceType: string;
  };
  readonly edge: { readonly priceClass: cloudfront.PriceClass };
}

const PROFILE_DEFAULTS: Record<PlatformProfile, ProfileDefaults> = {
  [PlatformProfile.PRODUCTION]: {
    logRetention: logs.RetentionDays.ONE_YEAR,
    natGatewayPerZone: true,
    cluster: { instanceSize: ec2.InstanceSize.MEDIUM, nodes: { minSize: 2, maxSize: 10, desiredSize: 3 }, spot: true, detailedMonitoring: true },
    // The services' own defaults (MicroserviceOptions) are production's.
    service: {},
    database: { multiAz: true, readReplicas: 1, proxy: true, backupVaultLock: true, backupMonitoring: true, restoreTesting: true },
    cache: { shards: 2, replicasPerShard: 1, nodeType: 't3.medium' },
    messaging: { rabbitMqInstanceType: 'm7g.large', rabbitMqCluster: true, kafkaInstanceType: 'm5.large' },
    edge: { priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL },
  },
  [PlatformProfile.DEVELOPMENT]: {
    logRetention: logs.RetentionDays.ONE_MONTH,
    natGatewayPerZone: false,
    // One larger node rather than three small ones: the add-ons and the services fit.
    cluster: { instanceSize: ec2.InstanceSize.LARGE, nodes: { minSize: 1, maxSize: 3, desiredSize: 1 }, spot: false, detailedMonitoring: false },
    // Releases are gated on their rollout alone: no traffic to bake them with.
    service: { minReplicas: 1, cpu: '100m', memory: '256Mi', release: { bakeTime: Duration.seconds(0) } },
    database: { multiAz: false, readReplicas: 0, proxy: false, backupVaultLock: false, backupMonitoring: false, restoreTesting: false },
    // A replica even here: ElastiCache refuses updates to a cluster-mode cache without one.
    cache: { shards: 1, replicasPerShard: 1, nodeType: 't3.micro' },
    messaging: { rabbitMqInstanceType: 't3.micro', rabbitMqCluster: false, kafkaInstanceType: 't3.small' },
    edge: { priceClass: cloudfront.PriceClass.PRICE_CLASS_100 },
  },
};

/** The defaults of `profile` (production when unset). */
export function profileDefaults(profile?: PlatformProfile): ProfileDefaults {
  return PROFILE_DEFAULTS[profile ?? PlatformProfile.PRODUCTION];
}

/** Whether `profile` (production when unset) is the production profile. */
export function isProduction(profile?: PlatformProfile): boolean {
  return (profile ?? PlatformProfile.PRODUCTION) === PlatformProfile.PRODUCTION;
}
