import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as applicationsignals from 'aws-cdk-lib/aws-applicationsignals';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Cluster, ServicePods } from '../compute';
import { Cache, Database, MessageBrokerEngine, Messaging } from '../data';
import { Edge } from '../edge';
import { ObservabilityProps } from './observability-options';
import { ConfigurationError } from '../private/errors';
import { customerManagedKey } from '../private/keys';
import { acknowledgeManagedPolicies } from '../private/nag';
import { pascalCase } from '../private/names';
import { podIdentityPrincipal } from '../private/pod-identity';
import { requireAddonVersion, requireLatency } from '../private/validate';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * What an alarm of `Observability.addAlarm` watches and when it fires.
 */
export interface PlatformAlarmOptions {
  /** What to watch. */
  readonly metric: cloudwatch.IMetric;

  /** The value that breaches. */
  readonly threshold: number;

  /** Why the alarm pages, for the person it wakes. */
  readonly description: string;

  /**
   * How the metric compares with the threshold.
   *
   * @default cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
   */
  readonly comparison?: cloudwatch.ComparisonOperator;

  /**
   * How many of the latest periods the alarm reads. It fires when 3 of them
   * breach, or all of them when there are fewer than 3.
   *
   * @default 3
   */
  readonly evaluationPeriods?: number;

  /**
   * How many of those periods must breach for the alarm to fire.
   *
   * @default - 3, or all of them when there are fewer than 3
   */
  readonly datapointsToAlarm?: number;
}


/**
 * A service as `Observability.watchService` watches it: through the target group
 * the load balancer sends its requests to.
 */
export interface WatchedService {
  /** The service's name, in its alarms' names and descriptions and on the dashboard. */
  readonly name: string;

  /** The target group of the service's stable release, attached to a load balancer. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;

  /**
   * The p99 response time the service answers within.
   *
   * @default - the observability's `latencyObjective`
   */
  readonly latencyObjective?: Duration;

  /**
   * The service's pods, for an alarm on their crash loops: one a Deployment.
   *
   * @default - no crash-loop alarm
   */
  readonly pods?: ServicePods;

  /**
   * The target group of the service's canary: its own p99, 5xx-rate and
   * unhealthy-target alarms (`CanaryLatencyP99` and so on), which judge the
   * canary's releases and its promotion.
   *
   * @default - no canary alarms
   */
  readonly canaryTargetGroup?: elbv2.IApplicationTargetGroup;
}

/** The graphs of the dashboard's Services section, a line a service on each. */
interface ServiceGraphs {
  readonly requests: cloudwatch.GraphWidget;
  readonly p99: cloudwatch.GraphWidget;
  readonly errors: cloudwatch.GraphWidget;
  readonly unhealthy: cloudwatch.GraphWidget;
  readonly crashLoops: cloudwatch.GraphWidget;
}

/**
 * What an on-call engineer opens first: one CloudWatch dashboard grouped by tier,
 * alarms with defensible thresholds on an encrypted SNS topic, per-service
 * latency and error-rate objectives, and Container Insights, Application Signals
 * and X-Ray in the cluster.
 *
 * @example
 * declare const platform: CodeLearnPlatform;
 * new Observability(this, 'Observability', {
 *   alarmEmails: ['oncall@example.com'],
 *   cluster: platform.cluster,
 *   database: platform.database,
 * });
 */
export class Observability extends Construct {
  /** The topic every alarm notifies. */
  public readonly alarmTopic: sns.Topic;

  /** The platform's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  /** Every alarm, by name. */
  public readonly alarms: { [name: string]: cloudwatch.Alarm } = {};

  /**
   * The amazon-cloudwatch-observability add-on.
   *
   * @default - none without a cluster
   */
  public readonly observabilityAddon?: eks.CfnAddon;

