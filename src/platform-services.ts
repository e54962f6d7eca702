import { Fn, NestedStack, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { Cluster, InternetAccess, Microservice, NamespaceDefaultDeny, ReleaseTrack, SandboxService, SandboxServiceOptions } from './compute';
import { Cache, Database, Messaging, Storage } from './data';
import { Edge } from './edge';
import { Observability } from './observability';
import { ConfigurationError, withPropertyPrefix } from './private/errors';
import * as k8s from './private/k8s';
import { pascalCase } from './private/names';
import { CLOUDWATCH_AGENT } from './private/network-policy';
import { profileDefaults } from './private/profile';
import { serviceRepository } from './private/repository';
import { PlatformProfile } from './profile';
import { DataAccess, ServiceDefinition } from './service-definition';

/** The ConfigMap that carries the read replicas' endpoints to the services. */
const DATABASE_READERS = 'database-readers';

/** The platform's parts that a service is bound to. */
export interface PlatformServicesProps {
  readonly profile: PlatformProfile;
  readonly repositoryPrefix: string;
  readonly cluster: Cluster;
  readonly database: Database;
  readonly cache: Cache;
  readonly messaging: Messaging;
  readonly storage: Storage;
  readonly edge: Edge;
  readonly observability: Observability;
  /** The platform's `edge` options, whose property names the edge's errors are prefixed with. */
  readonly edgeOptions?: object;
}

/**
 * The platform's services: one unit each, in a nested stack of its own, that
 * owns the service, its route, its alarms and its data bindings; and the
 * ConfigMaps they share. The composition root: no part decides where another
 * part's resources go.
 */
export class PlatformServices extends Construct {
  private readonly configMaps = new Map<string, eks.KubernetesManifest>();
  private readonly denies = new Map<string, NamespaceDefaultDeny>();
  private gatesNotify = false;

  constructor(scope: Construct, id: string, private readonly props: PlatformServicesProps) {
    super(scope, id);
  }

  /**
   * The service of `definition` (the `index`th of the platform's `services`),
   * bound to the platform's parts.
   */
  public add(definition: ServiceDefinition, index: number): Microservice {
    const { cluster, edge, observability } = this.props;
    const { access, calls: _calls, ...given } = definition;
    const internetAccess = this.internetAccessOf(definition, index);
    // The development profile's one node holds every service at one small pod each.
    const defaults = profileDefaults(this.props.profile).service;
    const options = { ...defaults, ...given, internetAccess, release: { ...defaults.release, ...given.release } };
    // Each service is a nested stack of its own, so the platform's stack grows by
    // two resources a service (the stack and the repository) and every template
    // stays small whatever the number of services. The repository holds the images:
    // it stays in the platform's stack with the other stateful resources, at the
    // path it always had.
    const unit = new Construct(this, pascalCase(definition.name));
    const repository = options.image ? undefined : serviceRepository(unit, 'Repository', `${this.props.repositoryPrefix}/${definition.name}`);
    const stack = new NestedStack(unit, 'Stack', { description: `The ${definition.name} service of ${this.node.scope!.node.path}` });
    const service = withPropertyPrefix(`services[${index}]`, options,
      () => new Microservice(stack, 'Service', { ...options, repository, cluster, loadBalancerCidrs: edge.loadBalancerCidrs }), definition.name);
    service.addEnvironment('AWS_REGION', Stack.of(this).region);
    // Traces and metrics go to the CloudWatch agent of the observability add-on (OTLP over HTTP).
    service.addEnvironment('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://cloudwatch-agent.amazon-cloudwatch:4316');
    service.addEnvironment('OTEL_SERVICE_NAME', definition.name);
    service.allowEgressToPods(CLOUDWATCH_AGENT.namespace, CLOUDWATCH_AGENT.labels, ec2.Port.tcp(CLOUDWATCH_AGENT.port));
    // The namespace denies what no policy opens, once this service's policy is in.
    this.defaultDeny(service.namespace).addService(service);

    // The route and the alarms live in the service's scope, so in its nested stack:
    // they deploy with the service, and the platform's stack does not grow with the
    // number of services.
    withPropertyPrefix('edge', this.props.edgeOptions, () => edge.addRoute(service, 'Route', service.route));
    const alarms = observability._watchEdgeService(service, {
      name: service.serviceName,
      targetGroup: service.targetGroup,
      latencyObjective: service.latencyObjective,
      pods: service.pods,
      canaryTargetGroup: service.canaryTargetGroup,
    });
    // A release of a track is judged by that track's alarms (the canary's are `Canary...`).
    const ofCanary = (alarm: Construct) => alarm.node.id.startsWith('Canary');
    service.addReleaseAlarms(ReleaseTrack.STABLE, alarms.filter(alarm => !ofCanary(alarm)));
    service.addReleaseAlarms(ReleaseTrack.CANARY, alarms.filter(ofCanary));
    if (service.releaseGated && !this.gatesNotify) {
      // A refused release reaches whoever the alarms reach.
      cluster._releaseGates().notify(observability.alarmTopic);
      this.gatesNotify = true;
    }

    for (const kind of new Set(access ?? [])) {
      this.connect(service, kind);
    }
    return service;
  }

  /**
   * The sandbox of `options` (the `index`th of the platform's `sandboxes`), in a
   * nested stack of its own, its repository beside the services'.
   */
  public addSandbox(options: SandboxServiceOptions, index: number): SandboxService {
    const unit = new Construct(this, pascalCase(options.name));
    const repository = options.image ? undefined : serviceRepository(unit, 'Repository', `${this.props.repositoryPrefix}/${options.name}`);
    const stack = new NestedStack(unit, 'Stack', { description: `The ${options.name} sandbox of ${this.node.scope!.node.path}` });
    const sandbox = withPropertyPrefix(`sandboxes[${index}]`, options,
      () => new SandboxService(stack, 'Sandbox', { ...options, repository, cluster: this.props.cluster }), options.name);
    // Its alarm lives in its nested stack, as a service's do.
    this.props.observability.watchPods(sandbox, sandbox.serviceName, sandbox.pods);
    return sandbox;
  }

  /**
   * Opens each call that a service's `calls` declares, once every service and
   * sandbox is added: the caller's policy lets it out to the callee's pods, and
   * the callee's lets it in.
   */
  public connectCalls(definitions: ServiceDefinition[], services: { [name: string]: Microservice },
    sandboxes: { [name: string]: SandboxService }): void {
    for (const definition of definitions) {
      for (const callee of new Set(definition.calls ?? [])) {
        (services[callee] ?? sandboxes[callee]).allowCallsFrom(services[definition.name]);
      }
    }
  }

  /** The default-deny policy of `namespace`, made once, in the platform's scope (never the cluster's). */
  private defaultDeny(namespace: string): NamespaceDefaultDeny {
    let deny = this.denies.get(namespace);
    if (!deny) {
      deny = new NamespaceDefaultDeny(this, 'DefaultDeny', { cluster: this.props.cluster, namespace });
      this.denies.set(namespace, deny);
    }
    return deny;
  }

  /**
   * What `definition` may reach beyond the cluster: as it says, or HTTPS when a
   * store of its `access` is reached through AWS APIs (S3, Secrets Manager, MSK's
   * bootstrap brokers), otherwise nothing.
   */
  private internetAccessOf(definition: ServiceDefinition, index: number): InternetAccess {
    const { cache } = this.props;
    const throughApis = [...new Set(definition.access ?? [])].filter(kind =>
      [DataAccess.UPLOADS, DataAccess.STATIC_ASSETS, DataAccess.MESSAGING].includes(kind)
      || (kind === DataAccess.CACHE && cache.authToken !== undefined));
    if (definition.internetAccess === undefined) {
      return throughApis.length > 0 ? InternetAccess.HTTPS : InternetAccess.NONE;
    }
    if (definition.internetAccess === InternetAccess.NONE && throughApis.length > 0) {
      throw new ConfigurationError(`\`services[${index}].internetAccess\` is NONE, but its \`access\` has ${throughApis.join(' and ')}, ` +
        'which the pods reach through AWS APIs over HTTPS (S3, Secrets Manager, MSK): set it to HTTPS, or leave it out.');
    }
    return definition.internetAccess;
  }

  /**
   * The ConfigMap `name` of the services' namespace (the platform's services all
   * share one), created once: the one Kubernetes object that waits for what it
   * carries, so that no service's stack or manifest does.
   */
  private sharedConfigMap(id: string, name: string, namespace: string, data: Record<string, string>): eks.KubernetesManifest {
    let manifest = this.configMaps.get(name);
    if (!manifest) {
      const { cluster } = this.props;
      manifest = new eks.KubernetesManifest(this, id, {
        cluster: cluster.eksCluster,
        manifest: [k8s.configMap(name, namespace, data)],
        overwrite: true,
      });
      // It lives in the services' namespace.
      manifest.node.addDependency(cluster.addNamespace(namespace));
      this.configMaps.set(name, manifest);
    }
    return manifest;
  }

  /** Grants `service` one kind of data access and passes it the configuration. */
  private connect(service: Microservice, kind: DataAccess): void {
    const { database, cache, messaging, storage } = this.props;
    switch (kind) {
      case DataAccess.DATABASE: {
        const user = service.serviceName.replace(/-/g, '_');
        database.grantConnect(service, user);
        // The pods sign in as their user from the start: it exists before they do.
        service.waitFor(database.iamUsersReady);
        service.addEnvironment('DATABASE_HOST', database.writerEndpoint);
        if (database.readReplicas.length > 0) {
          // The replicas' endpoints and resource IDs exist only at the end of the
          // longest chain (writer, then replica): the service reads the endpoints from
          // a ConfigMap and gets its permission from the database's own policy, so
          // neither its stack nor its manifest waits for the replicas.
          const permission = database.grantReplicaConnect(service.role, user);
          const readers = this.sharedConfigMap('DatabaseReaders', DATABASE_READERS, service.namespace, { hosts: Fn.join(',', database.readerEndpoints) });
          service.addEnvironmentFromConfigMap('DATABASE_READER_HOSTS', DATABASE_READERS, 'hosts');
          // Pods start once the ConfigMap exists: it exists once they may connect to the replicas.
          readers.node.addDependency(permission);
        } else {
          service.addEnvironment('DATABASE_READER_HOSTS', database.writerEndpoint);
        }
        service.addEnvironment('DATABASE_PORT', '5432');
        service.addEnvironment('DATABASE_NAME', database.databaseName);
        service.addEnvironment('DATABASE_USER', user);
        service.allowEgressTo(database.subnetCidrs, database.connections.defaultPort!);
        break;
      }
      case DataAccess.CACHE:
        cache.grantConnect(service, service.serviceName);
        // The pods sign in as their user from the start: it is in the group before they run.
        service.waitFor(cache.usersReady);
        for (const [name, value] of Object.entries(cache.connectionEnvironment(service.serviceName))) {
          service.addEnvironment(name, value);
        }
        service.allowEgressTo(cache.subnetCidrs, cache.connections.defaultPort!);
        break;
      case DataAccess.MESSAGING: {
        messaging.grantConnect(service);
        const { BROKER_ENGINE: engine, ...environment } = messaging.connectionEnvironment();
        service.addEnvironment('BROKER_ENGINE', engine);
        // A list attribute cannot reach a service's nested stack as a parameter: each
        // comes from a ConfigMap named after it (BROKER_ENDPOINTS: broker-endpoints,
        // key endpoints).
        for (const [name, values] of Object.entries(messaging.connectionLists())) {
          const configMap = name.toLowerCase().replace(/_/g, '-');
          const key = name.split('_').pop()!.toLowerCase();
          this.sharedConfigMap(pascalCase(configMap), configMap, service.namespace, { [key]: Fn.join(',', values) });
          service.addEnvironmentFromConfigMap(name, configMap, key);
        }
        for (const [name, value] of Object.entries(environment)) {
          service.addEnvironment(name, value);
        }
        service.allowEgressTo(messaging.subnetCidrs, messaging.connections.defaultPort!);
        break;
      }
      case DataAccess.UPLOADS:
        storage.grantReadWriteUploads(service);
        service.addEnvironment('UPLOADS_BUCKET', storage.uploadsBucket.bucketName);
        break;
      case DataAccess.STATIC_ASSETS:
        storage.grantReadStaticAssets(service);
        service.addEnvironment('STATIC_ASSETS_BUCKET', storage.staticAssetsBucket.bucketName);
        break;
    }
  }
}
