import { DeployedObject, DeployedResource, Deployment } from '../deployment';
import { DeployRule, list, where } from '../rule';

/** The kubectl provider runs Helm inside one Lambda invocation, at most 15 minutes. */
const LAMBDA_TIMEOUT_SECONDS = 900;

/**
 * A chart's webhooks and custom resources exist only once its pods run: without
 * `wait`, the objects applied after it meet a webhook that fails closed (the
 * Load Balancer Controller's TargetGroupBinding webhook). And its pods ask for
 * AWS credentials at start, so the chart waits for its Pod Identity association.
 */
export const chartsWaitForTheirPods: DeployRule = {
  id: 'charts-wait-for-their-pods',
  constraint: 'Every Helm chart is installed with `wait` and a timeout inside the provider\'s 15 minutes, after the Pod Identity association of the service account it runs as.',
  source: 'https://helm.sh/docs/helm/helm_upgrade/ (--wait); https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html; ' +
    'https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const { resource, values } of deployment.helmCharts()) {
      const timeout = resource.properties.Timeout ? parseDuration(resource.properties.Timeout) : undefined;
      if (resource.properties.Wait !== true) violations.push(`${where(resource)}: installed without wait`);
      else if (timeout === undefined || timeout >= LAMBDA_TIMEOUT_SECONDS) violations.push(`${where(resource)}: waits ${resource.properties.Timeout ?? 'helm\'s default'}, not within the provider's invocation`);
      const serviceAccount = values.serviceAccount?.name ?? values.rbac?.serviceAccount?.name;
      if (!serviceAccount) continue;
      const association = deployment.resources('AWS::EKS::PodIdentityAssociation').find(candidate =>
        candidate.properties.ServiceAccount === serviceAccount && candidate.properties.Namespace === resource.properties.Namespace);
      if (!association) {
        violations.push(`${where(resource)}: runs as ${serviceAccount}, which has no Pod Identity association`);
      } else if (!deployment.waitsFor(resource, association)) {
        violations.push(`${where(resource)}: does not wait for the Pod Identity association of ${serviceAccount}`);
      }
    }
    return violations;
  },
};

function parseDuration(text: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  return match ? Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) : Number.POSITIVE_INFINITY;
}

/** The objects of one kind, by namespace and name. */
function objectsOf(deployment: Deployment, kind: string): DeployedObject[] {
  return deployment.kubernetesObjects().filter(entry => entry.object.kind === kind);
}

/**
 * A pod counts as ready for a rolling update before the load balancer has found
 * it healthy, unless the Load Balancer Controller injects its readiness gate,
 * which it does in namespaces labelled `elbv2.k8s.aws/pod-readiness-gate-inject:
 * enabled`. Without it, a rollout can retire the old pods while the new ones
 * are still unhealthy in the target group.
 */
export const bindingsGateReadiness: DeployRule = {
  id: 'bindings-gate-readiness',
  constraint: 'Every namespace that holds a TargetGroupBinding is labelled for the controller\'s pod readiness gate, and its pods pause in preStop at least as long as the target group drains.',
  source: 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const namespaces = objectsOf(deployment, 'Namespace');
    for (const binding of objectsOf(deployment, 'TargetGroupBinding')) {
      const namespace = namespaces.find(entry => entry.object.metadata.name === binding.object.metadata.namespace);
      if (namespace?.object.metadata.labels?.['elbv2.k8s.aws/pod-readiness-gate-inject'] !== 'enabled') {
        violations.push(`${binding.object.metadata.namespace}/${binding.object.metadata.name}: its namespace does not inject the pod readiness gate`);
      }
    }
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      const binding = objectsOf(deployment, 'TargetGroupBinding').find(entry => entry.object.spec.serviceRef.name === object.metadata.name &&
        entry.object.metadata.namespace === object.metadata.namespace);
      if (!binding) continue;
      const id = /^<ref:([A-Za-z0-9]+)>$/.exec(binding.object.spec.targetGroupARN)?.[1];
      const group = id ? deployment.target(binding.resource.template, { Ref: id }) : undefined;
      const delay = Number(list(group?.properties.TargetGroupAttributes)
        .find((attribute: any) => attribute.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300);
      const pod = object.spec.template.spec;
      const preStop = pod.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
      if (preStop < delay) violations.push(`${object.metadata.namespace}/${object.metadata.name}: preStop ${preStop} s is shorter than the target group's ${delay} s drain`);
      if (!(pod.terminationGracePeriodSeconds > preStop)) violations.push(`${object.metadata.namespace}/${object.metadata.name}: the grace period ends before preStop does`);
    }
    return violations;
  },
};

/**
 * A target group that takes traffic needs pods through an eviction or a node
 * drain: a weighted forward action that sends a share to a target group whose
 * workload may run one pod empties that share at every disruption.
 */