  private readonly latency: Duration;
  private readonly errorRatePercent: number;
  /** The edge's load balancer, as its metrics' `LoadBalancer` dimension names it. */
  private edgeLoadBalancerFullName?: string;
  /**
   * The Services section: empty until a service is watched, in its place on the
   * dashboard whenever that is. (The dashboard gathers its widgets' warnings when
   * they are added; the services' graphs, of plain metrics, raise none.)
   */
  private readonly servicesSection = new cloudwatch.Column();
  private serviceGraphs?: ServiceGraphs;

  constructor(scope: Construct, id: string, props: ObservabilityProps = {}) {
    super(scope, id);
    const latency = props.latencyObjective ?? Duration.seconds(1);
    requireLatency('latencyObjective', latency);
    const errorRate = props.errorRateObjectivePercent ?? 1;
    if (!(errorRate > 0 && errorRate <= 50)) {
      throw new ConfigurationError(`\`errorRateObjectivePercent\` (${errorRate}) must be above 0 and at most 50.`);
    }
    if (props.addonVersion !== undefined) requireAddonVersion('addonVersion', props.addonVersion);
    for (const email of props.alarmEmails ?? []) {
      if (!EMAIL.test(email)) {
        throw new ConfigurationError(`\`alarmEmails\` has '${email}', which is not an email address such as 'oncall@example.com'.`);
      }
    }

    const key = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the alarm topic of ${this.node.path}`);
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'CodeLearn platform alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: without this statement the TLS-only
    // policy above would keep CloudWatch from publishing any alarm.
    const stack = Stack.of(this);
    this.alarmTopic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarms',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.alarmTopic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }));
    for (const email of props.alarmEmails ?? []) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });

    this.latency = latency;
    this.errorRatePercent = errorRate;
    if (props.edge) this.watchEdge(props.edge, latency);
    this.edgeLoadBalancerFullName = props.edge?.loadBalancer.loadBalancerFullName;
    this.dashboard.addWidgets(this.servicesSection);
    for (const service of props.services ?? []) {
      this.watchServiceIn(this, pascalCase(service.serviceName),
        { name: service.serviceName, targetGroup: service.targetGroup, latencyObjective: service.latencyObjective, pods: service.pods });
    }
    if (props.cluster) this.observabilityAddon = this.watchCluster(props.cluster, props.addonVersion);
    if (props.applicationSignals) {
      new applicationsignals.CfnDiscovery(this, 'ApplicationSignals');
    }
    if (props.database) this.watchDatabase(props.database);
    if (props.cache) this.watchCache(props.cache);
    if (props.messaging) this.watchMessaging(props.messaging);
  }

  /**
   * Adds an alarm that notifies the topic on ALARM and OK, with missing data not
   * breaching.
   *
   * @param name a unique name, also the alarm's construct ID
   */
  public addAlarm(name: string, options: PlatformAlarmOptions): cloudwatch.Alarm {
    return this.createAlarm(this, name, name, options);
  }

  /** One of the platform's own alarms, in this construct. */
  private watch(name: string, metric: cloudwatch.IMetric, threshold: number, description: string,
    comparison?: cloudwatch.ComparisonOperator): cloudwatch.Alarm {
    return this.createAlarm(this, name, name, { metric, threshold, description, comparison });
  }

  /** An alarm named `name` in `scope`, notifying the topic on ALARM and OK. */
  private createAlarm(scope: Construct, id: string, name: string, spec: PlatformAlarmOptions): cloudwatch.Alarm {
    const { metric, threshold, description } = spec;
    const comparison = spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const evaluationPeriods = spec.evaluationPeriods ?? 3;
    if (this.alarms[name]) {
      throw new ConfigurationError(`An alarm named '${name}' exists already: give each alarm its own name.`);
    }
    const alarm = new cloudwatch.Alarm(scope, id, {
      metric,
      threshold,
      comparisonOperator: comparison,
      evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm ?? Math.min(evaluationPeriods, 3),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms[name] = alarm;
    return alarm;
  }

  private section(title: string, widgets: cloudwatch.IWidget[], perRow: number = 3): void {
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    for (let i = 0; i < widgets.length; i += perRow) {
      this.dashboard.addWidgets(...widgets.slice(i, i + perRow));
    }
  }

  private graph(title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
  }

  private watchEdge(edge: Edge, latency: Duration): void {
    const alb = edge.loadBalancer;
    const period = Duration.minutes(1);
    const requests = alb.metrics.requestCount({ period, statistic: 'Sum' });
    const elb5xx = alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' });
    const target5xx = alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' });
    const errorRate = rate('(FILL(elb, 0) + FILL(target, 0))', 'requests', { elb: elb5xx, target: target5xx, requests }, '5xx rate (%)', period);
    const p99 = alb.metrics.targetResponseTime({ period, statistic: 'p99' });
    this.watch('Alb5xxRate', errorRate, 5, 'More than 5% of the load balancer\'s responses are 5xx for 3 of 3 minutes.');
    this.watch('AlbLatencyP99', p99, latency.toMilliseconds() / 1000,
      `The p99 target response time exceeds ${latency.toHumanString()} (\`latencyObjective\`) for 3 of 3 minutes.`);
    // Alarms must live in the region of their metric; CloudFront's is us-east-1.
    if (Stack.of(this).region === 'us-east-1') {
      this.watch('CloudFront5xxRate', edge.metricDistribution('5xxErrorRate', { statistic: 'Average' }), 5,
        'More than 5% of CloudFront\'s responses are 5xx for 15 minutes.');
    }
    const waf = [edge.metricWebAcl('AllowedRequests'), edge.metricWebAcl('BlockedRequests')];
    const cloudFrontWaf = edge.cloudFrontWebAcl
      ? [edge.cloudFrontWebAcl.metric('AllowedRequests', { label: 'CloudFront allowed' }), edge.cloudFrontWebAcl.metric('BlockedRequests', { label: 'CloudFront blocked' })]
      : [];
    this.section('Edge', [
      this.graph('CloudFront requests and 5xx rate', [edge.metricDistribution('Requests')], [edge.metricDistribution('5xxErrorRate', { statistic: 'Average' })]),
      this.graph('WAF allowed and blocked', [...waf, ...cloudFrontWaf]),
      this.graph('ALB requests and 5xx', [requests], [elb5xx, target5xx]),
      this.graph('ALB target response time', [
        alb.metrics.targetResponseTime({ period, statistic: 'p50' }),
        alb.metrics.targetResponseTime({ period, statistic: 'p90' }),
        p99,
      ]),
      this.graph('ALB 5xx rate (%)', [errorRate]),
    ]);
  }

