/**
 * How the cluster scales its nodes.
 */
export enum NodeScalingStrategy {
  /** The Kubernetes Cluster Autoscaler adds nodes for pending pods and removes idle ones. */
  CLUSTER_AUTOSCALER = 'CLUSTER_AUTOSCALER',
}

/**
 * Options of the Cluster Autoscaler.
 */
export interface ClusterAutoscalerOptions {
  /**
   * The version of the `cluster-autoscaler` Helm chart (https://kubernetes.github.io/autoscaler).
   *
   * @default '9.52.1'
   */
  readonly chartVersion?: string;

  /**
   * The Cluster Autoscaler image tag, whose minor version should match the
   * cluster's Kubernetes version.
   *
   * @default 'v1.35.0'
   */
  readonly imageTag?: string;
}

/**
 * How the cluster's nodes scale. Cluster Autoscaler is the default; the class
 * leaves room for other strategies (ASG target tracking, Karpenter) behind the
 * same property.
 *
 * @example
 * new Cluster(this, 'Cluster', {
 *   vpc,
 *   nodeScaling: NodeScaling.clusterAutoscaler({ imageTag: 'v1.35.1' }),
 * });
 */
export class NodeScaling {
  /**
   * The Kubernetes Cluster Autoscaler, installed with Helm and given a
   * least-privilege Pod Identity role. Pod-level scaling comes from each
   * service's HorizontalPodAutoscaler (70% CPU by default).
   */
  public static clusterAutoscaler(options: ClusterAutoscalerOptions = {}): NodeScaling {
    return new NodeScaling(NodeScalingStrategy.CLUSTER_AUTOSCALER, options);
  }

  /** The strategy. */
  public readonly strategy: NodeScalingStrategy;

  /**
   * The Cluster Autoscaler's options.
   *
   * @default - none for other strategies
   */
  public readonly clusterAutoscalerOptions?: ClusterAutoscalerOptions;

  private constructor(strategy: NodeScalingStrategy, clusterAutoscalerOptions?: ClusterAutoscalerOptions) {
    this.strategy = strategy;
    this.clusterAutoscalerOptions = clusterAutoscalerOptions;
  }
}