export const weightedTargetsKeepTwoPods: DeployRule = {
  id: 'weighted-targets-keep-two-pods',
  constraint: 'Every target group that a weighted forward action sends a share of traffic to is served by a workload that keeps at least two pods.',
  source: 'https://kubernetes.io/docs/tasks/run-application/configure-pdb/; https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions',
  check(deployment: Deployment): string[] {
    const key = (resource?: DeployedResource) => resource && `${resource.template.path}#${resource.logicalId}`;
    const weighted = new Set<string>();
    for (const rule of deployment.resources('AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::Listener')) {
      for (const action of list(rule.properties.Actions ?? rule.properties.DefaultActions)) {
        const groups = list(action.ForwardConfig?.TargetGroups);
        for (const group of groups.length > 1 ? groups : []) {
          if (Number(group.Weight) > 0) weighted.add(key(deployment.target(rule.template, group.TargetGroupArn))!);
        }
      }
    }
    const violations: string[] = [];
    for (const binding of objectsOf(deployment, 'TargetGroupBinding')) {
      const id = /^<ref:([A-Za-z0-9]+)>$/.exec(binding.object.spec.targetGroupARN)?.[1];
      const group = id ? deployment.target(binding.resource.template, { Ref: id }) : undefined;
      if (!weighted.has(key(group) ?? '')) continue;
      const name = binding.object.spec.serviceRef.name;
      const hpa = objectsOf(deployment, 'HorizontalPodAutoscaler').find(entry => entry.object.spec.scaleTargetRef.name === name &&
        entry.object.metadata.namespace === binding.object.metadata.namespace);
      if (!hpa || hpa.object.spec.minReplicas < 2) {
        violations.push(`${binding.object.metadata.namespace}/${name}: takes a weighted share of traffic with as few as ${hpa?.object.spec.minReplicas ?? 1} pod(s)`);
      }
    }
    return violations;
  },
};

/**
 * The kubelet refuses to start a container whose environment names a
 * ConfigMap key that does not exist (`CreateContainerConfigError`).
 */
export const configMapReferencesExist: DeployRule = {
  id: 'config-map-references-exist',
  constraint: 'Every `configMapKeyRef` names a ConfigMap, and a key of it, that the deployment creates in the pod\'s namespace.',
  source: 'https://kubernetes.io/docs/tasks/configure-pod-container/configure-pod-configmap/#define-container-environment-variables-using-configmap-data',
  check(deployment: Deployment): string[] {
    const maps = objectsOf(deployment, 'ConfigMap');
    const violations: string[] = [];
    for (const { object } of objectsOf(deployment, 'Deployment')) {
      for (const container of object.spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.configMapKeyRef;
          if (!ref || ref.optional) continue;
          const map = maps.find(entry => entry.object.metadata.name === ref.name && entry.object.metadata.namespace === object.metadata.namespace);
          if (!map || !(ref.key in (map.object.data ?? {}))) {
            violations.push(`${object.metadata.namespace}/${object.metadata.name}: ${variable.name} reads ${ref.name}/${ref.key}, which is not created`);
          }
        }
      }
    }
    return violations;
  },
};

/**
 * EKS upgrades a cluster one minor version at a time and refuses an upgrade while
 * a managed node group is more than its skew behind ("Nodegroups must be updated
 * to match cluster version"); a node group without `Version` stays on the version
 * it was created with. And a cluster without `UpgradePolicy` enters extended
 * support, billed six times the standard rate, when standard support ends.
 */
export const nodeGroupsFollowTheControlPlane: DeployRule = {
  id: 'node-groups-follow-the-control-plane',
  constraint: 'Every managed node group sets `Version` to its cluster\'s `Version`, and every cluster says its `UpgradePolicy.SupportType`.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html; ' +
    'https://docs.aws.amazon.com/eks/latest/userguide/extended-support-control.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const cluster of deployment.resources('AWS::EKS::Cluster')) {
      if (!cluster.properties.UpgradePolicy?.SupportType) violations.push(`${where(cluster)}: no UpgradePolicy.SupportType: EKS's default is EXTENDED`);
    }
    for (const group of deployment.resources('AWS::EKS::Nodegroup')) {
      const cluster = deployment.referenced(group.template, group.properties.ClusterName, 'AWS::EKS::Cluster');
      if (!cluster) continue;
      if (group.properties.Version === undefined || JSON.stringify(group.properties.Version) !== JSON.stringify(cluster.properties.Version)) {
        violations.push(`${where(group)}: Version ${JSON.stringify(group.properties.Version)} is not its cluster's (${JSON.stringify(cluster.properties.Version)})`);
      }
    }
    return violations;
  },
};
