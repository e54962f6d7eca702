import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { Cluster } from './cluster';
import { Microservice } from './microservice';
import { ServicePods } from './microservice-options';
import { checkWorkload, workloadImage } from './workload-checks';
import { WorkloadOptions } from './workload-options';
import { ConfigurationError } from '../private/errors';
import * as k8s from '../private/k8s';
import * as policy from '../private/network-policy';
import { requireCpu, requireKubernetesName, requireMemory } from '../private/validate';

/**
 * What a user may set on one sandbox.
 */
export interface SandboxServiceOptions extends WorkloadOptions {
  /**
   * The sandbox's name: the Kubernetes name of its Deployment, Service and
   * ServiceAccount, and the last part of its ECR repository's name.
   */
  readonly name: string;

  /**
   * The CPU limit per pod: what code in a loop gets at most.
   *
   * @default '500m'
   */
  readonly cpuLimit?: string;

  /**
   * Memory per pod: the request, and also the limit.
   *
   * @default '256Mi'
   */
  readonly memory?: string;

  /**
   * Local disk per pod, the request and the limit: the container's writable
   * layer (the root filesystem is read-only), its logs and `/tmp`. The kubelet
   * evicts a pod that writes more.
   *
   * @default '512Mi'
   */
  readonly ephemeralStorage?: string;

  /**
   * The size of the writable `/tmp`, within `ephemeralStorage`.
   *
   * @default '256Mi'
   */
  readonly tmpSize?: string;

  /**
   * A RuntimeClass that runs the pods, such as `gvisor`, for a kernel between
   * the code and the node's: it must exist in the cluster, with its handler on
   * the sandbox nodes (which need a custom AMI for it; docs/operations.md,
   * "A stronger runtime"). The API server refuses the pods otherwise.
   *
   * @default - the nodes' runc, under the restricted Pod Security Standard, RuntimeDefault seccomp and the nodes' PID limit
   */
  readonly runtimeClassName?: string;
}

/**
 * Properties of a `SandboxService`.
 */
export interface SandboxServiceProps extends SandboxServiceOptions {
  /** The cluster: its sandbox nodes run the pods (added with the defaults if it has none). */
  readonly cluster: Cluster;

  /**
   * The ECR repository of the sandbox's images, when it is made elsewhere.
   *
   * @default - a new repository `codelearn/<name>` in the sandbox's scope, unless `image` is given
   */
  readonly repository?: ecr.IRepository;

  /**
   * The Kubernetes namespace, the sandbox's alone.
   *
   * @default - the sandbox's name
   */
  readonly namespace?: string;
}

/**
 * A service that runs code nobody reviewed, such as the code learners submit:
 * apart from the platform's services, their credentials and their data.
 *
 * - Its pods run only on the cluster's sandbox nodes (tainted
 *   `codelearn.dev/workload=sandbox:NoSchedule`, which no other workload
 *   tolerates), which carry only the cluster's security group: no data store
 *   admits them, whatever the network policies say.
 * - No credentials: no Pod Identity role, no service-account token mounted, no
 *   Kubernetes Service variables; the nodes' IMDSv2 hop limit of 1 keeps the
 *   node's role out of reach.
 * - A namespace of its own under the restricted Pod Security Standard, which
 *   denies all traffic but its callers' calls on its port: no DNS, no internet,
 *   no store, unless `allowEgressTo` names it.
 * - Non-root, read-only root filesystem, no privilege escalation, no
 *   capabilities, RuntimeDefault seccomp; CPU, memory and local-disk limits per
 *   pod, and the nodes' kubelet caps each pod's processes.
 *
 * The isolation between the code and the node is the Linux kernel's (namespaces,
 * cgroups, seccomp): a kernel exploit escapes it. For a second boundary, run it
 * under gVisor (`runtimeClassName`) on nodes that have it.
 *
 * @example
 * declare const cluster: Cluster;
 * declare const posts: Microservice;
 * const runner = new SandboxService(this, 'CodeRunner', { cluster, name: 'code-runner', imageTag: '1.2.0' });
 * runner.allowCallsFrom(posts);
 */
export class SandboxService extends Construct {
  /** The sandbox's name. */
  public readonly serviceName: string;

  /** Its namespace, which it has alone. */
  public readonly namespace: string;

  /** The port its pods listen on, where callers reach them. */
  public readonly port: number;

  /** The container image the pods run. */
  public readonly image: string;

  /**
   * The sandbox's ECR repository.
   *
   * @default - none when an image is given
   */
  public readonly repository?: ecr.IRepository;

  /**
   * Where the sandbox's pods run, as Container Insights names them, for
   * `Observability.watchPods`'s crash-loop alarm.
   */
  public readonly pods: ServicePods;

  /** The Kubernetes objects: the network policies, ServiceAccount, Service, Deployment, HorizontalPodAutoscaler and PodDisruptionBudget. */
  public readonly manifest: eks.KubernetesManifest;

