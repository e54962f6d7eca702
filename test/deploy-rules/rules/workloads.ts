import { CLUSTER_AUTOSCALER_CHARTS, imagesOf, minorOf } from '../../../src/private/versions';
import { DeployedObject, DeployedResource, Deployment, flatten, statements } from '../deployment';
import { DeployRule, list, where } from '../rule';

function objectsOf(deployment: Deployment, kind: string): DeployedObject[] {
  return deployment.kubernetesObjects().filter(entry => entry.object.kind === kind);
}

/**
 * A Cluster Autoscaler chart carries the RBAC rules of its own autoscaler
 * version: a newer image that watches objects the rules do not let it read waits
 * forever (1.35 and `resource.k8s.io`) while its health check answers 200, unless
 * the versions table shows the rules serve it. And the autoscaler supports the
 * Kubernetes minor version of its own number.
 */
export const autoscalerChartImageAndClusterInStep: DeployRule = {
  id: 'autoscaler-chart-image-and-cluster-in-step',
  constraint: 'The Cluster Autoscaler runs a version its chart\'s RBAC rules serve, and that version\'s minor is the cluster\'s Kubernetes minor.',
  source: 'https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases; charts/cluster-autoscaler/Chart.yaml (appVersion) and templates/clusterrole.yaml of each chart version; ' +
    'cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml (the rules each autoscaler release needs)',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { resource, values } of deployment.helmCharts().filter(chart => chart.resource.properties.Chart === 'cluster-autoscaler')) {
      const chart = CLUSTER_AUTOSCALER_CHARTS[resource.properties.Version];
      const image = values.image?.tag;
      const served = chart ? imagesOf(chart) : [];
      if (!served.some(version => minorOf(version) === minorOf(image ?? ''))) {
        violations.push(`${where(resource)}: chart ${resource.properties.Version} runs ${served.join(' or ') || 'an unknown version'}, the image is ${image ?? 'the chart\'s default'}`);
      }
      const cluster = deployment.referenced(resource.template, resource.properties.ClusterName, 'AWS::EKS::Cluster')
        ?? deployment.resources('AWS::EKS::Cluster')[0];
      if (cluster && minorOf(image ?? '') !== cluster.properties.Version) {
        violations.push(`${where(resource)}: autoscaler ${image} on Kubernetes ${cluster.properties.Version}`);
      }
    }
    return violations;
  },
};

/**
 * The Cluster Autoscaler does not remove a node that runs a pod with local
 * storage (an emptyDir), unless the pod says which volumes may go
 * (`cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes`) or the
 * autoscaler runs with `--skip-nodes-with-local-storage=false`: otherwise a node
 * group never shrinks after a scale-out.
 */
export const emptyDirsDoNotBlockScaleDown: DeployRule = {
  id: 'empty-dirs-do-not-block-scale-down',
  constraint: 'Every pod with an emptyDir lists it as safe to evict, or the Cluster Autoscaler drains nodes with local storage.',
  source: 'https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#what-types-of-pods-can-prevent-ca-from-removing-a-node',
  check(deployment: Deployment): string[] {
    const autoscalers = deployment.helmCharts().filter(chart => chart.resource.properties.Chart === 'cluster-autoscaler');
    if (autoscalers.length === 0) return [];
    if (autoscalers.every(chart => String(chart.values.extraArgs?.['skip-nodes-with-local-storage']) === 'false')) return [];
    const violations: string[] = [];
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      const volumes = (object.spec.template.spec.volumes ?? []).filter((volume: any) => volume.emptyDir).map((volume: any) => volume.name);
      const safe = String(object.spec.template.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes'] ?? '').split(',');
      const blocking = volumes.filter((name: string) => !safe.includes(name));
      if (blocking.length > 0) violations.push(`${object.metadata.namespace}/${object.metadata.name}: emptyDir ${blocking.join(', ')} keeps its node`);
    }
    return violations;
  },
};

