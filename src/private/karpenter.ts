import { Duration } from 'aws-cdk-lib';
import { ConfigurationError } from './errors';
import { CAPACITY_KEY } from './k8s';

/*
 * Karpenter's Kubernetes objects (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1
 * EC2NodeClass) and EKS Auto Mode's (the same NodePool, eks.amazonaws.com/v1
 * NodeClass), as plain data: what the strategies apply, and what the tests read.
 * Their fields follow the CRDs of Karpenter 1.14.1 (pkg/apis/crds) and the EKS
 * user guide's "Create a Node Class for Amazon EKS" and "Create a Node Pool for
 * EKS Auto Mode".
 */

/** Whose NodePools: self-managed Karpenter's, or EKS Auto Mode's. */
export type NodePoolApi = 'karpenter' | 'auto-mode';

/** The one EC2NodeClass, and the NodePools: cluster-scoped, one Karpenter a cluster. */
export const NODE_CLASS = 'codelearn';
export const ON_DEMAND_POOL = 'codelearn-on-demand';
export const SPOT_POOL = 'codelearn-spot';
export const SPOT_FALLBACK_POOL = 'codelearn-spot-fallback';

/**
 * Auto Mode's pools are named apart from Karpenter's: both are karpenter.sh
 * NodePools, and a change of strategy that deleted one manifest while another
 * created an object of the same name would delete the new pool.
 */
export const AUTO_MODE_PREFIX = 'codelearn-auto-';

/** The capacity label of each pool's nodes: a spot service requires `spot`, or `spot-fallback` when EC2 has no spot. */
export const SPOT_VALUE = 'spot';
export const SPOT_FALLBACK_VALUE = 'spot-fallback';

/** What the EC2NodeClass launches with. */
export interface NodeClassSpec {
  readonly instanceProfile: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly kmsKeyArn: string;
  readonly volumeSizeGib: number;
  readonly detailedMonitoring: boolean;
  /** An EKS AMI release (`1.36.0-20261118`): the alias pins its date; without one, the newest. */
  readonly amiReleaseVersion?: string;
}

/**
 * The EC2NodeClass: Amazon Linux 2023, IMDSv2 with one hop (pods cannot reach
 * the node's credentials), an encrypted gp3 root volume with the platform's key,
 * the cluster's subnets and security groups by ID, and the instance profile the
 * stack creates (so the controller creates none).
 */
export function ec2NodeClass(spec: NodeClassSpec): any {
  const release = spec.amiReleaseVersion ? /-(\d{8})$/.exec(spec.amiReleaseVersion)?.[1] : undefined;
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: NODE_CLASS },
    spec: {
      amiFamily: 'AL2023',
      amiSelectorTerms: [{ alias: release ? `al2023@v${release}` : 'al2023@latest' }],
      instanceProfile: spec.instanceProfile,
      subnetSelectorTerms: spec.subnetIds.map(id => ({ id })),
      securityGroupSelectorTerms: spec.securityGroupIds.map(id => ({ id })),
      associatePublicIPAddress: false,
      detailedMonitoring: spec.detailedMonitoring,
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      blockDeviceMappings: [{
        deviceName: '/dev/xvda',
        rootVolume: true,
        ebs: {
          volumeSize: `${spec.volumeSizeGib}Gi`,
          volumeType: 'gp3',
          encrypted: true,
          kmsKeyID: spec.kmsKeyArn,
          deleteOnTermination: true,
        },
      }],
    },
  };
}

/** A NodePool's capacity, its place among the pools, and its ceiling. */
export interface NodePoolSpec {
  readonly api: NodePoolApi;
  readonly name: string;
  readonly capacityType: 'on-demand' | 'spot';
  /** The node label `codelearn.dev/capacity`. */
  readonly capacityLabel: string;
  /** Tainted `codelearn.dev/capacity=spot:NoSchedule`: only the pods that tolerate spot run there. */
  readonly spotTaint: boolean;
  /** Higher first, among the pools a pod fits. */
  readonly weight: number;
  readonly cpuLimit: number;
  readonly memoryLimitGib: number;
  /** The instance types, when the user chose them; otherwise c, m and r of the 5th generation or later, 2 to 16 vCPUs. */
  readonly instanceTypes?: string[];
  readonly consolidateAfter: string;
  readonly expireAfter: string;
  readonly terminationGracePeriod: string;
}

