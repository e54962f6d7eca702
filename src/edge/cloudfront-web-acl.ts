import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ConfigurationError } from '../private/errors';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { requireWholeNumber } from '../private/validate';
import { IP_RULE_GROUPS, logWebAcl, managedRules, rateLimitRule, validateRuleGroups, visibility, webAclMetricName } from '../private/web-acl';

/**
 * Properties of a `CloudFrontWebAcl`.
 */
export interface CloudFrontWebAclProps {
  /**
   * The most requests one viewer IP address may send in five minutes before WAF
   * blocks it, from 10 (WAF's minimum) to 2,000,000,000.
   *
   * @default 2000
   */
  readonly rateLimit?: number;

  /**
   * The AWS managed rule groups that judge the viewer's IP address, in priority order.
   *
   * @default ['AWSManagedRulesAmazonIpReputationList']
   */
  readonly managedRuleGroups?: string[];

  /**
   * How long the WAF logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the WAF log group. It must let CloudWatch Logs use it.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A CloudFront-scope web ACL with the rules that judge the viewer's IP address:
 * a per-IP rate limit and the AWS IP reputation list. Behind CloudFront a load
 * balancer sees CloudFront's addresses, so these rules work only at CloudFront.
 *
 * CloudFront-scope web ACLs exist only in us-east-1. `CodeLearnPlatform` creates
 * one itself in a us-east-1 stack (and, in an environment-agnostic stack, when it
 * is deployed to us-east-1); for a platform in another region, create this in a
 * us-east-1 stack and pass its ARN as `edge.cloudFrontWebAclArn`.
 *
 * @example
 * const app = new App();
 * const global = new Stack(app, 'CodeLearnGlobal', {
 *   env: { account: '123456789012', region: 'us-east-1' },
 *   crossRegionReferences: true,
 * });
 * const acl = new CloudFrontWebAcl(global, 'WebAcl', { rateLimit: 1000 });
 * const platformStack = new Stack(app, 'CodeLearn', {
 *   env: { account: '123456789012', region: 'eu-west-1' },
 *   crossRegionReferences: true,
 * });
 * new CodeLearnPlatform(platformStack, 'Platform', { edge: { cloudFrontWebAclArn: acl.webAclArn } });
 */
export class CloudFrontWebAcl extends Construct {
  /** The web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;

  /** The web ACL's ARN, for a distribution's `webAclId`. */
  public readonly webAclArn: string;

  /** The log group of the web ACL, in us-east-1. */
  public readonly logGroup: logs.ILogGroup;

  /** The metric name of the web ACL: the value of its `WebACL` dimension in CloudWatch. */
  public readonly metricName: string;

  constructor(scope: Construct, id: string, props: CloudFrontWebAclProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      throw new ConfigurationError(`A CloudFrontWebAcl must be in a us-east-1 stack, where CloudFront-scope web ACLs live, but this stack's region is '${region}': ` +
        'create it in a us-east-1 stack and pass its `webAclArn` to the platform as `edge.cloudFrontWebAclArn`.');
    }
    const rateLimit = props.rateLimit ?? 2000;
    requireWholeNumber('rateLimit', rateLimit, 10, 2_000_000_000);
    const groups = props.managedRuleGroups ?? IP_RULE_GROUPS.slice(0, 1);
    validateRuleGroups('managedRuleGroups', groups);
    const key = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the CloudFront WAF logs of ${this.node.path}`);
    allowCloudWatchLogs(key);

    this.metricName = webAclMetricName(this, 'cloudfront');
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.metricName),
      rules: [...managedRules(groups), rateLimitRule(rateLimit, groups.length)],
    });
    this.webAclArn = this.webAcl.attrArn;
    this.logGroup = logWebAcl(this, this.webAcl, 'Logs', '', props.logRetention ?? logs.RetentionDays.ONE_YEAR, key).logGroup;
  }

  /**
   * A metric of the web ACL as a whole (`AllowedRequests`, `BlockedRequests`),
   * read in us-east-1. CloudFront-scope web ACLs publish no `Region` dimension.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      dimensionsMap: { WebACL: this.metricName, Rule: 'ALL' },
      statistic: 'Sum',
      period: Duration.minutes(5),
      region: 'us-east-1',
      ...props,
    });
  }
}
