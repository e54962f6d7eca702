import { roleDocuments } from './identity';
import { DeployedObject, DeployedResource, Deployment, flatten } from '../deployment';
import { DeployRule, list, where } from '../rule';

const KARPENTER = 'https://karpenter.sh/v1.14/';
const ACCESS_ENTRIES = 'https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html';
const ECR_PUBLIC_AUTH = 'https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html';

/** The node label and taint key of capacity, as the platform writes it. */
const CAPACITY = 'codelearn.dev/capacity';

export const same = (a?: DeployedResource, b?: DeployedResource) =>
  a !== undefined && b !== undefined && a.template === b.template && a.logicalId === b.logicalId;

export function objectsOf(deployment: Deployment, kind: string): DeployedObject[] {
  return deployment.kubernetesObjects().filter(entry => entry.object.kind === kind);
}

/** The Karpenter controller's chart, and the CRDs' chart, by their OCI repository. */
export function karpenterCharts(deployment: Deployment) {
  const charts = deployment.helmCharts();
  return {
    controllers: charts.filter(chart => /\/karpenter\/karpenter$/.test(String(chart.resource.properties.Repository ?? ''))),
    crds: charts.filter(chart => /\/karpenter\/karpenter-crd$/.test(String(chart.resource.properties.Repository ?? ''))),
  };
}

/** The resource that `<ref:Id>` in flattened text names, in `template`. */
export function referenceIn(deployment: Deployment, resource: DeployedResource, text: unknown): DeployedResource | undefined {
  const id = /^<ref:([A-Za-z0-9]+)>$/.exec(String(text))?.[1];
  return id ? deployment.target(resource.template, { Ref: id }) : undefined;
}

export function statementsOf(documents: any[]): any[] {
  return documents.flatMap(document => list(document?.Statement)).filter(statement => statement.Effect === 'Allow');
}

function allows(statements: any[], action: string, resource?: (value: any) => boolean): boolean {
  return statements.some(statement => list(statement.Action).some((granted: string) => granted === action || granted === `${action.split(':')[0]}:*`) &&
    (resource === undefined || list(statement.Resource).some(resource)));
}

/**
 * What stops nodes encrypting their volumes with the key `kmsKeyID` names: the
 * key must be the stack's, and let the account's principals create grants,
 * generate data keys and decrypt through EC2 (kms:ViaService), as AWS's own EBS
 * key does; `what` names the key in a violation, `nodes` whose launch fails.
 */
export function keyUsableThroughEc2(deployment: Deployment, resource: DeployedResource, kmsKeyID: unknown, what: string, nodes: string): string[] {
  const key = referenceIn(deployment, resource, kmsKeyID);
  if (key?.type !== 'AWS::KMS::Key') return [`${what} is not a key of the stack`];
  const throughEc2 = statementsOf([key.properties.KeyPolicy]).filter(statement =>
    JSON.stringify(statement.Condition ?? {}).includes('kms:ViaService') && JSON.stringify(statement.Condition).includes('ec2.'));
  return ['kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt'].filter(action => !throughEc2.some(statement =>
    list(statement.Action).some((allowed: string) => allowed === action || (allowed.endsWith('*') && action.startsWith(allowed.slice(0, -1))))))
    .map(action => `${where(key)}: does not let the account use ${action} through EC2, so ${nodes} fail to launch`);
}

/**
 * Nodes that Karpenter launches join the cluster only if their role has an EKS
 * access entry of type EC2_LINUX: EKS makes one only for a managed node group's
 * role, and refuses a second entry for the same principal (ResourceInUseException).
 * The node class must exist after the entry, or the first nodes never register.
 */
