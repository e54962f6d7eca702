import { DeployedObject, DeployedResource, Deployment } from '../deployment';
import { DeployRule, list, where } from '../rule';

const ENFORCEMENT = 'https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html';
const AUTO_MODE_ENFORCEMENT = 'https://docs.aws.amazon.com/eks/latest/userguide/auto-net-pol.html';
const POLICIES = 'https://kubernetes.io/docs/concepts/services-networking/network-policies/';

/** The objects of one kind. */
function objectsOf(deployment: Deployment, kind: string): DeployedObject[] {
  return deployment.kubernetesObjects().filter(entry => entry.object.kind === kind);
}

/** The label and taint of the nodes where only sandboxes run. */
export const SANDBOX_NODES = { key: 'codelearn.dev/workload', value: 'sandbox' };

/** Whether the Deployment `workload`'s pods tolerate the sandbox nodes' taint: it runs code nobody reviewed. */
export function isSandbox(workload: any): boolean {
  return list(workload.spec.template.spec.tolerations).some((toleration: any) =>
    toleration.key === SANDBOX_NODES.key || (toleration.key === undefined && toleration.operator === 'Exists'));
}

/** Whether `selector` (a label selector: matchLabels, matchExpressions with In) selects a pod labelled `labels`. */
export function selects(selector: any, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries<string>(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const matchExpressions = list(selector?.matchExpressions).every((expression: any) =>
    expression.operator === 'In' ? expression.values.includes(labels[expression.key])
      : expression.operator === 'Exists' ? expression.key in labels : false);
  return matchLabels && matchExpressions;
}

/** Whether the policy denies its pods everything: it selects every pod and admits nothing either way. */
function deniesAll(policy: any): boolean {
  const types: string[] = policy.spec.policyTypes ?? [];
  return Object.keys(policy.spec.podSelector ?? {}).length === 0 && types.includes('Ingress') && types.includes('Egress') &&
    list(policy.spec.ingress).length === 0 && list(policy.spec.egress).length === 0;
}

/** The policies of `deployment` that select the pods of the Deployment `workload`, besides a namespace's deny-all. */
function policiesOf(deployment: Deployment, workload: any): DeployedObject[] {
  const labels = workload.spec.template.metadata.labels ?? {};
  return objectsOf(deployment, 'NetworkPolicy').filter(({ object }) => object.metadata.namespace === workload.metadata.namespace &&
    !deniesAll(object) && selects(object.spec.podSelector, labels));
}

/** An IPv4 CIDR block as its first address and size, or undefined for text that is not one. */
function block(cidr: string): { start: number; size: number } | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!match) return undefined;
  const address = match.slice(1, 5).reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(match[5]));
  return { start: address - (address % size), size };
}

/** Whether the block `outer` holds all of the block `inner`. */
export function covers(outer: string, inner: string): boolean {
  const [o, i] = [block(outer), block(inner)];
  return o !== undefined && i !== undefined && i.start >= o.start && i.start + i.size <= o.start + o.size;
}

/** Whether `peer` (an ipBlock) admits all of `cidr`: its block holds it, and none of its exceptions cuts into it. */
function admitsBlock(peer: any, cidr: string): boolean {
  const ipBlock = peer.ipBlock;
  if (!ipBlock || !covers(ipBlock.cidr, cidr)) return false;
  return !list<string>(ipBlock.except).some(except => covers(except, cidr) || covers(cidr, except));
}

/** Whether `rule` admits `protocol` and `port` (a rule without ports admits every port). */
function admitsPort(rule: any, protocol: string, port: number): boolean {
  const ports = list(rule.ports);
  return ports.length === 0 || ports.some((entry: any) => (entry.protocol ?? 'TCP') === protocol &&
    Number(entry.port) <= port && port <= Number(entry.endPort ?? entry.port));
}

/**
 * `rule` with each address block it names as CloudFormation would give it: a
 * reference to a VPC or a subnet (flattened as `<ref:Id>`) becomes its block.
 */
