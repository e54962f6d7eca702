import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** A track of a service: the stable release, or its canary. */
export enum ReleaseTrack {
  /** The service's own Deployment, `<name>`. */
  STABLE = 'stable',
  /** The canary's Deployment, `<name>-canary`. */
  CANARY = 'canary',
}

/**
 * How a deploy checks a release of a service. A deploy that changes what a track
 * runs (its image, environment, resources, probes; the canary's weight) does not
 * finish until the track has rolled out (every replica runs the new release and
 * is available, within the Deployment's progress deadline) and the track's
 * alarms stayed out of ALARM for `bakeTime`. Otherwise the deploy fails, with the
 * pod and its reason or the alarm and its value, and CloudFormation rolls the
 * service back to its previous release. A promotion of a canary (the stable
 * track takes its image, or it gets 100% of the requests) is refused while the
 * canary's alarms fired within `bakeTime`.
 */
export interface ReleaseOptions {
  /**
   * Whether deploys wait for the release and roll it back on their own. The gate
   * needs the platform's `Cluster` (its private endpoint, subnets and key): a
   * service on a `WorkloadCluster` has none.
   *
   * @default true on a `Cluster`, false on a `WorkloadCluster`
   */
  readonly gate?: boolean;

  /**
   * How long the alarms must stay out of ALARM once a release has rolled out,
   * from 0 (the rollout alone) to 30 minutes. A service's first release (the
   * deploy that adds it) is not gated at all: its repository is new, its first
   * image is pushed after that deploy, and there is nothing to roll back to.
   *
   * @default - 5 minutes; in the platform's development profile, 0
   */
  readonly bakeTime?: Duration;

  /**
   * More alarms that a release of any track must keep out of ALARM, besides the
   * ones the platform watches the service with (error rate, p99 latency,
   * unhealthy targets and crash loops, each track its own). Metric alarms only:
   * the gate reads each alarm it is given, and CloudWatch lets composite alarms
   * be read only with a permission on every alarm of the account.
   *
   * @default - none
   */
  readonly alarms?: cloudwatch.IAlarm[];
}
