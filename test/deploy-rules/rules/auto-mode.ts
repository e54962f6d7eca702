import { karpenterCharts, keyUsableThroughEc2, objectsOf, referenceIn, same, statementsOf } from './karpenter';
import { DeployedResource, Deployment, flatten } from '../deployment';
import { DeployRule, list, where } from '../rule';

const AUTO_MODE = 'https://docs.aws.amazon.com/eks/latest/userguide/';

/** What Auto Mode runs on its nodes itself, which a cluster on Auto Mode must not install as add-ons. */
const AUTO_MODE_ADDONS = ['vpc-cni', 'kube-proxy', 'coredns', 'eks-pod-identity-agent', 'aws-ebs-csi-driver'];

const autoModeClusters = (deployment: Deployment) =>
  deployment.resources('AWS::EKS::Cluster').filter(cluster => cluster.properties.ComputeConfig?.Enabled === true);

/** The cluster an add-on, node group or access entry names (by Ref or by its fixed name). */
function clusterOf(deployment: Deployment, resource: DeployedResource, clusters: DeployedResource[]): DeployedResource | undefined {
  const named = resource.properties.ClusterName;
  return clusters.find(cluster => same(deployment.target(resource.template, named), cluster) || cluster.properties.Name === named);
}

/**
 * EKS turns Auto Mode's compute, block storage and load balancing on or off
 * together, and only with the cluster role's four Auto Mode policies and a trust
 * that lets EKS tag its sessions. An Auto Mode cluster must keep
 * bootstrapSelfManagedAddons unset: it is a create-only property, and a change
 * of strategy that set it would replace a cluster whose name is fixed, which
 * CloudFormation refuses.
 */
export const autoModeIsEnabledWhole: DeployRule = {
  id: 'auto-mode-is-enabled-whole',
  constraint: 'A cluster with ComputeConfig enabled also enables StorageConfig.BlockStorage and KubernetesNetworkConfig.ElasticLoadBalancing, leaves ' +
    'BootstrapSelfManagedAddons unset, and its role has AmazonEKSClusterPolicy, AmazonEKSComputePolicy, AmazonEKSBlockStoragePolicy, ' +
    'AmazonEKSLoadBalancingPolicy and AmazonEKSNetworkingPolicy, and lets eks.amazonaws.com call sts:AssumeRole and sts:TagSession.',
  source: `${AUTO_MODE}auto-enable-existing.html; ${AUTO_MODE}auto-cluster-iam-role.html; ` +
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-cluster.html',
  check(deployment: Deployment): string[] {
    return autoModeClusters(deployment).flatMap(cluster => {
      const violations: string[] = [];
      if (cluster.properties.StorageConfig?.BlockStorage?.Enabled !== true) violations.push(`${where(cluster)}: Auto Mode compute without its block storage`);
      if (cluster.properties.KubernetesNetworkConfig?.ElasticLoadBalancing?.Enabled !== true) {
        violations.push(`${where(cluster)}: Auto Mode compute without its load balancing`);
      }
      if (cluster.properties.BootstrapSelfManagedAddons !== undefined) {
        violations.push(`${where(cluster)}: sets BootstrapSelfManagedAddons, which only a new cluster can change: a switch of strategy would replace it`);
      }
      const role = deployment.target(cluster.template, cluster.properties.RoleArn);
      if (role?.type !== 'AWS::IAM::Role') return [...violations, `${where(cluster)}: its role is not a role of the stack, so its Auto Mode policies cannot be checked`];
      const managed = list(role.properties.ManagedPolicyArns).map(flatten).join(' ');
      for (const policy of ['AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy']) {
        if (!managed.includes(`policy/${policy}`)) violations.push(`${where(role)}: lacks ${policy}, which Auto Mode needs`);
      }
      const trust = statementsOf([role.properties.AssumeRolePolicyDocument])
        .filter(statement => list(statement.Principal?.Service).map(flatten).includes('eks.amazonaws.com'));
      for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
        if (!trust.some(statement => list(statement.Action).includes(action))) violations.push(`${where(role)}: EKS may not call ${action}`);
      }
      return violations;
    });
  },
};

/**
 * Auto Mode runs the VPC CNI, kube-proxy, CoreDNS, the Pod Identity agent and
 * the EBS CSI driver on its nodes: the add-ons would be a second copy, and a
 * managed node group would need them. Beside Auto Mode's own Karpenter, a
 * Cluster Autoscaler or a self-managed Karpenter would fight it over nodes.
 */
