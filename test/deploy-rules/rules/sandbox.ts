import { DeployedObject, DeployedResource, Deployment, flatten } from '../deployment';
import { DeployRule, list, where } from '../rule';
import { isSandbox, SANDBOX_NODES, selects } from './network-policies';

const TAINTS = 'https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/';
const TOKENS = 'https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting';
const LAUNCH_TEMPLATES = 'https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html';
const NODEADM = 'https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api/';

function objectsOf(deployment: Deployment, kind: string): DeployedObject[] {
  return deployment.kubernetesObjects().filter(entry => entry.object.kind === kind);
}

/** The security groups that a data store (RDS, its proxy, ElastiCache, Amazon MQ, MSK) carries. */
function dataStoreGroups(deployment: Deployment): DeployedResource[] {
  const groups = (resource: DeployedResource): any[] => [
    ...list(resource.properties.VpcSecurityGroupIds),
    ...list(resource.properties.SecurityGroupIds), ...list(resource.properties.SecurityGroups),
    ...list(resource.properties.BrokerNodeGroupInfo?.SecurityGroups),
  ];
  return deployment.resources('AWS::RDS::DBInstance', 'AWS::RDS::DBProxy', 'AWS::ElastiCache::ReplicationGroup', 'AWS::AmazonMQ::Broker', 'AWS::MSK::Cluster')
    .flatMap(resource => groups(resource).map(group => deployment.target(resource.template, group)))
    .filter((group): group is DeployedResource => group?.type === 'AWS::EC2::SecurityGroup');
}

/** The security groups whose members `group` admits: its ingress rules' sources, inline and separate. */
function admittedSources(deployment: Deployment, group: DeployedResource): DeployedResource[] {
  const same = (a?: DeployedResource, b?: DeployedResource) =>
    a !== undefined && b !== undefined && a.template === b.template && a.logicalId === b.logicalId;
  const separate = deployment.resources('AWS::EC2::SecurityGroupIngress')
    .filter(rule => same(deployment.target(rule.template, rule.properties.GroupId), group))
    .map(rule => deployment.target(rule.template, rule.properties.SourceSecurityGroupId));
  const inline = list(group.properties.SecurityGroupIngress).map((rule: any) => deployment.target(group.template, rule.SourceSecurityGroupId));
  return [...separate, ...inline].filter((source): source is DeployedResource => source !== undefined);
}

/**
 * A sandbox runs code nobody reviewed. Kubernetes keeps it apart only where the
 * pod spec says so: a toleration alone lets a pod onto tainted nodes without
 * keeping it there, a service account's token is mounted unless the pod says
 * not, and a policy that opens DNS or the Pod Identity agent opens a way out.
 */