export const karpenterNodesCanJoin: DeployRule = {
  id: 'karpenter-nodes-can-join',
  constraint: 'An EC2NodeClass names an instance profile of this stack whose role EC2 may assume, has an EC2_LINUX access entry of its own ' +
    '(a role no managed node group uses), the worker-node policies, and whose node class manifest waits for the entry.',
  source: `${ACCESS_ENTRIES}; ${KARPENTER}concepts/nodeclasses/#specinstanceprofile`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const entries = deployment.resources('AWS::EKS::AccessEntry');
    const nodegroupRoles = deployment.resources('AWS::EKS::Nodegroup').map(group => deployment.target(group.template, group.properties.NodeRole));
    for (const { resource, object } of objectsOf(deployment, 'EC2NodeClass')) {
      const name = `EC2NodeClass ${object.metadata.name}`;
      const profile = referenceIn(deployment, resource, object.spec.instanceProfile);
      if (profile?.type !== 'AWS::IAM::InstanceProfile') {
        violations.push(`${name}: its instanceProfile is not an instance profile of the stack, so the access entry cannot be checked`);
        continue;
      }
      const role = deployment.target(profile.template, list(profile.properties.Roles)[0]);
      if (!role) {
        violations.push(`${name}: its instance profile has no role`);
        continue;
      }
      const trusted = statementsOf([role.properties.AssumeRolePolicyDocument]).some(statement =>
        list(statement.Principal?.Service).some((service: any) => flatten(service).startsWith('ec2.')));
      if (!trusted) violations.push(`${name}: ${where(role)} cannot be assumed by EC2`);
      const managed = list(role.properties.ManagedPolicyArns).map(flatten).join(' ');
      if (!managed.includes('AmazonEKSWorkerNodePolicy')) violations.push(`${name}: ${where(role)} lacks AmazonEKSWorkerNodePolicy`);
      if (!/AmazonEC2ContainerRegistry(PullOnly|ReadOnly)/.test(managed)) violations.push(`${name}: ${where(role)} cannot pull images from ECR`);
      const entry = entries.find(candidate => same(deployment.target(candidate.template, candidate.properties.PrincipalArn), role));
      if (!entry) {
        violations.push(`${name}: ${where(role)} has no access entry, so its nodes never join`);
      } else {
        if (entry.properties.Type !== 'EC2_LINUX') violations.push(`${where(entry)}: type ${entry.properties.Type}, not EC2_LINUX`);
        if (!deployment.waitsFor(resource, entry)) violations.push(`${name}: is applied before ${where(entry)}, so the first nodes may not join`);
      }
      if (nodegroupRoles.some(candidate => same(candidate, role)) && entry) {
        violations.push(`${where(entry)}: ${where(role)} is a managed node group's role, whose entry EKS makes itself: the second fails`);
      }
    }
    return violations;
  },
};

/**
 * Karpenter's controller finds its cluster, its queue and the region from its
 * settings (IMDSv2 with one hop keeps it from the instance metadata); EventBridge
 * delivers to an SQS queue only what the queue's policy lets events.amazonaws.com
 * send; and the controller launches, tags and ends instances, and passes the
 * node role, only with the permissions of its Pod Identity role.
 */
