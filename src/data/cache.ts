import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DataStoreProps } from './data-store-props';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret } from '../private/grants';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, HIPAA_AND_NIST } from '../private/nag';
import { isProduction, defaultLogRetention } from '../private/profile';
import { dataSubnets } from '../private/subnets';
import { requireNodeType, requireWholeDays, requireWholeNumber } from '../private/validate';

/**
 * The in-memory engine of the cache.
 */
export enum CacheEngine {
  /** Redis OSS, the specification's engine. */
  REDIS = 'redis',

  /** Valkey, the open-source fork of Redis that ElastiCache prices lower. */
  VALKEY = 'valkey',
}

/**
 * What a user may set on the cache.
 */
export interface CacheOptions {
  /**
   * The engine.
   *
   * @default CacheEngine.REDIS
   */
  readonly engine?: CacheEngine;

  /**
   * The engine version, `major.minor`.
   *
   * @default - '7.1' for Redis, '8.0' for Valkey
   */
  readonly engineVersion?: string;

  /**
   * The node type.
   *
   * @default - 'cache.t3.medium' in production (the specification's), 'cache.t3.micro' in development
   */
  readonly nodeType?: string;

  /**
   * How many shards (node groups) the cluster-mode cache has, from 1 to 90.
   *
   * @default - 2 in production, 1 in development
   */
  readonly shards?: number;

  /**
   * How many replicas each shard has, from 0 to 5. With one or more, the cache is
   * Multi-AZ with automatic failover.
   *
   * @default - 1 in production, 0 in development
   */
  readonly replicasPerShard?: number;

  /**
   * How long daily snapshots are kept, from 15 to 35 days.
   *
   * @default Duration.days(15)
   */
  readonly snapshotRetention?: Duration;

  /**
   * How long the slow and engine logs are kept.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the data at rest, the AUTH token and the logs.
   *
   * A key you bring must let IAM policies grant its use (its policy allows the
   * account root, as CDK keys' do): grants to readers of the AUTH token add
   * `kms:Decrypt` to the reader's policy, not to the key's.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the cache when it leaves the stack.
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of a `Cache`.
 */
export interface CacheProps extends CacheOptions, DataStoreProps {}

const CACHE_PORT = 6379;
const DEFAULT_VERSIONS: Record<CacheEngine, string> = { [CacheEngine.REDIS]: '7.1', [CacheEngine.VALKEY]: '8.0' };
const LOG_TYPES = ['slow-log', 'engine-log'];

/**
 * ElastiCache for Redis (or Valkey) in cluster mode: several shards with a replica
 * each, Multi-AZ with automatic failover, encrypted in transit (required) and at
 * rest with a customer-managed key, an AUTH token from Secrets Manager, daily
 * snapshots, and slow and engine logs in encrypted CloudWatch log groups.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const workloads: ec2.ISecurityGroup;
 * const cache = new Cache(this, 'Cache', { vpc, shards: 3 });
 * cache.connections.allowDefaultPortFrom(workloads);
 */
export class Cache extends Construct implements ec2.IConnectable {
  /** The replication group. */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;

  /** The AUTH token that clients send, in Secrets Manager. */
  public readonly authToken: secretsmanager.ISecret;

  /** The key that encrypts the data, the token and the logs. */
  public readonly encryptionKey: kms.IKey;

  /** Who may connect: allowing a peer opens the cache port. */
  public readonly connections: ec2.Connections;

  /** The log groups of the slow and engine logs, keyed by log type. */
  public readonly logGroups: { [type: string]: logs.ILogGroup } = {};

  /** How many shards (node groups) the cache has. */
  public readonly shards: number;

