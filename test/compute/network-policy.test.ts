import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Cluster, CodeLearnPlatform, DataAccess, InternetAccess, Microservice, Network, ServiceDefinition } from '../../src';
import { allTemplates, TEST_ENV, testStack } from '../support/app';
import { kubernetesObjects } from '../support/kubernetes';

/** Every NetworkPolicy the stack and its nested stacks apply, by name. */
function policiesOf(stack: Stack): Map<string, any> {
  return new Map(allTemplates(stack).flatMap(template => kubernetesObjects(template))
    .filter(object => object.kind === 'NetworkPolicy').map(object => [object.metadata.name, object]));
}

/** A peer as one line: `namespace/name` for pods, the block (and `!except`) for addresses. */
function peer(entry: any): string {
  if (entry.ipBlock) return entry.ipBlock.cidr + (entry.ipBlock.except ? ` except ${entry.ipBlock.except.join(',')}` : '');
  const namespace = entry.namespaceSelector.matchLabels['kubernetes.io/metadata.name'];
  const pods = entry.podSelector.matchLabels ? Object.values(entry.podSelector.matchLabels).join() : entry.podSelector.matchExpressions[0].values[0];
  return `${namespace}/${pods}`;
}

/** Each rule of `rules` as `peers: ports`, sorted. */
function summary(rules: any[] = []): string[] {
  return rules.map(rule => `${(rule.from ?? rule.to).map(peer).join(' ')}: ${(rule.ports ?? []).map((p: any) => `${p.protocol} ${p.port}`).join(', ') || 'every port'}`).sort();
}

const DNS = 'kube-system/kube-dns: UDP 53, TCP 53';
const POD_IDENTITY = '169.254.170.23/32: TCP 80';
const TELEMETRY = 'amazon-cloudwatch/amazon-cloudwatch.cloudwatch-agent: TCP 4316';
const HTTPS = '0.0.0.0/0: TCP 443';
/** The data subnets and the private subnets of the test stack's two zones. */
const DATA = '10.0.96.0/24 10.0.97.0/24';
const LOAD_BALANCER = '10.0.32.0/19 10.0.64.0/19: TCP 8080';

