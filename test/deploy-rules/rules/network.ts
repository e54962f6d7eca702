import { DeployedResource, DeployedTemplate, Deployment, flatten, isLiteral } from '../deployment';
import { DeployRule, list, where } from '../rule';

/** Every ingress rule of `group`: inline, and the separate AWS::EC2::SecurityGroupIngress resources. */
function ingressRules(deployment: Deployment, group: DeployedResource): any[] {
  const separate = deployment.resources('AWS::EC2::SecurityGroupIngress')
    .filter(rule => {
      const target = deployment.target(rule.template, rule.properties.GroupId);
      return target?.template === group.template && target.logicalId === group.logicalId;
    })
    .map(rule => rule.properties);
  return [...(group.properties.SecurityGroupIngress ?? []), ...separate];
}

const PREFIX_LIST_WEIGHT = 55;
const RULES_PER_GROUP = 60;

/**
 * CloudFront reaches a VPC origin from its own address ranges, not from the
 * VPC's block: the origin's security group must admit the CloudFront
 * origin-facing managed prefix list (or the VPC origins' service security group),
 * on the port the origin protocol uses. The prefix list weighs 55 rules against
 * the 60 inbound rules of a group.
 */
export const vpcOriginAdmitsCloudFront: DeployRule = {
  id: 'vpc-origin-admits-cloudfront',
  constraint: 'The security groups of a load balancer behind a CloudFront VPC origin admit CloudFront (prefix list or service group) on the origin port, within 60 rules counting the prefix list as 55.',
  source: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html; ' +
    'https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html (weight 55)',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const origin of deployment.resources('AWS::CloudFront::VpcOrigin')) {
      const config = origin.properties.VpcOriginEndpointConfig ?? {};
      const loadBalancer = deployment.target(origin.template, config.Arn);
      if (!loadBalancer) continue;
      const policy = config.OriginProtocolPolicy ?? 'match-viewer';
      const ports = policy === 'http-only' ? [config.HTTPPort ?? 80] : policy === 'https-only' ? [config.HTTPSPort ?? 443] : [config.HTTPPort ?? 80, config.HTTPSPort ?? 443];
      const groups = list(loadBalancer.properties.SecurityGroups).map(value => deployment.target(loadBalancer.template, value))
        .filter((group): group is DeployedResource => group !== undefined);
      const rules = groups.flatMap(group => ingressRules(deployment, group));
      for (const port of ports) {
        const admitted = rules.some(rule => rule.FromPort <= port && port <= rule.ToPort &&
          (rule.SourcePrefixListId !== undefined || rule.SourceSecurityGroupId !== undefined));
        if (!admitted) violations.push(`${where(loadBalancer)}: no security group admits CloudFront on port ${port}`);
      }
      for (const group of groups) {
        const weight = ingressRules(deployment, group)
          .reduce((sum, rule) => sum + (rule.SourcePrefixListId !== undefined ? PREFIX_LIST_WEIGHT : 1), 0);
        if (weight > RULES_PER_GROUP) violations.push(`${where(group)}: inbound rules weigh ${weight}, above the quota of ${RULES_PER_GROUP}`);
      }
    }
    return violations;
  },
};

/**
 * EC2 gives a new security group an allow-all egress rule, removed only when
 * the group's own `SecurityGroupEgress` lists rules: a data store's group with
 * only separate egress resources keeps egress to anywhere.
 */