export function nodePool(spec: NodePoolSpec): any {
  // Auto Mode reads the instance labels under its own prefix.
  const labels = spec.api === 'karpenter' ? 'karpenter.k8s.aws' : 'eks.amazonaws.com';
  const shape = spec.instanceTypes
    ? [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: spec.instanceTypes }]
    : [
      { key: `${labels}/instance-category`, operator: 'In', values: ['c', 'm', 'r'] },
      { key: `${labels}/instance-generation`, operator: 'Gt', values: ['4'] },
      { key: `${labels}/instance-cpu`, operator: 'In', values: ['2', '4', '8', '16'] },
    ];
  const nodeClassRef = spec.api === 'karpenter'
    ? { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS }
    : { group: 'eks.amazonaws.com', kind: 'NodeClass', name: NODE_CLASS };
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: spec.name },
    spec: {
      weight: spec.weight,
      limits: { cpu: String(spec.cpuLimit), memory: `${spec.memoryLimitGib}Gi` },
      disruption: {
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: spec.consolidateAfter,
        // At most one node in ten is replaced at once, whatever the reason.
        budgets: [{ nodes: '10%' }],
      },
      template: {
        metadata: { labels: { [CAPACITY_KEY]: spec.capacityLabel } },
        spec: {
          nodeClassRef,
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [spec.capacityType] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
            // Auto Mode launches Linux only, and refuses the label (EKS user guide, "Create a Node Pool for EKS Auto Mode").
            ...(spec.api === 'karpenter' ? [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] : []),
            ...shape,
          ],
          ...(spec.spotTaint ? { taints: [{ key: CAPACITY_KEY, value: SPOT_VALUE, effect: 'NoSchedule' }] } : {}),
          expireAfter: spec.expireAfter,
          terminationGracePeriod: spec.terminationGracePeriod,
        },
      },
    },
  };
}

/** Memory per vCPU, in GiB, of the families whose shape the library knows. */
const GIB_PER_VCPU: { [category: string]: number } = { c: 2, m: 4, r: 8 };
const T_SIZES: { [size: string]: [number, number] } = {
  'nano': [2, 0.5], 'micro': [2, 1], 'small': [2, 2], 'medium': [2, 4], 'large': [2, 8], 'xlarge': [4, 16], '2xlarge': [8, 32],
};

/**
 * The vCPUs and memory (GiB) of an x86 instance type of the t, c, m or r
 * families (`t3.medium`, `m6i.2xlarge`); undefined for any other.
 */
export function instanceShape(instanceType: string): { vcpus: number; memoryGib: number } | undefined {
  const match = /^([tcmr])\d+[a-z]*\.(\w+)$/.exec(instanceType);
  if (!match) return undefined;
  const [, category, size] = match;
  if (category === 't') {
    const shape = T_SIZES[size];
    return shape ? { vcpus: shape[0], memoryGib: shape[1] } : undefined;
  }
  const vcpus = size === 'large' ? 2 : size === 'xlarge' ? 4 : /^(\d+)xlarge$/.test(size) ? 4 * Number(size.slice(0, -6)) : undefined;
  return vcpus ? { vcpus, memoryGib: vcpus * GIB_PER_VCPU[category] } : undefined;
}

/** The ceiling of a pool: `maxNodes` nodes of `instanceType`'s shape. */
export function poolLimits(api: NodePoolApi, name: string, maxNodes: number, instanceType: string): { cpu: number; memoryGib: number } {
  const shape = instanceShape(instanceType);
  if (!shape) {
    const [who, factory] = api === 'karpenter' ? ['Karpenter', 'karpenter'] : ['EKS Auto Mode', 'autoMode'];
    throw new ConfigurationError(`${who} cannot derive the limits of NodePool ${name} from instance type '${instanceType}' (not a t, c, m or r type it knows): ` +
      `set \`NodeScaling.${factory}({ cpuLimit, memoryLimitGiB })\`.`);
  }
  return { cpu: maxNodes * shape.vcpus, memoryGib: maxNodes * shape.memoryGib };
}

/** What the NodePools' limits derive from: the node groups' maxima and types (the cluster's `NodeLaunchSpec`). */
export interface PoolLaunch {
  readonly maxNodes: number;
  readonly instanceType: { toString(): string };
  readonly spot?: { readonly maxNodes: number; readonly instanceTypes?: Array<{ toString(): string }> };
}

