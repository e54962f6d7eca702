import { App, Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CodeLearnPlatform, CodeLearnPlatformProps, MessageBroker, Network, NodeScaling, RabbitMqOptions } from '../src';
import { Flags, TEST_ENV, testStack } from './support/app';
import { synthError } from './support/fixtures';

/**
 * Wrong inputs across every part, given to the platform as a user would, each with
 * the exact message that names the property, the value and the way out.
 */
const cases: [string, () => CodeLearnPlatformProps, string][] = [
  ['network: invalid CIDR', () => ({ network: { cidr: '10.0.0/16' } }), '`network.cidr` (\'10.0.0/16\') is not an IPv4 CIDR block: write it as \'10.0.0.0/16\'.'],
  ['network: CIDR too small', () => ({ network: { cidr: '10.0.0.0/24' } }),
    '`network.cidr` (\'10.0.0.0/24\') is too small: every pod takes an IP address from the private subnets, so the block must be /20 or larger (a /16 is the default).'],
  ['network: one zone', () => ({ network: { maxAzs: 1 } }),
    '`network.maxAzs` (1) must be a whole number of at least 2: EKS and Multi-AZ data stores need two zones, in the development profile too. Use 2 or more.'],
  ['network: no NAT', () => ({ network: { natGateways: 0 } }),
    '`network.natGateways` (0) must be a whole number from 1 to the number of Availability Zones (2): the EKS nodes in the private subnets need egress. Use 1 to save cost, or one per zone for availability.'],
  ['cluster: min above max', () => ({ cluster: { nodes: { minSize: 5, maxSize: 3, desiredSize: 3 } } }),
    '`cluster.nodes.maxSize` (3) must be >= `cluster.nodes.minSize` (5): raise maxSize or lower minSize.'],
  ['cluster: desired outside', () => ({ cluster: { nodes: { minSize: 2, maxSize: 10, desiredSize: 11 } } }),
    '`cluster.nodes.desiredSize` (11) must be a whole number from `cluster.nodes.minSize` (2) to `cluster.nodes.maxSize` (10).'],
  ['cluster: one spot type', () => ({ cluster: { spotInstanceTypes: [new ec2.InstanceType('m5.large')] } }),
    '`cluster.spotInstanceTypes` lists 1 type(s): a spot group needs at least 2, so that capacity is found when one type is short.'],
  ['cluster: world-open endpoint', () => ({ cluster: { publicEndpointCidrs: ['0.0.0.0/0'] } }),
    '`cluster.publicEndpointCidrs` has \'0.0.0.0/0\': list IPv4 CIDR blocks narrower than 0.0.0.0/0, such as \'203.0.113.0/24\'.'],
  ['cluster: CPU target out of range', () => ({ cluster: { nodeScaling: NodeScaling.cpuTargetTracking({ targetUtilizationPercent: 95 }) } }),
    'The CPU target of node scaling (95) must be a whole percentage from 10 to 90.'],
  ['cluster: schedule that is not cron', () => ({ cluster: { scheduledScaling: [{ name: 'm', schedule: 'mornings', minSize: 3 }] } }),
    '`cluster.scheduledScaling.m.schedule` (\'mornings\') is not a cron expression of five fields, such as \'0 7 * * MON-FRI\'.'],
  ['services: invalid Kubernetes name', () => ({ services: [{ name: 'Api_Gateway' }] }),
    '`services[0].name` (\'Api_Gateway\') is not a Kubernetes name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, at most 63 characters.'],
  ['services: duplicate name', () => ({ services: [{ name: 'api' }, { name: 'api', path: '/x/*' }] }),
    '`services` lists \'api\' twice: give each service its own name.'],
  ['services: duplicate path', () => ({ services: [{ name: 'api' }, { name: 'a', path: '/x/*' }, { name: 'b', path: '/x/*' }] }),
    '`services`: \'b\' and \'a\' both take the path \'/x/*\': give each service its own path.'],
  ['services: two default routes', () => ({ services: [{ name: 'api' }, { name: 'web' }] }),
    '`services` has 2 service(s) without a `path` (api, web): exactly one, the API gateway, takes the default route. Give the others a path.'],
  ['services: HPA target over 100', () => ({ services: [{ name: 'api', cpuTarget: 120 }] }),
    '`services[0]` (\'api\'): `services[0].cpuTarget` (120) must be a whole number from 1 to 100.'],
  ['services: canary weight over 100', () => ({ services: [{ name: 'api', canary: { weight: 120 } }] }),
    '`services[0]` (\'api\'): `services[0].canary.weight` (120) must be a whole number from 0 to 100.'],
  ['services: min replicas above max', () => ({ services: [{ name: 'api', minReplicas: 4, maxReplicas: 2 }] }),
    '`services[0]` (\'api\'): `services[0].maxReplicas` (2) must be >= `services[0].minReplicas` (4).'],
  ['services: latency objective out of range', () => ({ services: [{ name: 'api', latencyObjective: Duration.minutes(5) }] }),
    '`services[0]` (\'api\'): `services[0].latencyObjective` (5 minutes) must be a literal duration from 10 milliseconds to 60 seconds.'],
  ['database: storage maximum below allocation', () => ({ database: { allocatedStorage: 200, maxAllocatedStorage: 100 } }),
    '`database.maxAllocatedStorage` (100) must be a whole number of GiB from 220 (10% above `database.allocatedStorage`, 200) to 65536: storage autoscaling needs room to grow. Raise it, or lower `database.allocatedStorage`.'],
  ['database: too many replicas', () => ({ database: { readReplicas: 6 } }), '`database.readReplicas` (6) must be a whole number from 0 to 5.'],
  ['database: the spec\'s admin user', () => ({ database: { masterUsername: 'admin' } }),
    '`database.masterUsername` (\'admin\') is reserved by PostgreSQL on RDS: choose another, such as \'codelearn_admin\'.'],
  ['database: backups kept 60 days', () => ({ database: { backupRetention: Duration.days(60) } }),
    '`database.backupRetention` (60 days) must be a whole number of days from 1 to 35: RDS keeps automated backups for at most 35 days.'],
  ['cache: no shard', () => ({ cache: { shards: 0 } }), '`cache.shards` (0) must be a whole number from 1 to 90.'],
  ['cache: IAM sign-in on Redis 6', () => ({ cache: { engineVersion: '6.2' } }),
    '`cache.engineVersion` (\'6.2\') cannot sign clients in with IAM, which needs Redis OSS 7.0 or later: use \'7.1\', or set `authentication: CacheAuthentication.AUTH_TOKEN`.'],
  ['database: a snapshot of another region', () => ({ database: { snapshotIdentifier: 'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c' } }),
    '`database.snapshotIdentifier` (\'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1a2b3c\') is in us-west-2, but the database is in us-east-1: ' +
    'RDS restores only snapshots of its own region. Copy it here first (`aws rds copy-db-snapshot`, or a copy action of AWS Backup).'],
  ['database: a restore test schedule that is a rate', () => ({ database: { restoreTestingSchedule: events.Schedule.rate(Duration.days(7)) } }),
    '`database.restoreTestingSchedule` (\'rate(7 days)\') must be a cron expression: AWS Backup runs restore tests only on cron schedules. ' +
    'Use `events.Schedule.cron({ weekDay: \'SUN\', hour: \'7\', minute: \'0\' })`.'],
  ['storage: a backup lock longer than the backups live', () => ({ storage: { backupsObjectLock: s3.ObjectLockRetention.governance(Duration.days(400)) } }),
    '`storage.backupsObjectLock` (400 days) must be a whole number of days from 1 to 365: a backup cannot expire while it is locked, ' +
    'and backups expire after 365 days (`backupRetention`).'],
  ['cache: too many replicas', () => ({ cache: { replicasPerShard: 6 } }), '`cache.replicasPerShard` (6) must be a whole number from 1 to 5.'],
  ['cache: short snapshot retention', () => ({ cache: { snapshotRetention: Duration.days(7) } }),
    '`cache.snapshotRetention` (7 days) must be a whole number of days from 15 to 35: HIPAA and NIST 800-53 ask for 15 days of cache backups, and ElastiCache keeps at most 35.'],
  ['messaging: a Kafka option given to RabbitMQ', () => ({ messaging: { broker: MessageBroker.rabbitMq({ brokersPerAz: 2 } as RabbitMqOptions) } }),
    '`brokersPerAz` is not an option of MessageBroker.rabbitMq() (it takes `instanceType`, `engineVersion`, `username`): use MessageBroker.kafka() for it, or remove it.'],
  ['messaging: no broker per zone', () => ({ messaging: { broker: MessageBroker.kafka({ brokersPerAz: 0 }) } }),
    '`brokersPerAz` (0) must be a whole number from 1 to 5.'],
  ['storage: origin with a path', () => ({ storage: { uploadsAllowedOrigins: ['https://learn.example.com/app'] } }),
    '`storage.uploadsAllowedOrigins` has \'https://learn.example.com/app\', which is not an origin: write it as \'https://learn.example.com\' (scheme and host, no path), or \'*\'.'],
  ['storage: backups kept a week', () => ({ storage: { backupRetention: Duration.days(7) } }),
    '`storage.backupRetention` (7 days) must be a whole number of days, at least 31: backups move to Glacier Instant Retrieval after 30 days, ' +
      'and S3 accepts a lifecycle rule only when objects expire after their last transition.'],
  ['edge: rate limit below WAF\'s minimum', () => ({ edge: { rateLimit: 5 } }), '`edge.rateLimit` (5) must be a whole number from 10 to 2000000000.'],
  ['edge: rule group that is not AWS managed', () => ({ edge: { managedRuleGroups: ['MyRules'] } }),
    '`edge.managedRuleGroups` has \'MyRules\', which is not an AWS managed rule group name such as \'AWSManagedRulesCommonRuleSet\'.'],
  ['edge: domain without hosted zone', () => ({ edge: { domain: { domainName: 'learn.example.com' } as any } }),
    '`edge.domain.hostedZone` is missing: a domain needs the public hosted zone that holds it, for the certificates and the alias records.'],
  ['cluster: a misspelled instance type', () => ({ cluster: { instanceType: new ec2.InstanceType('t3.mediun') } }),
    '`cluster.instanceType` (\'t3.mediun\') is not an EC2 instance type: write a family and a size that exist, such as \'t3.medium\' or \'m5.large\'.'],
  ['cluster: a misspelled spot type', () => ({ cluster: { spotInstanceTypes: [new ec2.InstanceType('m5.large'), new ec2.InstanceType('m55.large')] } }),
    '`cluster.spotInstanceTypes[1]` (\'m55.large\') is not an EC2 instance type: write a family and a size that exist, such as \'t3.medium\' or \'m5.large\'.'],
  ['database: the db. prefix', () => ({ database: { instanceType: new ec2.InstanceType('db.t3.medium') } }),
    '`database.instanceType` (\'db.t3.medium\') carries the \'db.\' prefix, which the library adds: write \'t3.medium\'.'],
  ['cache: the cache. prefix', () => ({ cache: { nodeType: new ec2.InstanceType('cache.t3.medium') } }),
    '`cache.nodeType` (\'cache.t3.medium\') carries the \'cache.\' prefix, which the library adds: write \'t3.medium\'.'],
  ['cache: a misspelled node type', () => ({ cache: { nodeType: new ec2.InstanceType('t3.mediun') } }),
    '`cache.nodeType` (\'t3.mediun\') is not an instance type: write a family and a size that exist, such as \'t3.medium\' (for \'cache.t3.medium\').'],
  ['cache: the cache. prefix twice', () => ({ cache: { nodeType: new ec2.InstanceType('cache.cache.t3.medium') } }),
    '`cache.nodeType` (\'cache.cache.t3.medium\') is not an instance type: write a family and a size that exist, such as \'t3.medium\' (for \'cache.t3.medium\').'],
  ['cluster: an RDS type', () => ({ cluster: { instanceType: new ec2.InstanceType('db.m5.large') } }),
    '`cluster.instanceType` (\'db.m5.large\') is an RDS type; this takes an EC2 instance type, such as \'t3.medium\'.'],
  ['cache: an RDS type', () => ({ cache: { nodeType: new ec2.InstanceType('db.r7g.large') } }),
    '`cache.nodeType` (\'db.r7g.large\') is an RDS type; this takes an ElastiCache type without its \'cache.\' prefix, such as \'t3.medium\' for \'cache.t3.medium\'.'],
  ['services: CPU without millicores', () => ({ services: [{ name: 'api', cpu: '250' }] }),
    '`services[0]` (\'api\'): `services[0].cpu` (\'250\') is 250 CPUs, more than any node holds: write millicores with \'m\', such as \'250m\'.'],
  ['services: a CPU quantity that is none', () => ({ services: [{ name: 'api', cpu: 'half' }] }),
    '`services[0]` (\'api\'): `services[0].cpu` (\'half\') is not a Kubernetes CPU quantity: write millicores such as \'250m\', or CPUs such as \'0.5\' or \'2\'.'],
  ['services: memory in MB', () => ({ services: [{ name: 'api', memory: '512MB' }] }),
    '`services[0]` (\'api\'): `services[0].memory` (\'512MB\') is not a Kubernetes memory quantity: write it as \'512Mi\'.'],
  ['services: memory without a unit', () => ({ services: [{ name: 'api', memory: '512' }] }),
    '`services[0]` (\'api\'): `services[0].memory` (\'512\') is 512 bytes: a container needs from 4Mi to 1Ti. Add a unit, such as \'512Mi\'.'],
  ['services: a request above its limit', () => ({ services: [{ name: 'api', cpu: '2', cpuLimit: '1' }] }),
    '`services[0]` (\'api\'): `services[0].cpu` (\'2\') is more than `services[0].cpuLimit` (\'1\'): Kubernetes refuses a request above its limit. Raise `services[0].cpuLimit`, or lower `services[0].cpu`.'],
  ['services: an image tag Docker refuses', () => ({ services: [{ name: 'api', imageTag: 'v1.0/beta' }] }),
    '`services[0]` (\'api\'): `services[0].imageTag` (\'v1.0/beta\') is not an image tag: use letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\', at most 128 characters, such as \'1.4.0\'.'],
  ['services: an image in capitals', () => ({ services: [{ name: 'api', image: 'example/Users:2.0.0' }] }),
    '`services[0]` (\'api\'): `services[0].image` (\'example/Users:2.0.0\') is not an image reference: write it as \'registry/repository:tag\', the repository in lowercase, such as \'public.ecr.aws/example/users:2.0.0\'.'],
  ['services: a path that takes everything', () => ({ services: [{ name: 'api' }, { name: 'web', path: '/*' }] }),
    '`services[1]` (\'web\'): `services[1].path` (\'/*\') matches every request, and would take them from the service without a path (the default route): leave `services[1].path` out ' +
    'for the service that takes everything else, and give the others their prefix, such as \'/api/users/*\'.'],
  ['services: a path without a wildcard', () => ({ services: [{ name: 'api' }, { name: 'users', path: '/api/users' }] }),
    '`services[1]` (\'users\'): `services[1].path` (\'/api/users\') routes only that exact path, not what is below it: write \'/api/users/*\' (which also matches \'/api/users\').'],
  ['services: more than a load balancer takes', () => ({
    services: [{ name: 'api' }, ...Array.from({ length: 100 }, (_, index) => ({ name: `s${index}`, path: `/s${index}/*` }))],
  }), '`services` needs 101 target groups (one for each service and canary), and an Application Load Balancer takes 100: split the services between ' +
    'two platforms, or raise the quota with AWS Support and build the edge yourself.'],
  ['services: two on one priority', () => ({ services: [{ name: 'api' }, { name: 'a', path: '/a/*', priority: 7 }, { name: 'b', path: '/b/*', priority: 7 }] }),
    '`services`: \'b\' (\'/b/*\') and \'a\' (\'/a/*\') both take listener rule priority 7: set `priority` on one of them to a free number from 1 to 49999.'],
  ['edge: a static path that a service takes', () => ({ edge: { staticPathPattern: '/api/users/*' } }),
    '`edge.staticPathPattern` (\'/api/users/*\') is also the path of \'user-service\': give the static assets another path.'],
  ['observability: invalid email', () => ({ observability: { alarmEmails: ['oncall'] } }),
    '`observability.alarmEmails` has \'oncall\', which is not an email address such as \'oncall@example.com\'.'],
  ['observability: error objective of 0', () => ({ observability: { errorRateObjectivePercent: 0 } }),
    '`observability.errorRateObjectivePercent` (0) must be above 0 and at most 50.'],
];

