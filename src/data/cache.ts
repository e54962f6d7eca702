import * as crypto from 'crypto';
import { ArnFormat, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { DataStoreProps } from './data-store-props';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret } from '../private/grants';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, HIPAA_AND_NIST } from '../private/nag';
import { profileDefaults } from '../private/profile';
import { dataSubnets, subnetCidrs } from '../private/subnets';
import { checkSupport } from '../private/support';
import { requireInstanceType, requireWholeDays, requireWholeNumber } from '../private/validate';

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
 * How clients sign in to the cache.
 */
export enum CacheAuthentication {
  /**
   * Each client signs in as its own ElastiCache user with a short-lived IAM token
   * (role-based access control): there is no password to leak or rotate, and the
   * default user is disabled. Needs Redis OSS 7.0 or Valkey 7.2 and later.
   */
  IAM = 'iam',

  /**
   * Every client sends one shared AUTH token, generated in Secrets Manager: for
   * clients that cannot sign IAM tokens.
   */
  AUTH_TOKEN = 'auth-token',
}

/**
 * What a user may set on the cache.
 */
export interface CacheOptions {
  /**
   * The engine. Changing it on a deployed cache replaces the replication group: a
   * new, empty cache with a new endpoint (the old one is snapshotted).
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
   * How clients sign in. Changing it on a deployed cache replaces the replication
   * group (CloudFormation cannot move a group between an AUTH token and user
   * groups in place): a new, empty cache with a new endpoint.
   *
   * @default CacheAuthentication.IAM
   */
  readonly authentication?: CacheAuthentication;

  /**
   * The node type, without the `cache.` prefix, which the cache adds:
   * `ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE)` runs
   * cache.r7g.large nodes.
   *
   * @default - t3.medium (cache.t3.medium, the specification's) in production, t3.micro in development
   */
  readonly nodeType?: ec2.InstanceType;

  /**
   * How many shards (node groups) the cluster-mode cache has, from 1 to 90.
   * Changed online on deploy (the `UseOnlineResharding` update policy); AWS asks
   * for it in a deploy of its own.
   *
   * @default - 2 in production, 1 in development
   */
  readonly shards?: number;

  /**
   * How many replicas each shard has, from 1 to 5: the cache is Multi-AZ with
   * automatic failover. Not 0: a cluster-mode replication group without replicas
   * is created, but ElastiCache then refuses every update of it ("must have at
   * least one read replica to enable autofailover").
   *
   * The registry data that `cdk diff` and CloudFormation read says a new count
   * replaces the replication group. The cache's ID is fixed, so such a
   * replacement is refused and the deploy fails with the cache untouched; change
   * the count in a deploy of its own (docs/operations.md), and bump `generation`
   * only to accept a new, empty cache.
   *
   * @default 1
   */
  readonly replicasPerShard?: number;

  /**
   * The cache's generation, from 1 to 99, part of its replication group ID. A
   * change that CloudFormation can only make by replacing the replication group
   * (a new engine, key or authentication, or a replica count it will not apply in
   * place) fails the deploy while the generation stays: the ID is fixed, and
   * CloudFormation does not replace a resource under the same name. Bump it in the
   * same deploy to accept the replacement: a new, empty cache with a new endpoint;
   * the old one is snapshotted, then deleted.
   *
   * @default 1
   */
  readonly generation?: number;

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
   * Changing it on a deployed cache replaces the replication group (a new, empty
   * cache).
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
/** The oldest versions that sign in with IAM: Redis OSS 7.0, Valkey 7.2. */
const IAM_VERSIONS: Record<CacheEngine, [number, number]> = { [CacheEngine.REDIS]: [7, 0], [CacheEngine.VALKEY]: [7, 2] };
/**
 * What a service's user may do: every key, channel and command (ElastiCache
 * already withholds the administrative ones). The user is the service's
 * identity; the keys are the application's to divide.
 */
const SERVICE_ACCESS = 'on ~* &* +@all';
/** ElastiCache user and user group IDs: a letter, then letters, digits and single hyphens, at most 40. */
const ID_LENGTH = 40;
/** The users one user group holds, its default user included. */
const MAX_GROUP_USERS = 100;

/** A shard's members at most: its primary and five replicas. */
const MAX_MEMBERS_PER_SHARD = 6;

/**
 * ElastiCache for Redis (or Valkey) in cluster mode: several shards with a replica
 * each, Multi-AZ with automatic failover, encrypted in transit (required) and at
 * rest with a customer-managed key, one ElastiCache user per client signing in
 * with IAM (or a shared AUTH token from Secrets Manager), daily snapshots, and slow
 * and engine logs in encrypted CloudWatch log groups.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const workloads: ec2.ISecurityGroup;
 * declare const role: iam.IRole;
 * const cache = new Cache(this, 'Cache', { vpc, shards: 3 });
 * cache.connections.allowDefaultPortFrom(workloads);
 * cache.grantConnect(role, 'post-service'); // signs in as its own user, with IAM
 */
export class Cache extends Construct implements ec2.IConnectable {
  /** The replication group. */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;

