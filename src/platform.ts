import { Annotations, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ComplianceChecks } from './compliance-checks';
import { Cluster, ClusterOptions } from './compute';
import { Cache, CacheOptions, Database, DatabaseOptions, Messaging, MessagingOptions, Storage, StorageOptions } from './data';
import { Network, NetworkOptions } from './network';
import { PlatformProfile } from './profile';

/**
 * Properties of a `CodeLearnPlatform`.
 */
export interface CodeLearnPlatformProps {
  /**
   * The profile whose defaults every part uses.
   *
   * @default PlatformProfile.PRODUCTION
   */
  readonly profile?: PlatformProfile;

  /**
   * The network: a new VPC shaped by these options, or a VPC you bring.
   *
   * @default - a new VPC, 10.0.0.0/16 across two Availability Zones
   */
  readonly network?: NetworkOptions;

  /**
   * The EKS cluster, its node groups and node scaling.
   *
   * @default - Kubernetes 1.35, private endpoint, t3.medium on-demand nodes (2 to 10) and a spot group, Cluster Autoscaler
   */
  readonly cluster?: ClusterOptions;

  /**
   * The PostgreSQL database.
   *
   * @default - PostgreSQL 15 on a Multi-AZ db.t3.medium, one read replica and an RDS Proxy
   */
  readonly database?: DatabaseOptions;

  /**
   * The Redis (or Valkey) cache.
   *
   * @default - Redis 7.1 in cluster mode, two shards of cache.t3.medium with a replica each
   */
  readonly cache?: CacheOptions;

  /**
   * The message broker: Amazon MQ for RabbitMQ or Amazon MSK.
   *
   * @default - a private three-node Amazon MQ for RabbitMQ cluster
   */
  readonly messaging?: MessagingOptions;

  /**
   * The S3 buckets: static assets, uploads, backups and their access logs.
   *
   * @default - four KMS-encrypted, versioned, retained buckets
   */
  readonly storage?: StorageOptions;

  /**
   * Register the cdk-nag packs of `ComplianceChecks` (AWS Solutions, HIPAA
   * Security, NIST 800-53 rev 5, PCI DSS 3.2.1) on the platform's stack, so that
   * an unacknowledged finding fails synthesis. They check every resource of that
   * stack, yours included.
   *
   * @default true
   */
  readonly complianceChecks?: boolean;
}

/**
 * The AWS infrastructure of the Code-Learn platform, with the values of its
 * specification as defaults.
 *
 * Each part is a construct of its own that can also be used alone; this class
 * only creates the parts and wires them together.
 *
 * @example
 * new CodeLearnPlatform(this, 'Platform');
 */
export class CodeLearnPlatform extends Construct {
  /** The profile the parts were built with. */
  public readonly profile: PlatformProfile;

  /** The VPC and its subnets, endpoints and flow logs. */
  public readonly network: Network;

  /** The EKS cluster and its nodes. */
  public readonly cluster: Cluster;

  /** The PostgreSQL database, its replicas and its proxy. */
  public readonly database: Database;

  /** The Redis cache. */
  public readonly cache: Cache;

  /** The message broker. */
  public readonly messaging: Messaging;

  /** The S3 buckets. */
  public readonly storage: Storage;

  constructor(scope: Construct, id: string, props: CodeLearnPlatformProps = {}) {
    super(scope, id);
    this.profile = props.profile ?? PlatformProfile.PRODUCTION;

    if (this.profile === PlatformProfile.DEVELOPMENT) {
      Annotations.of(this).addWarningV2('codelearn:development-profile',
        'The development profile trades availability for cost (one NAT gateway, one small node group without spot, a single-AZ database without replica or proxy, one cache node, a single-node broker, shorter log retention). ' +
        'Do not serve production traffic from it.');
    }

    this.network = new Network(this, 'Network', { ...props.network, profile: this.profile });
    // The cluster and the data tier share only the network: CloudFormation creates
    // them in parallel.
    this.cluster = new Cluster(this, 'Cluster', {
      ...props.cluster,
      vpc: this.network.vpc,
      vpcSubnets: this.network.privateSubnets,
      workloadSecurityGroup: this.network.workloadSecurityGroup,
      profile: this.profile,
    });
    this.database = new Database(this, 'Database', {
      ...props.database,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      profile: this.profile,
    });
    this.cache = new Cache(this, 'Cache', {
      ...props.cache,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      profile: this.profile,
    });
    this.messaging = new Messaging(this, 'Messaging', {
      ...props.messaging,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      profile: this.profile,
    });
    this.storage = new Storage(this, 'Storage', props.storage);

    // Data stores admit the workloads' security group, never a CIDR block.
    this.database.connections.allowDefaultPortFrom(this.network.workloadSecurityGroup, 'Workloads to PostgreSQL');
    this.cache.connections.allowDefaultPortFrom(this.network.workloadSecurityGroup, 'Workloads to the cache');
    this.messaging.allowFrom(this.network.workloadSecurityGroup, 'Workloads to the broker');

    if (props.complianceChecks ?? true) {
      ComplianceChecks.applyTo(Stack.of(this));
    }
  }
}
