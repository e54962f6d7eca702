import { publishedMetric } from '../catalogue';
import { DeployedResource, Deployment, flatten, statements } from '../deployment';
import { DeployRule, list, where } from '../rule';

/**
 * A topic policy replaces SNS's default policy: once a topic has one, CloudWatch
 * may publish alarm notifications only if a statement allows
 * `cloudwatch.amazonaws.com`; and a topic encrypted with a customer-managed key
 * needs CloudWatch in the key's policy too.
 */
export const alarmTopicsAcceptCloudWatch: DeployRule = {
  id: 'alarm-topics-accept-cloudwatch',
  constraint: 'Every topic an alarm notifies lets cloudwatch.amazonaws.com publish (if it has a topic policy) and use its key (if it has one).',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/US_SetupSNS.html#SNS_topic_policy; ' +
    'https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger',
  check(deployment: Deployment): string[] {
    const topics = new Map<string, DeployedResource>();
    for (const alarm of deployment.resources('AWS::CloudWatch::Alarm')) {
      const p = alarm.properties;
      for (const action of [...list(p.AlarmActions), ...list(p.OKActions), ...list(p.InsufficientDataActions)]) {
        const topic = deployment.target(alarm.template, action);
        if (topic?.type === 'AWS::SNS::Topic') topics.set(`${topic.template.path}#${topic.logicalId}`, topic);
      }
    }
    const violations: string[] = [];
    for (const topic of topics.values()) {
      const policies = deployment.resources('AWS::SNS::TopicPolicy').filter(policy =>
        list(policy.properties.Topics).some(value => deployment.target(policy.template, value)?.logicalId === topic.logicalId));
      const allows = (document: any, actions: string[]) => statements(document).some(statement =>
        statement.Effect === 'Allow' && list(statement.Principal?.Service).includes('cloudwatch.amazonaws.com') &&
        actions.every(action => list(statement.Action).some((granted: string) => granted === action || (granted.endsWith('*') && action.startsWith(granted.slice(0, -1))))));
      if (policies.length > 0 && !policies.some(policy => allows(policy.properties.PolicyDocument, ['sns:Publish']))) {
        violations.push(`${where(topic)}: its topic policy does not let CloudWatch publish`);
      }
      const key = topic.properties.KmsMasterKeyId && deployment.target(topic.template, topic.properties.KmsMasterKeyId);
      if (key && !allows(key.properties.KeyPolicy, ['kms:Decrypt', 'kms:GenerateDataKey'])) {
        violations.push(`${where(topic)}: its key does not let CloudWatch encrypt notifications`);
      }
    }
    return violations;
  },
};

interface MetricUse {
  readonly where: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: string[];
}

interface ExpressionUse {
  readonly where: string;
  readonly expression: string;
}

/** Every metric and every metric math expression that alarms and dashboards read. */
function metricUses(deployment: Deployment): { metrics: MetricUse[]; expressions: ExpressionUse[] } {
  const metrics: MetricUse[] = [];
  const expressions: ExpressionUse[] = [];
  for (const alarm of deployment.resources('AWS::CloudWatch::Alarm')) {
    const p = alarm.properties;
    if (p.MetricName) {
      metrics.push({ where: where(alarm), namespace: p.Namespace, metricName: p.MetricName, dimensions: list(p.Dimensions).map((d: any) => d.Name) });
    }
    for (const query of list(p.Metrics)) {
      const metric = query.MetricStat?.Metric;
      if (metric) {
        metrics.push({
          where: where(alarm),
          namespace: metric.Namespace,
          metricName: metric.MetricName,
          dimensions: list(metric.Dimensions).map((d: any) => d.Name),
        });
      }
      if (query.Expression) expressions.push({ where: where(alarm), expression: flatten(query.Expression) });
    }
  }
  for (const dashboard of deployment.resources('AWS::CloudWatch::Dashboard')) {
    const body = JSON.parse(flatten(dashboard.properties.DashboardBody));
    for (const widget of body.widgets ?? []) {
      const title = `${where(dashboard)} "${widget.properties?.title ?? widget.type}"`;
      for (const row of widget.properties?.metrics ?? []) {
        const options = typeof row[row.length - 1] === 'object' ? row[row.length - 1] : {};
        const parts: string[] = typeof row[row.length - 1] === 'object' ? row.slice(0, -1) : row;
        if (options.expression) {
          expressions.push({ where: title, expression: options.expression });
          continue;
        }
        const [namespace, metricName, ...pairs] = parts;
        metrics.push({ where: title, namespace, metricName, dimensions: pairs.filter((_, i) => i % 2 === 0) });
      }
    }
  }
  // A Metrics Insights query reads one metric under one schema (namespace and dimensions).
  for (const use of expressions) {
    const query = /^\s*SELECT\s+\w+\((\w+)\)\s+FROM\s+SCHEMA\(([^)]*)\)/i.exec(use.expression);
    if (query) {
      const [namespace, ...dimensions] = query[2].split(',').map(part => part.trim().replace(/^"|"$/g, ''));
      metrics.push({ where: use.where, namespace, metricName: query[1], dimensions });
    }
  }
  return { metrics, expressions: expressions.filter(use => !/^\s*SELECT\s/i.test(use.expression)) };
}

