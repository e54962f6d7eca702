import { Annotations, CfnOutput, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ComplianceChecks } from './compliance-checks';
import { Cluster, ClusterOptions, Microservice, SandboxService, SandboxServiceOptions } from './compute';
import { Cache, CacheAuthentication, CacheOptions, Database, DatabaseOptions, Messaging, MessagingOptions, Storage, StorageOptions } from './data';
import { Edge, EdgeOptions } from './edge';
import { Network, NetworkOptions } from './network';
import { Observability, ObservabilityOptions } from './observability';
import { PlatformServices } from './platform-services';
import { AwsCalls } from './private/aws-calls';
import { ConfigurationError, withPropertyPrefix } from './private/errors';
import { pascalCase } from './private/names';
import { profileDefaults } from './private/profile';
import { defaultRoute, routePriorities } from './private/routes';
import { requireKubernetesName, requireOwnNamespace } from './private/validate';
import { PlatformProfile } from './profile';
import { DataAccess, ServiceDefinition } from './service-definition';

/**
 * Properties of a `CodeLearnPlatform`.
 */
export interface CodeLearnPlatformProps {
  /**
   * The profile whose defaults every part uses. Moving a deployed platform from
   * development to production keeps the database (it becomes Multi-AZ in place)
   * and the cache (it gains a shard online), and replaces the broker with a
   * three-node cluster: drain its queues first (docs/operations.md, "Change a
   * running platform").
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
   * @default - Kubernetes 1.36, private endpoint, t3.medium on-demand nodes (2 to 10) and a spot group, Cluster Autoscaler
   */
  readonly cluster?: ClusterOptions;

  /**
   * The services that run on the cluster. Exactly one has no `path`: the load
   * balancer's default route (the API gateway).
   *
   * @default CodeLearnPlatform.defaultServices()
   */
  readonly services?: ServiceDefinition[];

  /**
   * Sandboxes for code nobody reviewed, such as learners' submissions: each a
   * `SandboxService` in a namespace of its own on the cluster's sandbox nodes,
   * with no credentials, no data store and no network but the calls of the
   * services that name it in their `calls`.
   *
   * @default - none
   */
  readonly sandboxes?: SandboxServiceOptions[];

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
   * The internal load balancer behind CloudFront, its regional WAF web ACL, and the
   * CloudFront web ACL with the rules that judge the viewer's IP.
   *
   * @default - regional rule groups (common, known bad inputs, SQL injection); at CloudFront, IP reputation and 2,000 requests per IP in five minutes (us-east-1 stacks)
   */
  readonly edge?: EdgeOptions;

  /**
   * The dashboard, alarms and in-cluster telemetry.
   *
   * @default - alarms on an encrypted topic without subscriptions, 1 s p99 and 1% 5xx objectives per service
   */
  readonly observability?: ObservabilityOptions;

  /**
   * How long every log group the platform creates keeps its logs, unless a part's
   * own `logRetention` (or `network.flowLogRetention`) says otherwise.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Register the cdk-nag packs of `ComplianceChecks` (AWS Solutions, HIPAA
   * Security, NIST 800-53 rev 5, PCI DSS 3.2.1) on the platform's stack, so that
   * an unacknowledged finding fails synthesis. They check every resource of that
   * stack, yours included.
   *
   * @default true
   */
  readonly complianceChecks?: boolean;

  /**
   * The prefix of the services' ECR repositories, `<prefix>/<service>`. Repository
   * names are unique in an account and region: give each platform there its own
   * (for example 'codelearn-dev'). Changing it makes new, empty repositories (the old
   * ones are kept with their images).
   *
   * @default 'codelearn'
   */
  readonly repositoryPrefix?: string;
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
  /**
   * The specification's four services: the API gateway (the default route, which
   * calls the other three inside the cluster) and the user, post and group
   * services under `/api/users/*`, `/api/posts/*` and `/api/groups/*`. Extend or
   * replace the list through `services`.
   */
  public static defaultServices(): ServiceDefinition[] {
    const backend = [DataAccess.DATABASE, DataAccess.CACHE, DataAccess.MESSAGING];
    return [
      // The gateway forwards to the backends inside the cluster, as the specification draws it.
      { name: 'api-gateway', access: [DataAccess.CACHE], calls: ['user-service', 'post-service', 'group-service'] },
      { name: 'user-service', path: '/api/users/*', access: [...backend, DataAccess.UPLOADS] },
      { name: 'post-service', path: '/api/posts/*', access: [...backend, DataAccess.UPLOADS] },
      { name: 'group-service', path: '/api/groups/*', access: backend },
    ];
  }

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

  /** The services, by name. */
  public readonly services: { [name: string]: Microservice } = {};

