import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { Cluster } from './cluster';
import { CanaryOptions, InternetAccess, MicroserviceProps, ServicePods } from './microservice-options';
import { ReleaseTrack } from './release-options';
import { checkWorkload, workloadImage } from './workload-checks';
import type { EdgeRoute } from '../edge/route';
import { ConfigurationError } from '../private/errors';
import * as k8s from '../private/k8s';
import * as policy from '../private/network-policy';
import { ManagedPolicyGrantee, podIdentityRole } from '../private/pod-identity';
import { MAX_BAKE, ServiceReleaseGate } from '../private/release-gate/gate';
import { requireCpu, requireImage, requirePathPattern, requireImageTag, requireKubernetesName, requireLatency, requireMemory, requireWholeNumber } from '../private/validate';

const SERVICE_PORT = 80;

/** What a pod requests, and may burst to, when its options do not say. */
const DEFAULT_CPU = '250m';
const DEFAULT_CPU_LIMIT = '1';

/**
 * One service of the platform on EKS, run the way production teams run it.
 *
 * - Deployment with rolling updates that never drop capacity (maxUnavailable 0),
 *   startup, readiness and liveness probes, a preStop pause as long as the load
 *   balancer's deregistration delay, zone spread, requests and limits, and a
 *   restricted security context (non-root, read-only root filesystem, no
 *   privilege escalation, all capabilities dropped).
 * - Service, HorizontalPodAutoscaler (70% CPU), PodDisruptionBudget.
 * - A ServiceAccount with its own Pod Identity role: the service gets only what
 *   is granted to `grantPrincipal`.
 * - A NetworkPolicy that admits the load balancer on the service's port, and
 *   lets the pods resolve names, get their credentials and reach the internet as
 *   `internetAccess` says; `allowEgressTo` and `allowCallsFrom` open the rest.
 *   The namespace denies everything else.
 * - An IP target group with the service's health check, and the
 *   TargetGroupBinding that registers the pods in it; the edge tier routes to it.
 * - An ECR repository (scan on push, immutable tags, encrypted, lifecycle rules),
 *   unless an image or a repository is given.
 *
 * @example
 * declare const cluster: Cluster;
 * const users = new Microservice(this, 'UserService', {
 *   cluster,
 *   name: 'user-service',
 *   path: '/api/users/*',
 *   imageTag: '2.3.1',
 * });
 * declare const bucket: s3.IBucket;
 * bucket.grantRead(users);
 */
export class Microservice extends Construct implements iam.IGrantable {
  /** The service's name. */
  public readonly serviceName: string;

  /** The Kubernetes namespace. */
  public readonly namespace: string;

  /** The port the container listens on, which the load balancer reaches. */
  public readonly port: number;

  /**
   * The path pattern the load balancer routes here.
   *
   * @default - none: the default route
   */
  public readonly path?: string;

  /**
   * The priority of the service's listener rule, as the options gave it.
   *
   * @default - undefined: the edge derives it from the path
   */
  public readonly priority?: number;

  /**
   * The Pod Identity role of the service's pods. Grant to `grantPrincipal` (or to
   * the service itself), which collects permissions in one managed policy.
   */
  public readonly role: iam.Role;

  /** The principal to grant the service's permissions to. */
  public readonly grantPrincipal: iam.IPrincipal;

  /** The IP target group of the service's pods. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  /**
   * The service's ECR repository.
   *
   * @default - none when an image is given
   */
  public readonly repository?: ecr.IRepository;

  /** The container image the pods run. */
  public readonly image: string;

  /**
   * The target group of the canary's pods.
   *
   * @default - none without a canary
   */
  public readonly canaryTargetGroup?: elbv2.ApplicationTargetGroup;

  /** The percentage of requests for the canary: 0 without one. */
  public readonly canaryWeight: number;

  /**
   * The service as the edge routes it: its path, priority and port, and its
   * target group, weighted against the canary's when it has one. Pass it to
   * `Edge.addRoute`.
   */
  public readonly route: EdgeRoute;

