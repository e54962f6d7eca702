import { Duration } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ReleaseOptions } from './release-options';
import { IWorkloadCluster } from './workload-cluster';
import { WorkloadOptions } from './workload-options';

/**
 * A second version of a service that takes part of its traffic: a canary release,
 * or (at weight 100) a blue-green switch.
 */
export interface CanaryOptions {
  /**
   * The canary's tag in the service's ECR repository.
   *
   * @default - the service's own tag (use `image` for an image from elsewhere)
   */
  readonly imageTag?: string;

  /**
   * A container image for the canary instead of the service's repository.
   *
   * @default - the service's repository with `imageTag`
   */
  readonly image?: string;

  /**
   * The percentage of requests the load balancer sends to the canary, from 0 to
   * 100. 100 switches all traffic to it (blue-green); 0 keeps it warm without traffic.
   */
  readonly weight: number;

  /**
   * The fewest canary pods. A canary that takes traffic keeps at least two, so
   * that an eviction or a node drain never empties its share of the traffic.
   *
   * @default - 2 when `weight` is above 0, 1 when it is 0
   */
  readonly minReplicas?: number;
}

/**
 * What a service may reach beyond the cluster and the data stores it is given,
 * as its network policy admits it. A network policy addresses IP ranges, not
 * names: AWS's public endpoints share their addresses with the rest of the
 * internet, so reaching AWS APIs means reaching HTTPS hosts.
 */
export enum InternetAccess {
  /** Nothing: only what the platform (or `allowEgressTo`) opens for it. */
  NONE = 'NONE',

  /**
   * TCP 443 to any address: AWS APIs (through the NAT gateways, the S3 gateway
   * endpoint or the VPC's interface endpoints) and any other HTTPS host.
   */
  HTTPS = 'HTTPS',

  /** TCP 443 to any address, and every port of every address outside the VPC. */
  ALL = 'ALL',
}

/**
 * What a user may set on one service.
 */
export interface MicroserviceOptions extends WorkloadOptions {
  /**
   * The service's name: the Kubernetes name of its Deployment, Service and
   * ServiceAccount, and the last part of its ECR repository's name
   * (`codelearn/<name>`).
   *
   * Renaming a deployed service makes a new, empty repository (push the image
   * right after the deploy) and keeps the old one, no longer managed; the service
   * gets new database and cache users (docs/operations.md, "Change a running platform").
   */
  readonly name: string;

  /**
   * The path pattern that the load balancer routes to this service, such as
   * `/api/users/*` (which also matches `/api/users`). It ends with `/*`, and is not
   * `/*` itself: the service without a path takes everything else.
   *
   * @default - none: the service is the load balancer's default route
   */
  readonly path?: string;

  /**
   * The priority of the service's listener rule, from 1 to 49,999: lower is
   * checked first. A rule whose path covers another's (`/api/*` covers
   * `/api/users/*`) must come after it; synthesis fails when it would not.
   *
   * @default - derived from `path` alone, deeper paths first, so that adding, removing or reordering services never moves it
   */
  readonly priority?: number;

  /**
   * The average CPU utilization, in percent of the request, that the
   * HorizontalPodAutoscaler keeps (the specification's 70%).
   *
   * @default 70
   */
  readonly cpuTarget?: number;

  /**
   * The average memory utilization, in percent of the request, that the
   * HorizontalPodAutoscaler also keeps.
   *
   * @default - memory does not drive scaling
   */
  readonly memoryTarget?: number;

  /**
   * Memory per pod: the request, and also the limit.
   *
   * @default '512Mi'
   */
  readonly memory?: string;

  /**
   * The CPU limit per pod.
   *
   * @default '1'
   */
  readonly cpuLimit?: string;

  /**
   * Let pods run on spot nodes, for services that tolerate interruption. With
   * the Cluster Autoscaler the pods tolerate the spot group and prefer it; with
   * Karpenter they run only on the spot NodePools' nodes (spot, or its on-demand
   * fallback when EC2 has no spot).
   *
   * @default false
   */
  readonly spot?: boolean;

  /**
   * How long the load balancer drains a pod's connections before deregistering
   * it. The pod's preStop pause lasts as long, so no request reaches a stopping pod.
   *
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;

  /**
   * The p99 response time this service promises; observability alarms above it.
   *
   * @default - the platform's objective (1 second)
   */
  readonly latencyObjective?: Duration;

  /**
   * A canary (or blue-green) release: a second Deployment with its own target
   * group, which the edge tier weights against the stable one.
   *
   * @default - no canary
   */
  readonly canary?: CanaryOptions;

  /**
   * How a deploy checks a release of the service, and rolls it back on its own:
   * the release gate's bake time and alarms, or no gate.
   *
   * @default - gated: the rollout, then 5 minutes of the service's alarms
   */
  readonly release?: ReleaseOptions;

  /**
   * What the service may reach beyond the cluster and the data stores it is
   * given. Its pods always resolve names (CoreDNS) and get their credentials (the
   * Pod Identity agent); everything else is denied unless opened.
   *
   * @default - `InternetAccess.HTTPS` for a `Microservice` of your own, which may
   * call the AWS APIs of whatever is granted to it; in `CodeLearnPlatform`,
   * `HTTPS` when `access` has a store reached through AWS APIs (UPLOADS and
   * STATIC_ASSETS: S3; MESSAGING on RabbitMQ, and CACHE with an AUTH token: their
   * secret in Secrets Manager), otherwise `NONE`
   */
  readonly internetAccess?: InternetAccess;
}

/**
 * Properties of a `Microservice`.
 */
export interface MicroserviceProps extends MicroserviceOptions {
  /** The cluster that runs the service: a `Cluster`, or an EKS cluster of your own as a `WorkloadCluster`. */
  readonly cluster: IWorkloadCluster;

  /**
   * The ECR repository of the service's images, when it is made elsewhere (the
   * platform keeps it in its own stack, beside the other stateful resources).
   *
   * @default - a new repository `codelearn/<name>` in the service's scope, unless `image` is given
   */
  readonly repository?: ecr.IRepository;

  /**
   * The Kubernetes namespace. Give it a `NamespaceDefaultDeny` (the platform
   * does) so that a pod no service's policy selects is denied all traffic too.
   *
   * @default 'codelearn'
   */
  readonly namespace?: string;

  /**
   * The IPv4 ranges the load balancer's nodes send requests and health checks
   * from: the CIDR blocks of its subnets. The service's network policy admits
   * them on its port.
   *
   * @default - the CIDR block of the cluster's VPC
   */
  readonly loadBalancerCidrs?: string[];
}

/**
 * Where a service's pods run, as Container Insights names them: by cluster,
 * namespace and workload (its `PodName` dimension holds the Deployment's name for
 * every pod the Deployment owns).
 */
export interface ServicePods {
  /** The EKS cluster's name. */
  readonly clusterName: string;

  /** The pods' namespace. */
  readonly namespace: string;

  /** The Deployments of the service: its own, and its canary's while it has one. */
  readonly deployments: string[];
}