  /** The sandboxes, by name. */
  public readonly sandboxes: { [name: string]: SandboxService } = {};

  /** The load balancer and the web ACL in front of the services. */
  public readonly edge: Edge;

  /** The dashboard, alarms and in-cluster telemetry. */
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: CodeLearnPlatformProps = {}) {
    super(scope, id);
    this.profile = props.profile ?? PlatformProfile.PRODUCTION;

    if (this.profile === PlatformProfile.DEVELOPMENT) {
      Annotations.of(this).addWarningV2('codelearn:development-profile',
        'The development profile trades availability for cost (one NAT gateway, one small node group without spot, a single-AZ database without replica or proxy, one cache shard of small nodes, a single-node broker, shorter log retention). ' +
        'Do not serve production traffic from it.');
    }

    const repositoryPrefix = props.repositoryPrefix ?? 'codelearn';
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repositoryPrefix) || repositoryPrefix.length > 190) {
      throw new ConfigurationError(`\`repositoryPrefix\` ('${repositoryPrefix}') is not an ECR repository name: use lowercase letters, digits, ` +
        '\'.\', \'_\', \'-\' and \'/\' between them, such as \'codelearn-dev\'.');
    }
    claimRepositoryPrefix(this, repositoryPrefix);
    const logRetention = props.logRetention;
    // A part's errors name the property from the platform's props: `cluster.nodes.maxSize`.
    this.network = withPropertyPrefix('network', props.network, () => new Network(this, 'Network', {
      ...props.network,
      flowLogRetention: props.network?.flowLogRetention ?? (props.network?.vpc ? undefined : logRetention),
      profile: this.profile,
    }));
    // The cluster and the data tier share only the network: CloudFormation creates
    // them in parallel.
    this.cluster = withPropertyPrefix('cluster', props.cluster, () => new Cluster(this, 'Cluster', {
      ...props.cluster,
      logRetention: props.cluster?.logRetention ?? logRetention,
      vpc: this.network.vpc,
      vpcSubnets: this.network.privateSubnets,
      workloadSecurityGroup: this.network.workloadSecurityGroup,
      profile: this.profile,
    }));
    // The stack's deploy-time AWS calls (the CloudFront prefix list, the broker's log
    // group) run from the private subnets, their logs encrypted with the cluster key.
    AwsCalls.of(this, {
      vpc: this.network.vpc,
      vpcSubnets: this.network.privateSubnets,
      encryptionKey: this.cluster.encryptionKey,
      logRetention: props.cluster?.logRetention ?? logRetention ?? profileDefaults(this.profile).logRetention,
    });
    this.database = withPropertyPrefix('database', props.database, () => new Database(this, 'Database', {
      ...props.database,
      logRetention: props.database?.logRetention ?? logRetention,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      rotationSubnets: this.network.privateSubnets,
      profile: this.profile,
    }));
    this.cache = withPropertyPrefix('cache', props.cache, () => new Cache(this, 'Cache', {
      ...props.cache,
      logRetention: props.cache?.logRetention ?? logRetention,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      profile: this.profile,
    }));
    this.messaging = withPropertyPrefix('messaging', props.messaging, () => new Messaging(this, 'Messaging', {
      ...props.messaging,
      logRetention: props.messaging?.logRetention ?? logRetention,
      vpc: this.network.vpc,
      vpcSubnets: this.network.dataSubnets,
      profile: this.profile,
    }));
    this.storage = withPropertyPrefix('storage', props.storage, () => new Storage(this, 'Storage', props.storage));

    // Data stores admit the workloads' security group, never a CIDR block.
    this.database.connections.allowDefaultPortFrom(this.network.workloadSecurityGroup, 'Workloads to PostgreSQL');
    this.cache.connections.allowDefaultPortFrom(this.network.workloadSecurityGroup, 'Workloads to the cache');
    this.messaging.allowFrom(this.network.workloadSecurityGroup, 'Workloads to the broker');

    const definitions = props.services ?? CodeLearnPlatform.defaultServices();
    const sandboxes = props.sandboxes ?? [];
    validateServices(definitions, sandboxes);

    this.edge = withPropertyPrefix('edge', props.edge, () => new Edge(this, 'Edge', {
      ...props.edge,
      logRetention: props.edge?.logRetention ?? logRetention,
      vpc: this.network.vpc,
      vpcSubnets: this.network.privateSubnets,
      workloadSecurityGroup: this.network.workloadSecurityGroup,
      serverAccessLogsBucket: this.storage.accessLogsBucket,
      staticAssetsBucket: this.storage.staticAssetsBucket,
      profile: this.profile,
    }));
    Annotations.of(this.storage).acknowledgeWarning('@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      'The storage key lets CloudFront decrypt only for distributions of this account, and the static assets bucket admits only ' +
      'this distribution; naming the distribution in the key policy would make key, bucket and distribution wait on each other.');

    this.observability = withPropertyPrefix('observability', props.observability, () => new Observability(this, 'Observability', {
      ...props.observability,
      cluster: this.cluster,
      edge: this.edge,
      database: this.database,
      cache: this.cache,
      messaging: this.messaging,
    }));

    // Each service is a unit of its own, which owns the service, its route, its
    // alarms and its data bindings.
    const services = new PlatformServices(this, 'Services', {
      profile: this.profile,
      repositoryPrefix,
      cluster: this.cluster,
      database: this.database,
      cache: this.cache,
      messaging: this.messaging,
      storage: this.storage,
      edge: this.edge,
      observability: this.observability,
      edgeOptions: props.edge,
    });
    definitions.forEach((definition, index) => {
      this.services[definition.name] = services.add(definition, index);
    });
    sandboxes.forEach((sandbox, index) => {
      this.sandboxes[sandbox.name] = services.addSandbox(sandbox, index);
    });
    services.connectCalls(definitions, this.services, this.sandboxes);

    this.addOutputs();

    if (props.complianceChecks ?? true) {
      ComplianceChecks.applyTo(Stack.of(this));
      const vpc = props.network?.vpc;
      if (vpc instanceof ec2.Vpc && Stack.of(vpc) === Stack.of(this)) {
        // Runs before the packs do: one message that says what to change, rather than
        // a finding per subnet and route of a VPC the user did not expect to be judged.
        this.node.addValidation({ validate: () => broughtVpcFindings(vpc) });
      }
    }
  }

  /** What an operator needs after a deploy, as stack outputs. */
  private addOutputs(): void {
    const region = Stack.of(this).region;
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ClusterName', this.cluster.clusterName, 'The EKS cluster');
    output('ClusterSecurityGroupId', this.cluster.eksCluster.clusterSecurityGroupId,
      'The cluster security group: a machine in the VPC that has it reaches the private Kubernetes API');
    output('KubeconfigCommand', `aws eks update-kubeconfig --name ${this.cluster.clusterName} --region ${region}`,
      'Writes a kubeconfig for the cluster (needs an access entry for your IAM principal)');
    output('DatabaseWriterEndpoint', this.database.instance.dbInstanceEndpointAddress, 'The PostgreSQL writer');
    output('DatabaseSecretArn', this.database.secret.secretArn, 'The master user\'s secret: for migrations and administration only');
    if (this.database.proxy) {
      output('DatabaseProxyEndpoint', this.database.proxy.endpoint, 'The RDS Proxy in front of the writer (IAM authentication, TLS)');
    }
    if (this.database.readReplicas.length > 0) {
      output('DatabaseReaderEndpoints', Fn.join(',', this.database.readerEndpoints), 'The read replicas');
    }
    output('CacheEndpoint', `${this.cache.configurationEndpoint}:${this.cache.port}`,
      `The cache configuration endpoint (TLS, ${this.cache.authentication === CacheAuthentication.IAM ? 'a user per service signing in with IAM' : 'AUTH token'})`);
    output('BrokerEndpoints', Fn.join(',', this.messaging.endpoints),
      this.messaging.endpointsDescription);
    output('StaticAssetsBucket', this.storage.staticAssetsBucket.bucketName, 'Static assets, served by CloudFront under the static path');
    output('UploadsBucket', this.storage.uploadsBucket.bucketName, 'User uploads');
    output('BackupsBucket', this.storage.backupsBucket.bucketName, 'Backups');
    for (const service of [...Object.values(this.services), ...Object.values(this.sandboxes)]) {
      if (service.repository) {
        output(`Repository${pascalCase(service.serviceName)}`, service.repository.repositoryUri, `The ECR repository of ${service.serviceName}`);
      }
    }
    output('DashboardUrl',
      `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.observability.dashboard.dashboardName}`,
      'The platform dashboard');
  }
}