  /** How clients sign in. */
  public readonly authentication: CacheAuthentication;

  /** The AUTH token that clients send, in Secrets Manager: only with `CacheAuthentication.AUTH_TOKEN`. */
  public readonly authToken?: secretsmanager.ISecret;

  /**
   * The user group of the cache's users: only with `CacheAuthentication.IAM`. It
   * holds a disabled `default` user and one user per client (`grantConnect`).
   */
  public readonly userGroup?: elasticache.CfnUserGroup;

  /** The key that encrypts the data, the token and the logs. */
  public readonly encryptionKey: kms.IKey;

  /** Who may connect: allowing a peer opens the cache port. */
  public readonly connections: ec2.Connections;

  /**
   * The IPv4 CIDR blocks of the subnets the cache runs in: where its clients
   * connect to, as a service's network policy lets them (`Microservice.allowEgressTo`
   * with `connections.defaultPort`).
   */
  public get subnetCidrs(): string[] {
    return subnetCidrs(this.placement.vpc, this.placement.selection, this.node.path);
  }

  private readonly placement: { vpc: ec2.IVpc; selection: ec2.SubnetSelection };

  /** The log groups of the slow and engine logs, keyed by log type. */
  public readonly logGroups: { [type: string]: logs.ILogGroup } = {};

  /** How many shards (node groups) the cache has. */
  public readonly shards: number;

  /** How many replicas each shard has. */
  public readonly replicasPerShard: number;

  /**
   * The replication group's ID, fixed so that CloudFormation refuses to replace
   * the cache (a replacement would empty it): the stack's name, a hash of the
   * stack, the cache's path and its `generation`, at most 40 characters.
   */
  public readonly replicationGroupId: string;

