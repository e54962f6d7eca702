import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Deployment } from './deployment';
import { ByoVpcPlatformStack } from '../../examples/byo-vpc-platform';
import { CustomServicesPlatformStack } from '../../examples/custom-services-platform';
import { DefaultPlatformStack } from '../../examples/default-platform';
import { DevelopmentPlatformStack } from '../../examples/development-platform';
import { CacheAuthentication, Cluster, CodeLearnPlatform, DataAccess, Edge, MessageBroker, Microservice, NamespaceDefaultDeny, Network, NodeScaling, PlatformProfile, SandboxService, Storage } from '../../src';
import { Flags, testApp } from '../support/app';
import { maximalPlatformProps } from '../support/fixtures';

/** One configuration the deploy rules judge. */
export interface Configuration {
  readonly name: string;
  readonly flags: Flags;
  readonly build: (app: App) => void;
}

const US_EAST_1 = { account: '123456789012', region: 'us-east-1' };
const EU_WEST_1 = { account: '123456789012', region: 'eu-west-1' };

/**
 * Every configuration the tests synthesize: the default platform (with and
 * without the `cdk init` flags), the development profile, every example app, one
 * with every option set, one outside us-east-1, Kafka with a cache AUTH token,
 * and the parts alone (a sandbox among them).
 */
export const CONFIGURATIONS: Configuration[] = [
  { name: 'the default platform', flags: Flags.NONE, build: app => new DefaultPlatformStack(app, 'CodeLearn') },
  { name: 'the default platform', flags: Flags.CDK_INIT, build: app => new DefaultPlatformStack(app, 'CodeLearn') },
  { name: 'the development example', flags: Flags.CDK_INIT, build: app => new DevelopmentPlatformStack(app, 'CodeLearnDev') },
  { name: 'the custom services example', flags: Flags.CDK_INIT, build: app => new CustomServicesPlatformStack(app, 'CodeLearnCustom') },
  { name: 'the brought VPC example', flags: Flags.CDK_INIT, build: app => new ByoVpcPlatformStack(app, 'CodeLearnByoVpc') },
  {
    name: 'the Kafka platform with a cache AUTH token',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnKafka'), 'Platform', {
      messaging: { broker: MessageBroker.kafka() },
      cache: { authentication: CacheAuthentication.AUTH_TOKEN },
    }),
  },
  {
    name: 'a platform in eu-west-1',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnEu', { env: EU_WEST_1 }), 'Platform'),
  },
  {
    name: 'Karpenter in eu-west-1 with a spot service',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnKarpenter', { env: EU_WEST_1 }), 'Platform', {
      cluster: { nodeScaling: NodeScaling.karpenter() },
      services: [
        { name: 'api-gateway' },
        { name: 'feed-service', path: '/api/feed/*', spot: true, access: [DataAccess.CACHE] },
      ],
    }),
  },
  {
    name: 'Karpenter in development, strict spot',
    flags: Flags.NONE,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnKarpenterDev'), 'Platform', {
      profile: PlatformProfile.DEVELOPMENT,
      cluster: { nodeScaling: NodeScaling.karpenter({ spotFallback: false }) },
    }),
  },
  {
    name: 'EKS Auto Mode in eu-west-1 with a spot service',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnAutoMode', { env: EU_WEST_1 }), 'Platform', {
      cluster: { nodeScaling: NodeScaling.autoMode() },
      services: [
        { name: 'api-gateway' },
        { name: 'feed-service', path: '/api/feed/*', spot: true, access: [DataAccess.CACHE] },
      ],
    }),
  },
  {
    name: 'EKS Auto Mode in development, strict spot',
    flags: Flags.NONE,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnAutoModeDev'), 'Platform', {
      profile: PlatformProfile.DEVELOPMENT,
      cluster: { nodeScaling: NodeScaling.autoMode({ spotFallback: false }) },
    }),
  },
  { name: 'every option in us-east-1', flags: Flags.CDK_INIT, build: app => maximal(new Stack(app, 'CodeLearnMax', { env: US_EAST_1 })) },
  {
    name: '64 services with every kind of data access',
    flags: Flags.CDK_INIT,
    build: app => new CodeLearnPlatform(new Stack(app, 'CodeLearnScale'), 'Platform', {
      services: [
        { name: 'api-gateway', access: [DataAccess.CACHE] },
        ...Array.from({ length: 63 }, (_, index) => ({
          name: `service-${index + 1}`,
          path: `/api/s${index + 1}/*`,
          access: [DataAccess.DATABASE, DataAccess.CACHE, DataAccess.MESSAGING, DataAccess.UPLOADS],
        })),
      ],
    }),
  },
  {
    name: 'a Microservice with an Edge on a Cluster',
    flags: Flags.CDK_INIT,
    build: app => {
      const stack = new Stack(app, 'Parts', { env: US_EAST_1 });
      const network = new Network(stack, 'Network');
      const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
      const storage = new Storage(stack, 'Storage');
      const gateway = new Microservice(stack, 'Gateway', { cluster, name: 'api-gateway' });
      const users = new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*', canary: { weight: 50 } });
      const deny = new NamespaceDefaultDeny(stack, 'DefaultDeny', { cluster });
      deny.addService(gateway);
      deny.addService(users);
      // A sandbox with egress of its own, under a stronger runtime, called by the gateway.
      const runner = new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', runtimeClassName: 'gvisor' });
      runner.allowCallsFrom(gateway);
      runner.allowEgressTo(['203.0.113.0/24'], ec2.Port.tcp(443));
      new Edge(stack, 'Edge', {
        vpc: network.vpc,
        routes: [gateway.route, users.route],
        workloadSecurityGroup: network.workloadSecurityGroup,
        serverAccessLogsBucket: storage.accessLogsBucket,
        staticAssetsBucket: storage.staticAssetsBucket,
      });
    },
  },
];

/** The platform with every option set. */
function maximal(stack: Stack): void {
  new CodeLearnPlatform(stack, 'Platform', maximalPlatformProps(stack));
}

const cache = new Map<string, Deployment>();

/** The deployment of `configuration`, synthesized once per test file. */
export function deploymentOf(configuration: Configuration): Deployment {
  const key = `${configuration.name} (${configuration.flags})`;
  let deployment = cache.get(key);
  if (!deployment) {
    const app = testApp({ flags: configuration.flags });
    configuration.build(app);
    deployment = Deployment.of(key, app);
    cache.set(key, deployment);
  }
  return deployment;
}