function validateServices(services: ServiceDefinition[], sandboxes: SandboxServiceOptions[]): void {
  if (services.length === 0) {
    throw new ConfigurationError('`services` is empty: the platform needs at least the service that takes the default route.');
  }
  const names = new Set<string>();
  services.forEach((service, index) => {
    // Before anything is named after it (its repository, its stack).
    requireKubernetesName(`services[${index}].name`, service.name);
    if (names.has(service.name)) {
      throw new ConfigurationError(`\`services\` lists '${service.name}' twice: give each service its own name.`);
    }
    names.add(service.name);
  });
  sandboxes.forEach((sandbox, index) => {
    requireKubernetesName(`sandboxes[${index}].name`, sandbox.name);
    if (names.has(sandbox.name)) {
      throw new ConfigurationError(`\`sandboxes[${index}].name\` ('${sandbox.name}') is also the name of a service or another sandbox: ` +
        'each has its own ECR repository and stack, named after it. Rename one.');
    }
    // A sandbox's namespace is its name: not the services' one, nor the system's.
    if (sandbox.name === 'codelearn') {
      throw new ConfigurationError(`\`sandboxes[${index}].name\` ('codelearn') is the services' namespace, and a sandbox's namespace is its name: rename it.`);
    }
    requireOwnNamespace(`sandboxes[${index}].name`, sandbox.name);
    names.add(sandbox.name);
  });
  services.forEach((service, index) => {
    for (const callee of service.calls ?? []) {
      if (callee === service.name) {
        throw new ConfigurationError(`\`services[${index}].calls\` names '${callee}', the service itself: remove it (a service does not call itself through a policy).`);
      }
      if (!names.has(callee)) {
        throw new ConfigurationError(`\`services[${index}].calls\` names '${callee}', which is not a service or sandbox of the platform: ` +
          `name one of ${[...names].map(name => `'${name}'`).join(', ')}, or add '${callee}' to \`services\` or \`sandboxes\`.`);
      }
    }
  });
  // The edge checks each route as it is added; checking them all here first names
  // the platform's property, \`services\`, in the message.
  defaultRoute(services);
  routePriorities(services, 'services');
  const targetGroups = services.length + services.filter(service => service.canary).length;
  if (targetGroups > ALB_TARGET_GROUPS) {
    throw new ConfigurationError(`\`services\` needs ${targetGroups} target groups (one for each service and canary), and an Application Load Balancer ` +
      `takes ${ALB_TARGET_GROUPS}: split the services between two platforms, or raise the quota with AWS Support and build the edge yourself.`);
  }
}

