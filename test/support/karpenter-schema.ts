/**
 * The fields of Karpenter 1.14.1's NodePool (karpenter.sh/v1) and EC2NodeClass
 * (karpenter.k8s.aws/v1) that the platform writes, with the types, enums,
 * patterns, bounds and required fields of their CRDs' openAPIV3Schema
 * (pkg/apis/crds in aws/karpenter-provider-aws at v1.14.1), transcribed by hand:
 * no model package publishes them. A field the CRD does not know fails, as the
 * API server's structural pruning would drop it silently. The CRDs' CEL rules
 * that the platform's objects meet are checked in `celRules`.
 */
type Schema =
  | { type: 'string'; enum?: string[]; pattern?: RegExp; maxLength?: number }
  | { type: 'integer'; minimum?: number; maximum?: number }
  | { type: 'boolean' }
  | { type: 'map' }
  | { type: 'array'; items: Schema; maxItems?: number; minItems?: number }
  | { type: 'object'; properties: Record<string, Schema>; required?: string[] };

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DURATION_OR_NEVER = /^(([0-9]+(s|m|h))+|Never)$/;
const str = (extra: Partial<{ enum: string[]; pattern: RegExp; maxLength: number }> = {}): Schema => ({ type: 'string', ...extra });
const int = (minimum?: number, maximum?: number): Schema => ({ type: 'integer', minimum, maximum });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required });
const arr = (items: Schema, maxItems?: number, minItems?: number): Schema => ({ type: 'array', items, maxItems, minItems });
const METADATA = obj({ name: str(), labels: { type: 'map' }, annotations: { type: 'map' } }, ['name']);
const TAINT = obj({
  key: str({ pattern: LABEL_KEY }),
  value: str({ pattern: LABEL_KEY }),
  effect: str({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
}, ['key', 'effect']);

const NODE_POOL = obj({
  apiVersion: str(),
  kind: str(),
  metadata: METADATA,
  spec: obj({
    weight: int(1, 100),
    limits: { type: 'map' },
    disruption: obj({
      consolidationPolicy: str({ enum: ['WhenEmpty', 'WhenEmptyOrUnderutilized', 'Balanced'] }),
      consolidateAfter: str({ pattern: DURATION_OR_NEVER }),
      budgets: arr(obj({
        nodes: str({ pattern: /^((100|[0-9]{1,2})%|[0-9]+)$/ }),
        duration: str({ pattern: /^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$/ }),
        schedule: str(),
        reasons: arr(str({ enum: ['Underutilized', 'Empty', 'Drifted'] }), 50),
      }, ['nodes']), 50),
    }, ['consolidateAfter']),
    template: obj({
      metadata: obj({ labels: { type: 'map' }, annotations: { type: 'map' } }),
      spec: obj({
        nodeClassRef: obj({ group: str({ pattern: /^[^/]*$/ }), kind: str(), name: str() }, ['group', 'kind', 'name']),
        requirements: arr(obj({
          key: str({ pattern: LABEL_KEY, maxLength: 316 }),
          operator: str({ enum: ['Gte', 'Lte', 'In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] }),
          values: arr(str({ pattern: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, maxLength: 63 })),
          minValues: int(1, 50),
        }, ['key', 'operator']), 100),
        taints: arr(TAINT),
        startupTaints: arr(TAINT),
        expireAfter: str({ pattern: DURATION_OR_NEVER }),
        terminationGracePeriod: str({ pattern: /^([0-9]+(s|m|h))+$/ }),
      }, ['nodeClassRef', 'requirements']),
    }, ['spec']),
  }, ['template']),
}, ['spec']);

const EC2_NODE_CLASS = obj({
  apiVersion: str(),
  kind: str(),
  metadata: METADATA,
  spec: obj({
    amiFamily: str({ enum: ['AL2', 'AL2023', 'Bottlerocket', 'Custom', 'Windows2019', 'Windows2022', 'Windows2025'] }),
    amiSelectorTerms: arr(obj({ alias: str({ maxLength: 30 }), id: str({ pattern: /ami-[0-9a-z]+/ }), name: str(), owner: str(), ssmParameter: str(), tags: { type: 'map' } }), 30, 1),
    instanceProfile: str(),
    role: str(),
    subnetSelectorTerms: arr(obj({ id: str({ pattern: /subnet-[0-9a-z]+/ }), tags: { type: 'map' } }), 30),
    securityGroupSelectorTerms: arr(obj({ id: str({ pattern: /sg-[0-9a-z]+/ }), name: str(), tags: { type: 'map' } }), 30),
    associatePublicIPAddress: { type: 'boolean' },
    detailedMonitoring: { type: 'boolean' },
    userData: str(),
    tags: { type: 'map' },
    metadataOptions: obj({
      httpEndpoint: str({ enum: ['enabled', 'disabled'] }),
      httpProtocolIPv6: str({ enum: ['enabled', 'disabled'] }),
      httpPutResponseHopLimit: int(1, 64),
      httpTokens: str({ enum: ['required', 'optional'] }),
    }),
    blockDeviceMappings: arr(obj({
      deviceName: str(),
      rootVolume: { type: 'boolean' },
      ebs: obj({
        deleteOnTermination: { type: 'boolean' },
        encrypted: { type: 'boolean' },
        iops: int(),
        kmsKeyID: str(),
        snapshotID: str(),
        throughput: int(),
        volumeSize: str({ pattern: /^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G)$/ }),
        volumeType: str({ enum: ['standard', 'io1', 'io2', 'gp2', 'sc1', 'st1', 'gp3'] }),
      }),
    }), 50),
  }, ['amiSelectorTerms', 'securityGroupSelectorTerms', 'subnetSelectorTerms']),
}, ['spec']);

/**
 * EKS Auto Mode's NodeClass (eks.amazonaws.com/v1), from the EKS user guide's
 * "Create a Node Class for Amazon EKS" (its NodeClass specification): EKS
 * publishes no CRD file, so these are the fields, enums and patterns it lists.
 */
const AUTO_MODE_NODE_CLASS = obj({
  apiVersion: str(),
  kind: str(),
  metadata: METADATA,
  spec: obj({
    role: str(),
    subnetSelectorTerms: arr(obj({ id: str({ pattern: /subnet-[0-9a-z]+/ }), tags: { type: 'map' } }), 30, 1),
    securityGroupSelectorTerms: arr(obj({ id: str({ pattern: /sg-[0-9a-z]+/ }), name: str(), tags: { type: 'map' } }), 30, 1),
    podSubnetSelectorTerms: arr(obj({ id: str({ pattern: /subnet-[0-9a-z]+/ }), tags: { type: 'map' } }), 30),
    podSecurityGroupSelectorTerms: arr(obj({ id: str({ pattern: /sg-[0-9a-z]+/ }), tags: { type: 'map' } }), 30),
    advancedNetworking: obj({ associatePublicIPAddress: { type: 'boolean' }, httpsProxy: str(), noProxy: arr(str()) }),
    ephemeralStorage: obj({
      size: str({ pattern: /^\d+(Gi|G|Ti|T)$/ }),
      iops: int(3000, 16000),
      throughput: int(125, 1000),
      kmsKeyID: str(),
    }),
    networkPolicy: str({ enum: ['DefaultAllow', 'DefaultDeny'] }),
    networkPolicyEventLogs: str({ enum: ['Enabled', 'Disabled'] }),
    snatPolicy: str({ enum: ['Random', 'Disabled'] }),
    tags: { type: 'map' },
  }, ['role', 'subnetSelectorTerms', 'securityGroupSelectorTerms']),
}, ['spec']);

function check(value: any, schema: Schema, path: string, errors: string[], reference: (value: string) => boolean): void {
  const fail = (why: string): void => {
    errors.push(`${path}: ${why}`);
  };
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return fail(`${JSON.stringify(value)} is not a string`);
      // A value CloudFormation fills in at deploy time (a subnet ID, a key ARN) is not judged here.
      if (reference(value)) return;
      if (schema.enum && !schema.enum.includes(value)) fail(`'${value}' is not one of ${schema.enum.join(', ')}`);
      if (schema.pattern && !schema.pattern.test(value)) fail(`'${value}' does not match ${schema.pattern}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) fail(`'${value}' is longer than ${schema.maxLength}`);
      return;
    case 'integer':
      if (!Number.isInteger(value)) return fail(`${JSON.stringify(value)} is not an integer`);
      if (schema.minimum !== undefined && value < schema.minimum) fail(`${value} < ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) fail(`${value} > ${schema.maximum}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`${JSON.stringify(value)} is not a boolean`);
      return;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some(v => typeof v !== 'string')) {
        fail('is not a map of strings');
      }
      return;
    case 'array':
      if (!Array.isArray(value)) return fail('is not an array');
      if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`has more than ${schema.maxItems} items`);
      if (schema.minItems !== undefined && value.length < schema.minItems) fail(`has fewer than ${schema.minItems} items`);
      value.forEach((item, index) => check(item, schema.items, `${path}[${index}]`, errors, reference));
      return;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('is not an object');
      for (const field of schema.required ?? []) if (!(field in value)) fail(`lacks ${field}`);
      for (const [field, child] of Object.entries(value)) {
        const fieldSchema = schema.properties[field];
        if (!fieldSchema) fail(`has ${field}, which the CRD does not know`);
        else check(child, fieldSchema, `${path}.${field}`, errors, reference);
      }
  }
}

/** The CRDs' CEL rules (x-kubernetes-validations) that bear on what the platform writes. */
function celRules(object: any): string[] {
  const errors: string[] = [];
  const spec = object.spec ?? {};
  if (object.kind === 'NodeClass') {
    for (const term of [...spec.subnetSelectorTerms ?? [], ...spec.securityGroupSelectorTerms ?? []]) {
      if (Object.keys(term).length === 0) errors.push('a selector term must set a field');
      if ('id' in term && Object.keys(term).length > 1) errors.push('a selector term with an id may set nothing else');
    }
  }
  if (object.kind === 'NodePool') {
    const ref = spec.template?.spec?.nodeClassRef ?? {};
    const known = [['karpenter.k8s.aws', 'EC2NodeClass'], ['eks.amazonaws.com', 'NodeClass']];
    if (!known.some(([group, kind]) => ref.group === group && ref.kind === kind)) {
      errors.push(`nodeClassRef ${ref.group}/${ref.kind}: neither Karpenter's EC2NodeClass nor Auto Mode's NodeClass`);
    }
    // Auto Mode reads only its own instance labels; Karpenter only its own.
    const foreign = ref.group === 'eks.amazonaws.com' ? /^karpenter\.k8s\.aws\// : /^eks\.amazonaws\.com\//;
    for (const requirement of spec.template?.spec?.requirements ?? []) {
      if (foreign.test(requirement.key)) errors.push(`requirement ${requirement.key}: not a label the ${ref.group} node class's nodes carry`);
    }
  }
  if (object.kind === 'EC2NodeClass') {
    if (('role' in spec) === ('instanceProfile' in spec)) errors.push('spec: must set exactly one of role and instanceProfile');
    const aliases = (spec.amiSelectorTerms ?? []).filter((term: any) => term.alias);
    if (aliases.length > 0 && spec.amiSelectorTerms.length > 1) errors.push('spec.amiSelectorTerms: an alias term must be the only term');
    for (const term of aliases) {
      if (!/^[a-zA-Z0-9]+@.+$/.test(term.alias)) errors.push(`spec.amiSelectorTerms: alias '${term.alias}' is not family@version`);
      if (!/^(al2023|al2|bottlerocket|windows2019|windows2022|windows2025)@(latest|v\d+(\.\d+)*)$/.test(term.alias)) {
        errors.push(`spec.amiSelectorTerms: alias '${term.alias}' names no family and version Karpenter resolves`);
      }
    }
    if (aliases.length > 0 && spec.amiFamily && spec.amiFamily.toLowerCase() !== aliases[0].alias.split('@')[0]) {
      errors.push('spec.amiFamily: must match the alias\'s family');
    }
    for (const term of [...spec.subnetSelectorTerms ?? [], ...spec.securityGroupSelectorTerms ?? []]) {
      if (Object.keys(term).length === 0) errors.push('a selector term must set a field');
      if ('id' in term && Object.keys(term).length > 1) errors.push('a selector term with an id may set nothing else');
    }
    const roots = (spec.blockDeviceMappings ?? []).filter((mapping: any) => mapping.rootVolume);
    if (roots.length > 1) errors.push('spec.blockDeviceMappings: at most one root volume');
  }
  if (object.kind === 'NodePool') {
    for (const requirement of spec.template?.spec?.requirements ?? []) {
      const values = requirement.values ?? [];
      if (requirement.operator === 'In' && values.length === 0) {
        errors.push(`requirement ${requirement.key}: In needs values`);
      }
      if (['Gt', 'Lt', 'Gte', 'Lte'].includes(requirement.operator) && (values.length !== 1 || !/^\d+$/.test(values[0]))) {
        errors.push(`requirement ${requirement.key}: ${requirement.operator} takes one whole number`);
      }
      if (requirement.key === 'karpenter.sh/nodepool' || requirement.key === 'kubernetes.io/hostname') {
        errors.push(`requirement ${requirement.key}: a restricted label`);
      }
    }
    for (const key of Object.keys(spec.template?.metadata?.labels ?? {})) {
      if (/^(karpenter\.sh|karpenter\.k8s\.aws)\//.test(key) || key === 'kubernetes.io/hostname') errors.push(`label ${key}: restricted`);
    }
  }
  return errors;
}

/**
 * What is wrong with a Karpenter NodePool or EC2NodeClass against the 1.14.1
 * CRDs; an empty list when nothing is. `reference` says which strings
 * CloudFormation fills in at deploy time.
 */
export function karpenterErrors(object: any, reference: (value: string) => boolean): string[] {
  // Auto Mode's NodePool is Karpenter's CRD (karpenter.sh/v1), served by EKS.
  const schema = object.kind === 'NodePool' ? NODE_POOL : object.kind === 'EC2NodeClass' ? EC2_NODE_CLASS
    : object.apiVersion === 'eks.amazonaws.com/v1' && object.kind === 'NodeClass' ? AUTO_MODE_NODE_CLASS : undefined;
  if (!schema) return [`${object.kind} is not a Karpenter kind the library writes`];
  const errors: string[] = [];
  check(object, schema, `${object.kind}/${object.metadata?.name}`, errors, reference);
  return [...errors, ...celRules(object)];
}