  /**
   * The p99 response time this service promises.
   *
   * @default - the observability default
   */
  public readonly latencyObjective?: Duration;

  /**
   * The Kubernetes objects of the service's stable track (its ServiceAccount,
   * Service, Deployment, HorizontalPodAutoscaler and PodDisruptionBudget).
   * Its TargetGroupBinding is a manifest of its own, applied before it.
   */
  public readonly manifest: eks.KubernetesManifest;

  /**
   * The Kubernetes objects of the canary track, a manifest of its own: removing
   * the canary deletes them (kubectl's prune would leave its binding behind).
   *
   * @default - none without a canary
   */
  public readonly canaryManifest?: eks.KubernetesManifest;

  /**
   * Where the service's pods run, as Container Insights names them: the cluster,
   * the namespace and the Deployments (the service's, and `<name>-canary` with a
   * canary), for `Observability.watchService`'s crash-loop alarms.
   */
  public readonly pods: ServicePods;

  /** What the service's network policy lets it reach beyond the cluster. */
  public readonly internetAccess: InternetAccess;

  /** Whether a deploy waits for the service's release and rolls it back on its own (`release`). */
  public readonly releaseGated: boolean;

  /**
   * How long the release gate keeps the alarms under watch after a rollout.
   *
   * @default - no bake: the release is not gated
   */
  public readonly releaseBakeTime?: Duration;

  private readonly releaseGate?: ServiceReleaseGate;