  private readonly users = new Map<string, elasticache.CfnUser>();

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const engine = props.engine ?? CacheEngine.REDIS;
    const engineVersion = props.engineVersion ?? DEFAULT_VERSIONS[engine];
    const defaults = profileDefaults(props.profile).cache;
    const shards = props.shards ?? defaults.shards;
    const replicas = props.replicasPerShard ?? defaults.replicasPerShard;
    const snapshotDays = requireWholeDays('snapshotRetention', props.snapshotRetention ?? Duration.days(15), 15, 35,
      'HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35');
    validateEngineVersion(engineVersion);
    checkSupport(this, 'engineVersion', engine === CacheEngine.VALKEY ? 'Amazon ElastiCache for Valkey' : 'Amazon ElastiCache for Redis OSS', engineVersion,
      { fix: `Choose a newer \`engineVersion\` (the default is '${DEFAULT_VERSIONS[engine]}'); a new major version replaces the cache (docs/operations.md).` });
    this.authentication = props.authentication ?? CacheAuthentication.IAM;
    if (this.authentication === CacheAuthentication.IAM) {
      requireIamVersion(engine, engineVersion);
    }
    requireWholeNumber('shards', shards, 1, 90);
    if (replicas === 0) {
      throw new ConfigurationError('`replicasPerShard` (0) would make a cache that cannot be updated: ElastiCache refuses every change to a ' +
        'cluster-mode replication group without replicas ("must have at least one read replica to enable autofailover", ' +
        'cloudformation-coverage-roadmap #1275), and cluster mode cannot turn automatic failover off. Use 1 or more.');
    }
    requireWholeNumber('replicasPerShard', replicas, 1, 5);
    const generation = props.generation ?? 1;
    requireWholeNumber('generation', generation, 1, 99);
    const nodeType = `cache.${props.nodeType ?? defaults.nodeType}`;
    // ElastiCache names node types with the prefix, which the cache adds.
    requireInstanceType('nodeType', (props.nodeType ?? defaults.nodeType).toString(), 'cache');
    this.shards = shards;
    this.replicasPerShard = replicas;
    this.replicationGroupId = this.elastiCacheId(generation === 1 ? 'cache' : `cache-g${generation}`, 'builtin');
    const logRetention = props.logRetention ?? profileDefaults(props.profile).logRetention;

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the cache of ${this.node.path}: data at rest, AUTH token and logs`);
    allowCloudWatchLogs(this.encryptionKey);

    if (this.authentication === CacheAuthentication.AUTH_TOKEN) {
      this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
        description: `AUTH token of the cache of ${this.node.path}`,
        encryptionKey: this.encryptionKey,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const rotation = 'ElastiCache has no managed rotation for AUTH tokens: a rotation must set the new token with the ROTATE ' +
        'strategy, roll it out to every client, then SET it, which the operations guide describes. The token is generated, ' +
        'encrypted with the cache key, and readable only through grantConnect.';
      acknowledge(this.authToken, { 'AwsSolutions-SMG4': rotation });
      acknowledgeControlRule(this.authToken, 'SecretsManagerRotationEnabled', rotation, HIPAA_AND_NIST);
    } else {
      // Every user group needs a user named `default`; this one can do nothing. Redis
      // engine users and groups serve Redis OSS and Valkey caches alike, and only a
      // Redis engine user may go without a password.
      const nobody = new elasticache.CfnUser(this, 'DefaultUser', {
        userId: this.elastiCacheId('default', 'builtin'),
        userName: 'default',
        engine: 'redis',
        accessString: 'off -@all',
        authenticationMode: { Type: 'no-password-required' },
      });
      this.userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
        userGroupId: this.elastiCacheId('users', 'builtin'),
        engine: 'redis',
        userIds: Lazy.list({ produce: () => [nobody.ref, ...[...this.users.values()].map(user => user.ref)] }),
      });
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Cache: admits the allowed clients on the cache port',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(CACHE_PORT) });
    this.placement = { vpc: props.vpc, selection: props.vpcSubnets ?? dataSubnets(props.vpc) };

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of the cache of ${this.node.path}`,
      subnetIds: props.vpc.selectSubnets(this.placement.selection).subnetIds,
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
      replicationGroupId: this.replicationGroupId,
      engine,
      engineVersion,
      cacheNodeType: nodeType,
      clusterMode: 'enabled',
      cacheParameterGroupName: `default.${engine}${engineVersion.split('.')[0]}.cluster.on`,
      numNodeGroups: shards,
      replicasPerNodeGroup: replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      port: CACHE_PORT,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      authToken: this.authToken?.secretValue.unsafeUnwrap(),
      userGroupIds: this.userGroup && [this.userGroup.ref],
      snapshotRetentionLimit: snapshotDays,
      snapshotWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:05:30-sun:06:30',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations,
    });
    this.replicationGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.SNAPSHOT);
    // Shards are added and removed online (ModifyReplicationGroupShardConfiguration)
    // instead of replacing the cache, which CloudFormation does by default.
    this.replicationGroup.cfnOptions.updatePolicy = { useOnlineResharding: true };
    if (engine === CacheEngine.REDIS) {
      acknowledge(this.replicationGroup, {
        'AwsSolutions-AEC5': 'Clients reach the cache only from the security groups allowed through `connections`, in isolated subnets, ' +
          'with TLS and authentication; a non-default port would hide nothing.',
      });
    }
    if (this.userGroup) {
      acknowledge(this.replicationGroup, {
        'AwsSolutions-AEC6': 'Clients authenticate as ElastiCache users of a user group, with IAM tokens, and the default user is disabled. ' +
          'The rule looks only for an AUTH token, which user groups replace: ElastiCache refuses both on one replication group.',
      });
    }
  }

  /** The configuration endpoint that cluster-mode clients connect to. */
  public get configurationEndpoint(): string {
    return this.replicationGroup.attrConfigurationEndPointAddress;
  }

  /**
   * The IDs of the cache's nodes, as ElastiCache names the member clusters of a
   * cluster-mode replication group: `<group>-<shard>-<member>`, such as
   * `mygroup-0001-001` (the shard's first node) and `mygroup-0001-002`, as they
   * are when the cache is created. ElastiCache numbers the members it adds or
   * removes later itself: alarms use `metricShard`, which reads every number.
   */
  public get nodeIds(): string[] {
    const ids: string[] = [];
    for (let shard = 1; shard <= this.shards; shard++) {
      for (let member = 1; member <= this.replicasPerShard + 1; member++) {
        ids.push(`${this.replicationGroupId}-${String(shard).padStart(4, '0')}-${String(member).padStart(3, '0')}`);
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

  /**
   * The highest value of a node metric among the members of one shard (`shard`
   * from 1 to `shards`), for alarms that follow the shard's members: ElastiCache
   * numbers the members it adds or removes itself, so this reads all six a shard
   * can hold (`-001`, its first primary, to `-006`; a shard has at most five
   * replicas), and a member that does not exist adds no data. `statistic` is that
   * of each member's metric.
   */
  public metricShard(metricName: string, shard: number, props: cloudwatch.MetricOptions = {}): cloudwatch.MathExpression {
    requireWholeNumber('shard', shard, 1, this.shards);
    const group = `${this.replicationGroupId}-${String(shard).padStart(4, '0')}`;
    const members: { [id: string]: cloudwatch.IMetric } = {};
    for (let member = 1; member <= MAX_MEMBERS_PER_SHARD; member++) {
      members[`m${member}`] = this.metricNode(metricName, `${group}-${String(member).padStart(3, '0')}`, props);
    }
    return new cloudwatch.MathExpression({
      expression: `MAX([${Object.keys(members).join(', ')}])`,
      usingMetrics: members,
      label: props.label ?? `${metricName}, highest member of shard ${group.slice(-4)}`,
      period: props.period ?? Duration.minutes(5),
    });
  }

  /** The port of the configuration endpoint. */
  public get port(): number {
    return CACHE_PORT;
  }

  /**
   * Lets `grantee` connect as the cache user `userName`. With IAM authentication,
   * the user is made on first use (its ID is `userIdOf(userName)`) and `grantee`
   * may `elasticache:Connect` to this cache as that user alone; with an AUTH
   * token, `grantee` may read the token.
   *
   * @param userName the client's name, such as a service's: lowercase letters, digits and '-'
   */
  public grantConnect(grantee: iam.IGrantable, userName: string): iam.Grant {
    if (this.authToken) {
      return grantReadSecret(grantee, this.authToken, this.encryptionKey);
    }
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'elasticache', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticache:Connect'],
      resourceArns: [arn('replicationgroup', this.replicationGroup.ref), arn('user', this.user(userName).userId)],
    });
  }

  /**
   * The ID (and name) of the cache user that `userName` connects as: a readable
   * prefix and a hash of the stack and the cache, at most 40 characters, so that
   * platforms in one account and region do not collide. Only with IAM
   * authentication.
   */
  public userIdOf(userName: string): string {
    if (!this.userGroup) {
      throw new ConfigurationError(`\`userIdOf('${userName}')\` asks for a cache user, but the cache authenticates with an AUTH token: ` +
        'its clients have no users. Use `authentication: CacheAuthentication.IAM`, or read `authToken`.');
    }
    return this.user(userName).userId;
  }

  /**
   * What a client needs to connect, as environment variables: `CACHE_HOST` and
   * `CACHE_PORT`, `CACHE_AUTH` (`iam` or `token`), and with IAM `CACHE_USER` (the
   * user to sign in as) and `CACHE_REPLICATION_GROUP_ID` (what the IAM token
   * signs), or with a token `CACHE_AUTH_TOKEN_SECRET_ARN`.
   */
  public connectionEnvironment(userName: string): { [name: string]: string } {
    const endpoint = { CACHE_HOST: this.configurationEndpoint, CACHE_PORT: String(this.port) };
    return this.authToken
      ? { ...endpoint, CACHE_AUTH: 'token', CACHE_AUTH_TOKEN_SECRET_ARN: this.authToken.secretArn }
      : { ...endpoint, CACHE_AUTH: 'iam', CACHE_USER: this.userIdOf(userName), CACHE_REPLICATION_GROUP_ID: this.replicationGroup.ref };
  }

  /**
   * What a client waits for before it signs in: the user group, once it holds
   * every user (with an AUTH token, nothing).
   */
  public get usersReady(): IDependable {
    return this.userGroup ?? new DependencyGroup();
  }

  private user(userName: string): elasticache.CfnUser {
    const existing = this.users.get(userName);
    if (existing) return existing;
    if (!/^[a-z][a-z0-9-]*$/.test(userName)) {
      throw new ConfigurationError(`\`userName\` ('${userName}') must start with a lowercase letter and hold only lowercase letters, digits and '-': ` +
        'it names an ElastiCache user, whose ID allows nothing else.');
    }
    if (this.users.size + 1 >= MAX_GROUP_USERS) {
      throw new ConfigurationError(`\`grantConnect(…, '${userName}')\` would give the cache ${this.users.size + 1} users besides the disabled default one, ` +
        `and an ElastiCache user group holds ${MAX_GROUP_USERS} users at most: let services share a user, or split them across caches.`);
    }
    const user = new elasticache.CfnUser(this, `User-${userName}`, {
      // IAM authentication signs in with the user ID, which must equal the name.
      userId: this.elastiCacheId(userName, 'user'),
      userName: this.elastiCacheId(userName, 'user'),
      engine: 'redis',
      accessString: SERVICE_ACCESS,
      authenticationMode: { Type: 'iam' },
    });
    this.users.set(userName, user);
    return user;
  }

  /**
   * An ID that ElastiCache accepts, readable and unique to this stack, cache and
   * `name`: user and group IDs are unique in an account and region, and two
   * platforms may share one, so they carry the root stack's name and a hash of it
   * with the cache's path.
   */
  private elastiCacheId(name: string, kind: 'user' | 'builtin'): string {
    const stackName = rootStack(this).stackName;
    const literal = Token.isUnresolved(stackName) ? '' : stackName;
    const hash = crypto.createHash('sha256').update(`${literal}/${this.node.path}/${kind}/${name}`).digest('hex').slice(0, 8);
    const room = ID_LENGTH - hash.length - 1;
    const readable = slug(literal ? `${literal}-${name}` : name).slice(0, room).replace(/-+$/, '');
    return `${/^[a-z]/.test(readable) ? readable : `c${readable}`.slice(0, room)}-${hash}`;
  }
}

/** The stack that holds `scope`, or the stack that holds that one when it is nested. */
function rootStack(scope: Construct): Stack {
  let stack = Stack.of(scope);
  while (stack.nestedStackParent) stack = stack.nestedStackParent;
  return stack;
}

/** Lowercase letters, digits and single hyphens. */
function slug(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

function requireIamVersion(engine: CacheEngine, version: string): void {
  const [major, minor] = version.split('.').map(Number);
  const [oldestMajor, oldestMinor] = IAM_VERSIONS[engine];
  if (major < oldestMajor || (major === oldestMajor && minor < oldestMinor)) {
    const name = engine === CacheEngine.REDIS ? 'Redis OSS' : 'Valkey';
    throw new ConfigurationError(`\`engineVersion\` ('${version}') cannot sign clients in with IAM, which needs ${name} ${oldestMajor}.${oldestMinor} or later: ` +
      `use '${DEFAULT_VERSIONS[engine]}', or set \`authentication: CacheAuthentication.AUTH_TOKEN\`.`);
  }
}

function validateEngineVersion(version: string): void {
  if (!/^\d+\.\d+$/.test(version)) {
    throw new ConfigurationError(`\`engineVersion\` ('${version}') must be written as major.minor, such as '7.1'.`);
  }
}
