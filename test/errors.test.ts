import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CodeLearnPlatform, CodeLearnPlatformProps, MessageBroker, NodeScaling, RabbitMqOptions } from '../src';
import { TEST_ENV, testStack } from './support/app';

/**
 * Wrong inputs across every part, given to the platform as a user would, each with
 * the exact message that names the property, the value and the way out.
 */
const cases: [string, () => CodeLearnPlatformProps, string][] = [
  ['network: invalid CIDR', () => ({ network: { cidr: '10.0.0/16' } }), '`cidr` (\'10.0.0/16\') is not an IPv4 CIDR block: write it as \'10.0.0.0/16\'.'],
  ['network: CIDR too small', () => ({ network: { cidr: '10.0.0.0/24' } }),
    '`cidr` (\'10.0.0.0/24\') is too small: every pod takes an IP address from the private subnets, so the block must be /20 or larger (a /16 is the default).'],
  ['network: one zone', () => ({ network: { maxAzs: 1 } }),
    '`maxAzs` (1) must be a whole number of at least 2: EKS and Multi-AZ data stores need two zones, in the development profile too. Use 2 or more.'],
  ['network: no NAT', () => ({ network: { natGateways: 0 } }),
    '`natGateways` (0) must be a whole number from 1 to the number of Availability Zones (2): the EKS nodes in the private subnets need egress. Use 1 to save cost, or one per zone for availability.'],
  ['cluster: min above max', () => ({ cluster: { nodes: { minSize: 5, maxSize: 3, desiredSize: 3 } } }),
    '`nodes.maxSize` (3) must be >= `nodes.minSize` (5): raise maxSize or lower minSize.'],
  ['cluster: desired outside', () => ({ cluster: { nodes: { minSize: 2, maxSize: 10, desiredSize: 11 } } }),
    '`nodes.desiredSize` (11) must be a whole number from `nodes.minSize` (2) to `nodes.maxSize` (10).'],
  ['cluster: one spot type', () => ({ cluster: { spotInstanceTypes: [new ec2.InstanceType('m5.large')] } }),
    '`spotInstanceTypes` lists 1 type(s): a spot group needs at least 2, so that capacity is found when one type is short.'],
  ['cluster: world-open endpoint', () => ({ cluster: { publicEndpointCidrs: ['0.0.0.0/0'] } }),
    '`publicEndpointCidrs` has \'0.0.0.0/0\': list IPv4 CIDR blocks narrower than 0.0.0.0/0, such as \'203.0.113.0/24\'.'],
  ['cluster: CPU target out of range', () => ({ cluster: { nodeScaling: NodeScaling.cpuTargetTracking({ targetUtilizationPercent: 95 }) } }),
    'The CPU target of node scaling (95) must be a whole percentage from 10 to 90.'],
  ['cluster: schedule that is not cron', () => ({ cluster: { scheduledScaling: [{ name: 'm', schedule: 'mornings', minSize: 3 }] } }),
    '`scheduledScaling.m.schedule` (\'mornings\') is not a cron expression of five fields, such as \'0 7 * * MON-FRI\'.'],
  ['services: invalid Kubernetes name', () => ({ services: [{ name: 'Api_Gateway' }] }),
    '`name` (\'Api_Gateway\') is not a Kubernetes name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, at most 63 characters.'],
  ['services: duplicate name', () => ({ services: [{ name: 'api' }, { name: 'api', path: '/x/*' }] }),
    '`services` lists \'api\' twice: give each service its own name.'],
  ['services: duplicate path', () => ({ services: [{ name: 'api' }, { name: 'a', path: '/x/*' }, { name: 'b', path: '/x/*' }] }),
    '`services`: \'b\' and \'a\' both take the path \'/x/*\': give each service its own path.'],
  ['services: two default routes', () => ({ services: [{ name: 'api' }, { name: 'web' }] }),
    '`services` has 2 service(s) without a `path` (api, web): exactly one, the API gateway, takes the default route. Give the others a path.'],
  ['services: HPA target over 100', () => ({ services: [{ name: 'api', cpuTarget: 120 }] }),
    '`api.cpuTarget` (120) must be a whole number from 1 to 100.'],
  ['services: canary weight over 100', () => ({ services: [{ name: 'api', canary: { weight: 120 } }] }),
    '`api.canary.weight` (120) must be a whole number from 0 to 100.'],
  ['services: min replicas above max', () => ({ services: [{ name: 'api', minReplicas: 4, maxReplicas: 2 }] }),
    '`api.maxReplicas` (2) must be >= `api.minReplicas` (4).'],
  ['services: latency objective out of range', () => ({ services: [{ name: 'api', latencyObjective: Duration.minutes(5) }] }),
    '`api.latencyObjective` (5 minutes) must be a literal duration from 10 milliseconds to 60 seconds.'],
  ['database: storage maximum below allocation', () => ({ database: { allocatedStorage: 200, maxAllocatedStorage: 100 } }),
    '`maxAllocatedStorage` (100) must be a whole number of GiB from 220 (10% above `allocatedStorage`, 200) to 65536: storage autoscaling needs room to grow. Raise it, or lower `allocatedStorage`.'],
  ['database: too many replicas', () => ({ database: { readReplicas: 6 } }), '`readReplicas` (6) must be a whole number from 0 to 5.'],
  ['database: the spec\'s admin user', () => ({ database: { masterUsername: 'admin' } }),
    '`masterUsername` (\'admin\') is reserved by PostgreSQL on RDS: choose another, such as \'codelearn_admin\'.'],
  ['database: backups kept 60 days', () => ({ database: { backupRetention: Duration.days(60) } }),
    '`backupRetention` (60 days) must be a whole number of days from 1 to 35: RDS keeps automated backups for at most 35 days.'],
  ['cache: no shard', () => ({ cache: { shards: 0 } }), '`shards` (0) must be a whole number from 1 to 90.'],
  ['cache: too many replicas', () => ({ cache: { replicasPerShard: 6 } }), '`replicasPerShard` (6) must be a whole number from 0 to 5.'],
  ['cache: short snapshot retention', () => ({ cache: { snapshotRetention: Duration.days(7) } }),
    '`snapshotRetention` (7 days) must be a whole number of days from 15 to 35: HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35.'],
  ['messaging: a Kafka option given to RabbitMQ', () => ({ messaging: { broker: MessageBroker.rabbitMq({ brokersPerAz: 2 } as RabbitMqOptions) } }),
    '`brokersPerAz` is not an option of MessageBroker.rabbitMq() (it takes `instanceType`, `engineVersion`, `username`): use MessageBroker.kafka() for it, or remove it.'],
  ['messaging: no broker per zone', () => ({ messaging: { broker: MessageBroker.kafka({ brokersPerAz: 0 }) } }),
    '`brokersPerAz` (0) must be a whole number from 1 to 5.'],
  ['storage: origin with a path', () => ({ storage: { uploadsAllowedOrigins: ['https://learn.example.com/app'] } }),
    '`uploadsAllowedOrigins` has \'https://learn.example.com/app\', which is not an origin: write it as \'https://learn.example.com\' (scheme and host, no path), or \'*\'.'],
  ['storage: backups kept a week', () => ({ storage: { backupRetention: Duration.days(7) } }),
    '`backupRetention` (7 days) must be a whole number of days, at least 30.'],
  ['edge: rate limit below WAF\'s minimum', () => ({ edge: { rateLimit: 5 } }), '`rateLimit` (5) must be a whole number from 10 to 2000000000.'],
  ['edge: rule group that is not AWS managed', () => ({ edge: { managedRuleGroups: ['MyRules'] } }),
    '`managedRuleGroups` has \'MyRules\', which is not an AWS managed rule group name such as \'AWSManagedRulesCommonRuleSet\'.'],
  ['edge: domain without hosted zone', () => ({ edge: { domain: { domainName: 'learn.example.com' } as any } }),
    '`domain.hostedZone` is missing: a domain needs the public hosted zone that holds it, for the certificates and the alias records.'],
  ['observability: invalid email', () => ({ observability: { alarmEmails: ['oncall'] } }),
    '`alarmEmails` has \'oncall\', which is not an email address such as \'oncall@example.com\'.'],
  ['observability: error objective of 0', () => ({ observability: { errorRateObjectivePercent: 0 } }),
    '`errorRateObjectivePercent` (0) must be above 0 and at most 50.'],
];

describe('wrong inputs fail at synth with a message that names the property, the value and the way out', () => {
  test.each(cases)('%s', (_name, props, message) => {
    const stack = testStack({ env: TEST_ENV });
    expect(() => new CodeLearnPlatform(stack, 'Platform', props())).toThrow(new Error(message));
  });

  test('the table has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  test('a domain name that is not one', () => {
    const stack = testStack({ env: TEST_ENV });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => new CodeLearnPlatform(stack, 'Platform', { edge: { domain: { domainName: 'learn example', hostedZone } } }))
      .toThrow(new Error('`domain.domainName` (\'learn example\') is not a literal domain name such as \'learn.example.com\'.'));
  });
});
