import { DeployedResource, Deployment, flatten, statements } from '../deployment';
import { DeployRule, list, where } from '../rule';

const SERVICE_TIMEOUT = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html#cfn-cloudformation-customresource-servicetimeout';
const ACCESS_POLICIES = 'https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html';
const CLOUDWATCH_IAM = 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html';
const READINESS_GATE = 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/';
const PROGRESS_DEADLINE = 'https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#progress-deadline-seconds';

/** How long the gate waits after the progress deadline for the Deployment controller to report it (handler.ts). */
const DEADLINE_GRACE_SECONDS = 60;
/** The most a poll of the gate may take (handler.ts), below the functions' timeout. */
const POLL_SECONDS = 40;
/** One more poll of the waiter after the gate's own deadline, and the framework's answer. */
const LAST_POLL_SECONDS = 60;

const same = (a?: DeployedResource, b?: DeployedResource) =>
  a !== undefined && b !== undefined && a.template === b.template && a.logicalId === b.logicalId;

/** The user function `variable` of the provider framework that `serviceToken` names, and its role. */
function gateFunction(deployment: Deployment, resource: DeployedResource, variable: string): { fn?: DeployedResource; role?: DeployedResource } {
  const framework = deployment.target(resource.template, resource.properties.ServiceToken);
  const fn = framework && deployment.target(framework.template, framework.properties.Environment?.Variables?.[variable]);
  const role = fn && deployment.target(fn.template, fn.properties.Role);
  return { fn, role };
}

/** The manifests whose objects include a Deployment `name` in `namespace`. */
function manifestsOf(deployment: Deployment, namespace: string, name: string): DeployedResource[] {
  return deployment.kubernetesObjects()
    .filter(({ object }) => object.kind === 'Deployment' && object.metadata?.name === name && (object.metadata?.namespace ?? 'default') === namespace)
    .map(({ resource }) => resource);
}

/** The target groups that TargetGroupBindings of the Service `name` in `namespace` bind, with the manifest of each binding. */
function boundTargetGroups(deployment: Deployment, namespace: string, name: string): DeployedResource[] {
  return deployment.kubernetesObjects()
    .filter(({ object }) => object.kind === 'TargetGroupBinding' && object.spec?.serviceRef?.name === name && object.metadata?.namespace === namespace)
    .map(({ resource }) => deployment.referenced(resource.template, resource.properties.Manifest, 'AWS::ElasticLoadBalancingV2::TargetGroup'))
    .filter((group): group is DeployedResource => group !== undefined);
}

/** The managed policies attached to `role`, wherever they are. */
function policiesOf(deployment: Deployment, role: DeployedResource): DeployedResource[] {
  return deployment.resources('AWS::IAM::ManagedPolicy')
    .filter(policy => list(policy.properties.Roles).some(ref => same(deployment.target(policy.template, ref), role)));
}

/** Whether `policies` allow `action` on the ARN of `alarm`. */
function allowsOnAlarm(deployment: Deployment, policies: DeployedResource[], action: string, alarm: DeployedResource): boolean {
  return policies.some(policy => statements(policy.properties.PolicyDocument).some(statement =>
    statement.Effect === 'Allow' && list(statement.Action).includes(action) &&
    list(statement.Resource).some((arn: any) => same(deployment.target(policy.template, arn), alarm) || /:cloudwatch:.*:alarm:\*$/.test(flatten(arn)))));
}

/** The managed policies of `role`: attached by it (ManagedPolicyArns) or attaching themselves to it (Roles). */
function allPoliciesOf(deployment: Deployment, role: DeployedResource): DeployedResource[] {
  const attached = list(role.properties.ManagedPolicyArns).map(arn => deployment.target(role.template, arn))
    .filter((policy): policy is DeployedResource => policy?.type === 'AWS::IAM::ManagedPolicy');
  return [...attached, ...policiesOf(deployment, role)];
}

/**
 * A release gate holds only if CloudFormation waits for it long enough, and if it
 * starts after what it judges: every manifest of its tracks, and the listener that
 * attaches each track's target group (the load balancer's health checks are what
 * make the pods' readiness gates true). It must be able to read what it judges:
 * the namespace through an EKS access entry of its function's role, and each alarm
 * through a policy on that alarm (metric alarms only; composite ones need '*').
 */