export const sandboxesAreApart: DeployRule = {
  id: 'sandboxes-are-apart',
  constraint: 'A Deployment that tolerates the sandbox taint is a sandbox: it selects the sandbox nodes, mounts no service-account token, sets no service links, ' +
    'has no Pod Identity association, limits CPU, memory and ephemeral storage, runs restricted (non-root, read-only root, no escalation, no capabilities, ' +
    'RuntimeDefault or Localhost seccomp), shares its namespace with no other Deployment, and its policies let out nothing to DNS, the Pod Identity agent, ' +
    'or a private address; a Deployment that does not is not let onto those nodes.',
  source: `${TAINTS}; ${TOKENS}; https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted; ` +
    'https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const deployments = objectsOf(deployment, 'Deployment');
    const associations = deployment.resources('AWS::EKS::PodIdentityAssociation');
    const policies = objectsOf(deployment, 'NetworkPolicy');
    for (const { object: workload } of deployments.filter(({ object }) => isSandbox(object))) {
      const namespace = workload.metadata.namespace;
      const name = `${namespace}/${workload.metadata.name}`;
      const pod = workload.spec.template.spec;
      if (pod.nodeSelector?.[SANDBOX_NODES.key] !== SANDBOX_NODES.value) {
        violations.push(`${name}: tolerates the sandbox nodes but does not select them, so it may run beside the services`);
      }
      if (list(pod.tolerations).some((toleration: any) => toleration.key === undefined)) {
        violations.push(`${name}: tolerates every taint`);
      }
      if (pod.automountServiceAccountToken !== false) violations.push(`${name}: mounts its service account's token, a credential to the Kubernetes API`);
      if (pod.enableServiceLinks !== false) violations.push(`${name}: gets the namespace's Services as environment variables`);
      if (pod.hostNetwork || pod.hostPID || pod.hostIPC) violations.push(`${name}: shares the node's network, processes or IPC`);
      const account = pod.serviceAccountName ?? 'default';
      const roles = associations.filter(candidate => candidate.properties.Namespace === namespace && candidate.properties.ServiceAccount === account);
      for (const association of roles) {
        violations.push(`${name}: ${where(association)} gives its service account an IAM role`);
      }
      for (const container of [...list(pod.initContainers), ...list(pod.containers)]) {
        for (const resource of ['cpu', 'memory', 'ephemeral-storage']) {
          if (container.resources?.limits?.[resource] === undefined) violations.push(`${name}: container ${container.name} has no ${resource} limit`);
        }
        const context = { ...pod.securityContext, ...container.securityContext };
        if (context.readOnlyRootFilesystem !== true) violations.push(`${name}: container ${container.name} may write its root filesystem`);
        if (context.allowPrivilegeEscalation !== false) violations.push(`${name}: container ${container.name} allows privilege escalation`);
        if (context.runAsNonRoot !== true) violations.push(`${name}: container ${container.name} may run as root`);
        if (!list(context.capabilities?.drop).includes('ALL') || list(context.capabilities?.add).length > 0) {
          violations.push(`${name}: container ${container.name} keeps Linux capabilities`);
        }
        if (!['RuntimeDefault', 'Localhost'].includes(context.seccompProfile?.type)) violations.push(`${name}: container ${container.name} runs without a seccomp profile`);
      }
      for (const { object: other } of deployments.filter(({ object }) => object.metadata.namespace === namespace && object !== workload)) {
        violations.push(`${name}: shares its namespace with ${other.metadata.name}, whose policies and Services it would reach`);
      }
      const labels = workload.spec.template.metadata.labels ?? {};
      const selecting = policies.filter(({ object }) => object.metadata.namespace === namespace && selects(object.spec.podSelector, labels));
      for (const { resource, object } of selecting) {
        for (const rule of list(object.spec.egress)) {
          for (const peer of list(rule.to)) {
            if (peer.podSelector || peer.namespaceSelector) {
              violations.push(`${name}: ${where(resource)} lets it out to pods (${JSON.stringify(peer)}), such as DNS or another service`);
            } else if (peer.ipBlock && isPrivate(peer.ipBlock.cidr, list(peer.ipBlock.except))) {
              violations.push(`${name}: ${where(resource)} lets it out to ${peer.ipBlock.cidr}, where the VPC's stores, the Pod Identity agent or the instance metadata are`);
            }
          }
          if (list(rule.to).length === 0) violations.push(`${name}: ${where(resource)} lets it out anywhere`);
        }
      }
    }
    for (const { object: workload } of deployments.filter(({ object }) => !isSandbox(object))) {
      if (workload.spec.template.spec.nodeSelector?.[SANDBOX_NODES.key] === SANDBOX_NODES.value) {
        violations.push(`${workload.metadata.namespace}/${workload.metadata.name}: selects the sandbox nodes without being a sandbox`);
      }
    }
    return violations;
  },
};

/**
 * The sandbox nodes keep their pods from the data stores whatever a policy
 * says, only if no data store admits a security group they carry; and a
 * managed node group with a launch template takes user data only as a MIME
 * multi-part document, whose NodeConfig nodeadm merges with EKS's own.
 */