  /** What the service's network policy admits in, and lets out; rendered at synthesis. */
  private readonly ingress: policy.KubernetesPolicyRule[] = [];
  private readonly egress: policy.KubernetesPolicyRule[] = [];
  private readonly environment: k8s.EnvVar[] = [];
  private readonly pending: IDependable[] = [];

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    requireKubernetesName('name', props.name);
    const namespace = props.namespace ?? 'codelearn';
    const checked = checkWorkload(props, props.repository);
    const { port, maxReplicas, healthCheckPath } = checked;
    // The binding's name is the pods' readiness gate ('target-health.elbv2.k8s.aws/<name>'), a qualified name of at most 63 characters.
    const longest = k8s.bindingName(props.canary ? `${props.name}-canary` : props.name, port);
    if (longest.length > 63) {
      throw new ConfigurationError(`\`name\` ('${props.name}') is too long: its ${props.canary ? 'canary\'s ' : ''}TargetGroupBinding '${longest}' ` +
        `(the name${props.canary ? ', \'-canary\'' : ''} and the port) names the pods' readiness gate, and Kubernetes stops those at 63 characters. ` +
        `Shorten \`name\` to ${63 - (longest.length - props.name.length)} characters.`);
    }
    const cpuTarget = props.cpuTarget ?? 70;
    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(30);
    requireWholeNumber('cpuTarget', cpuTarget, 1, 100);
    if (props.memoryTarget !== undefined) {
      requireWholeNumber('memoryTarget', props.memoryTarget, 1, 100);
    }
    if (props.path !== undefined) requirePathPattern('path', props.path, '/api/users/*');
    if (props.path === '/*') {
      throw new ConfigurationError(`\`path\` ('${props.path}') matches every request, and would take them from the service without a path ` +
        '(the default route): leave `path` out for the service that takes everything else, and give the others their prefix, such as \'/api/users/*\'.');
    }
    if (props.path !== undefined && !props.path.endsWith('/*')) {
      throw new ConfigurationError(`\`path\` ('${props.path}') routes only that exact path, not what is below it: write '${props.path.replace(/\/?$/, '/*')}' ` +
        `(which also matches '${props.path.replace(/\/$/, '')}').`);
    }
    if (props.canary?.imageTag !== undefined) requireImageTag('canary.imageTag', props.canary.imageTag);
    if (props.canary?.image !== undefined) requireImage('canary.image', props.canary.image);
    const cpu = requireCpu('cpu', props.cpu ?? DEFAULT_CPU);
    const cpuLimit = requireCpu('cpuLimit', props.cpuLimit ?? DEFAULT_CPU_LIMIT);
    if (cpu !== undefined && cpuLimit !== undefined && cpu > cpuLimit) {
      throw new ConfigurationError(`\`cpu\` ('${props.cpu ?? DEFAULT_CPU}') is more than \`cpuLimit\` ('${props.cpuLimit ?? DEFAULT_CPU_LIMIT}'): ` +
        'Kubernetes refuses a request above its limit. Raise `cpuLimit`, or lower `cpu`.');
    }
    if (props.memory !== undefined) requireMemory('memory', props.memory);
    if (props.latencyObjective !== undefined) requireLatency('latencyObjective', props.latencyObjective);
    if (props.priority !== undefined) {
      if (props.path === undefined) {
        throw new ConfigurationError('`priority` is set, but the service has no `path`: the default route always comes last. Remove `priority`, or give the service a path.');
      }
      requireWholeNumber('priority', props.priority, 1, 49_999);
    }
    if (props.canary) {
      requireWholeNumber('canary.weight', props.canary.weight, 0, 100);
      requireWholeNumber('canary.minReplicas', props.canary.minReplicas ?? canaryMinReplicas(props.canary), 1, maxReplicas);
      if (props.canary.weight > 0 && props.canary.minReplicas !== undefined && props.canary.minReplicas < 2) {
        throw new ConfigurationError(`\`canary.minReplicas\` (${props.canary.minReplicas}) must be at least 2 while the canary takes traffic ` +
          `(\`weight\` ${props.canary.weight}): one eviction would empty its share. Raise it to 2, or set \`weight\` to 0.`);
      }
      if (props.canary.image !== undefined && props.canary.imageTag !== undefined) {
        throw new ConfigurationError('`canary.image` and `canary.imageTag` are both set: put the tag in `image`, or remove `image`.');
      }
      if (props.canary.imageTag !== undefined && props.image !== undefined) {
        throw new ConfigurationError('`canary.imageTag` needs the service\'s own repository, but `image` is set: give the canary an `image` instead.');
      }
    }
    if (deregistrationDelay.isUnresolved()) {
      throw new ConfigurationError('`deregistrationDelay` must be a literal duration, not a token: the pods\' preStop pause is set from it.');
    }
    const delaySeconds = deregistrationDelay.toSeconds();
    requireWholeNumber('deregistrationDelay', delaySeconds, 0, 300, 'seconds');
    const bakeTime = props.release?.bakeTime ?? Duration.minutes(5);
    if (bakeTime.isUnresolved()) {
      throw new ConfigurationError('`release.bakeTime` must be a literal duration, not a token: it sets how long CloudFormation waits for the gate.');
    }
    const bakeSeconds = bakeTime.toMilliseconds() / 1000;
    if (!Number.isInteger(bakeSeconds)) {
      throw new ConfigurationError(`\`release.bakeTime\` (${bakeTime.toHumanString()}) is not whole seconds: the gate bakes by the second. ` +
        `Round it, such as Duration.seconds(${Math.round(bakeSeconds)}).`);
    }
    if (bakeSeconds > MAX_BAKE.toSeconds()) {
      throw new ConfigurationError(`\`release.bakeTime\` (${bakeTime.toHumanString()}) must be at most ${MAX_BAKE.toHumanString()}: ` +
        'CloudFormation waits at most an hour for the gate, which also waits for the rollout. Shorten it, such as Duration.minutes(10).');
    }
    requireMetricAlarms('release.alarms', props.release?.alarms ?? []);
    const gated = props.release?.gate ?? props.cluster instanceof Cluster;
    if (gated && !(props.cluster instanceof Cluster)) {
      throw new ConfigurationError('`release.gate` is true, but the service runs on a `WorkloadCluster`: the gate needs the platform\'s `Cluster` ' +
        '(its private endpoint, subnets and key). Run the service on a `Cluster`, or leave `release.gate` out.');
    }

    this.serviceName = props.name;
    this.port = port;
    this.latencyObjective = props.latencyObjective;
    this.namespace = namespace;
    this.path = props.path;
    this.priority = props.priority;