  /** What the sandbox's network policy admits in, and lets out; rendered at synthesis. */
  private readonly ingress: policy.KubernetesPolicyRule[] = [];
  private readonly egress: policy.KubernetesPolicyRule[] = [];

  constructor(scope: Construct, id: string, props: SandboxServiceProps) {
    super(scope, id);
    requireKubernetesName('name', props.name);
    const namespace = props.namespace ?? props.name;
    const checked = checkWorkload(props, props.repository);
    const { port } = checked;
    const cpu = props.cpu ?? '250m';
    const cpuLimit = props.cpuLimit ?? '500m';
    const cpus = requireCpu('cpu', cpu);
    const cpuLimits = requireCpu('cpuLimit', cpuLimit);
    if (cpus !== undefined && cpuLimits !== undefined && cpus > cpuLimits) {
      throw new ConfigurationError(`\`cpu\` ('${cpu}') is more than \`cpuLimit\` ('${cpuLimit}'): Kubernetes refuses a request above its limit. Raise \`cpuLimit\`, or lower \`cpu\`.`);
    }
    const memory = props.memory ?? '256Mi';
    requireMemory('memory', memory);
    const ephemeralStorage = props.ephemeralStorage ?? '512Mi';
    const tmpSize = props.tmpSize ?? '256Mi';
    const disk = requireMemory('ephemeralStorage', ephemeralStorage);
    const tmp = requireMemory('tmpSize', tmpSize);
    if (disk !== undefined && tmp !== undefined && tmp >= disk) {
      throw new ConfigurationError(`\`tmpSize\` ('${tmpSize}') must be less than \`ephemeralStorage\` ('${ephemeralStorage}'), which also holds the container's logs ` +
        'and writable layer: the kubelet would evict the pod before /tmp is full. Raise `ephemeralStorage`, or lower `tmpSize`.');
    }
    if (props.runtimeClassName !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(props.runtimeClassName)) {
      throw new ConfigurationError(`\`runtimeClassName\` ('${props.runtimeClassName}') is not the name of a RuntimeClass: use lowercase letters, digits, '-' and '.', such as 'gvisor'.`);
    }
    const environment = Object.entries(props.environment ?? {});

    this.serviceName = props.name;
    this.namespace = namespace;
    this.port = port;
    ({ image: this.image, repository: this.repository } = workloadImage(this, props.name, props, props.repository));

    const binding = props.cluster.bindSandbox(namespace);
    this.pods = { clusterName: props.cluster.clusterName, namespace, deployments: [props.name] };
    const spec: k8s.WorkloadSpec = {
      // Its port, probe path, replicas and user, as checked.
      ...checked,
      name: props.name,
      serviceAccountName: props.name,
      namespace,
      image: this.image,
      env: environment.map(([name, value]) => ({ name, value })),
      cpuRequest: cpu,
      memoryRequest: memory,
      cpuLimit,
      memoryLimit: memory,
      cpuTarget: 70,
      preStopSeconds: 5,
      spot: false,
      spotTaintKey: Cluster.CAPACITY_LABEL,
      sandbox: {
        nodeKey: binding.nodeLabel.key,
        nodeValue: binding.nodeLabel.value,
        ephemeralStorage,
        tmpSize,
        runtimeClassName: props.runtimeClassName,
      },
    };
    // Its own policy, then the namespace's deny of everything else, then the pods:
    // they start under both.
    this.manifest = new eks.KubernetesManifest(this, 'Manifest', {
      cluster: binding.eksCluster,
      manifest: [
        policy.servicePolicy(props.name, namespace, this.ingress, this.egress),
        k8s.defaultDeny(namespace),
        k8s.serviceAccount(spec),
        ...k8s.workload(spec),
      ],
      overwrite: true,
    });
    // Its objects live in its namespace.
    this.manifest.node.addDependency(binding.namespaceObject);
  }

  /**
   * Lets the pods of `caller` (and of its canary) call the sandbox's pods on its
   * port, at `http://<name>.<namespace>:<port>`: both network policies open the call.
   */
  public allowCallsFrom(caller: Microservice): void {
    this.ingress.push(policy.ingressRule({
      peers: [policy.podsIn(caller.namespace, policy.servicePods(caller.serviceName))], ports: [{ protocol: 'TCP', port: this.port }],
    }));
    caller.allowEgressToPods(this.namespace, k8s.selectorLabels(this.serviceName), ec2.Port.tcp(this.port));
  }

  /**
   * Lets the sandbox's pods open connections to `cidrs` on `port`, such as a
   * package mirror: `allowEgressTo(['203.0.113.0/24'], ec2.Port.tcp(443))`. The
   * pods resolve no names (DNS is closed too, so that nothing leaves through
   * it): name addresses.
   */
  public allowEgressTo(cidrs: string[], port: ec2.Port): void {
    this.egress.push(policy.egressTo(this.serviceName, cidrs, port));
  }
}
