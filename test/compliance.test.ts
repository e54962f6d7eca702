import { App, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Cache, Cluster, CodeLearnPlatform, Edge, Microservice, Observability, Database, MessageBroker, Messaging, Network, NodeScaling, PlatformProfile, Storage } from '../src';
import { allTemplates, Flags, TEST_ENV, testStack } from './support/app';
import { maximalPlatformProps } from './support/fixtures';
import { kubernetesObjects, validateKubernetesObject } from './support/kubernetes';
import { complianceFindings, unusedAcknowledgements } from './support/nag';

/**
 * Every configuration a user can build must report nothing unacknowledged under
 * AWS Solutions, HIPAA Security, NIST 800-53 rev 5 and PCI DSS 3.2.1.
 */
const configurations: [string, (stack: Stack) => void][] = [
  ['the default platform', stack => new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false })],
  ['the development profile', stack => new CodeLearnPlatform(stack, 'Platform', {
    complianceChecks: false,
    profile: PlatformProfile.DEVELOPMENT,
  })],
  ['a maximal platform', stack => new CodeLearnPlatform(stack, 'Platform', { ...maximalPlatformProps(stack), complianceChecks: false })],
  ['the platform on Karpenter, with a spot service', stack => new CodeLearnPlatform(stack, 'Platform', {
    complianceChecks: false,
    cluster: { nodeScaling: NodeScaling.karpenter() },
    services: [{ name: 'api-gateway' }, { name: 'feed-service', path: '/api/feed/*', spot: true }],
  })],
  ['a Cluster alone on Karpenter, in development', stack => new Cluster(stack, 'Cluster', {
    vpc: new Network(stack, 'Network').vpc,
    profile: PlatformProfile.DEVELOPMENT,
    nodeScaling: NodeScaling.karpenter(),
  })],
  ['the platform on EKS Auto Mode, with a spot service', stack => new CodeLearnPlatform(stack, 'Platform', {
    complianceChecks: false,
    cluster: { nodeScaling: NodeScaling.autoMode() },
    services: [{ name: 'api-gateway' }, { name: 'feed-service', path: '/api/feed/*', spot: true }],
  })],
  ['a Cluster alone on EKS Auto Mode, in development', stack => new Cluster(stack, 'Cluster', {
    vpc: new Network(stack, 'Network').vpc,
    profile: PlatformProfile.DEVELOPMENT,
    nodeScaling: NodeScaling.autoMode(),
  })],
  ['a Network alone', stack => new Network(stack, 'Network')],
  ['a Storage alone', stack => new Storage(stack, 'Storage')],
  ['a Cluster alone', stack => new Cluster(stack, 'Cluster', { vpc: new Network(stack, 'Network').vpc })],
  ['a Database alone', stack => new Database(stack, 'Database', { vpc: new Network(stack, 'Network').vpc })],
  ['a Cache alone', stack => new Cache(stack, 'Cache', { vpc: new Network(stack, 'Network').vpc })],
  ['an Observability alone', stack => new Observability(stack, 'Observability', { alarmEmails: ['oncall@example.com'] })],
  ['a Microservice with an Edge on a Cluster', stack => {
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const storage = new Storage(stack, 'Storage');
    const services = [
      new Microservice(stack, 'Gateway', { cluster, name: 'api-gateway' }),
      new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*', canary: { weight: 50 } }),
    ];
    new Edge(stack, 'Edge', {
      vpc: network.vpc,
      routes: services.map(service => service.route),
      workloadSecurityGroup: network.workloadSecurityGroup,
      serverAccessLogsBucket: storage.accessLogsBucket,
      staticAssetsBucket: storage.staticAssetsBucket,
    });
  }],
  ['a RabbitMQ Messaging alone', stack => new Messaging(stack, 'Messaging', { vpc: new Network(stack, 'Network').vpc })],
  ['a Kafka Messaging alone', stack => new Messaging(stack, 'Messaging', {
    vpc: new Network(stack, 'Network').vpc, broker: MessageBroker.kafka(),
  })],
  ['a single-AZ Database without proxy', stack => new Database(stack, 'Database', {
    vpc: new Network(stack, 'Network').vpc, multiAz: false, proxy: false, readReplicas: 0,
  })],
  ['a Network in a brought VPC whose CIDR is known at deploy time only', stack => new Network(stack, 'Network', {
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Brought', {
      vpcId: Fn.importValue('SharedVpcId'),
      vpcCidrBlock: Fn.importValue('SharedVpcCidr'),
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-1', 'subnet-2'],
    }),
    interfaceEndpoints: Network.eksInterfaceEndpoints(),
  })],
];

describe('compliance', () => {
  test.each(configurations)('%s reports nothing unacknowledged', (_name, build) => {
    const stack = testStack({ env: TEST_ENV });
    build(stack);
    expect(complianceFindings(stack)).toEqual([]);
  });

  test.each(configurations)('%s has no acknowledgement whose finding no longer occurs', (_name, build) => {
    const stack = testStack({ env: TEST_ENV });
    build(stack);
    expect(unusedAcknowledgements(stack)).toEqual([]);
  });

  test.each(configurations)('%s passes the strict CloudFormation schema validation and the Kubernetes schemas', (_name, build) => {
    const stack = testStack({ env: TEST_ENV, strict: true });
    build(stack);
    expect(() => (stack.node.root as App).synth()).not.toThrow();
    for (const object of allTemplates(stack).flatMap(kubernetesObjects)) {
      expect(() => validateKubernetesObject(object)).not.toThrow();
    }
  });

  test('the default platform, with the feature flags `cdk init` writes, reports nothing unacknowledged', () => {
    // cdk init sets @aws-cdk/aws-lambda:useCdkManagedLogGroup, among about 90 flags:
    // the kubectl provider's functions then get log groups of their own.
    const stack = testStack({ env: TEST_ENV, flags: Flags.CDK_INIT });
    new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false });
    expect(complianceFindings(stack)).toEqual([]);
    expect(unusedAcknowledgements(stack)).toEqual([]);
  });

  test.each(configurations)('%s grants no action on every resource', (_name, build) => {
    const stack = testStack({ env: TEST_ENV });
    build(stack);
    const resources = Object.assign({}, ...allTemplates(stack).map(template => template.Resources)) as Record<string, any>;
    const wildcards: string[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      const documents = [resource.Properties?.PolicyDocument, ...(resource.Properties?.Policies ?? []).map((p: any) => p.PolicyDocument)];
      // Documents written as JSON strings (CloudWatch Logs resource policies) hold only explicit actions.
      for (const document of documents.filter(d => d && d.Statement)) {
        for (const statement of [document.Statement].flat()) {
          const actions = [statement.Action].flat();
          const resourcesOf = [statement.Resource].flat();
          if (statement.Effect === 'Allow' && actions.some((a: string) => a === '*' || /^[a-z0-9-]+:\*$/.test(a)) && resourcesOf.includes('*')) {
            wildcards.push(`${id}: ${JSON.stringify(statement.Action)}`);
          }
        }
      }
    }
    // Key policies give the account root kms:* on the key itself, which is how KMS delegates to IAM.
    expect(wildcards.filter(entry => !/Key[0-9A-F]{8}: "kms:\*"$/.test(entry))).toEqual([]);
  });
});
