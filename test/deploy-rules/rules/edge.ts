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

/** Listener rules an Application Load Balancer takes by default (Elastic Load Balancing's "Quotas"). */
const RULES_PER_LOAD_BALANCER = 100;

/**
 * What Elastic Load Balancing checks of a listener rule: a priority from 1 to
 * 50,000, unique on its listener; at most three values per condition and five
 * per rule, each path pattern at most 128 characters; a forward action to 1 to 5
 * target groups weighted 0 to 999, at least one above 0 (otherwise the rule takes
 * requests and sends them nowhere); at most 100 rules on a load balancer.
 */
export const listenerRulesAreAccepted: DeployRule = {
  id: 'listener-rules-are-accepted',
  constraint: 'Every listener rule has a priority from 1 to 50000 that no other rule of its listener holds, at most 3 values per condition and 5 ' +
    'per rule (path patterns of 128 characters at most), and forwards to 1 to 5 target groups weighted 0 to 999 with one above 0; ' +
    'a load balancer has at most 100 rules.',
  source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html ("up to three comparison strings per ' +
    'condition and up to five per rule"); https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html; ' +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-elasticloadbalancingv2-listenerrule-targetgrouptuple.html; ' +
    'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const priorities = new Map<string, Map<number, string>>();
    const rulesOf = new Map<string, number>();
    for (const rule of deployment.resources('AWS::ElasticLoadBalancingV2::ListenerRule')) {
      const listener = deployment.target(rule.template, rule.properties.ListenerArn);
      const listenerKey = listener ? where(listener) : flatten(rule.properties.ListenerArn);
      const loadBalancer = listener && deployment.target(listener.template, listener.properties.LoadBalancerArn);
      const loadBalancerKey = loadBalancer ? where(loadBalancer) : listenerKey;
      rulesOf.set(loadBalancerKey, (rulesOf.get(loadBalancerKey) ?? 0) + 1);
      const seen = priorities.get(listenerKey) ?? new Map<number, string>();
      priorities.set(listenerKey, seen);
      const priority = Number(rule.properties.Priority);
      if (!Number.isInteger(priority) || priority < 1 || priority > 50_000) {
        violations.push(`${where(rule)}: priority ${rule.properties.Priority} is not 1 to 50000`);
      } else if (seen.has(priority)) {
        violations.push(`${where(rule)}: priority ${priority} is also ${seen.get(priority)}'s`);
      } else {
        seen.set(priority, where(rule));
      }
      let values = 0;
      for (const condition of list(rule.properties.Conditions)) {
        const own = list(condition.PathPatternConfig?.Values ?? condition.Values);
        values += own.length;
        if (own.length > 3) violations.push(`${where(rule)}: a ${condition.Field} condition has ${own.length} values (3 at most)`);
        for (const value of own) {
          if (condition.Field === 'path-pattern' && typeof value === 'string' && value.length > 128) {
            violations.push(`${where(rule)}: path pattern '${value.slice(0, 20)}…' is ${value.length} characters (128 at most)`);
          }
        }
      }
      if (values > 5) violations.push(`${where(rule)}: ${values} condition values (5 at most)`);
      for (const action of list(rule.properties.Actions)) {
        const groups = list(action.ForwardConfig?.TargetGroups);
        if (action.Type !== 'forward' || groups.length === 0) continue;
        if (groups.length > 5) violations.push(`${where(rule)}: forwards to ${groups.length} target groups (5 at most)`);
        const weights = groups.map(group => group.Weight === undefined ? 1 : Number(group.Weight));
        if (weights.some(weight => !Number.isInteger(weight) || weight < 0 || weight > 999)) {
          violations.push(`${where(rule)}: a target group weight is not 0 to 999`);
        } else if (weights.every(weight => weight === 0)) {
          violations.push(`${where(rule)}: every target group weighs 0, so its requests go nowhere`);
        }
      }
    }
    for (const [loadBalancer, count] of rulesOf) {
      if (count > RULES_PER_LOAD_BALANCER) violations.push(`${loadBalancer}: ${count} listener rules (${RULES_PER_LOAD_BALANCER} at most)`);
    }
    return violations;
  },
};