function resolved(deployment: Deployment, resource: DeployedResource, rule: any): any {
  const cidr = (text: string) => {
    const id = /^<ref:([A-Za-z0-9]+)>$/.exec(text)?.[1];
    const target = id ? deployment.target(resource.template, { Ref: id }) : undefined;
    return ['AWS::EC2::VPC', 'AWS::EC2::Subnet'].includes(target?.type ?? '') ? target!.properties.CidrBlock : text;
  };
  const peers = (list_: any[] | undefined) => list_?.map(peer => peer.ipBlock
    ? { ipBlock: { ...peer.ipBlock, cidr: cidr(peer.ipBlock.cidr), ...(peer.ipBlock.except ? { except: peer.ipBlock.except.map(cidr) } : {}) } }
    : peer);
  return { ...rule, ...(rule.from ? { from: peers(rule.from) } : {}), ...(rule.to ? { to: peers(rule.to) } : {}) };
}

/** The CIDR blocks of the subnets that `ids` reference, where the deployment creates them. */
function subnetBlocks(deployment: Deployment, resource: DeployedResource, ids: any): string[] {
  return list(ids).map(id => deployment.target(resource.template, id))
    .filter((subnet): subnet is DeployedResource => subnet?.type === 'AWS::EC2::Subnet')
    .map(subnet => subnet.properties.CidrBlock)
    .filter((cidr): cidr is string => typeof cidr === 'string');
}

/**
 * The VPC CNI enforces NetworkPolicies only when its network policy agent is
 * on: EKS turns it on through the add-on's `enableNetworkPolicy`. Without it
 * the platform's policies are objects that nothing enforces, and every pod
 * reaches every data store.
 */
export const networkPoliciesAreEnforced: DeployRule = {
  id: 'network-policies-are-enforced',
  constraint: 'Every EKS cluster the deployment creates has the vpc-cni add-on with `enableNetworkPolicy: "true"` in its configuration values; ' +
    'one on EKS Auto Mode, which has no such add-on, has the ConfigMap kube-system/amazon-vpc-cni with `enable-network-policy-controller: "true"`, ' +
    'kept on delete, and no NodeClass that turns the network policy agent off.',
  source: `${ENFORCEMENT} and ${AUTO_MODE_ENFORCEMENT}`,
  check(deployment: Deployment): string[] {
    const addons = deployment.resources('AWS::EKS::Addon').filter(addon => addon.properties.AddonName === 'vpc-cni');
    return deployment.resources('AWS::EKS::Cluster').flatMap(cluster => {
      if (cluster.properties.ComputeConfig?.Enabled === true) {
        const configMaps = objectsOf(deployment, 'ConfigMap')
          .filter(({ object }) => object.metadata.name === 'amazon-vpc-cni' && object.metadata.namespace === 'kube-system');
        const violations = configMaps.length === 0
          ? [`${where(cluster)}: on EKS Auto Mode without the ConfigMap kube-system/amazon-vpc-cni, so no network policy is enforced`]
          : configMaps.flatMap(({ object, resource }) => [
            ...object.data?.['enable-network-policy-controller'] === 'true' ? [] : [`${where(resource)}: enable-network-policy-controller is not "true"`],
            ...resource.resource.DeletionPolicy === 'Retain' ? [] : [`${where(resource)}: deleted with its manifest, which turns the network policies off`],
          ]);
        const off = objectsOf(deployment, 'NodeClass')
          .filter(({ object }) => object.spec?.networkPolicy !== undefined && !['DefaultAllow', 'DefaultDeny'].includes(object.spec.networkPolicy));
        return [...violations, ...off.map(({ resource }) => `${where(resource)}: a NodeClass whose networkPolicy is neither DefaultAllow nor DefaultDeny`)];
      }
      const addon = addons.find(candidate => deployment.referenced(candidate.template, candidate.properties.ClusterName, 'AWS::EKS::Cluster') === cluster ||
        deployment.target(candidate.template, candidate.properties.ClusterName)?.logicalId === cluster.logicalId);
      if (!addon) return [`${where(cluster)}: no vpc-cni add-on, so no network policy is enforced`];
      const values = typeof addon.properties.ConfigurationValues === 'string' ? JSON.parse(addon.properties.ConfigurationValues) : {};
      return values.enableNetworkPolicy === 'true' ? [] : [`${where(addon)}: enableNetworkPolicy is not "true": the policies are not enforced`];
    });
  },
};