/** How a strategy's NodePools disrupt their nodes, and the limits the user set. */
export interface WorkloadPoolOptions {
  readonly consolidateAfter: string;
  readonly expireAfter: string;
  readonly spotFallback: boolean;
  readonly cpuLimit?: number;
  readonly memoryLimitGib?: number;
}

/**
 * The NodePools of the workloads: on-demand for every pod; with spot, a spot
 * pool and its on-demand fallback, both tainted. Limits come from the node
 * groups' maxima, unless the user set them.
 */
export function workloadNodePools(api: NodePoolApi, launch: PoolLaunch, options: WorkloadPoolOptions): any[] {
  const name = (pool: string) => api === 'karpenter' ? pool : pool.replace(/^codelearn-/, AUTO_MODE_PREFIX);
  const onDemand = poolLimits(api, name(ON_DEMAND_POOL), launch.maxNodes, launch.instanceType.toString());
  // A drain that a disruption budget blocks ends after 10 minutes: a delete of the node class
  // waits for the nodes, within the kubectl provider's 15-minute invocation.
  const common = { api, consolidateAfter: options.consolidateAfter, expireAfter: options.expireAfter, terminationGracePeriod: '10m' };
  const pools: NodePoolSpec[] = [{
    ...common,
    name: name(ON_DEMAND_POOL),
    capacityType: 'on-demand',
    capacityLabel: 'on-demand',
    spotTaint: false,
    weight: 10,
    cpuLimit: options.cpuLimit ?? onDemand.cpu,
    memoryLimitGib: options.memoryLimitGib ?? onDemand.memoryGib,
  }];
  if (launch.spot) {
    const types = launch.spot.instanceTypes?.map(type => type.toString());
    // The spot node group's ceiling: its maxSize of 2-vCPU, 4-GiB nodes (the default types'), or of the first type chosen.
    const spot = poolLimits(api, name(SPOT_POOL), launch.spot.maxNodes, types?.[0] ?? 't3.medium');
    const spotPool = { ...common, spotTaint: true, cpuLimit: spot.cpu, memoryLimitGib: spot.memoryGib, instanceTypes: types };
    pools.push({ ...spotPool, name: name(SPOT_POOL), capacityType: 'spot', capacityLabel: SPOT_VALUE, weight: 100 });
    if (options.spotFallback) {
      pools.push({ ...spotPool, name: name(SPOT_FALLBACK_POOL), capacityType: 'on-demand', capacityLabel: SPOT_FALLBACK_VALUE, weight: 50 });
    }
  }
  return pools.map(nodePool);
}

/** A duration as a NodePool writes it (`30s`, `10m`, `720h`), checked to be whole seconds from `min` to `max`. */
export function nodePoolDuration(name: string, duration: Duration, min: number, max: number): string {
  if (duration.isUnresolved()) {
    throw new ConfigurationError(`\`${name}\` must be known at synth time, not a token.`);
  }
  const seconds = duration.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new ConfigurationError(`\`${name}\` (${duration.toHumanString()}) must be whole seconds from ${Duration.seconds(min).toHumanString()} ` +
      `to ${Duration.seconds(max).toHumanString()}.`);
  }
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** What the Auto Mode NodeClass launches with. */
export interface AutoModeNodeClassSpec {
  /** The name of the nodes' role, which has an access entry with AmazonEKSAutoNodePolicy. */
  readonly roleName: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly kmsKeyArn: string;
  readonly volumeSizeGib: number;
}

/**
 * EKS Auto Mode's NodeClass: the node groups' subnets and security groups (the
 * workloads' among them, which the data stores admit) by ID, no public
 * addresses, the ephemeral storage encrypted with the platform's key, and the
 * network policy agent on (allowing by default, so that only the services'
 * NetworkPolicies restrict). Auto Mode chooses and patches the AMI itself, and
 * requires IMDSv2 with one hop on every node.
 */
export function autoModeNodeClass(spec: AutoModeNodeClassSpec): any {
  return {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'NodeClass',
    metadata: { name: NODE_CLASS },
    spec: {
      role: spec.roleName,
      subnetSelectorTerms: spec.subnetIds.map(id => ({ id })),
      securityGroupSelectorTerms: spec.securityGroupIds.map(id => ({ id })),
      advancedNetworking: { associatePublicIPAddress: false },
      ephemeralStorage: { size: `${spec.volumeSizeGib}Gi`, kmsKeyID: spec.kmsKeyArn },
      networkPolicy: 'DefaultAllow',
      networkPolicyEventLogs: 'Disabled',
    },
  };
}