/**
 * The restricted Pod Security Standard requires `runAsNonRoot`; the kubelet can
 * prove it only with a numeric user: an image whose user is root or a name
 * (`USER node`) fails with `CreateContainerConfigError` unless the pod names a
 * non-zero `runAsUser`.
 */
export const podsRunAsNumericUsers: DeployRule = {
  id: 'pods-run-as-numeric-users',
  constraint: 'Every pod that sets runAsNonRoot names a non-zero numeric runAsUser (pod or container).',
  source: 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted; https://kubernetes.io/docs/tasks/configure-pod-container/security-context/',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      const pod = object.spec.template.spec;
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
        const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        if (nonRoot && !(Number.isInteger(user) && user > 0)) {
          violations.push(`${object.metadata.namespace}/${object.metadata.name}/${container.name}: runAsNonRoot without a numeric user`);
        }
      }
    }
    return violations;
  },
};

/**
 * A liveness probe restarts the container when it fails: if it asks what
 * readiness asks (the service's dependencies), an outage of the database or
 * cache restarts every pod at once, and the restarts make the outage worse.
 */
export const livenessApartFromReadiness: DeployRule = {
  id: 'liveness-apart-from-readiness',
  constraint: 'No container\'s liveness (or startup) probe is its readiness probe.',
  source: 'https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      for (const container of object.spec.template.spec.containers) {
        const readiness = JSON.stringify(container.readinessProbe?.httpGet ?? container.readinessProbe?.exec ?? null);
        for (const kind of ['livenessProbe', 'startupProbe']) {
          const probe = container[kind];
          if (probe && readiness !== 'null' && JSON.stringify(probe.httpGet ?? probe.exec ?? null) === readiness) {
            violations.push(`${object.metadata.namespace}/${object.metadata.name}: ${kind} asks what readiness asks`);
          }
        }
      }
    }
    return violations;
  },
};

/**
 * The amazon-cloudwatch-observability add-on, left to its defaults, injects
 * Application Signals' init containers into every workload; they carry no
 * security context, which a namespace that enforces the restricted standard
 * rejects: no new pod would start. The add-on must say what it instruments.
 */
export const addonsDoNotInjectIntoRestrictedPods: DeployRule = {
  id: 'addons-do-not-inject-into-restricted-pods',
  constraint: 'Where a namespace enforces the restricted Pod Security Standard, the observability add-on is configured not to auto-instrument all workloads.',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Observability-EKS-addon.html (autoMonitor)',
  check(deployment: Deployment): string[] {
    const restricted = objectsOf(deployment, 'Namespace').some(({ object }) => object.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted');
    if (!restricted) return [];
    return deployment.resources('AWS::EKS::Addon')
      .filter(addon => addon.properties.AddonName === 'amazon-cloudwatch-observability')
      .filter(addon => {
        const values = addon.properties.ConfigurationValues ? JSON.parse(addon.properties.ConfigurationValues) : {};
        return values.manager?.applicationSignals?.autoMonitor?.monitorAllServices !== false;
      })
      .map(addon => `${where(addon)}: instruments every workload, with init containers the restricted standard rejects`);
  },
};

/**
 * A role that `pods.eks.amazonaws.com` may assume with no condition can be given
 * to any pod of any cluster in the account by whoever may create a Pod Identity
 * association. Pod Identity tags each session with the cluster, namespace and
 * service account: the trust must name them.
 */
export const podIdentityTrustIsConditioned: DeployRule = {
  id: 'pod-identity-trust-is-conditioned',
  constraint: 'Every role trusted by pods.eks.amazonaws.com names the cluster, namespace and service account in its trust conditions.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html; https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const role of deployment.resources('AWS::IAM::Role')) {
      for (const statement of statements(role.properties.AssumeRolePolicyDocument)) {
        if (!list(statement.Principal?.Service).includes('pods.eks.amazonaws.com')) continue;
        const tags = Object.keys(statement.Condition?.StringEquals ?? {});
        for (const tag of ['aws:RequestTag/eks-cluster-arn', 'aws:RequestTag/kubernetes-namespace', 'aws:RequestTag/kubernetes-service-account']) {
          if (!tags.includes(tag)) violations.push(`${where(role)}: its trust does not name ${tag.split('/')[1]}`);
        }
      }
    }
    return violations;
  },
};