export const releaseGatesCanJudgeTheirRelease: DeployRule = {
  id: 'release-gates-can-judge-their-release',
  constraint: 'A Custom::ReleaseGate has a ServiceTimeout of 1 to 3600 s, at least the progress deadline, its grace and the bake; it waits for every manifest of ' +
    'its tracks\' Deployments (whose progressDeadlineSeconds is the one it is given) and for the listener or rule that forwards to each target group bound to them; ' +
    'its function\'s role has an EKS access entry with AmazonEKSViewPolicy on its namespace, and DescribeAlarms and DescribeAlarmHistory on each of its alarms, ' +
    'all metric alarms, through policies it waits for.',
  source: `${SERVICE_TIMEOUT}; ${PROGRESS_DEADLINE}; ${READINESS_GATE}; ${ACCESS_POLICIES}; ${CLOUDWATCH_IAM}`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const entries = deployment.resources('AWS::EKS::AccessEntry');
    const forwarders = deployment.resources('AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::Listener');
    for (const gate of deployment.resources('Custom::ReleaseGate')) {
      const props = gate.properties;
      const name = where(gate);
      const timeout = Number(props.ServiceTimeout);
      const needed = Number(props.ProgressDeadlineSeconds) + DEADLINE_GRACE_SECONDS + Number(props.BakeSeconds) + LAST_POLL_SECONDS;
      if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) {
        violations.push(`${name}: ServiceTimeout ${props.ServiceTimeout} is not a whole number of seconds from 1 to 3600: CloudFormation refuses it`);
      } else if (timeout < needed) {
        violations.push(`${name}: ServiceTimeout ${timeout} s is shorter than the progress deadline, its grace and the bake (${needed} s): ` +
          'CloudFormation would time the gate out before it answers');
      }
      for (const track of list<any>(props.Tracks)) {
        const manifests = manifestsOf(deployment, props.Namespace, track.Deployment);
        if (manifests.length === 0) violations.push(`${name}: no manifest applies the Deployment ${props.Namespace}/${track.Deployment} of its ${track.Name} track`);
        for (const manifest of manifests) {
          if (!deployment.waitsFor(gate, manifest)) violations.push(`${name}: does not wait for ${where(manifest)}, which applies its ${track.Name} track`);
        }
        const deadlines = deployment.kubernetesObjects().filter(({ object }) => object.kind === 'Deployment' && object.metadata?.name === track.Deployment)
          .map(({ object }) => object.spec?.progressDeadlineSeconds ?? 600);
        if (deadlines.some(seconds => String(seconds) !== String(props.ProgressDeadlineSeconds))) {
          violations.push(`${name}: the Deployment ${track.Deployment} has progressDeadlineSeconds ${deadlines.join(', ')}, the gate waits for ${props.ProgressDeadlineSeconds}`);
        }
        for (const group of boundTargetGroups(deployment, props.Namespace, track.Deployment)) {
          const attaching = forwarders.filter(forwarder => references(deployment, forwarder).some(target => same(target, group)));
          if (attaching.length === 0) {
            violations.push(`${name}: no listener forwards to ${where(group)}, so its targets stay unused and the ${track.Name} track's pods never become ready`);
          } else if (!attaching.some(forwarder => deployment.waitsFor(gate, forwarder))) {
            violations.push(`${name}: does not wait for the listener rule that forwards to ${where(group)}: the ${track.Name} track's pods are not ready before it exists`);
          }
        }
      }
      const { fn, role } = gateFunction(deployment, gate, 'USER_IS_COMPLETE_FUNCTION_ARN');
      if (!fn || !role) {
        violations.push(`${name}: its ServiceToken is not a provider framework with an isComplete function and a role`);
        continue;
      }
      const entry = entries.find(candidate => same(deployment.target(candidate.template, candidate.properties.PrincipalArn), role));
      const view = list<any>(entry?.properties.AccessPolicies).find(policy => flatten(policy.PolicyArn).endsWith(':cluster-access-policy/AmazonEKSViewPolicy'));
      const scope = view?.AccessScope;
      if (!entry || !view || !(scope.Type === 'cluster' || list(scope.Namespaces).includes(props.Namespace))) {
        violations.push(`${name}: the role of its function has no access entry with AmazonEKSViewPolicy on the namespace ${props.Namespace}: ` +
          'the Kubernetes API answers 403 to every read');
      } else if (!deployment.waitsFor(gate, entry)) {
        violations.push(`${name}: does not wait for the access entry of its function's role`);
      }
      const policies = allPoliciesOf(deployment, role);
      const alarms = [...list<any>(props.Tracks).flatMap(track => list(track.Alarms)), ...list(props.Alarms)];
      for (const ref of alarms) {
        // An alarm imported by name is not the deployment's: nothing here can say what it is.
        if (typeof ref === 'string') continue;
        const alarm = deployment.target(gate.template, ref);
        if (alarm?.type !== 'AWS::CloudWatch::Alarm') {
          violations.push(`${name}: its alarm ${flatten(ref)} is not a metric alarm of the deployment: the gate can read metric alarms only`);
          continue;
        }
        for (const action of ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory']) {
          if (!allowsOnAlarm(deployment, policies, action, alarm)) violations.push(`${name}: its function's role may not ${action} on ${where(alarm)}`);
        }
        const granting = policies.filter(policy => allowsOnAlarm(deployment, [policy], 'cloudwatch:DescribeAlarms', alarm));
        if (granting.length > 0 && !granting.some(policy => deployment.waitsFor(gate, policy))) {
          violations.push(`${name}: does not wait for the policy that lets it read ${where(alarm)}`);
        }
      }
    }
    return violations;
  },
};

