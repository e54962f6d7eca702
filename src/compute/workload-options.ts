/**
 * What a user may set on any workload of the platform, a service's or a
 * sandbox's: its image, its port and probe, the user it runs as, its replicas,
 * its CPU request and its environment.
 */
export interface WorkloadOptions {
  /**
   * A container image to run instead of the workload's own ECR repository.
   *
   * @default - `<repository>:<imageTag>` from the ECR repository the workload creates
   */
  readonly image?: string;

  /**
   * The tag of the image in the workload's ECR repository. Tags are immutable:
   * release a new version by pushing a new tag and changing this value.
   *
   * @default '1.0.0'
   */
  readonly imageTag?: string;

  /**
   * The port the container listens on.
   *
   * @default 8080
   */
  readonly port?: number;

  /**
   * The HTTP path that answers 2xx or 3xx when the workload can serve requests:
   * the readiness probe, and for a service the load balancer's health check. The
   * startup and liveness probes only check that the port accepts connections, so
   * that an outage of a dependency never restarts the pods.
   *
   * @default '/health'
   */
  readonly healthCheckPath?: string;

  /**
   * The numeric user ID the containers run as. It must not be 0: the namespace
   * enforces the restricted Pod Security Standard, and the kubelet refuses
   * `runAsNonRoot` for an image whose user is root or a name (`USER node`) unless
   * the pod names a number.
   *
   * @default 10001
   */
  readonly runAsUser?: number;

  /**
   * The numeric group ID the containers run as; it also owns the writable `/tmp`.
   *
   * @default 10001
   */
  readonly runAsGroup?: number;

  /**
   * The fewest pods.
   *
   * @default 2
   */
  readonly minReplicas?: number;

  /**
   * The most pods.
   *
   * @default 10
   */
  readonly maxReplicas?: number;

  /**
   * CPU per pod: the request (what the scheduler reserves).
   *
   * @default '250m'
   */
  readonly cpu?: string;

  /**
   * Environment variables of the container: configuration such as an endpoint or
   * a bucket name, never a secret's value.
   *
   * @default - none besides what the platform adds
   */
  readonly environment?: { [name: string]: string };
}
