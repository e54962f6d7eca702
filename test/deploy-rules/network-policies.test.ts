import { CfnResource, Stack } from 'aws-cdk-lib';
import { Deployment } from './deployment';
import { handWritten, manifest } from './hand-written';
import { covers, namespacesDenyByDefault, networkPoliciesAreEnforced, podsReachWhatTheyUse, selects } from './rules/network-policies';

function deploymentOf(build: (stack: Stack) => void): Deployment {
  return handWritten('Policies', build);
}

const DENY = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: 'apps' },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
};

function workload(env: object[]): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'apps' },
    spec: { template: { metadata: { labels: { 'app.kubernetes.io/name': 'web' } }, spec: { containers: [{ name: 'web', env, ports: [{ containerPort: 8080 }] }] } } },
  };
}

function policy(egress: object[]): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web', namespace: 'apps' },
    spec: { podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['web', 'web-canary'] }] }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress },
  };
}

const DNS = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};
const AGENT_SELECTOR = { 'app.kubernetes.io/instance': 'amazon-cloudwatch.cloudwatch-agent' };
const AGENT = { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] };

describe('the network policy rules find what they describe', () => {
  test('network-policies-are-enforced: a vpc-cni add-on without enableNetworkPolicy', () => {
    const deployment = deploymentOf(stack => {
      const cluster = new CfnResource(stack, 'Cluster', { type: 'AWS::EKS::Cluster', properties: { RoleArn: 'arn', ResourcesVpcConfig: {} } });
      new CfnResource(stack, 'Cni', { type: 'AWS::EKS::Addon', properties: { AddonName: 'vpc-cni', ClusterName: cluster.ref } });
    });
    expect(networkPoliciesAreEnforced.check(deployment)).toEqual(['Policies/Cni: enableNetworkPolicy is not "true": the policies are not enforced']);
  });

  test('network-policies-are-enforced: a cluster without the vpc-cni add-on', () => {
    const deployment = deploymentOf(stack => {
      new CfnResource(stack, 'Cluster', { type: 'AWS::EKS::Cluster', properties: { RoleArn: 'arn', ResourcesVpcConfig: {} } });
    });
    expect(networkPoliciesAreEnforced.check(deployment)).toEqual(['Policies/Cluster: no vpc-cni add-on, so no network policy is enforced']);
  });

  test('namespaces-deny-by-default: no deny-all, and a deny-all applied before the workload\'s own policy', () => {
    const missing = deploymentOf(stack => {
      manifest(stack, 'Web', [policy([DNS, AGENT]), workload([])]);
    });
    expect(namespacesDenyByDefault.check(missing)).toEqual(['apps: holds web, but no policy denies by default']);
    const early = deploymentOf(stack => {
      manifest(stack, 'Deny', [DENY]);
      manifest(stack, 'Web', [policy([DNS, AGENT]), workload([])]);
    });
    expect(namespacesDenyByDefault.check(early)).toEqual([expect.stringMatching(/^Policies\/Deny: denies apps by default without waiting for Policies\/Web/)]);
    const ordered = deploymentOf(stack => {
      const web = manifest(stack, 'Web', [policy([DNS, AGENT]), workload([])]);
      manifest(stack, 'Deny', [DENY]).addResourceDependency(web);
    });
    expect(namespacesDenyByDefault.check(ordered)).toEqual([]);
    // In one manifest, kubectl applies the objects in order.
    const denyFirst = deploymentOf(stack => {
      manifest(stack, 'Web', [DENY, policy([DNS, AGENT]), workload([])]);
    });
    expect(namespacesDenyByDefault.check(denyFirst)).toEqual([expect.stringMatching(/^Policies\/Web: denies apps by default without waiting for Policies\/Web/)]);
    const policyFirst = deploymentOf(stack => {
      manifest(stack, 'Web', [policy([DNS, AGENT]), DENY, workload([])]);
    });
    expect(namespacesDenyByDefault.check(policyFirst)).toEqual([]);
  });

  test('namespaces-deny-by-default: pods that no policy of their own selects', () => {
    const deployment = deploymentOf(stack => {
      const web = manifest(stack, 'Web', [workload([])]);
      manifest(stack, 'Deny', [DENY]).addResourceDependency(web);
    });
    expect(namespacesDenyByDefault.check(deployment)).toEqual(['apps/web: no policy selects its pods: the namespace\'s default denies them everything']);
  });

  test('pods-reach-what-they-use: names, credentials, a database, AWS APIs and the agent the environment points at', () => {
    const env = [
      { name: 'DATABASE_PORT', value: '5432' },
      { name: 'UPLOADS_BUCKET', value: 'uploads' },
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://cloudwatch-agent.amazon-cloudwatch:4316' },
    ];
    const nothing = deploymentOf(stack => {
      manifest(stack, 'Web', [policy([]), workload(env)]);
      // Its service account has a role, which the pods get from the agent.
      new CfnResource(stack, 'Identity', { type: 'AWS::EKS::PodIdentityAssociation', properties: { Namespace: 'apps', ServiceAccount: 'default' } });
    });
    expect(podsReachWhatTheyUse.check(nothing)).toEqual([
      'apps/web: cannot reach CoreDNS on UDP 53',
      'apps/web: cannot reach CoreDNS on TCP 53',
      'apps/web: cannot reach the Pod Identity agent for its credentials',
      'apps/web: its environment names PostgreSQL, but no policy lets it out on TCP 5432',
      'apps/web: cannot reach cloudwatch-agent.amazon-cloudwatch:4316, where it sends its traces and metrics: no rule on that port selects the labels of the Service\'s selector, so its ClusterIP is not admitted',
      'apps/web: UPLOADS_BUCKET are reached through AWS APIs, but no policy lets it out on HTTPS',
    ]);
    const subnet = { cidr: '10.0.96.0/24' };
    const everything = deploymentOf(stack => {
      const a = new CfnResource(stack, 'SubnetA', { type: 'AWS::EC2::Subnet', properties: { CidrBlock: '10.0.96.0/24' } });
      const b = new CfnResource(stack, 'SubnetB', { type: 'AWS::EC2::Subnet', properties: { CidrBlock: '10.0.97.0/24' } });
      new CfnResource(stack, 'Subnets', { type: 'AWS::RDS::DBSubnetGroup', properties: { SubnetIds: [a.ref, b.ref] } });
      manifest(stack, 'Web', [policy([DNS, AGENT,
        { to: [{ ipBlock: subnet }], ports: [{ protocol: 'TCP', port: 5432 }] },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'amazon-cloudwatch' } }, podSelector: { matchLabels: AGENT_SELECTOR } }], ports: [{ protocol: 'TCP', port: 4316 }] }]), workload(env)]);
    });
    // The database's second subnet is not opened.
    expect(podsReachWhatTheyUse.check(everything)).toEqual(['apps/web: cannot reach PostgreSQL on TCP 5432 in 10.0.97.0/24']);
  });

  test('pods-reach-what-they-use: a rule on the agent\'s pod name, not its Service\'s selector, and a call on a port the ClusterIP is not admitted on', () => {
    const env = [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://cloudwatch-agent.amazon-cloudwatch:4316' }];
    const callee = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'users', namespace: 'apps' },
      spec: { selector: { 'app.kubernetes.io/name': 'users' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'direct', port: 8080, targetPort: 'http' }] },
    };
    const users = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'users', namespace: 'apps' },
      spec: { template: { metadata: { labels: { 'app.kubernetes.io/name': 'users' } }, spec: { containers: [{ name: 'users', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
    };
    const agentByName = { 'app.kubernetes.io/name': 'cloudwatch-agent' };
    const deployment = deploymentOf(stack => {
      manifest(stack, 'Web', [policy([DNS, AGENT,
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'amazon-cloudwatch' } }, podSelector: { matchLabels: agentByName } }], ports: [{ protocol: 'TCP', port: 4316 }] },
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'users' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }]), workload(env), callee, users]);
    });
    expect(podsReachWhatTheyUse.check(deployment)).toEqual([
      'apps/web: cannot reach cloudwatch-agent.amazon-cloudwatch:4316, where it sends its traces and metrics: no rule on that port selects the labels of the Service\'s selector, so its ClusterIP is not admitted',
      'apps/web: calls users.apps on 8080, but its ClusterIP is admitted on 80: the Service\'s first port whose target is 8080 must be 8080 itself',
    ]);
  });

  test('selectors and blocks', () => {
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] }, { app: 'b' })).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] }, { app: 'b' })).toBe(false);
    expect(selects({}, { app: 'b' })).toBe(true);
    expect(covers('10.0.0.0/16', '10.0.96.0/24')).toBe(true);
    expect(covers('10.0.96.0/24', '10.0.0.0/16')).toBe(false);
    expect(covers('0.0.0.0/0', '169.254.170.23/32')).toBe(true);
    expect(covers('<ref:Vpc>', '10.0.0.0/16')).toBe(false);
  });
});