/** The resources that `resource`'s properties reference. */
function references(deployment: Deployment, resource: DeployedResource): DeployedResource[] {
  const found: DeployedResource[] = [];
  const walk = (node: any) => {
    if (!node || typeof node !== 'object') return;
    const target = deployment.target(resource.template, node);
    if (target && (node.Ref !== undefined || node['Fn::GetAtt'] !== undefined)) found.push(target);
    for (const value of Object.values(node)) walk(value);
  };
  walk(resource.properties);
  return found;
}

/**
 * A promotion is refused before it touches the stable track only if the stable
 * track's manifest waits for the check.
 */
export const promotionsComeFirst: DeployRule = {
  id: 'promotions-come-first',
  constraint: 'The manifest of a service\'s stable Deployment waits for its Custom::ReleasePromotion.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const promotion of deployment.resources('Custom::ReleasePromotion')) {
      const gate = deployment.resources('Custom::ReleaseGate').find(candidate => candidate.template === promotion.template && candidate.properties.Service === promotion.properties.Service);
      const stable = list<any>(gate?.properties.Tracks).find(track => track.Name === 'stable');
      if (!gate || !stable) {
        violations.push(`${where(promotion)}: no release gate of ${promotion.properties.Service} with a stable track beside it`);
        continue;
      }
      for (const manifest of manifestsOf(deployment, gate.properties.Namespace, stable.Deployment)) {
        if (!deployment.waitsFor(manifest, promotion)) {
          violations.push(`${where(manifest)}: applies the stable track of ${promotion.properties.Service} without waiting for ${where(promotion)}: a bad canary's promotion would start`);
        }
      }
    }
    return violations;
  },
};

/**
 * The gate's functions read the cluster's private endpoint: they must be in the
 * VPC with a security group the endpoint admits (the cluster security group), and
 * know the endpoint and its authority. The waiter must give up before the hour
 * that CloudFormation waits.
 */
export const releaseGatesReachTheCluster: DeployRule = {
  id: 'release-gates-reach-the-cluster',
  constraint: 'The onEvent and isComplete functions of a release gate run in the VPC with the cluster security group, with the cluster\'s endpoint and certificate ' +
    'authority, and a timeout above the 40 s a poll may take; the provider\'s waiter polls for at most 3600 s.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html; https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const seen = new Set<string>();
    for (const gate of deployment.resources('Custom::ReleaseGate', 'Custom::ReleasePromotion')) {
      for (const variable of ['USER_ON_EVENT_FUNCTION_ARN', 'USER_IS_COMPLETE_FUNCTION_ARN']) {
        const { fn } = gateFunction(deployment, gate, variable);
        if (!fn || seen.has(`${fn.template.path}#${fn.logicalId}`)) continue;
        seen.add(`${fn.template.path}#${fn.logicalId}`);
        const cluster = deployment.target(fn.template, fn.properties.Environment?.Variables?.CLUSTER_ENDPOINT);
        const groups = list(fn.properties.VpcConfig?.SecurityGroupIds).map(ref => ({ ref, target: deployment.target(fn.template, ref) }));
        if (cluster?.type !== 'AWS::EKS::Cluster') {
          violations.push(`${where(fn)}: CLUSTER_ENDPOINT is not an EKS cluster's endpoint`);
          continue;
        }
        if (!groups.some(({ ref, target }) => same(target, cluster) && JSON.stringify(ref).includes('ClusterSecurityGroupId'))) {
          violations.push(`${where(fn)}: not in the VPC with the cluster security group of ${where(cluster)}: the private endpoint does not admit it`);
        }
        if (!deployment.target(fn.template, fn.properties.Environment?.Variables?.CLUSTER_CA)) {
          violations.push(`${where(fn)}: CLUSTER_CA is not the cluster's certificate authority`);
        }
        if (Number(fn.properties.Timeout ?? 3) <= POLL_SECONDS) {
          violations.push(`${where(fn)}: a timeout of ${fn.properties.Timeout ?? 3} s is not above the ${POLL_SECONDS} s a poll may take: ` +
            'a function that times out fails the resource, a rollback too');
        }
      }
    }
    for (const machine of deployment.resources('AWS::StepFunctions::StateMachine')) {
      const definition = flatten(machine.properties.DefinitionString);
      const retry = /"IntervalSeconds":(\d+),"MaxAttempts":(\d+)/.exec(definition);
      if (definition.includes('framework-isComplete') || /isComplete/i.test(where(machine))) {
        if (retry && Number(retry[1]) * Number(retry[2]) > 3600) {
          violations.push(`${where(machine)}: polls for ${Number(retry[1]) * Number(retry[2])} s, beyond the 3600 s CloudFormation waits for a custom resource`);
        }
      }
    }
    return violations;
  },
};