  /**
   * Watches a service: alarms on its p99 response time, its 5xx rate and its
   * unhealthy targets (`LatencyP99`, `ErrorRate` and `UnhealthyTargets` in
   * `scope`, named `<Name>LatencyP99` and so on in `alarms`), and a line on each
   * graph of the dashboard's Services section.
   *
   * Give the service's own scope (the platform gives each service's), so that the
   * alarms deploy with the service and this construct's stack does not grow with
   * the number of services. A scope in a stack that this construct's stack
   * depends on would make a cycle: watch such a service through `services`.
   *
   * @returns the service's three alarms
   */
  public watchService(scope: Construct, service: WatchedService): cloudwatch.Alarm[] {
    return this.watchServiceIn(scope, '', service);
  }

  /**
   * `watchService` for a service that this observability's edge routes to: the
   * dashboard's lines name the edge's load balancer by its full name, where a
   * target group's metrics rebuild it from its listener's ARN (about 200
   * characters a line, 50 KB of the platform's template at 64 services).
   *
   * @internal
   */
  public _watchEdgeService(scope: Construct, service: WatchedService): cloudwatch.Alarm[] {
    return this.watchServiceIn(scope, '', service, this.edgeLoadBalancerFullName);
  }

  /** `watchService`, with the alarms' construct IDs prefixed by `prefix`. */
  private watchServiceIn(scope: Construct, prefix: string, service: WatchedService, loadBalancerFullName?: string): cloudwatch.Alarm[] {
    const period = Duration.minutes(1);
    const name = service.name;
    if (name === '' || Token.isUnresolved(name)) {
      throw new ConfigurationError(`\`service.name\` ('${name}') must be a literal, non-empty name such as 'user-service': it names the alarms.`);
    }
    const latency = service.latencyObjective ?? this.latency;
    const errorRatePercent = this.errorRatePercent;
    requireLatency(`${name}.latencyObjective`, latency);
    const targetGroupAlarms = (idPrefix: string, label: string, group: elbv2.IApplicationTargetGroup) => {
      const requests = group.metrics.requestCount({ period, statistic: 'Sum' });
      const errors = group.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' });
      const p99 = group.metrics.targetResponseTime({ period, statistic: 'p99' });
      const errorRate = rate('FILL(errors, 0)', 'requests', { errors, requests }, `${label} 5xx rate (%)`, period);
      const unhealthy = group.metrics.unhealthyHostCount({ period, statistic: 'Maximum' });
      const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) =>
        this.createAlarm(scope, `${prefix}${idPrefix}${id}`, `${pascalCase(name)}${idPrefix}${id}`, { metric, threshold, description });
      const alarms = [
        alarm('LatencyP99', p99, latency.toMilliseconds() / 1000,
          `${label}: p99 response time above ${latency.toHumanString()} for 3 of 3 minutes.`),
        alarm('ErrorRate', errorRate, errorRatePercent,
          `${label}: more than ${errorRatePercent}% of responses are 5xx for 3 of 3 minutes.`),
        alarm('UnhealthyTargets', unhealthy, 0,
          `${label}: at least one pod fails the load balancer's health check for 3 of 3 minutes.`),
      ];
      return { alarms, requests, errors, p99, unhealthy };
    };
    const stable = targetGroupAlarms('', name, service.targetGroup);
    const { requests, errors, p99, unhealthy } = stable;
    const alarms = [...stable.alarms];
    if (service.canaryTargetGroup) alarms.push(...targetGroupAlarms('Canary', `${name} canary`, service.canaryTargetGroup).alarms);
    const graphs = this.serviceGraphs ?? this.addServicesSection();
    if (service.pods) alarms.push(...this.watchCrashLoops(scope, prefix, name, service.pods));
    const labelled = (metric: cloudwatch.Metric) => metric.with({
      label: name,
      ...loadBalancerFullName ? { dimensionsMap: { ...metric.dimensions, LoadBalancer: loadBalancerFullName } } : {},
    });
    graphs.requests.addLeftMetric(labelled(requests));
    graphs.p99.addLeftMetric(labelled(p99));
    graphs.errors.addLeftMetric(labelled(errors));
    graphs.unhealthy.addLeftMetric(labelled(unhealthy));
    return alarms;
  }

  /**
   * Watches the pods of a workload that no load balancer fronts, such as a
   * `SandboxService`: an alarm for each of its Deployments on a container waiting
   * in CrashLoopBackOff (`CrashLoop` in `scope`, named `<Name>CrashLoop` in
   * `alarms`), and a line on the dashboard's crash-loop graph. Give the
   * workload's own scope, as for `watchService`.
   *
   * @returns the workload's crash-loop alarms
   */
  public watchPods(scope: Construct, name: string, pods: ServicePods): cloudwatch.Alarm[] {
    if (name === '' || Token.isUnresolved(name)) {
      throw new ConfigurationError(`\`name\` ('${name}') must be a literal, non-empty name such as 'code-runner': it names the alarms.`);
    }
    return this.watchCrashLoops(scope, '', name, pods);
  }

  /** The crash-loop alarm of each Deployment of `pods`, and its line on the dashboard. */
  private watchCrashLoops(scope: Construct, prefix: string, name: string, pods: ServicePods): cloudwatch.Alarm[] {
    const graphs = this.serviceGraphs ?? this.addServicesSection();
    return pods.deployments.map(deployment => {
      const suffix = deployment === name ? '' : pascalCase(deployment.startsWith(`${name}-`) ? deployment.slice(name.length + 1) : deployment);
      const crashLooping = podsCrashLooping(pods, deployment);
      graphs.crashLoops.addLeftMetric(crashLooping.with({ label: deployment }));
      return this.createAlarm(scope, `${prefix}${suffix}CrashLoop`, `${pascalCase(name)}${suffix}CrashLoop`, {
        metric: crashLooping,
        threshold: 1,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        datapointsToAlarm: 2,
        description: `${deployment}: a container of its pods waits in CrashLoopBackOff (it keeps exiting, and Kubernetes backs off ` +
          'restarting it) in 2 of the last 3 five-minute periods.',
      });
    });
  }

  /**
   * One section compares the services, a line each: the dashboard grows by a few
   * metrics a service, not by a section (Application Signals, from the add-on,
   * has each service's own view).
   */
  private addServicesSection(): ServiceGraphs {
    const graph = (title: string) => new cloudwatch.GraphWidget({
      title, left: [], width: 6, height: 6, legendPosition: cloudwatch.LegendPosition.RIGHT,
    });
    const graphs: ServiceGraphs = {
      requests: graph('Requests by service'),
      p99: graph('p99 response time by service'),
      errors: graph('5xx responses by service'),
      unhealthy: graph('Unhealthy pods by service'),
      crashLoops: graph('Containers in CrashLoopBackOff by Deployment'),
    };
    this.servicesSection.addWidget(new cloudwatch.TextWidget({ markdown: '## Services', width: 24, height: 1 }));
    this.servicesSection.addWidget(new cloudwatch.Row(graphs.requests, graphs.p99, graphs.errors, graphs.unhealthy));
    this.servicesSection.addWidget(new cloudwatch.Row(graphs.crashLoops));
    this.serviceGraphs = graphs;
    return graphs;
  }

  private watchCluster(cluster: Cluster, addonVersion: string | undefined): eks.CfnAddon {
    // The add-on creates the agent's Pod Identity association itself: EKS keeps one
    // association per service account, and an add-on cannot adopt one made before it.
    const role = new iam.Role(this, 'CloudWatchAgentRole', {
      assumedBy: podIdentityPrincipal({ clusterArn: cluster.eksCluster.clusterArn, namespace: 'amazon-cloudwatch', serviceAccount: 'cloudwatch-agent' }),
      description: 'Pod Identity role of amazon-cloudwatch/cloudwatch-agent',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSXrayWriteOnlyAccess'),
      ],
    });
    acknowledgeManagedPolicies(role.node.defaultChild as iam.CfnRole,
      'The AWS-maintained policies that the amazon-cloudwatch-observability add-on documents for its agent (metrics, logs, ' +
      'Application Signals) and for X-Ray traces, on the agent\'s own Pod Identity role.');
    const addon = new eks.CfnAddon(this, 'CloudWatchObservability', {
      clusterName: cluster.eksCluster.clusterName,
      addonName: 'amazon-cloudwatch-observability',
      addonVersion,
      resolveConflicts: 'OVERWRITE',
      podIdentityAssociations: [{ serviceAccount: 'cloudwatch-agent', roleArn: role.roleArn }],
      // Container Insights and the agent as the add-on sets them, but no automatic
      // instrumentation: the injected init containers carry no security context and
      // the services' namespace (restricted Pod Security Standard) would reject every
      // new pod. Services instrument themselves and send OTLP to the agent.
      configurationValues: JSON.stringify({ manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } } }),
    });
    // The association's credentials come from the Pod Identity agent.
    addon.node.addDependency(cluster.podIdentityAgent);
    // The agent runs on nodes: without them the add-on would wait, degraded.
    addon.node.addDependency(cluster.capacity);

    const insight = (metricName: string, statistic: string = 'Average') => cluster.metricInsights(metricName, { statistic });
    this.watch('NodeCpu', insight('node_cpu_utilization'), 80, 'The nodes\' average CPU is above 80% for 15 minutes: the cluster is short of capacity.');
    this.watch('NodeMemory', insight('node_memory_utilization'), 80, 'The nodes\' average memory is above 80% for 15 minutes.');
    // Crash loops are alarmed per service (their Deployments'), not cluster-wide.
    this.section('Cluster', [
      this.graph('Node CPU and memory (%)', [insight('node_cpu_utilization'), insight('node_memory_utilization')]),
      this.graph('Pod CPU and memory (%)', [insight('pod_cpu_utilization'), insight('pod_memory_utilization')]),
      this.graph('Nodes', [insight('cluster_node_count'), insight('cluster_failed_node_count')]),
    ]);
    return addon;
  }

  private watchDatabase(database: Database): void {
    const period = Duration.minutes(5);
    const instance = database.instance;
    this.watch('DatabaseCpu', instance.metricCPUUtilization({ period }), 80, 'The database writer\'s CPU is above 80% for 15 minutes.');
    this.watch('DatabaseFreeStorage', instance.metricFreeStorageSpace({ period }), 10 * 1024 ** 3,
      'Less than 10 GiB of free storage on the writer (autoscaling may be at its maximum).', cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD);
    // 80% of PostgreSQL's default limit on the writer's class; 300 when the class is not known.
    const connections = database.maxConnections > 0 ? Math.floor(database.maxConnections * 0.8) : 300;
    this.watch('DatabaseConnections', instance.metricDatabaseConnections({ period }), connections,
      `More than ${connections} connections to the writer for 15 minutes (${database.maxConnections > 0
        ? `80% of its class's limit of about ${database.maxConnections}` : 'a fixed limit'}): the proxy or the applications leak connections.`);
    const widgets = [
      this.graph('Database CPU (%)', [instance.metricCPUUtilization({ period })]),
      this.graph('Database connections', [instance.metricDatabaseConnections({ period })]),
      this.graph('Database free storage', [instance.metricFreeStorageSpace({ period })]),
      this.graph('Database read and write latency', [instance.metric('ReadLatency', { period }), instance.metric('WriteLatency', { period })]),
    ];
    // By the replicas' fixed identifiers: the alarms and the dashboard do not wait for the replicas.
    database.readReplicaIdentifiers.forEach((_identifier, index) => {
      const lag = database.metricReplicaLag(index, { period });
      this.watch(`DatabaseReplica${index + 1}Lag`, lag, 30, `Read replica ${index + 1} lags the writer by more than 30 seconds for 15 minutes.`);
      widgets.push(this.graph(`Replica ${index + 1} lag (s)`, [lag]));
    });
    // Backups that fail and restores that fail page at once: one is enough.
    const backupsFailed = database.metricBackupJobsFailed();
    const restoresFailed = database.metricRestoreJobsFailed();
    const once = { comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, evaluationPeriods: 1 };
    if (backupsFailed) {
      this.addAlarm('DatabaseBackupJobsFailed', {
        metric: backupsFailed,
        threshold: 1,
        ...once,
        description: 'AWS Backup reports a failed backup job of the database (or a failed copy to the second region): ' +
          'today\'s recovery point may be missing. See the job in the AWS Backup console and run it again (docs/operations.md).',
      });
    }
    if (restoresFailed) {
      this.addAlarm('DatabaseRestoreJobsFailed', {
        metric: restoresFailed,
        threshold: 1,
        ...once,
        description: 'A restore of the database\'s recovery points failed, the weekly restore test included: ' +
          'the backups may not restore. See the restore job in the AWS Backup console (docs/operations.md).',
      });
    }
    if (backupsFailed || restoresFailed) {
      widgets.push(this.graph('Failed backups and restores', [backupsFailed, restoresFailed].filter((metric): metric is cloudwatch.IMetric => metric !== undefined)));
    }
    const proxy = [database.metricProxy('ClientConnections', { period }), database.metricProxy('DatabaseConnections', { period })];
    if (proxy[0] && proxy[1]) {
      widgets.push(this.graph('RDS Proxy connections', [proxy[0], proxy[1]]));
    }
    this.section('Database', widgets);
  }

  private watchCache(cache: Cache): void {
    // ElastiCache publishes per node, and numbers the members a shard gains or
    // loses itself: an alarm of each kind per shard, on its highest member.
    for (let shard = 1; shard <= cache.shards; shard++) {
      const id = `CacheShard${shard}`;
      const which = `Cache shard ${String(shard).padStart(4, '0')}`;
      this.watch(`${id}EngineCpu`, cache.metricShard('EngineCPUUtilization', shard), 80, `${which}: a member's engine CPU above 80% for 15 minutes.`);
      this.watch(`${id}Memory`, cache.metricShard('DatabaseMemoryUsagePercentage', shard), 80,
        `${which}: a member uses more than 80% of its memory for 15 minutes.`);
      this.watch(`${id}Evictions`, cache.metricShard('Evictions', shard, { statistic: 'Sum' }), 0,
        `${which}: a member evicts keys, so the cache is too small for its data.`);
    }
    const each = (metricName: string, statistic: string = 'Average') =>
      cache.nodeIds.map(nodeId => cache.metricNode(metricName, nodeId, { statistic, label: nodeId }));
    this.section('Cache', [
      this.graph('Cache engine CPU by node (%)', each('EngineCPUUtilization')),
      this.graph('Cache memory by node (%)', each('DatabaseMemoryUsagePercentage'), each('Evictions', 'Sum')),
      this.graph('Cache hits, misses and replication lag', [...each('CacheHits', 'Sum'), ...each('CacheMisses', 'Sum')], each('ReplicationLag', 'Maximum')),
    ]);
  }

  private watchMessaging(messaging: Messaging): void {
    const period = Duration.minutes(5);
    if (messaging.engine === MessageBrokerEngine.RABBITMQ && messaging.rabbitMqBroker) {
      const metric = (metricName: string, statistic: string = 'Average') => messaging.metric(metricName, { statistic, period });
      // Amazon MQ sums RabbitMQMemUsed and RabbitMQMemLimit over a cluster's three
      // nodes, and RabbitMQ blocks every publisher once any one node passes its
      // limit: the fullest node's memory (a Metrics Insights query of the per-node
      // metric, whose node names are known only at run time) against one node's
      // limit, the sum's third (the nodes are of one instance type).
      const nodes = messaging.rabbitMqBroker.deploymentMode === 'CLUSTER_MULTI_AZ' ? 3 : 1;
      const fullest = new cloudwatch.MathExpression({
        expression: `SELECT MAX(RabbitMQMemUsed) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${messaging.rabbitMqBroker.brokerName}'`,
        label: 'memory used by the fullest node',
        period,
      });
      const memory = rate('fullest', nodes === 1 ? 'limit' : `(limit / ${nodes})`, { fullest, limit: metric('RabbitMQMemLimit', 'Maximum') },
        'memory used by the fullest node (% of its limit)', period);
      this.watch('BrokerMemory', memory, 80, 'A broker node uses more than 80% of its memory limit: publishers will soon be blocked.');
      // Amazon MQ publishes disk per node too, and node names are known only at run
      // time: the query takes the lowest free disk of the broker's nodes.
      const diskFree = new cloudwatch.MathExpression({
        expression: `SELECT MIN(RabbitMQDiskFree) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${messaging.rabbitMqBroker.brokerName}'`,
        label: 'free disk of the fullest node',
        period,
      });
      this.watch('BrokerDisk', diskFree, 5 * 1024 ** 3,
        'Less than 5 GiB of free disk on a broker node: publishers will be blocked.', cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD);
      this.section('Messaging', [
        // Counts of the moment, published each minute: the period's highest, not their sum.
        this.graph('Messages ready and unacknowledged', [metric('MessageReadyCount', 'Maximum'), metric('MessageUnacknowledgedCount', 'Maximum')]),
        this.graph('Connections and consumers', [metric('ConnectionCount', 'Maximum'), metric('ConsumerCount', 'Maximum')]),
        this.graph('Broker CPU and memory (%)', [metric('SystemCpuUtilization'), memory], [diskFree]),
      ]);
    } else if (messaging.kafkaCluster) {
      const metric = (metricName: string, statistic: string = 'Average') => messaging.metric(metricName, { statistic, period });
      this.watch('BrokerOfflinePartitions', metric('OfflinePartitionsCount', 'Maximum'), 0, 'Kafka has offline partitions.');
      this.watch('BrokerController', metric('ActiveControllerCount', 'Maximum'), 1,
        'Kafka has no active controller.', cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD);
      // The fullest broker's data volume, whatever the number of brokers: storage
      // auto scaling grows the volumes at 60%, so 85% means it cannot keep up or
      // has reached maxVolumeSize.
      const diskUsed = new cloudwatch.MathExpression({
        expression: `SELECT MAX(KafkaDataLogsDiskUsed) FROM SCHEMA("AWS/Kafka", "Broker ID", "Cluster Name") WHERE "Cluster Name" = '${messaging.kafkaCluster.clusterName}'`,
        label: 'data volume used by the fullest broker (%)',
        period,
      });
      this.watch('BrokerDisk', diskUsed, 85, 'A Kafka broker\'s data volume is more than 85% full: storage scaling cannot keep up, or the ' +
        'volumes reached maxVolumeSize. A full volume stops the broker.');
      this.section('Messaging', [
        this.graph('Kafka partitions', [metric('GlobalPartitionCount'), metric('OfflinePartitionsCount', 'Maximum')], [diskUsed]),
        this.graph('Kafka under-replicated partitions by broker', Array.from({ length: messaging.kafkaCluster.numberOfBrokerNodes }, (_, index) =>
          messaging.metricKafkaBroker('UnderReplicatedPartitions', index + 1, { period, label: `broker ${index + 1}` })!)),
      ]);
    }
  }
}

