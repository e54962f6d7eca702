import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { Microservice } from './microservice';
import { IWorkloadCluster } from './workload-cluster';
import { defaultDeny } from '../private/k8s';

/**
 * Properties of a `NamespaceDefaultDeny`.
 */
export interface NamespaceDefaultDenyProps {
  /** The cluster of the namespace. */
  readonly cluster: IWorkloadCluster;

  /**
   * The namespace.
   *
   * @default 'codelearn'
   */
  readonly namespace?: string;
}

/**
 * The NetworkPolicy `default-deny` of a namespace: every pod, both directions,
 * no rule. A pod that no other policy selects reaches nothing and is reached by
 * nothing; each `Microservice`'s own policy opens what it declares.
 *
 * It is applied after the services added to it (`addService`): on a running
 * cluster, a deny applied first would cut every pod off until its own policy
 * arrived. Make it in the scope that makes the services, not the cluster's, so
 * that the cluster never waits for a service.
 *
 * @example
 * declare const cluster: Cluster;
 * declare const users: Microservice;
 * const deny = new NamespaceDefaultDeny(this, 'DefaultDeny', { cluster });
 * deny.addService(users);
 */
export class NamespaceDefaultDeny extends Construct {
  /** The manifest of the policy. */
  public readonly manifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: NamespaceDefaultDenyProps) {
    super(scope, id);
    const namespace = props.namespace ?? 'codelearn';
    const binding = props.cluster.bindWorkload(namespace);
    this.manifest = new eks.KubernetesManifest(this, 'Manifest', {
      cluster: binding.eksCluster,
      manifest: [defaultDeny(namespace)],
      overwrite: true,
    });
    // It is applied in its namespace.
    this.manifest.node.addDependency(binding.namespaceObject);
  }

  /** Applies the deny only once `service`'s own policy (in its manifest) is in. */
  public addService(service: Microservice): void {
    // Its pods keep their traffic: their own policy is in before the namespace denies the rest.
    this.manifest.node.addDependency(service.manifest);
  }
}
