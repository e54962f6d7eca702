import * as fs from 'fs';
import * as path from 'path';

const LIB = path.dirname(require.resolve('aws-cdk-lib/package.json'));

function generatedFiles(suffix: string): string[] {
  return fs.readdirSync(LIB)
    .filter(dir => dir.startsWith('aws-'))
    .flatMap(dir => {
      const lib = path.join(LIB, dir, 'lib');
      return fs.existsSync(lib) ? fs.readdirSync(lib).filter(file => file.endsWith(suffix)).map(file => path.join(lib, file)) : [];
    });
}

let listAttributes: Set<string> | undefined;

/**
 * Every resource attribute that CloudFormation returns as a list, as
 * `<type>.<attribute>`: read from aws-cdk-lib's generated L1 classes, whose
 * `Fn::GetAtt` calls carry the attribute's type (`ResolutionTypeHint.STRING_LIST`).
 */
export function listValuedAttributes(): Set<string> {
  if (!listAttributes) {
    listAttributes = new Set();
    for (const file of generatedFiles('.generated.js')) {
      const text = fs.readFileSync(file, 'utf8');
      let type: string | undefined;
      for (const match of text.matchAll(/CFN_RESOURCE_TYPE_NAME="([^"]+)"|getAtt\("([^"]+)",cdk\(\)\.ResolutionTypeHint\.STRING_LIST\)/g)) {
        if (match[1]) type = match[1];
        else if (type) listAttributes.add(`${type}.${match[2]}`);
      }
    }
  }
  return listAttributes;
}

/** A metric as CloudWatch publishes it: namespace, name and the exact set of dimension names. */
export interface PublishedMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: string[];
  /** Where this row comes from. */
  readonly source: string;
}

let canned: Map<string, string> | undefined;