export const karpenterControllerCanWork: DeployRule = {
  id: 'karpenter-controller-can-work',
  constraint: 'The Karpenter chart names the cluster, its endpoint, an interruption queue that EventBridge fills with the spot interruption, rebalance, ' +
    'instance state-change and AWS Health events (the queue policy admitting events.amazonaws.com), and AWS_REGION; its service account\'s Pod Identity role may ' +
    'create fleets, run and end instances, pass the node class\'s role and read the queue; it follows its CRDs\' chart.',
  source: `${KARPENTER}getting-started/getting-started-with-karpenter/; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const { controllers, crds } = karpenterCharts(deployment);
    const clusters = deployment.resources('AWS::EKS::Cluster');
    for (const { resource, values } of controllers) {
      const name = where(resource);
      const settings = values.settings ?? {};
      if (!clusters.some(cluster => cluster.properties.Name === settings.clusterName)) {
        violations.push(`${name}: settings.clusterName '${settings.clusterName}' is no cluster of the stack`);
      }
      if (!settings.clusterEndpoint) violations.push(`${name}: no settings.clusterEndpoint (it would call eks:DescribeCluster to find it)`);
      if (!list(values.controller?.env).some((env: any) => env.name === 'AWS_REGION' && env.value)) {
        violations.push(`${name}: no AWS_REGION: with IMDSv2 at one hop the controller cannot find its region`);
      }
      const queue = referenceIn(deployment, resource, settings.interruptionQueue);
      if (queue?.type !== 'AWS::SQS::Queue') {
        violations.push(`${name}: settings.interruptionQueue is not a queue of the stack`);
      } else {
        const targeting = deployment.resources('AWS::Events::Rule').filter(rule =>
          list(rule.properties.Targets).some((target: any) => same(deployment.target(rule.template, target.Arn), queue)));
        const detailTypes = targeting.flatMap(rule => list(rule.properties.EventPattern?.['detail-type']));
        for (const type of ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation', 'EC2 Instance State-change Notification', 'AWS Health Event']) {
          if (!detailTypes.includes(type)) violations.push(`${name}: no EventBridge rule sends '${type}' to ${where(queue)}`);
        }
        const admitted = deployment.resources('AWS::SQS::QueuePolicy')
          .filter(policy => list(policy.properties.Queues).some(value => same(deployment.target(policy.template, value), queue)))
          .flatMap(policy => statementsOf([policy.properties.PolicyDocument]))
          .some(statement => list(statement.Principal?.Service).includes('events.amazonaws.com') && list(statement.Action).includes('sqs:SendMessage'));
        if (!admitted) violations.push(`${where(queue)}: its policy does not let EventBridge send to it`);
      }
      const association = deployment.resources('AWS::EKS::PodIdentityAssociation').find(candidate =>
        candidate.properties.ServiceAccount === values.serviceAccount?.name && candidate.properties.Namespace === resource.properties.Namespace);
      const role = association && deployment.target(association.template, association.properties.RoleArn);
      if (!role) {
        violations.push(`${name}: its service account has no Pod Identity role`);
      } else {
        const statements = statementsOf(roleDocuments(deployment, role));
        for (const action of ['ec2:CreateFleet', 'ec2:RunInstances', 'ec2:CreateLaunchTemplate', 'ec2:CreateTags', 'ec2:TerminateInstances',
          'ec2:DescribeInstanceTypes', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ssm:GetParameter', 'pricing:GetProducts', 'iam:GetInstanceProfile']) {
          if (!allows(statements, action)) violations.push(`${name}: its role may not ${action}`);
        }
        if (queue && !allows(statements, 'sqs:ReceiveMessage', value => same(deployment.target(role.template, value), queue))) {
          violations.push(`${name}: its role may not read ${where(queue)}`);
        }
        for (const { resource: nodeClassResource, object } of objectsOf(deployment, 'EC2NodeClass')) {
          const profile = referenceIn(deployment, nodeClassResource, object.spec.instanceProfile);
          const nodeRole = profile && deployment.target(profile.template, list(profile.properties.Roles)[0]);
          if (nodeRole && !allows(statements, 'iam:PassRole', value => same(deployment.target(role.template, value), nodeRole))) {
            violations.push(`${name}: its role may not pass ${where(nodeRole)}, the role of EC2NodeClass ${object.metadata.name}`);
          }
        }
      }
      if (!crds.some(crd => deployment.waitsFor(resource, crd.resource))) {
        violations.push(`${name}: does not follow the karpenter-crd chart, so its CRDs are never upgraded`);
      }
    }
    return violations;
  },
};

/**
 * aws-eks-v2's kubectl handler pulls an `oci://public.ecr.aws` chart after
 * `aws ecr-public get-login-password`, which needs
 * `ecr-public:GetAuthorizationToken` and `sts:GetServiceBearerToken`; without
 * them the chart's install fails.
 */
export const publicEcrChartsCanBePulled: DeployRule = {
  id: 'public-ecr-charts-can-be-pulled',
  constraint: 'A Helm chart from oci://public.ecr.aws is installed by a kubectl handler whose role may call ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken.',
  source: ECR_PUBLIC_AUTH,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { resource } of deployment.helmCharts()) {
      if (!String(resource.properties.Repository ?? '').startsWith('oci://public.ecr.aws/')) continue;
      const framework = deployment.target(resource.template, resource.properties.ServiceToken);
      const handlerArn = framework?.properties.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN;
      const handler = framework && deployment.target(framework.template, handlerArn);
      const role = handler && deployment.target(handler.template, handler.properties.Role);
      if (!role) {
        violations.push(`${where(resource)}: its kubectl handler's role cannot be found`);
        continue;
      }
      const statements = statementsOf(roleDocuments(deployment, role));
      const managed = list(role.properties.ManagedPolicyArns).map(flatten).join(' ');
      const publicReadOnly = managed.includes('AmazonElasticContainerRegistryPublicReadOnly');
      for (const action of ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken']) {
        if (!publicReadOnly && !allows(statements, action)) violations.push(`${where(resource)}: ${where(role)} may not ${action}, so the pull fails`);
      }
    }
    return violations;
  },
};