/**
 * How many containers of one Deployment's pods wait in CrashLoopBackOff, at the
 * most in each five minutes. Container Insights (enhanced observability) publishes
 * the gauge per pod by `PodName`, which it sets to the Deployment's name for every
 * pod the Deployment owns. A gauge, not the restart count: that one is a total
 * since each pod started, and its highest over a Deployment's pods moves only
 * when the pod with the most restarts restarts again, so a new pod that crashes
 * below an older pod's total would never show.
 */
function podsCrashLooping(pods: ServicePods, deployment: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'ContainerInsights',
    metricName: 'pod_container_status_waiting_reason_crash_loop_back_off',
    dimensionsMap: { ClusterName: pods.clusterName, Namespace: pods.namespace, PodName: deployment },
    statistic: 'Maximum',
    period: Duration.minutes(5),
  });
}

/**
 * `100 * numerator / denominator` as metric math, 0 while the denominator is 0
 * (CloudWatch drops a data point divided by zero). Counts that AWS publishes only
 * when they are not zero (the 5xx counts) go in as `FILL(x, 0)`: arithmetic has a
 * value only where every input has one, so without it the rate would be missing
 * exactly while the other count is zero.
 */
function rate(numerator: string, denominator: string, usingMetrics: { [id: string]: cloudwatch.IMetric },
  label: string, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `IF(${denominator} > 0, 100 * ${numerator} / ${denominator}, 0)`,
    usingMetrics,
    label,
    period,
  });
}