describe('wrong inputs fail at synth with a message that names the property, the value and the way out', () => {
  test.each(cases)('%s', (_name, props, message) => {
    const stack = testStack({ env: TEST_ENV });
    expect(() => new CodeLearnPlatform(stack, 'Platform', props())).toThrow(new Error(message));
  });

  test('a domain outside its hosted zone', () => {
    const stack = testStack({ env: TEST_ENV });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com.' });
    expect(() => new CodeLearnPlatform(stack, 'Platform', { edge: { domain: { domainName: 'learn.example.org', hostedZone } } }))
      .toThrow(new Error('`edge.domain.domainName` (\'learn.example.org\') is not in `edge.domain.hostedZone` (\'example.com\'): the certificates are ' +
        'validated and the aliases written in that zone. Use a name that ends with \'.example.com\', or the zone that holds \'learn.example.org\'.'));
    // The zone itself, and a name below it, are fine.
    const inZone = testStack({ env: TEST_ENV });
    const zone = route53.HostedZone.fromHostedZoneAttributes(inZone, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => new CodeLearnPlatform(inZone, 'Platform', { edge: { domain: { domainName: 'learn.example.com', hostedZone: zone } } })).not.toThrow();
  });

  test('errors read like aws-cdk-lib\'s, and their stack shows the user\'s code, not the library\'s', () => {
    let error: any;
    try {
      new CodeLearnPlatform(testStack({ env: TEST_ENV }), 'Platform', { cluster: { nodes: { minSize: 5, maxSize: 3 } } });
    } catch (caught) {
      error = caught;
    }
    expect(error.name).toBe('ValidationError');
    expect(error.stack.split('\n')[0]).toBe('«ValidationError» `cluster.nodes.maxSize` (3) must be >= `cluster.nodes.minSize` (5): raise maxSize or lower minSize.');
    expect(error.stack).toContain('errors.test.ts');
    expect(error.stack).not.toMatch(/[\\/]src[\\/]/);
  });

  test('a VPC of the platform\'s stack that fails the packs: one message that says what to change', () => {
    const stack = testStack({ env: TEST_ENV, flags: Flags.CDK_INIT });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    new CodeLearnPlatform(stack, 'Platform', { network: { vpc } });
    const message = synthError(stack.node.root as App);
    expect(message).toContain('`network.vpc` (Test/Vpc) is a VPC of the platform\'s stack, whose cdk-nag packs judge every resource of the stack, ' +
      'and it fails 10 of their rules (AwsSolutions-VPC7, HIPAA.Security-VPCFlowLogsEnabled,');
    expect(message).toContain('Let the platform make the VPC (leave out `network.vpc`; `network.cidr` sets its block), define yours in another stack');
    // The platform's own network, handed over, passes.
    const own = testStack({ env: TEST_ENV, flags: Flags.CDK_INIT });
    const network = new Network(own, 'Shared', {});
    new CodeLearnPlatform(own, 'Platform', { network: { vpc: network.vpc } });
    expect(() => (own.node.root as App).synth()).not.toThrow();
  });

  test('a domain name that is not one', () => {
    const stack = testStack({ env: TEST_ENV });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => new CodeLearnPlatform(stack, 'Platform', { edge: { domain: { domainName: 'learn example', hostedZone } } }))
      .toThrow(new Error('`edge.domain.domainName` (\'learn example\') is not a literal domain name such as \'learn.example.com\'.'));
  });
});