/**
 * A namespace without a deny-all policy leaves any pod that no policy selects
 * open both ways. And on a running cluster, a deny-all applied before a
 * service's own policy cuts the service's pods off until that policy arrives.
 */
export const namespacesDenyByDefault: DeployRule = {
  id: 'namespaces-deny-by-default',
  constraint: 'Every namespace that holds a Deployment has a NetworkPolicy that selects every pod and admits nothing, applied after each of its Deployments\' own policies; every Deployment\'s pods are selected by a policy of their own.',
  source: POLICIES + '#default-deny-all-ingress-and-all-egress-traffic',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const policies = objectsOf(deployment, 'NetworkPolicy');
    for (const { object: workload } of objectsOf(deployment, 'Deployment')) {
      const namespace = workload.metadata.namespace;
      const denies = policies.filter(({ object }) => object.metadata.namespace === namespace && deniesAll(object));
      const own = policiesOf(deployment, workload);
      if (denies.length === 0) violations.push(`${namespace}: holds ${workload.metadata.name}, but no policy denies by default`);
      if (own.length === 0) violations.push(`${namespace}/${workload.metadata.name}: no policy selects its pods: the namespace's default denies them everything`);
      for (const deny of denies) {
        for (const policy of own) {
          // In one manifest, kubectl applies the objects in their order.
          const together = deny.resource.template === policy.resource.template && deny.resource.logicalId === policy.resource.logicalId;
          if (together ? deny.index < policy.index : !deployment.waitsFor(deny.resource, policy.resource)) {
            violations.push(`${where(deny.resource)}: denies ${namespace} by default without waiting for ${where(policy.resource)}, ` +
              `the policy of ${workload.metadata.name}: on a running platform its pods lose their traffic until it arrives`);
          }
        }
      }
    }
    return violations;
  },
};

/** What a pod's environment says it connects to, and the store that tells where. */
const STORES: { variable: string; what: string; port: (env: Record<string, string>) => number; subnets: (deployment: Deployment) => string[] }[] = [
  {
    variable: 'DATABASE_PORT',
    what: 'PostgreSQL',
    port: env => Number(env.DATABASE_PORT) || 5432,
    subnets: deployment => deployment.resources('AWS::RDS::DBSubnetGroup').flatMap(group => subnetBlocks(deployment, group, group.properties.SubnetIds)),
  },
  {
    variable: 'CACHE_PORT',
    what: 'the cache',
    port: env => Number(env.CACHE_PORT) || 6379,
    subnets: deployment => deployment.resources('AWS::ElastiCache::SubnetGroup').flatMap(group => subnetBlocks(deployment, group, group.properties.SubnetIds)),
  },
  {
    variable: 'BROKER_ENGINE',
    what: 'the broker',
    port: env => (env.BROKER_ENGINE === 'kafka' ? 9098 : 5671),
    subnets: deployment => [
      ...deployment.resources('AWS::AmazonMQ::Broker').flatMap(broker => subnetBlocks(deployment, broker, broker.properties.SubnetIds)),
      ...deployment.resources('AWS::MSK::Cluster').flatMap(cluster => subnetBlocks(deployment, cluster, cluster.properties.BrokerNodeGroupInfo?.ClientSubnets)),
    ],
  },
];

/**
 * The selectors of the Services that add-ons make, which pods call by name: the
 * VPC CNI admits a Service's ClusterIP only for a rule whose pod selector matches
 * the Service's selector. The CloudWatch agent's comes from its operator
 * (amazon-cloudwatch-agent-operator, manifestutils.SelectorLabels).
 */
const ADDON_SERVICES: Record<string, Record<string, string>> = {
  'cloudwatch-agent.amazon-cloudwatch': {
    'app.kubernetes.io/managed-by': 'amazon-cloudwatch-agent-operator',
    'app.kubernetes.io/instance': 'amazon-cloudwatch.cloudwatch-agent',
    'app.kubernetes.io/part-of': 'amazon-cloudwatch-agent',
    'app.kubernetes.io/component': 'amazon-cloudwatch-agent',
  },
};

