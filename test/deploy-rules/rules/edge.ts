import { Deployment, flatten } from '../deployment';
import { DeployRule, list, where } from '../rule';

/** AWS managed rule groups that judge the request's source IP address. */
const IP_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList'];

/**
 * Behind CloudFront a load balancer sees CloudFront's addresses, not the
 * viewer's: a regional web ACL's IP reputation list never matches a viewer and a
 * per-IP rate limit counts a whole edge location as one client. Such rules
 * belong in a CloudFront-scope web ACL.
 */
export const ipRulesSeeViewers: DeployRule = {
  id: 'ip-rules-see-viewers',
  constraint: 'A regional web ACL on a load balancer that a CloudFront VPC origin serves has no rule keyed on the source IP (IP rate limits, IP reputation or anonymous IP lists, IP sets).',
  source: 'https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html; ' +
    'https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html',
  check(deployment: Deployment): string[] {
    const origins = deployment.resources('AWS::CloudFront::VpcOrigin')
      .map(origin => deployment.target(origin.template, origin.properties.VpcOriginEndpointConfig?.Arn)?.logicalId);
    const violations: string[] = [];
    for (const association of deployment.resources('AWS::WAFv2::WebACLAssociation')) {
      const target = deployment.target(association.template, association.properties.ResourceArn);
      if (!target || !origins.includes(target.logicalId)) continue;
      const acl = deployment.target(association.template, association.properties.WebACLArn);
      for (const rule of list(acl?.properties.Rules)) {
        const statement = rule.Statement ?? {};
        const text = flatten(statement);
        const ipKeyed = statement.RateBasedStatement?.AggregateKeyType === 'IP' ||
          IP_RULE_GROUPS.includes(statement.ManagedRuleGroupStatement?.Name) ||
          (text.includes('IPSetReferenceStatement') && !text.includes('IPSetForwardedIPConfig'));
        if (ipKeyed) violations.push(`${where(acl!)}: rule ${rule.Name} judges the source IP, which is CloudFront's`);
      }
    }
    return violations;
  },
};