/** Target groups an Application Load Balancer takes by default (Elastic Load Balancing's user guide, "Quotas"). */
const ALB_TARGET_GROUPS = 100;

/**
 * What the platform's packs would find in a VPC the user made in the platform's
 * stack, as one message with the ways out; nothing when it passes.
 */
function broughtVpcFindings(vpc: ec2.Vpc): string[] {
  const rules = new Set<string>();
  for (const pack of ComplianceChecks.packs()) {
    for (const violation of pack.validateScope(vpc).violations) rules.add(violation.ruleName);
  }
  if (rules.size === 0) return [];
  return [`\`network.vpc\` (${vpc.node.path}) is a VPC of the platform's stack, whose cdk-nag packs judge every resource of the stack, ` +
    `and it fails ${rules.size} of their rules (${[...rules].sort().join(', ')}). Let the platform make the VPC (leave out \`network.vpc\`; ` +
    '`network.cidr` sets its block), define yours in another stack, or give it what the platform\'s own VPC has: `flowLogs` to a ' +
    'KMS-encrypted log group, `restrictDefaultSecurityGroup: true`, public subnets with `mapPublicIpOnLaunch: false`, and an ' +
    'acknowledgement of each public subnet\'s route to the internet gateway (`Validations.of(subnet).acknowledge(...)`).'];
}

/** The repository prefixes taken in each app, with where their platforms deploy. */
const REPOSITORY_PREFIXES = new WeakMap<Construct, { prefix: string; account?: string; region?: string; path: string }[]>();

/**
 * Two platforms of one app that may deploy to the same account and region cannot
 * share repository names: the second deploy would fail with "already exists". An
 * account or region that is not written in the app may be any.
 */
function claimRepositoryPrefix(platform: CodeLearnPlatform, prefix: string): void {
  const stack = Stack.of(platform);
  const literal = (value: string) => Token.isUnresolved(value) ? undefined : value;
  const claim = { prefix, account: literal(stack.account), region: literal(stack.region), path: platform.node.path };
  const mayMeet = (a?: string, b?: string) => a === undefined || b === undefined || a === b;
  const claims = REPOSITORY_PREFIXES.get(platform.node.root) ?? [];
  REPOSITORY_PREFIXES.set(platform.node.root, claims);
  const taken = claims.find(other => other.prefix === prefix && mayMeet(other.account, claim.account) && mayMeet(other.region, claim.region));
  if (taken) {
    throw new ConfigurationError(`\`repositoryPrefix\` ('${prefix}') is taken by ${taken.path}, which may deploy to the same account and region: ` +
      'ECR repository names are unique there. Give each platform its own prefix, such as \'codelearn-dev\'.');
  }
  claims.push(claim);
}