  /** How many replicas each shard has. */
  public readonly replicasPerShard: number;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const production = isProduction(props.profile);
    const engine = props.engine ?? CacheEngine.REDIS;
    const engineVersion = props.engineVersion ?? DEFAULT_VERSIONS[engine];
    const shards = props.shards ?? (production ? 2 : 1);
    const replicas = props.replicasPerShard ?? (production ? 1 : 0);
    const snapshotDays = requireWholeDays('snapshotRetention', props.snapshotRetention ?? Duration.days(15), 15, 35,
      'HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35');
    validateEngineVersion(engineVersion);
    requireWholeNumber('shards', shards, 1, 90);
    requireWholeNumber('replicasPerShard', replicas, 0, 5);
    const nodeType = props.nodeType ?? (production ? 'cache.t3.medium' : 'cache.t3.micro');
    requireNodeType('nodeType', nodeType, 'an ElastiCache node type', 'cache.t3.medium');
    this.shards = shards;
    this.replicasPerShard = replicas;
    const multiAz = replicas > 0;
    const logRetention = props.logRetention ?? defaultLogRetention(production);

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the cache of ${this.node.path}: data at rest, AUTH token and logs`);
    allowCloudWatchLogs(this.encryptionKey);

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: `AUTH token of the cache of ${this.node.path}`,
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rotation = 'ElastiCache has no managed rotation for AUTH tokens: a rotation must set the new token with the ROTATE ' +
      'strategy, roll it out to every client, then SET it, which the operations guide describes. The token is generated, ' +
      'encrypted with the cache key, and readable only through grantReadAuthToken.';
    acknowledge(this.authToken, { 'AwsSolutions-SMG4': rotation });
    acknowledgeControlRule(this.authToken, 'SecretsManagerRotationEnabled', rotation, HIPAA_AND_NIST);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Cache: admits the allowed clients on the cache port',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(CACHE_PORT) });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of the cache of ${this.node.path}`,
      subnetIds: props.vpc.selectSubnets(props.vpcSubnets ?? dataSubnets(props.vpc)).subnetIds,
    });

    const logDeliveryConfigurations = LOG_TYPES.map(type => {
      const logGroup = new logs.LogGroup(this, type === 'slow-log' ? 'SlowLog' : 'EngineLog', {
        retention: logRetention,
        encryptionKey: this.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.logGroups[type] = logGroup;
      return {
        destinationType: 'cloudwatch-logs',
        destinationDetails: { cloudWatchLogsDetails: { logGroup: logGroup.logGroupName } },
        logFormat: 'json',
        logType: type,
      };
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `Cache of ${this.node.path}`,
      engine,
      engineVersion,
      cacheNodeType: nodeType,
      clusterMode: 'enabled',
      cacheParameterGroupName: `default.${engine}${engineVersion.split('.')[0]}.cluster.on`,
      numNodeGroups: shards,
      replicasPerNodeGroup: replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: multiAz,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      port: CACHE_PORT,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: snapshotDays,
      snapshotWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:05:30-sun:06:30',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations,
    });
    this.replicationGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.SNAPSHOT);
    if (engine === CacheEngine.REDIS) {
      acknowledge(this.replicationGroup, {
        'AwsSolutions-AEC5': 'Clients reach the cache only from the security groups allowed through `connections`, in isolated subnets, ' +
          'with TLS and an AUTH token; a non-default port would hide nothing.',
      });
    }
    if (!multiAz) {
      acknowledge(this.replicationGroup, {
        'AwsSolutions-AEC4': 'No replicas by choice (`replicasPerShard: 0` or the development profile), to save cost; synthesis warns about it.',
      });
      Annotations.of(this).addWarningV2('codelearn:cache-no-replicas',
        'The cache has no replicas: a node failure loses its shard\'s data and the cache is down until the node is replaced. Use replicasPerShard for production.');
    }
  }

  /** The configuration endpoint that cluster-mode clients connect to. */
  public get configurationEndpoint(): string {
    return this.replicationGroup.attrConfigurationEndPointAddress;
  }

  /**
   * The IDs of the cache's nodes, as ElastiCache names the member clusters of a
   * cluster-mode replication group: `<group>-<shard>-<member>`, such as
   * `mygroup-0001-001` (the shard's first node) and `mygroup-0001-002`. Nodes
   * that ElastiCache adds later (a replica added online) take new numbers.
   */
  public get nodeIds(): string[] {
    const ids: string[] = [];
    for (let shard = 1; shard <= this.shards; shard++) {
      for (let member = 1; member <= this.replicasPerShard + 1; member++) {
        ids.push(`${this.replicationGroup.ref}-${String(shard).padStart(4, '0')}-${String(member).padStart(3, '0')}`);
      }
    }
    return ids;
  }

  /**
   * A metric of one node (`nodeId` from `nodeIds`). ElastiCache publishes engine
   * and host metrics per node (`CacheClusterId` and `CacheNodeId`, which is
   * `0001` for every Redis and Valkey node), not per replication group.
   */
  public metricNode(metricName: string, nodeId: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: nodeId, CacheNodeId: '0001' },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** The port of the configuration endpoint. */
  public get port(): number {
    return CACHE_PORT;
  }

  /** Lets `grantee` read the AUTH token. */
  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    return grantReadSecret(grantee, this.authToken, this.encryptionKey);
  }
}

function validateEngineVersion(version: string): void {
  if (!/^\d+\.\d+$/.test(version)) {
    throw new ConfigurationError(`\`engineVersion\` ('${version}') must be written as major.minor, such as '7.1'.`);
  }
}