export const sandboxNodesAreApart: DeployRule = {
  id: 'sandbox-nodes-are-apart',
  constraint: 'Every node group tainted for sandboxes has a launch template whose security groups no data store\'s security group admits, IMDSv2 with hop limit 1, ' +
    'and MIME multi-part user data with a NodeConfig (application/node.eks.aws) that sets the kubelet\'s podPidsLimit; every managed node group\'s user data is MIME multi-part.',
  source: `${LAUNCH_TEMPLATES}; ${NODEADM}; https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const admitted = dataStoreGroups(deployment).flatMap(group => admittedSources(deployment, group));
    for (const nodegroup of deployment.resources('AWS::EKS::Nodegroup')) {
      const template = deployment.target(nodegroup.template, nodegroup.properties.LaunchTemplate?.Id);
      const data = template?.properties.LaunchTemplateData ?? {};
      const userData = data.UserData === undefined ? undefined : flatten(data.UserData['Fn::Base64'] ?? data.UserData);
      if (userData !== undefined && !/^(MIME-Version: 1\.0\n)?Content-Type: multipart\/mixed; boundary="?[^"\n]+"?\n/.test(userData)) {
        violations.push(`${where(nodegroup)}: its launch template's user data is not a MIME multi-part document, which EKS refuses for a managed node group`);
      }
      const sandbox = list(nodegroup.properties.Taints).some((taint: any) => taint.Key === SANDBOX_NODES.key && taint.Value === SANDBOX_NODES.value);
      if (!sandbox) continue;
      if (!template) {
        violations.push(`${where(nodegroup)}: tainted for sandboxes without a launch template of the deployment's, so its security groups and kubelet are EKS's defaults`);
        continue;
      }
      for (const group of list(data.SecurityGroupIds).map((id: any) => deployment.target(template.template, id))) {
        if (group && admitted.some(source => source.template === group.template && source.logicalId === group.logicalId)) {
          violations.push(`${where(nodegroup)}: carries ${where(group)}, which a data store admits: a sandbox's pods would reach it past their policies`);
        }
      }
      if (data.MetadataOptions?.HttpTokens !== 'required' || Number(data.MetadataOptions?.HttpPutResponseHopLimit) !== 1) {
        violations.push(`${where(nodegroup)}: its pods may reach the instance metadata, and the node's role`);
      }
      const nodeConfig = userData === undefined ? undefined
        : /Content-Type: application\/node\.eks\.aws\n\n(apiVersion: node\.eks\.aws\/v1alpha1\nkind: NodeConfig\n[\s\S]*?)\n--/.exec(userData)?.[1];
      if (!nodeConfig || !/\n {2}kubelet:\n {4}config:\n(?: {6}.*\n)*? {6}podPidsLimit: \d+\n/.test(nodeConfig + '\n')) {
        violations.push(`${where(nodegroup)}: no NodeConfig sets the kubelet's podPidsLimit, so one pod's processes can exhaust the node's`);
      }
    }
    return violations;
  },
};

/** Whether the block `cidr`, less `except`, holds a private or link-local address. */
function isPrivate(cidr: string, except: string[]): boolean {
  const ranges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'];
  const parse = (text: string) => {
    const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
    if (!match) return undefined;
    const size = 2 ** (32 - Number(match[5]));
    const start = match.slice(1, 5).reduce((sum, octet) => sum * 256 + Number(octet), 0);
    return { start: start - (start % size), end: start - (start % size) + size };
  };
  const block = parse(cidr);
  if (!block) return true; // a reference: a subnet or a VPC of the deployment
  return ranges.map(parse).some(range => range && range.start < block.end && block.start < range.end &&
    !except.map(parse).some(cut => cut && cut.start <= Math.max(range.start, block.start) && Math.min(range.end, block.end) <= cut.end));
}