/**
 * CloudWatch matches a metric by namespace, name and the exact set of dimension
 * names: an alarm on a combination that AWS does not publish never leaves
 * INSUFFICIENT_DATA (or OK, with missing data not breaching), and a graph stays
 * empty. Checked against aws-cdk-lib's canned metric catalogues and the table in
 * `../catalogue.ts`, which cites AWS's metric pages.
 */
export const metricsArePublished: DeployRule = {
  id: 'metrics-are-published',
  constraint: 'Every metric an alarm or dashboard reads is published by AWS under that namespace, name and set of dimensions.',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension ("you must specify all of the dimensions")',
  check(deployment: Deployment): string[] {
    return metricUses(deployment).metrics
      .filter(use => !publishedMetric(use.namespace, use.metricName, use.dimensions))
      .map(use => `${use.where}: ${use.namespace} ${use.metricName} [${use.dimensions.join(', ')}] is not published`);
  },
};

/**
 * Metric math takes time series, arrays of time series and scalars; an array
 * holds time series only (`MAX([m1, m2])`), so a scalar inside brackets is a
 * syntax error that CloudWatch rejects at PutMetricAlarm and shows as an error
 * on a graph.
 */
export const metricMathIsValid: DeployRule = {
  id: 'metric-math-is-valid',
  constraint: 'Metric math expressions use arrays of time series only: no scalar inside `[...]`.',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax',
  check(deployment: Deployment): string[] {
    return metricUses(deployment).expressions
      .filter(use => [...use.expression.matchAll(/\[([^\]]*)\]/g)]
        .some(array => array[1].split(',').some(item => /^\s*-?\d+(\.\d+)?\s*$/.test(item))))
      .map(use => `${use.where}: '${use.expression}' puts a scalar in an array of time series`);
  },
};

/** Counts that AWS publishes only in periods where they are not zero. */
const SPARSE_COUNTS = ['HTTPCode_ELB_5XX_Count', 'HTTPCode_ELB_4XX_Count', 'HTTPCode_Target_5XX_Count', 'HTTPCode_Target_4XX_Count'];

/**
 * Metric math has a value only where every time series in it has one. A count
 * that is published only when it is not zero must be `FILL`ed in an alarm's
 * arithmetic, or the result is missing exactly while that count is zero (and an
 * error rate made of two such counts never sees the one that is not).
 */
export const sparseCountsAreFilled: DeployRule = {
  id: 'sparse-counts-are-filled',
  constraint: 'An alarm\'s metric math wraps each count published only when non-zero (the ALB\'s HTTPCode_* counts) in FILL(id, 0).',
  source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html ("reported if there are requests ... non-zero values"); ' +
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax (FILL)',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const alarm of deployment.resources('AWS::CloudWatch::Alarm')) {
      const queries = list(alarm.properties.Metrics);
      const sparse = queries.filter((query: any) => SPARSE_COUNTS.includes(query.MetricStat?.Metric?.MetricName)).map((query: any) => query.Id);
      for (const query of queries.filter((candidate: any) => candidate.Expression)) {
        const expression = flatten(query.Expression);
        for (const id of sparse) {
          const withoutFilled = expression.replace(new RegExp(`FILL\\(${id},\\s*0\\)`, 'g'), '');
          if (new RegExp(`\\b${id}\\b`).test(withoutFilled)) {
            violations.push(`${where(alarm)}: '${expression}' uses the sparse count '${id}' without FILL(${id}, 0)`);
          }
        }
      }
    }
    return violations;
  },
};

/** Metrics Insights alarms an account may have in a Region, by default. */
const METRICS_INSIGHTS_ALARMS = 200;

/**
 * PutMetricAlarm takes at most 20 queries in `Metrics`, at most 10 of them
 * metrics (`MetricStat`), exactly one of them returning data, every metric of one
 * period; and an account has 200 Metrics Insights alarms in a Region unless it
 * asks for more. A math alarm over a shard's members, or a Metrics Insights query
 * per broker, fails the deploy past these.
 */
export const alarmsFitPutMetricAlarm: DeployRule = {
  id: 'alarms-fit-put-metric-alarm',
  constraint: 'An alarm has at most 20 queries, at most 10 metrics, one result and one period; a deployment at most 200 Metrics Insights alarms.',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (Metrics); ' +
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    let insights = 0;
    for (const alarm of deployment.resources('AWS::CloudWatch::Alarm')) {
      const queries: any[] = list(alarm.properties.Metrics);
      if (queries.length === 0) continue;
      const metrics = queries.filter(query => query.MetricStat);
      const periods = new Set(metrics.map(query => JSON.stringify(query.MetricStat.Period)));
      const results = queries.filter(query => query.ReturnData !== false);
      if (queries.length > 20) violations.push(`${where(alarm)}: ${queries.length} queries, PutMetricAlarm takes 20`);
      if (metrics.length > 10) violations.push(`${where(alarm)}: ${metrics.length} metrics, an alarm reads 10`);
      if (results.length !== 1) violations.push(`${where(alarm)}: ${results.length} queries return data, an alarm needs exactly one`);
      if (periods.size > 1) violations.push(`${where(alarm)}: its metrics have ${periods.size} periods, an alarm's share one`);
      if (queries.some(query => typeof query.Expression === 'string' && /^\s*SELECT\b/i.test(query.Expression))) insights++;
    }
    if (insights > METRICS_INSIGHTS_ALARMS) {
      violations.push(`${deployment.name}: ${insights} Metrics Insights alarms, ${METRICS_INSIGHTS_ALARMS} an account has in a Region by default`);
    }
    return violations;
  },
};