describe('network policies', () => {
  describe('the default platform', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform');
    const policies = policiesOf(stack);

    test('the namespace denies everything by default, after every service\'s own policy is in', () => {
      expect(policies.get('default-deny')).toEqual(expect.objectContaining({
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      }));
      const resources = Template.fromStack(stack).toJSON().Resources;
      const [, deny] = Object.entries<any>(resources).find(([id]) => id.startsWith('PlatformServicesDefaultDeny'))!;
      const services = Object.keys(resources).filter(id => /^PlatformServices.*NestedStackResource/.test(id));
      expect(services).toHaveLength(4);
      expect(deny.DependsOn).toEqual(expect.arrayContaining(services));
      expect(Object.keys(platform.services).sort()).toEqual(['api-gateway', 'group-service', 'post-service', 'user-service']);
    });

    test('the VPC CNI enforces them', () => {
      Template.fromStack(stack).hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: '{"enableNetworkPolicy":"true"}' });
    });

    // What each service declared, and nothing else: the table a reviewer reads.
    test.each([
      ['api-gateway', [LOAD_BALANCER], [DNS, POD_IDENTITY, TELEMETRY, `${DATA}: TCP 6379`,
        'codelearn/user-service: TCP 8080', 'codelearn/post-service: TCP 8080', 'codelearn/group-service: TCP 8080']],
      ['user-service', [LOAD_BALANCER, 'codelearn/api-gateway: TCP 8080'], [DNS, POD_IDENTITY, TELEMETRY, HTTPS,
        `${DATA}: TCP 5432`, `${DATA}: TCP 6379`, `${DATA}: TCP 5671`]],
      ['post-service', [LOAD_BALANCER, 'codelearn/api-gateway: TCP 8080'], [DNS, POD_IDENTITY, TELEMETRY, HTTPS,
        `${DATA}: TCP 5432`, `${DATA}: TCP 6379`, `${DATA}: TCP 5671`]],
      ['group-service', [LOAD_BALANCER, 'codelearn/api-gateway: TCP 8080'], [DNS, POD_IDENTITY, TELEMETRY, HTTPS,
        `${DATA}: TCP 5432`, `${DATA}: TCP 6379`, `${DATA}: TCP 5671`]],
    ])('%s lets in and out exactly what it declares', (name, ingress, egress) => {
      const policy = policies.get(name);
      expect(policy.spec.podSelector).toEqual({ matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [name, `${name}-canary`] }] });
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(summary(policy.spec.ingress)).toEqual([...ingress].sort());
      expect(summary(policy.spec.egress)).toEqual([...egress].sort());
    });
  });

  test('a service that declares nothing reaches nothing but its names, its credentials and its telemetry; ALL opens the internet, not the VPC', () => {
    const stack = testStack();
    const services: ServiceDefinition[] = [
      { name: 'api-gateway' },
      { name: 'quiet-service', path: '/api/quiet/*' },
      { name: 'fetch-service', path: '/api/fetch/*', internetAccess: InternetAccess.ALL, access: [DataAccess.CACHE] },
    ];
    new CodeLearnPlatform(stack, 'Platform', { services });
    const policies = policiesOf(stack);
    expect(summary(policies.get('quiet-service').spec.egress)).toEqual([DNS, POD_IDENTITY, TELEMETRY].sort());
    expect(summary(policies.get('quiet-service').spec.ingress)).toEqual([LOAD_BALANCER]);
    expect(summary(policies.get('fetch-service').spec.egress)).toEqual([DNS, POD_IDENTITY, TELEMETRY, HTTPS,
      // The VPC's block, a reference to the VPC (kubernetesObjects flattens references).
      '0.0.0.0/0 except cfn-reference: every port', `${DATA}: TCP 6379`].sort());
  });

  describe('a Microservice of your own', () => {
    const stack = testStack({ env: TEST_ENV });
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const users = new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*' });
    const feed = new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', internetAccess: InternetAccess.NONE, port: 9090 });
    users.allowCallsFrom(feed);
    users.allowEgressTo(['10.0.96.0/24'], ec2.Port.tcpRange(9092, 9098));
    const policies = policiesOf(stack);

    test('admits the VPC\'s block on its port, and reaches AWS APIs over HTTPS unless told', () => {
      const policy = policies.get('user-service');
      // The VPC's block, a reference to the VPC (kubernetesObjects flattens references).
      expect(policy.spec.ingress[0].from).toEqual([{ ipBlock: { cidr: 'cfn-reference' } }]);
      const manifests = Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource');
      const [, manifest] = Object.entries<any>(manifests).find(([id]) => id.startsWith('UsersManifest'))!;
      expect(manifest.Properties.Manifest['Fn::Join'][1]).toContainEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NetworkVpc/), 'CidrBlock'] });
      expect(policy.spec.egress).toEqual(expect.arrayContaining([
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
        { to: [{ ipBlock: { cidr: '10.0.96.0/24' } }], ports: [{ protocol: 'TCP', port: 9092, endPort: 9098 }] },
      ]));
      expect(users.internetAccess).toBe(InternetAccess.HTTPS);
    });

    test('a call opens the caller\'s egress and the callee\'s ingress, on the callee\'s port', () => {
      const selector = (name: string) => ({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'codelearn' } },
        podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [name, `${name}-canary`] }] },
      });
      expect(policies.get('user-service').spec.ingress).toContainEqual({ from: [selector('feed-service')], ports: [{ protocol: 'TCP', port: 8080 }] });
      expect(policies.get('feed-service').spec.egress).toContainEqual({ to: [selector('user-service')], ports: [{ protocol: 'TCP', port: 8080 }] });
      expect(policies.get('feed-service').spec.egress).not.toContainEqual(expect.objectContaining({ ports: [{ protocol: 'TCP', port: 443 }] }));
    });
  });

  describe('wrong inputs fail with what to change', () => {
    test.each<[string, ServiceDefinition[], string]>([
      ['a call to a service that is not there', [{ name: 'api-gateway', calls: ['user-service'] }],
        '`services[0].calls` names \'user-service\', which is not a service or sandbox of the platform: name one of \'api-gateway\', or add \'user-service\' to `services` or `sandboxes`.'],
      ['a service that calls itself', [{ name: 'api-gateway', calls: ['api-gateway'] }],
        '`services[0].calls` names \'api-gateway\', the service itself: remove it (a service does not call itself through a policy).'],
      ['no internet for a service that reaches S3', [{ name: 'api-gateway', access: [DataAccess.UPLOADS], internetAccess: InternetAccess.NONE }],
        '`services[0].internetAccess` is NONE, but its `access` has UPLOADS, which the pods reach through AWS APIs over HTTPS (S3, Secrets Manager, MSK): set it to HTTPS, or leave it out.'],
    ])('%s', (_name, services, message) => {
      expect(() => new CodeLearnPlatform(testStack(), 'Platform', { services })).toThrow(message);
    });

    test('a VPC CNI too old to enforce policies', () => {
      const stack = testStack();
      const network = new Network(stack, 'Network');
      expect(() => new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup, addonVersions: { 'vpc-cni': 'v1.13.4-eksbuild.1' } }))
        .toThrow('`addonVersions[\'vpc-cni\']` (\'v1.13.4-eksbuild.1\') does not enforce network policies, which the services rely on: use v1.14.0-eksbuild.3 or later (such as \'v1.20.4-eksbuild.2\'), or leave it out for the newest version EKS offers.');
    });

    test.each([
      ['v1.14.0-eksbuild.2', false], ['v1.14.0-eksbuild.3', true], ['v1.14.1-eksbuild.1', true], ['v1.20.4-eksbuild.2', true], ['v2.0.0-eksbuild.1', true],
    ])('the VPC CNI %s enforces policies: %s', (version, enforces) => {
      const stack = testStack();
      const network = new Network(stack, 'Network');
      const build = () => new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup, addonVersions: { 'vpc-cni': version } });
      if (enforces) expect(build).not.toThrow();
      else expect(build).toThrow(`\`addonVersions['vpc-cni']\` ('${version}') does not enforce network policies`);
    });

    test('a brought VPC whose subnets have no CIDR blocks', () => {
      const stack = testStack({ env: TEST_ENV });
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Brought', {
        vpcId: 'vpc-1',
        vpcCidrBlock: '10.50.0.0/16',
        availabilityZones: ['us-east-1a', 'us-east-1b'],
        privateSubnetIds: ['subnet-1', 'subnet-2'],
        privateSubnetRouteTableIds: ['rtb-1', 'rtb-2'],
      });
      expect(() => new CodeLearnPlatform(stack, 'Platform', { network: { vpc } })).toThrow(/The subnet subnet-1 of Test\/Platform\/Edge has no CIDR block: the services' network policies address it by its block\. Import it with `ec2\.Subnet\.fromSubnetAttributes/);
    });

    test('a Microservice with no load balancer block, an empty egress and a port that is not TCP or UDP', () => {
      const stack = testStack({ env: TEST_ENV });
      const network = new Network(stack, 'Network');
      const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
      expect(() => new Microservice(stack, 'Empty', { cluster, name: 'empty-service', loadBalancerCidrs: [] }))
        .toThrow('`loadBalancerCidrs` is empty: the network policy would admit no load balancer, and every health check would fail. Give the CIDR blocks of the load balancer\'s subnets, or leave it out for the VPC\'s block.');
      const service = new Microservice(stack, 'Users', { cluster, name: 'user-service' });
      expect(() => service.allowEgressTo([], ec2.Port.tcp(5432))).toThrow('user-service: `allowEgressTo` was given no CIDR block for port 5432: name the ranges the pods may reach.');
      expect(() => service.allowEgressTo(['10.0.0.0/16'], ec2.Port.allIcmp())).toThrow('A network policy rule was given port ALL ICMP: it admits TCP or UDP ports. Use ec2.Port.tcp(n) or ec2.Port.tcpRange(from, to).');
      expect(() => service.allowCallsFrom(service)).toThrow('user-service cannot be its own caller');
    });
  });
});