export const dataStoresRestrictEgress: DeployRule = {
  id: 'data-stores-restrict-egress',
  constraint: 'The security groups of databases, proxies, caches and brokers list their egress inline (at least the CDK\'s "disallow all" placeholder), never 0.0.0.0/0.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html (default egress rule)',
  check(deployment: Deployment): string[] {
    const groups: [DeployedResource, any][] = [];
    const collect = (resource: DeployedResource, values: any) => {
      for (const value of list(values)) groups.push([resource, value]);
    };
    for (const r of deployment.resources('AWS::RDS::DBInstance')) collect(r, r.properties.VPCSecurityGroups);
    for (const r of deployment.resources('AWS::RDS::DBProxy')) collect(r, r.properties.VpcSecurityGroupIds);
    for (const r of deployment.resources('AWS::ElastiCache::ReplicationGroup')) collect(r, r.properties.SecurityGroupIds);
    for (const r of deployment.resources('AWS::AmazonMQ::Broker')) collect(r, r.properties.SecurityGroups);
    for (const r of deployment.resources('AWS::MSK::Cluster')) collect(r, r.properties.BrokerNodeGroupInfo?.SecurityGroups);
    const violations = new Set<string>();
    for (const [store, value] of groups) {
      const group = deployment.target(store.template, value);
      if (!group || group.type !== 'AWS::EC2::SecurityGroup') continue;
      const egress = group.properties.SecurityGroupEgress ?? [];
      const open = egress.some((rule: any) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0');
      if (egress.length === 0 || open) violations.add(`${where(group)} (of ${where(store)}): egress to anywhere`);
    }
    return [...violations];
  },
};

/** Availability Zones, by ID, where EKS does not place control-plane interfaces or nodes. */
const EKS_UNSUPPORTED_ZONES: Record<string, string> = {
  'us-east-1': 'use1-az3',
  'us-west-1': 'usw1-az2',
  'ca-central-1': 'cac1-az3',
};

/**
 * EKS refuses subnets in use1-az3, usw1-az2 and cac1-az3, and a zone *name*
 * (us-east-1a) maps to a different zone ID in each account: subnets that EKS
 * uses, in those regions, must be placed by zone ID.
 */
export const eksSubnetsInSupportedZones: DeployRule = {
  id: 'eks-subnets-in-supported-zones',
  constraint: 'Every subnet a cluster or node group uses is placed by Availability Zone ID, never in an unsupported one, in every region with such a zone.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets',
  check(deployment: Deployment): string[] {
    const subnets = new Map<string, DeployedResource>();
    const add = (owner: DeployedResource, values: any) => {
      for (const value of list(values)) {
        const subnet = deployment.target(owner.template, value);
        if (subnet?.type === 'AWS::EC2::Subnet') subnets.set(`${subnet.template.path}#${subnet.logicalId}`, subnet);
      }
    };
    for (const cluster of deployment.resources('AWS::EKS::Cluster')) add(cluster, cluster.properties.ResourcesVpcConfig?.SubnetIds);
    for (const group of deployment.resources('AWS::EKS::Nodegroup')) add(group, group.properties.Subnets);
    const violations: string[] = [];
    for (const subnet of subnets.values()) {
      const regions = subnet.template.region ? [subnet.template.region] : Object.keys(EKS_UNSUPPORTED_ZONES);
      for (const region of regions.filter(r => EKS_UNSUPPORTED_ZONES[r])) {
        const zoneId = resolveIn(subnet.template, region, subnet.properties.AvailabilityZoneId);
        const zoneName = resolveIn(subnet.template, region, subnet.properties.AvailabilityZone);
        if (zoneId === undefined || zoneName !== undefined) {
          violations.push(`${where(subnet)}: placed by zone name in ${region}, where the name may map to ${EKS_UNSUPPORTED_ZONES[region]}`);
        } else if (zoneId === EKS_UNSUPPORTED_ZONES[region]) {
          violations.push(`${where(subnet)}: in ${zoneId}, which EKS does not support`);
        }
      }
    }
    return violations;
  },
};

/**
 * `value` as it would be in `region`: conditions (`Fn::If`) evaluated, mappings
 * looked up, `AWS::NoValue` as undefined. Anything else that is not literal is
 * returned as it is.
 */
export function resolveIn(template: DeployedTemplate, region: string, value: any): any {
  if (value === undefined || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(item => resolveIn(template, region, item));
  if (value.Ref === 'AWS::NoValue') return undefined;
  if (value.Ref === 'AWS::Region') return region;
  if (value['Fn::If']) {
    const [condition, yes, no] = value['Fn::If'];
    return resolveIn(template, region, condition_(template, region, condition) ? yes : no);
  }
  if (value['Fn::FindInMap']) {
    const [map, first, second] = value['Fn::FindInMap'].map((part: any) => resolveIn(template, region, part));
    return template.template.Mappings?.[map]?.[first]?.[second];
  }
  if (value['Fn::Select']) {
    const [index, items] = value['Fn::Select'].map((part: any) => resolveIn(template, region, part));
    return Array.isArray(items) ? items[Number(index)] : value;
  }
  return isLiteral(value) ? value : value;
}

function condition_(template: DeployedTemplate, region: string, name: string): boolean {
  return evaluate(template, region, template.template.Conditions?.[name]);
}

function evaluate(template: DeployedTemplate, region: string, expression: any): boolean {
  if (expression?.Condition) return condition_(template, region, expression.Condition);
  if (expression?.['Fn::Equals']) {
    const [a, b] = expression['Fn::Equals'].map((part: any) => resolveIn(template, region, part));
    return flatten(a) === flatten(b);
  }
  if (expression?.['Fn::Or']) return expression['Fn::Or'].some((part: any) => evaluate(template, region, part));
  if (expression?.['Fn::And']) return expression['Fn::And'].every((part: any) => evaluate(template, region, part));
  if (expression?.['Fn::Not']) return !evaluate(template, region, expression['Fn::Not'][0]);
  throw new Error(`cannot evaluate the condition ${JSON.stringify(expression)}`);
}