    ({ image: this.image, repository: this.repository } = workloadImage(this, props.name, props, props.repository));
    const canaryImage = () => props.canary?.image ??
      (this.repository ? this.repository.repositoryUriForTag(props.canary?.imageTag ?? props.imageTag ?? '1.0.0') : this.image);

    const cluster = props.cluster.bindWorkload(namespace);
    this.releaseGated = gated;
    if (gated && props.cluster instanceof Cluster) {
      this.releaseBakeTime = bakeTime;
      this.releaseGate = new ServiceReleaseGate(this, 'Release', {
        gates: props.cluster._releaseGates(),
        service: props.name,
        namespace,
        bakeTime,
        progressDeadlineSeconds: k8s.PROGRESS_DEADLINE_SECONDS,
        canaryWeight: props.canary?.weight ?? 0,
        stableImage: this.image,
        canaryImage: props.canary ? canaryImage() : undefined,
        alarms: props.release?.alarms ?? [],
      });
    }
    this.pods = {
      clusterName: cluster.eksCluster.clusterName,
      namespace,
      deployments: props.canary ? [props.name, `${props.name}-canary`] : [props.name],
    };
    const identity = podIdentityRole(this, 'Role', {
      clusterName: cluster.eksCluster.clusterName,
      clusterArn: cluster.eksCluster.clusterArn,
      namespace,
      serviceAccount: props.name,
      agent: cluster.podIdentityAgent,
    });
    this.role = identity.role;
    // Pods ask for their credentials as they start: the manifest waits for what is granted.
    this.grantPrincipal = new ManagedPolicyGrantee(this, this.role, `Permissions of the ${props.name} service`,
      granted => this.waitFor(granted));