/** `<namespace>|<metric>|<sorted dimensions>` of every metric in aws-cdk-lib's canned metric catalogues. */
function cannedMetrics(): Map<string, string> {
  if (!canned) {
    canned = new Map();
    for (const jsFile of generatedFiles('canned-metrics.generated.js')) {
      const js = fs.readFileSync(jsFile, 'utf8');
      const dts = fs.readFileSync(jsFile.replace(/\.js$/, '.d.ts'), 'utf8');
      // Per class: function name -> namespace and metric name (js), function name -> dimension sets (d.ts).
      const jsClasses = js.split(/class (?=\w+\{)/).slice(1);
      const dtsClasses = dts.split(/export declare class /).slice(1);
      for (const jsClass of jsClasses) {
        const className = /^(\w+)/.exec(jsClass)![1];
        const dtsClass = dtsClasses.find(text => text.startsWith(`${className} `) || text.startsWith(`${className}{`));
        if (!dtsClass) continue;
        const metrics = new Map<string, [string, string]>();
        for (const m of jsClass.matchAll(/static (\w+)\(\w*\)\{return\{namespace:"([^"]+)",metricName:"([^"]+)"/g)) {
          metrics.set(m[1], [m[2], m[3]]);
        }
        for (const m of dtsClass.matchAll(/static (\w+)\(this: void, dimensions: \{([^}]*)\}\)/g)) {
          const metric = metrics.get(m[1]);
          if (!metric) continue;
          const dimensions = [...m[2].matchAll(/("[^"]+"|[A-Za-z0-9_]+)\s*:\s*string/g)].map(d => d[1].replace(/"/g, ''));
          canned.set(metricKey(metric[0], metric[1], dimensions), path.relative(LIB, jsFile));
        }
      }
    }
  }
  return canned;
}

function metricKey(namespace: string, metricName: string, dimensions: string[]): string {
  return `${namespace}|${metricName}|${[...dimensions].sort().join(',')}`;
}

/**
 * Metrics that aws-cdk-lib's catalogues lack, each with the AWS page that lists
 * the metric under exactly these dimensions.
 */
export const PUBLISHED_METRICS: PublishedMetric[] = [
  ...rows('ContainerInsights', ['node_cpu_utilization', 'node_memory_utilization', 'node_number_of_running_pods', 'node_cpu_reserved_capacity'],
    [['ClusterName'], ['NodeName', 'ClusterName', 'InstanceId']],
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html'),
  ...rows('ContainerInsights', ['pod_cpu_utilization', 'pod_memory_utilization'],
    [['ClusterName'], ['Namespace', 'ClusterName'], ['Service', 'Namespace', 'ClusterName'], ['PodName', 'Namespace', 'ClusterName']],
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-enhanced-EKS.html'),
  ...rows('ContainerInsights', ['cluster_node_count', 'cluster_failed_node_count'], [['ClusterName']],
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html'),
  // Published per pod only (the ClusterName roll-up exists only in some agent modes).
  ...rows('ContainerInsights', ['pod_number_of_container_restarts'], [['PodName', 'Namespace', 'ClusterName']],
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html'),
  // A gauge of enhanced observability, per pod (the agent's pod metric declaration,
  // with pod_number_of_container_restarts), and by Deployment under PodName.
  ...rows('ContainerInsights', ['pod_container_status_waiting_reason_crash_loop_back_off'], [['PodName', 'Namespace', 'ClusterName']],
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-enhanced-EKS.html'),
  // Regional web ACLs carry Region; CloudFront-scope ones do not. WebACL is the ACL's metric name.
  ...rows('AWS/WAFV2', ['AllowedRequests', 'BlockedRequests'], [['WebACL', 'Rule', 'Region'], ['WebACL', 'Rule']],
    'https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html'),
  ...rows('AWS/Kafka', ['ActiveControllerCount', 'OfflinePartitionsCount', 'GlobalPartitionCount'], [['Cluster Name']],
    'https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html'),
  ...rows('AWS/Kafka', ['UnderReplicatedPartitions', 'KafkaDataLogsDiskUsed'], [['Cluster Name', 'Broker ID']],
    'https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html'),
  ...rows('AWS/AmazonMQ', ['RabbitMQMemUsed', 'RabbitMQMemLimit', 'RabbitMQDiskFree', 'RabbitMQDiskFreeLimit', 'SystemCpuUtilization'],
    [['Broker'], ['Broker', 'Node']], 'https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-logging-monitoring.html'),
  ...rows('AWS/AmazonMQ', ['MessageReadyCount', 'MessageUnacknowledgedCount', 'ConsumerCount', 'ConnectionCount'], [['Broker']],
    'https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-logging-monitoring.html'),
  ...rows('AWS/RDS', ['ClientConnections'], [['ProxyName'], ['ProxyName', 'EndpointName']],
    'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html'),
  ...rows('AWS/RDS', ['DatabaseConnections'], [['ProxyName'], ['ProxyName', 'TargetGroup', 'Target'], ['ProxyName', 'TargetGroup', 'TargetRole']],
    'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html'),
  ...rows('AWS/RDS', ['ReplicaLag'], [['DBInstanceIdentifier']], 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html'),
  ...rows('AWS/Backup', ['NumberOfBackupJobsFailed', 'NumberOfBackupJobsCompleted', 'NumberOfRestoreJobsFailed', 'NumberOfRestoreJobsCompleted', 'NumberOfCopyJobsFailed'],
    [['BackupVaultName'], ['BackupVaultName', 'ResourceType']], 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/SupportedMetricsForResourceTagsForTelemetry.html'),
];

function rows(namespace: string, metricNames: string[], dimensionSets: string[][], source: string): PublishedMetric[] {
  return metricNames.flatMap(metricName => dimensionSets.map(dimensions => ({ namespace, metricName, dimensions, source })));
}

/** Whether CloudWatch publishes `metricName` in `namespace` under exactly `dimensions`, and where that is written. */
export function publishedMetric(namespace: string, metricName: string, dimensions: string[]): string | undefined {
  const key = metricKey(namespace, metricName, dimensions);
  const row = PUBLISHED_METRICS.find(metric => metricKey(metric.namespace, metric.metricName, metric.dimensions) === key);
  return row?.source ?? cannedMetrics().get(key);
}