export const autoModeRunsAlone: DeployRule = {
  id: 'auto-mode-runs-alone',
  constraint: 'A cluster on Auto Mode has none of the vpc-cni, kube-proxy, coredns, eks-pod-identity-agent and aws-ebs-csi-driver add-ons, no managed ' +
    'node group, no Cluster Autoscaler or Karpenter chart, and every NodePool names an eks.amazonaws.com NodeClass and expires its nodes within 21 days.',
  source: `${AUTO_MODE}automode.html; ${AUTO_MODE}create-node-pool.html; ${AUTO_MODE}auto-migrate-karpenter.html`,
  check(deployment: Deployment): string[] {
    const clusters = autoModeClusters(deployment);
    if (clusters.length === 0) return [];
    const violations = [
      ...deployment.resources('AWS::EKS::Addon')
        .filter(addon => AUTO_MODE_ADDONS.includes(addon.properties.AddonName) && clusterOf(deployment, addon, clusters))
        .map(addon => `${where(addon)}: the ${addon.properties.AddonName} add-on on a cluster whose Auto Mode nodes run it themselves`),
      ...deployment.resources('AWS::EKS::Nodegroup').filter(group => clusterOf(deployment, group, clusters))
        .map(group => `${where(group)}: a managed node group on Auto Mode, without the add-ons its nodes need`),
      ...deployment.helmCharts().filter(chart => chart.resource.properties.Chart === 'cluster-autoscaler')
        .map(chart => `${where(chart.resource)}: the Cluster Autoscaler beside Auto Mode`),
      ...[...karpenterCharts(deployment).controllers, ...karpenterCharts(deployment).crds]
        .map(chart => `${where(chart.resource)}: a self-managed Karpenter beside Auto Mode's own`),
    ];
    for (const { object } of objectsOf(deployment, 'NodePool')) {
      const ref = object.spec.template.spec.nodeClassRef ?? {};
      if (ref.group !== 'eks.amazonaws.com' || ref.kind !== 'NodeClass') {
        violations.push(`NodePool ${object.metadata.name}: names ${ref.group}/${ref.kind}, which Auto Mode does not launch from`);
      }
      const hours = /^(\d+)h$/.exec(String(object.spec.template.spec.expireAfter ?? ''))?.[1];
      if (hours === undefined || Number(hours) > 21 * 24) {
        violations.push(`NodePool ${object.metadata.name}: expireAfter ${object.spec.template.spec.expireAfter}, past the 21 days Auto Mode lets a node live`);
      }
    }
    return violations;
  },
};

/**
 * An Auto Mode node joins only if its NodeClass's role has an EKS access entry
 * of type EC2 with AmazonEKSAutoNodePolicy (EKS makes one only for the compute
 * configuration's node role), and the role has the Auto Mode node policies. Its
 * ephemeral storage uses a key that the launching principal may use through EC2.
 */
export const autoModeNodesCanJoin: DeployRule = {
  id: 'auto-mode-nodes-can-join',
  constraint: 'A NodeClass names a role of the stack that EC2 may assume, with AmazonEKSWorkerNodeMinimalPolicy and ECR pull access, that has an EC2 ' +
    'access entry with AmazonEKSAutoNodePolicy (unless it is the compute configuration\'s node role), which the NodeClass waits for, ' +
    'and no managed node group uses; its ' +
    'ephemeral storage key lets the account\'s principals create grants, generate data keys and decrypt through EC2.',
  source: `${AUTO_MODE}create-node-class.html; ${AUTO_MODE}auto-learn-iam.html; ${AUTO_MODE}create-node-role.html`,
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    const entries = deployment.resources('AWS::EKS::AccessEntry');
    const computeRoles = autoModeClusters(deployment)
      .map(cluster => deployment.target(cluster.template, cluster.properties.ComputeConfig.NodeRoleArn));
    for (const { resource, object } of objectsOf(deployment, 'NodeClass')) {
      if (object.apiVersion !== 'eks.amazonaws.com/v1') continue;
      const name = `NodeClass ${object.metadata.name}`;
      const role = referenceIn(deployment, resource, object.spec.role);
      if (role?.type !== 'AWS::IAM::Role') {
        violations.push(`${name}: its role is not a role of the stack, so its access entry cannot be checked`);
        continue;
      }
      const trusted = statementsOf([role.properties.AssumeRolePolicyDocument]).some(statement =>
        list(statement.Principal?.Service).some((service: any) => flatten(service).startsWith('ec2.')));
      if (!trusted) violations.push(`${name}: ${where(role)} cannot be assumed by EC2`);
      const managed = list(role.properties.ManagedPolicyArns).map(flatten).join(' ');
      if (!/AmazonEKSWorkerNode(Minimal)?Policy/.test(managed)) violations.push(`${name}: ${where(role)} lacks AmazonEKSWorkerNodeMinimalPolicy`);
      if (!/AmazonEC2ContainerRegistry(PullOnly|ReadOnly)/.test(managed)) violations.push(`${name}: ${where(role)} cannot pull images from ECR`);
      const entry = entries.find(candidate => same(deployment.target(candidate.template, candidate.properties.PrincipalArn), role));
      if (deployment.resources('AWS::EKS::Nodegroup').some(group => same(deployment.target(group.template, group.properties.NodeRole), role))) {
        violations.push(`${name}: ${where(role)} is a managed node group's role, whose EC2_LINUX entry EKS keeps: a second entry, of type EC2, fails`);
      }
      if (!entry && !computeRoles.some(candidate => same(candidate, role))) {
        violations.push(`${name}: ${where(role)} has no access entry, so Auto Mode's nodes never join`);
      } else if (entry) {
        if (entry.properties.Type !== 'EC2') violations.push(`${where(entry)}: type ${entry.properties.Type}, not EC2, which Auto Mode's nodes need`);
        if (!list(entry.properties.AccessPolicies).some((policy: any) => flatten(policy.PolicyArn).endsWith('cluster-access-policy/AmazonEKSAutoNodePolicy'))) {
          violations.push(`${where(entry)}: without AmazonEKSAutoNodePolicy`);
        }
        if (!deployment.waitsFor(resource, entry)) violations.push(`${name}: is applied before ${where(entry)}, so the first nodes may not join`);
      }
      const kmsKeyID = object.spec.ephemeralStorage?.kmsKeyID;
      if (kmsKeyID !== undefined) {
        violations.push(...keyUsableThroughEc2(deployment, resource, kmsKeyID, `${name}: its ephemeral storage key`, 'Auto Mode\'s nodes'));
      }
    }
    return violations;
  },
};
