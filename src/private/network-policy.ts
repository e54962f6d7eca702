import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { parseIpv4Cidr } from './cidr';
import { ConfigurationError } from './errors';
import { KubernetesObject } from './k8s';

/**
 * Kubernetes NetworkPolicies of the platform's namespaces and services, as
 * plain values. The VPC CNI's network policy agent enforces them on each pod's
 * interface: traffic a policy does not allow is dropped, in and out.
 */

/** The EKS Pod Identity agent, on every node's link-local address (docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html). */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 };

/**
 * The CloudWatch agent of the amazon-cloudwatch-observability add-on: its
 * namespace, a label of its Service's selector, and its OTLP over HTTP port. The
 * agent runs on the node's network, and pods reach it through its Service's
 * ClusterIP, which the VPC CNI admits only for a rule whose pod selector matches
 * that Service's selector (the operator's selector labels: managed-by, instance,
 * part-of, component; not `app.kubernetes.io/name`).
 */
export const CLOUDWATCH_AGENT = {
  namespace: 'amazon-cloudwatch',
  labels: { 'app.kubernetes.io/instance': 'amazon-cloudwatch.cloudwatch-agent' },
  port: 4316,
};

/** CoreDNS, as the coredns add-on labels its pods in kube-system. */
const DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53 };

/** Every IPv4 address. */
export const ANYWHERE = '0.0.0.0/0';

/** A port a rule admits: TCP or UDP, one port or a range up to `endPort`. */
export interface PolicyPort {
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
  readonly endPort?: number;
}

/** A peer of a rule: pods (by namespace and labels), or an address range. */
export type PolicyPeer =
  | { readonly podSelector: object; readonly namespaceSelector?: object }
  | { readonly ipBlock: { readonly cidr: string; readonly except?: string[] } };

/** One rule: its peers and its ports (every port when there are none). */
export interface PolicyRule {
  readonly peers: PolicyPeer[];
  readonly ports: PolicyPort[];
}

/** The pods of a service and of its canary, which both policies of a call select. */
export function servicePods(name: string): object {
  return { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [name, `${name}-canary`] }] };
}

/** The pods that `podSelector` selects in the namespace `namespace`. */
export function podsIn(namespace: string, podSelector: object): PolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, podSelector };
}

/** Each of `cidrs` as a peer, with the ranges of `except` cut out. */
export function addresses(cidrs: string[], except?: string[]): PolicyPeer[] {
  return cidrs.map(cidr => ({ ipBlock: except && except.length > 0 ? { cidr, except } : { cidr } }));
}

/** The egress every pod needs to run: names resolved by CoreDNS, credentials from the Pod Identity agent. */
export function baseEgress(): PolicyRule[] {
  return [
    { peers: [podsIn(DNS.namespace, { matchLabels: DNS.labels })], ports: [{ protocol: 'UDP', port: DNS.port }, { protocol: 'TCP', port: DNS.port }] },
    { peers: addresses([POD_IDENTITY_AGENT.cidr]), ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }] },
  ];
}

/** A rule as Kubernetes writes it: peers (`from` for ingress, `to` for egress) and ports. */
export interface KubernetesPolicyRule {
  readonly from?: PolicyPeer[];
  readonly to?: PolicyPeer[];
  readonly ports?: PolicyPort[];
}

/** `rule` as an ingress rule. */
export function ingressRule(rule: PolicyRule): KubernetesPolicyRule {
  return rule.ports.length > 0 ? { from: rule.peers, ports: rule.ports } : { from: rule.peers };
}

/** `rule` as an egress rule. */
export function egressRule(rule: PolicyRule): KubernetesPolicyRule {
  return rule.ports.length > 0 ? { to: rule.peers, ports: rule.ports } : { to: rule.peers };
}

/**
 * The policy of one service: it selects the service's pods and its canary's,
 * and admits exactly the rules of `ingress` and `egress`. The lists may grow
 * until synthesis, which renders them as they are then.
 */
export function servicePolicy(name: string, namespace: string, ingress: KubernetesPolicyRule[], egress: KubernetesPolicyRule[]): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'codelearn', 'app.kubernetes.io/managed-by': 'aws-cdk' },
    },
    spec: { podSelector: servicePods(name), policyTypes: ['Ingress', 'Egress'], ingress, egress },
  };
}

/** `port` as a network policy writes it: TCP or UDP, one port or a range. */
export function policyPort(port: ec2.Port): PolicyPort {
  const rule = port.toRuleJson();
  const protocol = rule.ipProtocol === 'tcp' ? 'TCP' : rule.ipProtocol === 'udp' ? 'UDP' : undefined;
  if (!protocol || typeof rule.fromPort !== 'number' || typeof rule.toPort !== 'number' || rule.fromPort < 1) {
    throw new ConfigurationError(`A network policy rule was given port ${port}: it admits TCP or UDP ports. Use ec2.Port.tcp(n) or ec2.Port.tcpRange(from, to).`);
  }
  return rule.toPort > rule.fromPort ? { protocol, port: rule.fromPort, endPort: rule.toPort } : { protocol, port: rule.fromPort };
}

/**
 * The egress rule of `owner`'s `allowEgressTo(cidrs, port)`: IPv4 CIDR blocks
 * (or tokens that resolve to them), at least one.
 */
export function egressTo(owner: string, cidrs: string[], port: ec2.Port): KubernetesPolicyRule {
  if (cidrs.length === 0) {
    throw new ConfigurationError(`${owner}: \`allowEgressTo\` was given no CIDR block for port ${port}: name the ranges the pods may reach.`);
  }
  for (const cidr of cidrs) {
    if (!Token.isUnresolved(cidr) && !parseIpv4Cidr(cidr)) {
      throw new ConfigurationError(`${owner}: \`allowEgressTo\` was given '${cidr}', which is not an IPv4 CIDR block such as '10.0.224.0/24'.`);
    }
  }
  return egressRule({ peers: addresses(cidrs), ports: [policyPort(port)] });
}