    const targetGroup = (groupId: string) => new elbv2.ApplicationTargetGroup(this, groupId, {
      vpc: cluster.eksCluster.vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port,
      deregistrationDelay,
      healthCheck: {
        path: healthCheckPath,
        healthyHttpCodes: '200-399',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    this.targetGroup = targetGroup('TargetGroup');
    this.canaryWeight = props.canary?.weight ?? 0;
    if (props.canary) {
      this.canaryTargetGroup = targetGroup('CanaryTargetGroup');
    }
    this.route = {
      name: props.name,
      path: props.path,
      priority: props.priority,
      targetGroups: this.canaryTargetGroup
        ? [
          { targetGroup: this.targetGroup, weight: 100 - this.canaryWeight },
          { targetGroup: this.canaryTargetGroup, weight: this.canaryWeight },
        ]
        : [{ targetGroup: this.targetGroup }],
      targetPort: port,
    };

    for (const [name, value] of Object.entries(props.environment ?? {})) {
      this.addEnvironment(name, value);
    }

    // The load balancer's nodes send the requests and the health checks.
    const vpcCidr = () => {
      try {
        return cluster.eksCluster.vpc.vpcCidrBlock;
      } catch {
        throw new ConfigurationError(`The VPC of the cluster of ${props.name} has no CIDR block, which its network policy needs: ` +
          'import it with `vpcCidrBlock`, or give the service `loadBalancerCidrs` (and no `internetAccess: ALL`).');
      }
    };
    const loadBalancerCidrs = props.loadBalancerCidrs ?? [vpcCidr()];
    if (loadBalancerCidrs.length === 0) {
      throw new ConfigurationError('`loadBalancerCidrs` is empty: the network policy would admit no load balancer, and every health check would fail. ' +
        'Give the CIDR blocks of the load balancer\'s subnets, or leave it out for the VPC\'s block.');
    }
    this.ingress.push(policy.ingressRule({ peers: policy.addresses(loadBalancerCidrs), ports: [{ protocol: 'TCP', port }] }));
    this.egress.push(...policy.baseEgress().map(policy.egressRule));
    const internet = props.internetAccess ?? InternetAccess.HTTPS;
    if (internet !== InternetAccess.NONE) {
      this.egress.push(policy.egressRule({ peers: policy.addresses([policy.ANYWHERE]), ports: [{ protocol: 'TCP', port: 443 }] }));
    }
    if (internet === InternetAccess.ALL) {
      // Outside the VPC only: its data stores are reached through `allowEgressTo`, or not at all.
      this.egress.push(policy.egressRule({ peers: policy.addresses([policy.ANYWHERE], [vpcCidr()]), ports: [] }));
    }
    this.internetAccess = internet;

    const stable: k8s.WorkloadSpec = {
      // Its port, probe path, replicas and user, as checked.
      ...checked,
      name: props.name,
      serviceAccountName: props.name,
      namespace,
      image: this.image,
      env: this.environment,
      cpuRequest: props.cpu ?? DEFAULT_CPU,
      memoryRequest: props.memory ?? '512Mi',
      cpuLimit: props.cpuLimit ?? DEFAULT_CPU_LIMIT,
      memoryLimit: props.memory ?? '512Mi',
      cpuTarget,
      memoryTarget: props.memoryTarget,
      preStopSeconds: Math.max(delaySeconds, 5),
      spot: props.spot ?? false,
      spotTaintKey: Cluster.CAPACITY_LABEL,
      requiredSpotCapacity: cluster.spotCapacityValues,
      targetGroupArn: this.targetGroup.targetGroupArn,
      servicePort: SERVICE_PORT,
    };
    // Each track is its own manifest, and each binding its own, named after its
    // target group's port: a manifest that leaves the template is deleted with
    // `kubectl delete`, where an update's prune would leave a TargetGroupBinding
    // (a custom resource) behind, bound to a deleted target group.
    const track = (manifestId: string, spec: k8s.WorkloadSpec, objects: k8s.KubernetesObject[],
      releaseTrack: ReleaseTrack, group: elbv2.ApplicationTargetGroup) => {
      const binding = new eks.KubernetesManifest(this, `${manifestId === 'Manifest' ? '' : 'Canary'}Binding${port}`, {
        cluster: cluster.eksCluster,
        manifest: [k8s.targetGroupBinding(spec)],
        overwrite: true,
      });
      // The binding's resource and webhook come with the controller.
      binding.node.addDependency(cluster.namespaceObject, cluster.loadBalancerController);
      const workload = k8s.workload(spec);
      const manifest = new eks.KubernetesManifest(this, manifestId, {
        cluster: cluster.eksCluster,
        manifest: [...objects, ...workload],
        overwrite: true,
      });
      this.releaseGate?.addTrack(releaseTrack, workload.find(object => object.kind === 'Deployment')!, manifest, group);
      // The controller gates a pod's readiness only if its binding exists as the pod is created.
      manifest.node.addDependency(binding);
      return manifest;
    };
    // The policy comes first: the pods it selects start under it.
    this.manifest = track('Manifest', stable, [policy.servicePolicy(props.name, namespace, this.ingress, this.egress), k8s.serviceAccount(stable)],
      ReleaseTrack.STABLE, this.targetGroup);
    // Pods start after their namespace and their Pod Identity association exist.
    this.manifest.node.addDependency(cluster.namespaceObject, identity.association, ...this.pending);
    if (props.canary && this.canaryTargetGroup) {
      this.canaryManifest = track('CanaryManifest', {
        ...stable,
        name: `${props.name}-canary`,
        image: canaryImage(),
        minReplicas: props.canary.minReplicas ?? canaryMinReplicas(props.canary),
        targetGroupArn: this.canaryTargetGroup.targetGroupArn,
      }, [], ReleaseTrack.CANARY, this.canaryTargetGroup);
      // The canary runs as the service's account, with what the stable track waits for.
      this.canaryManifest.node.addDependency(this.manifest);
    }
  }

  /**
   * Lets the service's pods open connections to `cidrs` on `port`, such as a data
   * store of your own: `allowEgressTo(['10.0.224.0/24'], ec2.Port.tcp(5432))`.
   * The platform calls it for each store in a service's `access`.
   */
  public allowEgressTo(cidrs: string[], port: ec2.Port): void {
    this.egress.push(policy.egressTo(this.serviceName, cidrs, port));
  }

  /**
   * Lets the service's pods open connections on `port` to the pods labelled
   * `labels` in `namespace`, such as an agent the platform runs in a namespace of
   * its own.
   */
  public allowEgressToPods(namespace: string, labels: { [name: string]: string }, port: ec2.Port): void {
    this.egress.push(policy.egressRule({ peers: [policy.podsIn(namespace, { matchLabels: labels })], ports: [policy.policyPort(port)] }));
  }

  /**
   * Lets the pods of `caller` (and of its canary) call this service's pods on its
   * port, through the Kubernetes Service at `http://<name>.<namespace>:<port>`
   * (the VPC CNI applies policies to a Service's traffic only on a port equal to
   * the container's, which the Service listens on besides 80): both services'
   * network policies open the call.
   */
  public allowCallsFrom(caller: Microservice): void {
    if (caller === this) {
      throw new ConfigurationError(`${this.serviceName} cannot be its own caller: its pods reach each other through the load balancer's path, not a policy.`);
    }
    this.ingress.push(policy.ingressRule({
      peers: [policy.podsIn(caller.namespace, policy.servicePods(caller.serviceName))], ports: [{ protocol: 'TCP', port: this.port }],
    }));
    caller.egress.push(policy.egressRule({
      peers: [policy.podsIn(this.namespace, policy.servicePods(this.serviceName))], ports: [{ protocol: 'TCP', port: this.port }],
    }));
  }

  /**
   * Judges each release of `track` by `alarms` too: the release gate fails a
   * deploy in which one of them goes to ALARM during the bake, and refuses to
   * promote a canary whose alarms fired. The platform adds the alarms it watches
   * the service with. Does nothing when the service's release is not gated.
   */
  public addReleaseAlarms(track: ReleaseTrack, alarms: cloudwatch.IAlarm[]): void {
    requireMetricAlarms('alarms', alarms);
    this.releaseGate?.addAlarms(track, alarms);
  }

  /**
   * Makes the service's pods start only once `dependency` exists, such as a
   * policy granted to the service's role from outside (`grantPrincipal`'s own
   * policy is waited for already).
   */
  public waitFor(dependency: IDependable): void {
    if (this.manifest) {
      this.manifest.node.addDependency(dependency);
    } else {
      this.pending.push(dependency);
    }
  }

  /**
   * Adds an environment variable to the container: configuration such as an
   * endpoint, a bucket name or a secret's ARN, never a secret's value.
   */
  public addEnvironment(name: string, value: string): void {
    this.addVariable({ name, value });
  }

  /**
   * Adds an environment variable whose value is `key` of the ConfigMap named
   * `configMap` in the service's namespace. Pods start once the ConfigMap exists,
   * so the service's manifest need not wait for what the ConfigMap carries: the
   * ConfigMap alone does.
   */
  public addEnvironmentFromConfigMap(name: string, configMap: string, key: string): void {
    this.addVariable({ name, valueFrom: { configMapKeyRef: { name: configMap, key } } });
  }

  private addVariable(variable: k8s.EnvVar): void {
    if (this.environment.some(existing => existing.name === variable.name)) {
      throw new ConfigurationError(`The environment of ${this.serviceName} already has '${variable.name}': set each variable once.`);
    }
    this.environment.push(variable);
  }
}

/** The release gate reads metric alarms only (composite alarms need a permission on every alarm). */
function requireMetricAlarms(property: string, alarms: cloudwatch.IAlarm[]): void {
  const composite = alarms.find(alarm => alarm instanceof cloudwatch.CompositeAlarm);
  if (composite) {
    throw new ConfigurationError(`\`${property}\` has the composite alarm ${composite.node.path}: the release gate reads metric alarms only ` +
      '(CloudWatch lets composite alarms be read only with a permission on every alarm of the account). Give the alarms it is made of instead.');
  }
}

/** A canary that takes traffic keeps two pods by default; a warm one, one. */
function canaryMinReplicas(canary: CanaryOptions): number {
  return canary.weight > 0 ? 2 : 1;
}