/**
 * The Service port through which the VPC CNI admits a call to `service`'s
 * ClusterIP for a rule on `port`: the first whose target is that port, by number
 * or by the name of a container port of `containers`.
 */
function admittedServicePort(service: any, port: number, containers: any[]): number | undefined {
  const named = (name: string) => containers.flatMap(container => list(container.ports)).find((entry: any) => entry.name === name)?.containerPort;
  return list(service.spec.ports).find((entry: any) =>
    (typeof entry.targetPort === 'number' ? entry.targetPort : named(entry.targetPort ?? '')) === port)?.port;
}

/** The private and link-local ranges, which no AWS public endpoint is in. */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'];

/** What a pod reaches through AWS APIs over HTTPS, by the variable that names it. */
const THROUGH_APIS = ['UPLOADS_BUCKET', 'STATIC_ASSETS_BUCKET', 'BROKER_CREDENTIALS_SECRET_ARN', 'KAFKA_CLUSTER_ARN', 'CACHE_AUTH_TOKEN_SECRET_ARN'];

/**
 * Under a default deny, a pod reaches only what its policies open: its name
 * lookups, its credentials, the stores and agents its environment points it at,
 * and the load balancer reaches it only from the load balancer's subnets.
 */
export const podsReachWhatTheyUse: DeployRule = {
  id: 'pods-reach-what-they-use',
  constraint: 'Every Deployment\'s policies let it out to CoreDNS (UDP and TCP 53; a sandbox\'s excepted), the Pod Identity agent (169.254.170.23:80) when its service account has a Pod Identity association, each data store its environment names (its port, over the blocks of its subnets), ' +
    'the CloudWatch agent its OTLP endpoint names, and HTTPS for what it reaches through AWS APIs; and, behind a TargetGroupBinding, let in its port from every block of the load balancers\' subnets.',
  source: `${POLICIES}; https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html; ` +
    'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-register-targets.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const loadBalancerBlocks = deployment.resources('AWS::ElasticLoadBalancingV2::LoadBalancer')
      .flatMap(balancer => subnetBlocks(deployment, balancer, balancer.properties.Subnets));
    for (const { object: workload } of objectsOf(deployment, 'Deployment')) {
      const own = policiesOf(deployment, workload);
      if (own.length === 0) continue; // namespaces-deny-by-default says so
      const name = `${workload.metadata.namespace}/${workload.metadata.name}`;
      const egress = own.flatMap(({ resource, object }) => list(object.spec.egress).map(rule => resolved(deployment, resource, rule)));
      const ingress = own.flatMap(({ resource, object }) => list(object.spec.ingress).map(rule => resolved(deployment, resource, rule)));
      const container = workload.spec.template.spec.containers[0];
      const env: Record<string, string> = Object.fromEntries(list(container.env)
        .filter((v: any) => v.value !== undefined).map((v: any) => [v.name, v.value]));
      const named = new Set(list(container.env).map((v: any) => v.name as string));
      const toPods = (namespace: string, labels: Record<string, string>, protocol: string, port: number) => egress.some((rule: any) =>
        admitsPort(rule, protocol, port) && list(rule.to).some((peer: any) => peer.podSelector &&
          selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': namespace }) && selects(peer.podSelector, labels)));
      const toBlock = (cidr: string, protocol: string, port: number) => egress.some((rule: any) =>
        admitsPort(rule, protocol, port) && list(rule.to).some((peer: any) => admitsBlock(peer, cidr)));

      // A sandbox resolves no names and holds no credentials (sandboxes-are-apart says so).
      if (!isSandbox(workload)) {
        for (const protocol of ['UDP', 'TCP']) {
          if (!toPods('kube-system', { 'k8s-app': 'kube-dns' }, protocol, 53)) violations.push(`${name}: cannot reach CoreDNS on ${protocol} 53`);
        }
      }
      const pod = workload.spec.template.spec;
      const associated = deployment.resources('AWS::EKS::PodIdentityAssociation').some(association =>
        association.properties.Namespace === workload.metadata.namespace && association.properties.ServiceAccount === (pod.serviceAccountName ?? 'default'));
      if (associated && !toBlock('169.254.170.23/32', 'TCP', 80)) violations.push(`${name}: cannot reach the Pod Identity agent for its credentials`);
      for (const store of STORES.filter(candidate => named.has(candidate.variable))) {
        const port = store.port(env);
        const blocks = store.subnets(deployment);
        if (!egress.some((rule: any) => admitsPort(rule, 'TCP', port) && list(rule.to).some((peer: any) => peer.ipBlock))) {
          violations.push(`${name}: its environment names ${store.what}, but no policy lets it out on TCP ${port}`);
        }
        for (const cidr of blocks.filter(candidate => !toBlock(candidate, 'TCP', port))) {
          violations.push(`${name}: cannot reach ${store.what} on TCP ${port} in ${cidr}`);
        }
      }
      const otlp = /^https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc[.a-z]*)?:(\d+)/.exec(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
      const agent = otlp && ADDON_SERVICES[`${otlp[1]}.${otlp[2]}`];
      if (otlp && !agent) {
        violations.push(`${name}: sends its traces and metrics to ${otlp[1]}.${otlp[2]}, a Service whose selector the rule does not know`);
      } else if (otlp && agent && !toPods(otlp[2], agent, 'TCP', Number(otlp[3]))) {
        violations.push(`${name}: cannot reach ${otlp[1]}.${otlp[2]}:${otlp[3]}, where it sends its traces and metrics: ` +
          'no rule on that port selects the labels of the Service\'s selector, so its ClusterIP is not admitted');
      }
      // A call through a Service the deployment makes is admitted on one port of its ClusterIP.
      for (const rule of egress) {
        for (const peer of list(rule.to).filter((candidate: any) => candidate.podSelector)) {
          for (const { object: service } of objectsOf(deployment, 'Service')) {
            const namespace = service.metadata.namespace;
            const inNamespace = selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': namespace });
            if (!inNamespace || !selects(peer.podSelector, service.spec.selector ?? {})) continue;
            const containers = objectsOf(deployment, 'Deployment').filter(({ object }) => object.metadata.namespace === namespace &&
              selects({ matchLabels: service.spec.selector }, object.spec.template.metadata.labels ?? {}))
              .flatMap(({ object }) => object.spec.template.spec.containers);
            for (const entry of list(rule.ports)) {
              const admitted = admittedServicePort(service, Number(entry.port), containers);
              if (admitted !== Number(entry.port)) {
                violations.push(`${name}: calls ${service.metadata.name}.${namespace} on ${entry.port}, but its ClusterIP is admitted on ` +
                  `${admitted ?? 'no port'}: the Service's first port whose target is ${entry.port} must be ${entry.port} itself`);
              }
            }
          }
        }
      }
      const throughApis = THROUGH_APIS.filter(variable => named.has(variable));
      const https = egress.some((rule: any) => admitsPort(rule, 'TCP', 443) && list(rule.to).some((peer: any) => peer.ipBlock?.cidr === '0.0.0.0/0' &&
        list<string>(peer.ipBlock.except).every(except => PRIVATE.some(range => covers(range, except)))));
      if (throughApis.length > 0 && !https) {
        violations.push(`${name}: ${throughApis.join(', ')} are reached through AWS APIs, but no policy lets it out on HTTPS`);
      }

      const bound = objectsOf(deployment, 'TargetGroupBinding').some(({ object }) =>
        object.metadata.namespace === workload.metadata.namespace && object.spec.serviceRef.name === workload.metadata.name);
      if (bound) {
        const port = Number(container.ports?.[0]?.containerPort);
        const admits = (cidr: string) => ingress.some((rule: any) => admitsPort(rule, 'TCP', port) && list(rule.from).some((peer: any) => admitsBlock(peer, cidr)));
        for (const cidr of loadBalancerBlocks.filter(candidate => !admits(candidate))) {
          violations.push(`${name}: the load balancer's subnet ${cidr} is not let in on TCP ${port}: its health checks would fail`);
        }
        if (!ingress.some((rule: any) => admitsPort(rule, 'TCP', port) && list(rule.from).some((peer: any) => peer.ipBlock))) {
          violations.push(`${name}: behind a target group, but no policy lets any address in on TCP ${port}`);
        }
      }
    }
    return violations;
  },
};
