import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct, DependencyGroup, IConstruct, IDependable } from 'constructs';
import { namespaceOnce } from '../private/k8s';

/**
 * What a workload (a `Microservice`) runs on and waits for in one namespace.
 */
export interface WorkloadBinding {
  /**
   * The EKS cluster: the workload's objects are applied through its kubectl
   * provider, its Pod Identity association is made in it, and its target groups
   * in its VPC.
   */
  readonly eksCluster: eks.ICluster;

  /** The workload's Namespace object, created once: the workload's objects wait for it. */
  readonly namespaceObject: IDependable;

  /** The EKS Pod Identity agent: the Pod Identity association waits for it. */
  readonly podIdentityAgent: IDependable;

  /** The AWS Load Balancer Controller: a TargetGroupBinding (its resource) waits for it. */
  readonly loadBalancerController: IDependable;

  /**
   * The values of `Cluster.CAPACITY_LABEL` that the pods of a `spot: true`
   * service must run on (a required node affinity), when the cluster's node
   * scaling launches spot capacity for them (Karpenter).
   *
   * @default - none required: spot pods tolerate spot nodes and prefer them
   */
  readonly spotCapacityValues?: string[];
}

/**
 * What a sandbox runs on and waits for: the cluster, its own namespace, and the
 * label of the nodes where it alone runs.
 */
export interface SandboxBinding {
  /** The EKS cluster. */
  readonly eksCluster: eks.ICluster;

  /** The sandbox's Namespace object: its objects wait for it. */
  readonly namespaceObject: IDependable;

  /** The label (and taint) of the sandbox nodes: the sandbox's pods select and tolerate it. */
  readonly nodeLabel: NodeLabel;
}

/** A Kubernetes node label. */
export interface NodeLabel {
  /** The label's key, such as `codelearn.dev/workload`. */
  readonly key: string;

  /** The label's value, such as `sandbox`. */
  readonly value: string;
}

/**
 * A cluster that runs workloads: `Cluster` is one, and `WorkloadCluster` makes one
 * of an EKS cluster of your own.
 */
export interface IWorkloadCluster extends IConstruct {
  /** Binds a workload in `namespaceName`: the cluster, and what the workload waits for. */
  bindWorkload(namespaceName: string): WorkloadBinding;
}

/**
 * Properties of a `WorkloadCluster`.
 */
export interface WorkloadClusterProps {
  /** The EKS cluster, with a kubectl provider (`kubectlProviderOptions`, or one imported with it). */
  readonly eksCluster: eks.ICluster;

  /**
   * The EKS Pod Identity agent add-on, when this app creates it.
   *
   * @default - nothing to wait for: the agent runs in the cluster already
   */
  readonly podIdentityAgent?: IDependable;

  /**
   * The AWS Load Balancer Controller (v2.x, with its TargetGroupBinding resource),
   * when this app installs it.
   *
   * @default - nothing to wait for: the controller runs in the cluster already
   */
  readonly loadBalancerController?: IDependable;

  /**
   * The nodes (or what runs the controller), when this app creates them: the
   * namespaces wait for them, so that on delete a namespace goes first, while the
   * Load Balancer Controller still runs to remove its TargetGroupBindings'
   * finalizers.
   *
   * @default - nothing: delete the services before the nodes yourself
   */
  readonly capacity?: IDependable;
}

/**
 * An EKS cluster of your own (an aws-eks-v2 cluster, with a kubectl provider), as
 * a `Microservice` runs on it: it needs the EKS Pod Identity agent and the AWS
 * Load Balancer Controller (v2.x) running there, and creates the namespaces its
 * services use (restricted Pod Security Standard, the controller's pod readiness
 * gate). A service with `spot: true` runs on nodes labelled
 * `codelearn.dev/capacity=spot` (`Cluster.CAPACITY_LABEL`): label yours to use it.
 * The namespaces belong to the stack, which deletes them, and all they hold, when
 * it is deleted: give the services a namespace nothing else uses.
 *
 * @example
 * declare const myCluster: eks.Cluster;
 * const cluster = new WorkloadCluster(this, 'Workloads', { eksCluster: myCluster });
 * new Microservice(this, 'Users', { cluster, name: 'user-service', path: '/api/users/*' });
 */
export class WorkloadCluster extends Construct implements IWorkloadCluster {
  /** The EKS cluster. */
  public readonly eksCluster: eks.ICluster;

  private readonly podIdentityAgent: IDependable;
  private readonly loadBalancerController: IDependable;
  private readonly capacity?: IDependable;

  private readonly namespaces = new Map<string, eks.KubernetesManifest>();

  constructor(scope: Construct, id: string, props: WorkloadClusterProps) {
    super(scope, id);
    this.eksCluster = props.eksCluster;
    this.podIdentityAgent = props.podIdentityAgent ?? new DependencyGroup();
    this.loadBalancerController = props.loadBalancerController ?? new DependencyGroup();
    this.capacity = props.capacity;
  }

  public bindWorkload(namespaceName: string): WorkloadBinding {
    return {
      eksCluster: this.eksCluster,
      namespaceObject: this.addNamespace(namespaceName),
      podIdentityAgent: this.podIdentityAgent,
      loadBalancerController: this.loadBalancerController,
    };
  }

  /**
   * The namespace `name`, created once, enforcing the restricted Pod Security
   * Standard.
   */
  public addNamespace(name: string): eks.KubernetesManifest {
    // Deleted before the capacity, so that the controller still runs to release the pods' bindings.
    return namespaceOnce(this, this.eksCluster, this.namespaces, name, manifest => {
      if (this.capacity) manifest.node.addDependency(this.capacity);
    });
  }
}
