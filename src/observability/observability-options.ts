import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Cluster, Microservice } from '../compute';
import { Cache, Database, Messaging } from '../data';
import { Edge } from '../edge';

/**
 * What a user may set on observability.
 */
export interface ObservabilityOptions {
  /**
   * Email addresses that receive every alarm.
   *
   * @default - none: subscribe to `alarmTopic` yourself
   */
  readonly alarmEmails?: string[];

  /**
   * The p99 target response time of a service, above which its latency alarm
   * fires (the specification's sub-second goal).
   *
   * @default Duration.seconds(1)
   */
  readonly latencyObjective?: Duration;

  /**
   * The share of a service's responses that may be 5xx, in percent, before its
   * error alarm fires.
   *
   * @default 1
   */
  readonly errorRateObjectivePercent?: number;

  /**
   * The KMS key that encrypts the alarm topic.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Turn CloudWatch Application Signals on for the account and region
   * (`AWS::ApplicationSignals::Discovery`), so that services instrumented with
   * OpenTelemetry (they get `OTEL_EXPORTER_OTLP_ENDPOINT`) appear in its service
   * map and dashboards. It is one per account and region: set it in one stack
   * only, or turn it on once in the console.
   *
   * @default false
   */
  readonly applicationSignals?: boolean;

  /**
   * The version of the `amazon-cloudwatch-observability` add-on, such as
   * `v4.5.0-eksbuild.1`. Without one, EKS installs its default for the cluster's
   * Kubernetes version when the add-on is created, and keeps it: raise it with each
   * cluster upgrade.
   *
   * @default - EKS's default version when the add-on is created
   */
  readonly addonVersion?: string;
}

/**
 * Properties of `Observability`: the options and the parts to watch. Every part
 * is optional, so the construct can watch any subset.
 */
export interface ObservabilityProps extends ObservabilityOptions {
  /**
   * The cluster: Container Insights, Application Signals and X-Ray through the
   * amazon-cloudwatch-observability add-on, and node and pod alarms.
   *
   * @default - no cluster is watched
   */
  readonly cluster?: Cluster;

  /**
   * Services watched in this construct: latency, error-rate and unhealthy-target
   * alarms each (`<Name>LatencyP99`, `<Name>ErrorRate`, `<Name>UnhealthyTargets`),
   * and a line each on the graphs of the dashboard's Services section. To keep a
   * service's alarms with the service, call `watchService` with its scope instead.
   *
   * @default - none
   */
  readonly services?: Microservice[];

  /**
   * The load balancer and web ACL.
   *
   * @default - not watched
   */
  readonly edge?: Edge;

  /**
   * The database.
   *
   * @default - not watched
   */
  readonly database?: Database;

  /**
   * The cache.
   *
   * @default - not watched
   */
  readonly cache?: Cache;

  /**
   * The message broker.
   *
   * @default - not watched
   */
  readonly messaging?: Messaging;
}
