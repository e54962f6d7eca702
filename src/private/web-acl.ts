import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ConfigurationError } from './errors';

/**
 * AWS managed rule groups that judge the request's source IP. Behind CloudFront
 * a load balancer sees CloudFront's addresses, so these belong in a
 * CloudFront-scope web ACL; every other group judges the request's content.
 */
export const IP_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList'];

/** The default managed rule groups of the platform, content and IP ones. */
export const DEFAULT_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesSQLiRuleSet', 'AWSManagedRulesAmazonIpReputationList',
];

/** The metrics settings of a web ACL or rule. */
export function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

/** One rule per managed group, from priority `first` on. */
export function managedRules(groups: string[], first: number = 0): wafv2.CfnWebACL.RuleProperty[] {
  return groups.map((name, index) => ({
    name,
    priority: first + index,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: visibility(name),
  }));
}

/** Blocks an IP address that sends more than `limit` requests in five minutes. */
export function rateLimitRule(limit: number, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name: 'RateLimitPerIp',
    priority,
    action: { block: {} },
    statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
    visibilityConfig: visibility('RateLimitPerIp'),
  };
}

/** A metric name for a web ACL of `scope`: unique in the account, as CloudWatch's `WebACL` dimension. */
export function webAclMetricName(scope: Construct, suffix: string): string {
  return `${Names.uniqueResourceName(scope, { maxLength: 100, separator: '-' })}-${suffix}`;
}

/**
 * Logs a web ACL to an encrypted log group. WAF delivers only to groups whose
 * name starts with aws-waf-logs-, in the web ACL's region, and takes their ARN
 * without the ':*' suffix of the group's Arn attribute, so the name is fixed and
 * the ARN built from it.
 */
export function logWebAcl(scope: Construct, acl: wafv2.CfnWebACL, id: string, suffix: string,
  retention: logs.RetentionDays, key: kms.IKey): { logGroup: logs.LogGroup; logging: wafv2.CfnLoggingConfiguration } {
  const name = `aws-waf-logs-${Names.uniqueResourceName(scope, { maxLength: 180, separator: '-' })}${suffix}`;
  const logGroup = new logs.LogGroup(scope, id, {
    logGroupName: name,
    retention,
    encryptionKey: key,
    // Named: kept on update and delete, removed when a first create rolls back.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  const logging = new wafv2.CfnLoggingConfiguration(scope, `${id}Configuration`, {
    resourceArn: acl.attrArn,
    logDestinationConfigs: [Stack.of(scope).formatArn({
      service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })],
    redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
  });
  // The destination is named, not referenced, and WAF checks that it exists.
  logging.node.addDependency(logGroup);
  return { logGroup, logging };
}

/** Throws unless every name is an AWS managed rule group name, listed once. */
export function validateRuleGroups(property: string, groups: string[]): void {
  if (new Set(groups).size !== groups.length) {
    throw new ConfigurationError(`\`${property}\` ([${groups.join(', ')}]) lists a rule group twice: list each once.`);
  }
  for (const group of groups) {
    if (!/^AWSManagedRules[A-Za-z0-9]+$/.test(group)) {
      throw new ConfigurationError(`\`${property}\` has '${group}', which is not an AWS managed rule group name such as 'AWSManagedRulesCommonRuleSet'.`);
    }
  }
}