/**
 * Pods ask for AWS credentials as they start, and an SDK that is refused may
 * not ask again for a while: a workload's manifest waits for the policies
 * attached to its service account's role.
 */
export const workloadsWaitForTheirPermissions: DeployRule = {
  id: 'workloads-wait-for-their-permissions',
  constraint: 'A manifest that runs pods as a service account with a Pod Identity role waits for the policies of the role\'s own stack attached to it.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const manifest of deployment.resources('Custom::AWSCDK-EKS-KubernetesResource')) {
      const accounts = (JSON.parse(flatten(manifest.properties.Manifest)) as any[])
        .filter(object => object.kind === 'Deployment').map(object => [object.metadata.namespace, object.spec.template.spec.serviceAccountName]);
      for (const [namespace, serviceAccount] of accounts) {
        const association = deployment.resources('AWS::EKS::PodIdentityAssociation')
          .find(candidate => candidate.properties.Namespace === namespace && candidate.properties.ServiceAccount === serviceAccount);
        const role = association && deployment.target(association.template, association.properties.RoleArn);
        if (!role) continue;
        const policies = deployment.resources('AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy').filter(policy => policy.template === role.template &&
          list(policy.properties.Roles).some(value => deployment.target(policy.template, value)?.logicalId === role.logicalId));
        for (const policy of policies) {
          if (!deployment.waitsFor(manifest, policy)) violations.push(`${where(manifest)}: does not wait for ${where(policy)}`);
        }
      }
    }
    return violations;
  },
};

/** The length of a resolved value: each reference as long as the values AWS gives it. */
function resolvedLength(value: any): number {
  const text = JSON.stringify(value, (_key, node) => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      if (node['Fn::Join']) return flatten(node);
      if (node.Ref || node['Fn::GetAtt']) return 'x'.repeat(40);
    }
    return node;
  });
  return text.replace(/<ref:AWS::Partition>/g, 'aws').replace(/<ref:AWS::Region>/g, 'ap-southeast-2').replace(/<ref:AWS::AccountId>/g, '123456789012')
    .replace(/<ref:[^>]+>/g, 'x'.repeat(40)).replace(/<fn:[^>]+>/g, 'x'.repeat(40)).replace(/\s/g, '').length;
}

/** IAM refuses a managed policy of more than 6,144 characters (whitespace not counted), an inline one of more than 10,240. */
export const policiesFitIam: DeployRule = {
  id: 'policies-fit-iam',
  constraint: 'Every managed policy is at most 6,144 characters and every role\'s inline policies together at most 10,240, with references as long as AWS writes them.',
  source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const policy of deployment.resources('AWS::IAM::ManagedPolicy')) {
      const length = resolvedLength(policy.properties.PolicyDocument);
      if (length > 6144) violations.push(`${where(policy)}: about ${length} characters`);
    }
    const inline = new Map<string, { role: DeployedResource; length: number }>();
    for (const policy of deployment.resources('AWS::IAM::Policy')) {
      for (const value of list(policy.properties.Roles)) {
        const role = deployment.target(policy.template, value);
        if (!role) continue;
        const key = `${role.template.path}#${role.logicalId}`;
        inline.set(key, { role, length: (inline.get(key)?.length ?? 0) + resolvedLength(policy.properties.PolicyDocument) });
      }
    }
    for (const { role, length } of inline.values()) {
      if (length > 10_240) violations.push(`${where(role)}: inline policies of about ${length} characters`);
    }
    return violations;
  },
};
