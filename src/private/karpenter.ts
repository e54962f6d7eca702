import { ConfigurationError } from './errors';
import { CAPACITY_KEY } from './k8s';

/*
 * Karpenter's Kubernetes objects (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1
 * EC2NodeClass), as plain data: what the strategy applies, and what the tests read.
 * Their fields follow the CRDs of Karpenter 1.14.1 (pkg/apis/crds).
 */

/** The one EC2NodeClass, and the NodePools: cluster-scoped, one Karpenter a cluster. */
export const NODE_CLASS = 'codelearn';
export const ON_DEMAND_POOL = 'codelearn-on-demand';
export const SPOT_POOL = 'codelearn-spot';
export const SPOT_FALLBACK_POOL = 'codelearn-spot-fallback';

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
  const shape = spec.instanceTypes
    ? [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: spec.instanceTypes }]
    : [
      { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
      { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['4'] },
      { key: 'karpenter.k8s.aws/instance-cpu', operator: 'In', values: ['2', '4', '8', '16'] },
    ];
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
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [spec.capacityType] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
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
export function poolLimits(name: string, maxNodes: number, instanceType: string): { cpu: number; memoryGib: number } {
  const shape = instanceShape(instanceType);
  if (!shape) {
    throw new ConfigurationError(`Karpenter cannot derive the limits of NodePool ${name} from instance type '${instanceType}' (not a t, c, m or r type it knows): ` +
      'set `NodeScaling.karpenter({ cpuLimit, memoryLimitGiB })`.');
  }
  return { cpu: maxNodes * shape.vcpus, memoryGib: maxNodes * shape.memoryGib };
}