/**
 * Two autoscalers over one set of pods fight: the Cluster Autoscaler would
 * resize node groups for pods Karpenter is launching nodes for, and a spot node
 * group beside Karpenter's spot pool would take spot pods Karpenter means to place.
 */
export const oneNodeAutoscaler: DeployRule = {
  id: 'one-node-autoscaler',
  constraint: 'A cluster with Karpenter has no Cluster Autoscaler chart and no spot managed node group.',
  source: `${KARPENTER}faq/#can-i-use-karpenter-alongside-another-node-management-solution`,
  check(deployment: Deployment): string[] {
    if (karpenterCharts(deployment).controllers.length === 0) return [];
    return [
      ...deployment.helmCharts().filter(chart => chart.resource.properties.Chart === 'cluster-autoscaler')
        .map(chart => `${where(chart.resource)}: the Cluster Autoscaler beside Karpenter`),
      ...deployment.resources('AWS::EKS::Nodegroup').filter(group => group.properties.CapacityType === 'SPOT')
        .map(group => `${where(group)}: a spot node group beside Karpenter's spot pool`),
    ];
  },
};

/**
 * A toleration lets a pod onto spot nodes; it does not keep it there. Where
 * NodePools taint spot capacity, a spot service's pods must require it (a
 * required node affinity on the capacity label), and every value they accept
 * must be a pool tainted as spot, at least one of them spot capacity.
 */
export const spotPodsRunOnSpotPools: DeployRule = {
  id: 'spot-pods-run-on-spot-pools',
  constraint: 'Where a NodePool taints its nodes codelearn.dev/capacity=spot, every Deployment that tolerates that taint requires a node whose ' +
    'codelearn.dev/capacity is the label of such a pool, one of them of capacity type spot; and no two pools share a label.',
  source: `https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity; ${KARPENTER}concepts/scheduling/`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const pools = objectsOf(deployment, 'NodePool').map(({ object }) => ({
      name: object.metadata.name,
      label: object.spec.template.metadata?.labels?.[CAPACITY],
      tainted: list(object.spec.template.spec.taints).some((taint: any) => taint.key === CAPACITY && taint.value === 'spot'),
      spot: list(object.spec.template.spec.requirements).some((requirement: any) =>
        requirement.key === 'karpenter.sh/capacity-type' && requirement.operator === 'In' && list(requirement.values).includes('spot')),
    }));
    if (!pools.some(pool => pool.tainted)) return [];
    const labels = pools.map(pool => pool.label).filter(Boolean);
    if (new Set(labels).size !== labels.length) violations.push(`NodePools share a ${CAPACITY} label: ${labels.join(', ')}`);
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      const pod = object.spec.template.spec;
      if (!list(pod.tolerations).some((toleration: any) => toleration.key === CAPACITY)) continue;
      const name = `${object.metadata.namespace}/${object.metadata.name}`;
      const terms = list(pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
      const accepted = terms.map((term: any) => list(term.matchExpressions).find((expression: any) => expression.key === CAPACITY && expression.operator === 'In'));
      if (terms.length === 0 || accepted.some(expression => !expression)) {
        violations.push(`${name}: tolerates spot but does not require a spot pool's nodes, so it may run on any`);
        continue;
      }
      const values: string[] = accepted.flatMap((expression: any) => list(expression.values));
      for (const value of values) {
        if (!pools.some(pool => pool.label === value && pool.tainted)) violations.push(`${name}: accepts ${CAPACITY}=${value}, which no spot-tainted NodePool labels`);
      }
      if (!values.some(value => pools.some(pool => pool.label === value && pool.spot))) {
        violations.push(`${name}: accepts no NodePool of spot capacity`);
      }
    }
    return violations;
  },
};

/**
 * On delete, the namespaces go first (their pods stop), then the NodePools
 * (Karpenter drains and ends their nodes, which needs its controller), then the
 * node class (whose finalizer waits for those nodes), then the controller, then
 * its CRDs. CloudFormation deletes in the reverse order of creation.
 */
