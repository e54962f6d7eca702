import { DeployedObject, DeployedResource, Deployment, isLiteral, references } from '../deployment';
import { where } from '../rule';
import { SequenceRule, Step, stepsOf } from '../sequence';
import { NAME_PROPERTIES } from './stacks';

/**
 * The kinds `kubectl apply --prune` deletes when no `--prune-allowlist` is given
 * (kubectl's default list): an object of any other kind that leaves a manifest
 * stays in the cluster, owned by nothing.
 */
const PRUNED_KINDS = new Set([
  'ConfigMap', 'Endpoints', 'Namespace', 'PersistentVolumeClaim', 'PersistentVolume', 'Pod', 'ReplicationController', 'Secret', 'Service',
  'Job', 'CronJob', 'Ingress', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet',
]);

/** How kubectl tells objects apart. */
function objectKey(object: any): string {
  const group = String(object.apiVersion ?? '').includes('/') ? String(object.apiVersion).split('/')[0] : '';
  return `${object.kind}.${group}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
}

/** The objects a manifest applies. */
function objectsOfManifest(deployment: Deployment, manifest: DeployedResource): DeployedObject[] {
  return deployment.kubernetesObjects()
    .filter(entry => entry.resource.logicalId === manifest.logicalId && entry.resource.template === manifest.template);
}

/**
 * What is in the cluster after each deployment of a sequence, as far as the
 * manifests tell: each deployment's objects, and what updates left behind (an
 * object that leaves a manifest kubectl updates, of a kind its prune skips).
 */
export interface ClusterObject {
  readonly object: any;
  /** The deployment whose manifest applied it. */
  readonly deployment: Deployment;
  /** The manifest that applied it. */
  readonly resource: DeployedResource;
  /** Whether an update left it behind: no manifest owns it any more. */
  readonly orphaned: boolean;
}

/** The objects in the cluster after each deployment of `deployments`. */
export function clusterStates(deployments: Deployment[]): ClusterObject[][] {
  const states: ClusterObject[][] = [];
  deployments.forEach((deployment, index) => {
    const owned = deployment.kubernetesObjects().map(({ resource, object }) => ({ object, deployment, resource, orphaned: false }));
    const keys = new Set(owned.map(entry => objectKey(entry.object)));
    const left = index === 0 ? [] : [
      ...states[index - 1].filter(entry => entry.orphaned),
      ...prunedAway(new Step(deployments[index - 1], deployment)),
    ].filter(entry => !keys.has(objectKey(entry.object)));
    states.push([...owned, ...left]);
  });
  return states;
}

/** The objects that leave a manifest `step` updates, which kubectl's prune keeps. */
function prunedAway(step: Step): ClusterObject[] {
  const left: ClusterObject[] = [];
  for (const manifest of step.before.resources('Custom::AWSCDK-EKS-KubernetesResource')) {
    const after = step.same(manifest);
    if (!after || step.replaces(manifest)) continue;
    const stays = new Set(objectsOfManifest(step.after, after).map(entry => objectKey(entry.object)));
    for (const { object } of objectsOfManifest(step.before, manifest)) {
      if (!stays.has(objectKey(object)) && !PRUNED_KINDS.has(object.kind)) {
        left.push({ object, deployment: step.before, resource: manifest, orphaned: true });
      }
    }
  }
  return left;
}

/**
 * An aws-eks-v2 manifest update runs `kubectl apply --prune -l <the manifest's
 * label>` without an allowlist: objects of kinds outside kubectl's default list
 * (custom resources such as TargetGroupBinding, and HorizontalPodAutoscaler,
 * PodDisruptionBudget, ServiceAccount) that leave the manifest stay in the
 * cluster. Only a manifest's deletion (`kubectl delete -f`) removes them.
 */
export const updatesLeaveNothingBehind: SequenceRule = {
  id: 'updates-leave-nothing-behind',
  constraint: 'No object leaves a manifest that stays: kubectl\'s prune would keep it, unless its kind is on kubectl\'s default prune list; what goes, goes with its manifest.',
  source: 'https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/#alternative-kubectl-apply-f-directory-prune; ' +
    'aws-cdk-lib custom-resource-handlers aws-eks-v2/kubectl-handler/apply (update: kubectl apply --prune -l)',
  check(deployments: Deployment[]): string[] {
    return stepsOf(deployments).flatMap(step => prunedAway(step).map(({ object, resource }) =>
      `${step.name}: ${where(resource)}: ${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name} leaves the manifest, ` +
      'and kubectl\'s prune keeps that kind: it stays in the cluster'));
  },
};

/** The target group a TargetGroupBinding names. */
function boundGroup(deployment: Deployment, entry: { object: any; resource: DeployedResource }): DeployedResource | undefined {
  const id = /^<ref:([A-Za-z0-9]+)>$/.exec(entry.object.spec?.targetGroupARN ?? '')?.[1];
  return id ? deployment.target(entry.resource.template, { Ref: id }) : undefined;
}

const resourceKey = (resource: DeployedResource) => `${resource.template.path}#${resource.logicalId}`;

/**
 * Which create of each resource each deployment has: a resource made again (new
 * after a removal, or replaced) is another resource, with another ARN, under
 * the same logical ID.
 */
function generations(deployments: Deployment[]): Map<string, number>[] {
  const result: Map<string, number>[] = [new Map(deployments[0]?.resources().map(resource => [resourceKey(resource), 0]))];
  stepsOf(deployments).forEach((step, index) => {
    const created = new Set(step.created().map(resourceKey));
    result.push(new Map(step.after.resources().map(resource => {
      const key = resourceKey(resource);
      return [key, created.has(key) ? index + 1 : result[index].get(key) ?? index + 1];
    })));
  });
  return result;
}

/**
 * The Load Balancer Controller's webhook refuses a TargetGroupBinding update that
 * changes `spec.targetGroupARN` (immutable), and a binding of a target group that
 * another binding already holds. CloudFormation creates what is new before it
 * deletes what is gone, so a new manifest that applies a binding of the same name
 * patches the old object; a target group made again (replaced, or removed and
 * added back) has a new ARN.
 */
export const bindingsKeepTheirTargetGroup: SequenceRule = {
  id: 'bindings-keep-their-target-group',
  constraint: 'A TargetGroupBinding that exists in the cluster keeps its target group (the same create of the same resource), and no two bindings hold one target group.',
  source: 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/webhooks/elbv2/targetgroupbinding_validator.go ' +
    '(checkImmutableFields: spec.targetGroupARN; checkExistingTargetGroups)',
  check(deployments: Deployment[]): string[] {
    const states = clusterStates(deployments);
    const made = generations(deployments);
    const index = new Map(deployments.map((deployment, position) => [deployment, position]));
    // The target group a binding names, as the ARN it had in the deployment that applied it.
    const arnOf = (deployment: Deployment, entry: { object: any; resource: DeployedResource }) => {
      const group = boundGroup(deployment, entry);
      return group && `${where(group)} as deploy ${made[index.get(deployment)!].get(resourceKey(group))! + 1} made it`;
    };
    const violations: string[] = [];
    stepsOf(deployments).forEach((step, position) => {
      const before = states[position].filter(entry => entry.object.kind === 'TargetGroupBinding');
      for (const entry of step.after.kubernetesObjects().filter(candidate => candidate.object.kind === 'TargetGroupBinding')) {
        const name = `${entry.object.metadata.namespace}/${entry.object.metadata.name}`;
        const arn = arnOf(step.after, entry);
        const previous = before.find(old => objectKey(old.object) === objectKey(entry.object));
        if (previous && arnOf(previous.deployment, previous) !== arn) {
          violations.push(`${step.name}: ${where(entry.resource)}: TargetGroupBinding ${name} is patched to another target group ` +
            `(${arn}): the webhook refuses it, spec.targetGroupARN is immutable`);
        }
        const holder = before.find(other => objectKey(other.object) !== objectKey(entry.object) && arnOf(other.deployment, other) === arn);
        if (holder) {
          violations.push(`${step.name}: ${where(entry.resource)}: TargetGroupBinding ${name} binds a target group that ` +
            `${holder.object.metadata.namespace}/${holder.object.metadata.name} already holds${holder.orphaned ? ' (left behind by prune)' : ''}: the webhook refuses it`);
        }
      }
    });
    return violations;
  },
};


/**
 * Resource types CloudFormation imports when a change set is made with
 * `ImportExistingResources` (`cdk deploy --import-existing-resources`): a
 * retained resource of these types with a static name is adopted by such a
 * deploy instead of failing with "already exists".
 */
const AUTO_IMPORTABLE = new Set(['AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::KMS::Alias', 'AWS::Backup::BackupVault']);

/**
 * The name of `resource`, with its type and region, if it is the same on every
 * create: literal, or made of the stack's pseudo parameters only.
 */
function fixedName(resource: DeployedResource): string | undefined {
  const property = NAME_PROPERTIES[resource.type];
  const name = property?.split('.').reduce((value, key) => value?.[key], resource.properties);
  if (name === undefined || references(name).length > 0) return undefined;
  const text = isLiteral(name) ? `'${name}'` : JSON.stringify(name);
  return `${resource.type} ${text} in ${resource.template.region ?? 'the stack\'s region'}`;
}

/** Whether a name holds the stack's ID, which is new each time the stack is created. */
const perStackCreate = (name: string) => name.includes('AWS::StackId');

/** Whether CloudFormation keeps `resource` when `step` removes (`'delete'`) or replaces it. */
function kept(resource: DeployedResource, how: 'delete' | 'replace'): boolean {
  const policy = how === 'delete' ? resource.resource.DeletionPolicy : resource.resource.UpdateReplacePolicy;
  return policy === 'Retain' || policy === 'RetainExceptOnCreate';
}

/**
 * A resource CloudFormation keeps when it is removed (or replaced) stays in the
 * account under its name; a later create of the same name fails with "already
 * exists", so a removed read replica, a profile switched back or a stack deployed
 * again after a delete would fail. A create that adopts what exists (a deploy-time
 * call that ignores "already exists", or CloudFormation's auto-import on the
 * documented redeploy) passes.
 */
export const retainedNamesAreNotReused: SequenceRule = {
  id: 'retained-names-are-not-reused',
  constraint: 'No create reuses the name of a resource an earlier step removed and CloudFormation kept, unless the deploy imports existing resources and the type can be imported.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html; ' +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html',
  check(deployments: Deployment[]): string[] {
    const left = new Map<string, { by: string; path: string }>();
    const violations: string[] = [];
    for (const step of stepsOf(deployments)) {
      // A stack created again (after its deletion) has a new ID: names made from it are new.
      for (const [name, { path }] of left) {
        if (perStackCreate(name) && !step.before.templates.some(template => template.path === path)) left.delete(name);
      }
      for (const resource of step.after.resources()) {
        const name = fixedName(resource);
        const earlier = name && left.get(name);
        const before = step.same(resource);
        if (!earlier || (before && !step.replaces(before))) continue;
        if (step.after.importsExistingResources && AUTO_IMPORTABLE.has(resource.type) && ['Retain', 'RetainExceptOnCreate'].includes(resource.resource.DeletionPolicy)) continue;
        violations.push(`${step.name}: ${where(resource)}: creates ${name}, which ${earlier.by} kept: "already exists"`);
      }
      for (const resource of step.before.resources()) {
        const name = fixedName(resource);
        if (!name) continue;
        const after = step.same(resource);
        if ((!after && kept(resource, 'delete')) || (after && step.replaces(resource) && kept(resource, 'replace'))) {
          left.set(name, { by: `${step.name} ${after ? 'replaced' : 'removed'} and`, path: resource.template.path });
        }
      }
      for (const resource of step.after.resources()) {
        const name = fixedName(resource);
        if (name) left.delete(name);
      }
    }
    return violations;
  },
};

/**
 * EKS moves a control plane one minor version per update, and refuses an update
 * while the managed node groups lag; a node group updates in place (a rolling
 * replacement of its nodes) when its `Version` follows, after the cluster, which
 * it references.
 */
export const upgradesMoveOneMinorAtATime: SequenceRule = {
  id: 'upgrades-move-one-minor-at-a-time',
  constraint: 'Between two deploys a cluster\'s Kubernetes version rises by one minor version at most, never falls, and its node groups move with it in place.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html; https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html',
  check(deployments: Deployment[]): string[] {
    const minor = (version: any) => Number(String(version).split('.')[1]);
    const violations: string[] = [];
    for (const step of stepsOf(deployments)) {
      for (const cluster of step.before.resources('AWS::EKS::Cluster')) {
        const after = step.same(cluster);
        if (!after || step.replaces(cluster)) continue;
        const change = minor(after.properties.Version) - minor(cluster.properties.Version);
        if (change > 1 || change < 0) {
          violations.push(`${step.name}: ${where(cluster)}: Kubernetes ${cluster.properties.Version} to ${after.properties.Version}: EKS moves one minor version up per update`);
        }
        if (change === 0) continue;
        for (const group of step.after.resources('AWS::EKS::Nodegroup')) {
          const before = step.same(group);
          if (before && step.replaces(before)) violations.push(`${step.name}: ${where(group)}: the upgrade replaces the node group instead of rolling it`);
          if (group.properties.Version !== after.properties.Version) {
            violations.push(`${step.name}: ${where(group)}: stays on ${group.properties.Version ?? 'its first version'} while the cluster moves to ${after.properties.Version}`);
          }
        }
      }
    }
    return violations;
  },
};

/** Every rule over sequences of deploys. */
export const SEQUENCE_RULES: SequenceRule[] = [
  updatesLeaveNothingBehind, bindingsKeepTheirTargetGroup, retainedNamesAreNotReused, upgradesMoveOneMinorAtATime,
];