export const karpenterDeletesInOrder: DeployRule = {
  id: 'karpenter-deletes-in-order',
  constraint: 'Every workload namespace waits for the NodePools, the NodePools for the EC2NodeClass, the EC2NodeClass for the Karpenter controller, ' +
    'the controller for its CRDs\' chart and for CoreDNS (it resolves AWS\'s endpoints through it), and every NodePool ends a drain within the ' +
    'kubectl provider\'s 15 minutes, so that deletion runs the other way and finishes.',
  source: `${KARPENTER}concepts/disruption/#termination-controller; https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html`,
  check(deployment: Deployment): string[] {
    const { controllers, crds } = karpenterCharts(deployment);
    if (controllers.length === 0) return [];
    const violations: string[] = [];
    const pools = [...new Set(objectsOf(deployment, 'NodePool').map(entry => entry.resource))];
    const classes = [...new Set(objectsOf(deployment, 'EC2NodeClass').map(entry => entry.resource))];
    const namespaces = objectsOf(deployment, 'Namespace').map(entry => entry.resource);
    for (const pool of pools) {
      for (const namespace of namespaces.filter(candidate => !deployment.waitsFor(candidate, pool))) {
        violations.push(`${where(namespace)}: does not wait for ${where(pool)}, so on delete the nodes may go before the pods stop`);
      }
      if (!classes.some(nodeClass => deployment.waitsFor(pool, nodeClass))) violations.push(`${where(pool)}: does not wait for its EC2NodeClass`);
    }
    for (const nodeClass of classes) {
      if (!controllers.some(chart => deployment.waitsFor(nodeClass, chart.resource))) violations.push(`${where(nodeClass)}: does not wait for the Karpenter controller`);
    }
    const coreDns = deployment.resources('AWS::EKS::Addon').filter(addon => addon.properties.AddonName === 'coredns');
    for (const chart of controllers) {
      if (!crds.some(crd => deployment.waitsFor(chart.resource, crd.resource))) violations.push(`${where(chart.resource)}: does not wait for its CRDs' chart`);
      if (!coreDns.some(addon => deployment.waitsFor(chart.resource, addon))) {
        violations.push(`${where(chart.resource)}: does not wait for CoreDNS, which a delete removes first: the controller then resolves no AWS endpoint and ends no node`);
      }
    }
    for (const { object } of objectsOf(deployment, 'NodePool')) {
      const grace = /^(\d+)(s|m|h)$/.exec(object.spec.template.spec.terminationGracePeriod ?? '');
      const seconds = grace ? Number(grace[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[grace[2]] : Number.POSITIVE_INFINITY;
      if (seconds > 12 * 60) {
        violations.push(`NodePool ${object.metadata.name}: a drain may last ${object.spec.template.spec.terminationGracePeriod ?? 'forever'}, past the provider's 15 minutes`);
      }
    }
    return violations;
  },
};

/**
 * EC2 launches a node whose root volume is encrypted with a customer managed key
 * only if the key lets the launching principal (Karpenter's role, through EC2
 * Fleet) and EC2 use it; Karpenter's troubleshooting guide gives the key policy
 * AWS's own EBS key has: the account's principals, through EC2 only.
 */
export const karpenterVolumesUseAUsableKey: DeployRule = {
  id: 'karpenter-volumes-use-a-usable-key',
  constraint: 'The key of an EC2NodeClass\'s volumes lets the account\'s principals encrypt, decrypt, generate data keys and create grants through EC2 (kms:ViaService).',
  source: `${KARPENTER}troubleshooting/#node-terminates-before-ready-on-failed-encrypted-ebs-volume; https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { resource, object } of objectsOf(deployment, 'EC2NodeClass')) {
      for (const mapping of list(object.spec.blockDeviceMappings)) {
        if (!mapping.ebs?.kmsKeyID) continue;
        violations.push(...keyUsableThroughEc2(deployment, resource, mapping.ebs.kmsKeyID,
          `EC2NodeClass ${object.metadata.name}: ${mapping.deviceName}'s key`, 'Karpenter\'s nodes'));
      }
    }
    return violations;
  },
};
