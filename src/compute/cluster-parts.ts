import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Cluster } from './cluster';
import type { ScheduledNodeScaling } from './cluster-options';
import { ClusterAutoscalerOptions } from './node-scaling';
import { AwsCalls } from '../private/aws-calls';
import { ConfigurationError } from '../private/errors';
import { acknowledge, acknowledgeManagedPolicies, findingValue } from '../private/nag';
import { pascalCase } from '../private/names';
import { podIdentityPrincipal, podIdentityRole } from '../private/pod-identity';
import { requireWholeNumber } from '../private/validate';
import { CLUSTER_AUTOSCALER_CHARTS, CLUSTER_AUTOSCALER_FOR_KUBERNETES, imagesOf, minorOf } from '../private/versions';

/*
 * What the cluster installs into itself: its add-ons, the AWS Load Balancer
 * Controller, the Cluster Autoscaler and the node groups' scaling actions. Each
 * takes the cluster as the scope of what it creates, so the construct tree (and so
 * every logical ID) is the cluster's.
 */

/** The Load Balancer Controller the cluster installs, and its chart: docs/operations.md gives the CRD step for it. */
export const LOAD_BALANCER_CONTROLLER = eks.AlbControllerVersion.V2_17_1;
/** How long a chart's pods may take to be ready: within the kubectl provider's 15-minute invocation. */
const CHART_TIMEOUT = Duration.minutes(10);

/** A Pod Identity role and its association for one service account of `cluster`. */
export function clusterPodIdentity(cluster: Cluster, id: string, namespace: string, serviceAccount: string) {
  return podIdentityRole(cluster, id, {
    clusterName: cluster.eksCluster.clusterName,
    clusterArn: cluster.eksCluster.clusterArn,
    namespace,
    serviceAccount,
    agent: cluster.podIdentityAgent,
  });
}

/** An EKS add-on of `cluster`, with its own Pod Identity role where it needs AWS permissions. */
export function addAddon(cluster: Cluster, name: string, cfnCluster: eks.CfnCluster, version: string | undefined): eks.CfnAddon {
  const podIdentity = addonPodIdentity(cluster, name);
  const addon = new eks.CfnAddon(cluster, `Addon${pascalCase(name)}`, {
    clusterName: cfnCluster.ref,
    addonName: name,
    addonVersion: version,
    resolveConflicts: 'OVERWRITE',
    podIdentityAssociations: podIdentity && [podIdentity],
  });
  return addon;
}

/** vpc-cni and the EBS CSI driver get AWS permissions through Pod Identity. */
function addonPodIdentity(cluster: Cluster, name: string): eks.CfnAddon.PodIdentityAssociationProperty | undefined {
  const managed: { [addon: string]: [string, string] } = {
    'vpc-cni': ['aws-node', 'AmazonEKS_CNI_Policy'],
    'aws-ebs-csi-driver': ['ebs-csi-controller-sa', 'service-role/AmazonEBSCSIDriverPolicy'],
  };
  const entry = managed[name];
  if (!entry) {
    return undefined;
  }
  const [serviceAccount, policy] = entry;
  const role = new iam.Role(cluster, `${name === 'vpc-cni' ? 'Cni' : 'EbsCsi'}Role`, {
    assumedBy: podIdentityPrincipal({ clusterArn: cluster.eksCluster.clusterArn, namespace: 'kube-system', serviceAccount }),
    description: `Pod Identity role of the ${name} add-on of ${cluster.node.path}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(policy)],
  });
  acknowledgeManagedPolicies(role.node.defaultChild as iam.CfnRole,
    `The AWS-maintained policy that EKS documents for the ${name} add-on, attached to its own Pod Identity role only.`);
  if (name === 'aws-ebs-csi-driver') {
    // Volumes encrypted with the cluster key: explicit actions, this key only.
    role.addManagedPolicy(new iam.ManagedPolicy(cluster, 'EbsCsiKeyPolicy', {
      description: `Lets the EBS CSI driver of ${cluster.node.path} use the cluster key for volumes`,
      statements: [
        new iam.PolicyStatement({
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey',
            'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
          resources: [cluster.encryptionKey.keyArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:CreateGrant'],
          resources: [cluster.encryptionKey.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
        }),
      ],
    }));
  }
  return { serviceAccount, roleArn: role.roleArn };
}

/**
 * The AWS Load Balancer Controller, for TargetGroupBindings only: it registers
 * pods in target groups that CDK owns. Its policy reads ELB and EC2 and
 * registers targets in this account's target groups, nothing more.
 */
export function installLoadBalancerController(cluster: Cluster, stack: Stack): eks.HelmChart {
  const serviceAccount = 'aws-load-balancer-controller';
  const { role, association } = clusterPodIdentity(cluster, 'LoadBalancerControllerRole', 'kube-system', serviceAccount);
  const targetGroups = stack.formatArn({ service: 'elasticloadbalancing', resource: 'targetgroup', resourceName: '*/*' });
  const policy = new iam.ManagedPolicy(cluster, 'LoadBalancerControllerPolicy', {
    description: `AWS Load Balancer Controller of ${cluster.node.path}: TargetGroupBinding reconciliation only`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: [
          'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes',
          'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags',
          'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes',
          'elasticloadbalancing:DescribeTargetHealth',
          'ec2:DescribeAvailabilityZones', 'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeTags',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: [targetGroups],
      }),
    ],
  });
  acknowledge(policy, {
    'AwsSolutions-IAM5[Resource::*]': 'Only Describe actions, which Elastic Load Balancing and EC2 do not scope to resources.',
    [`AwsSolutions-IAM5[Resource::${findingValue(cluster, targetGroups)}]`]:
      'Registering pods in target groups: the controller serves whichever target groups the TargetGroupBindings name, all in this account and region.',
  });
  const chart = cluster.eksCluster.addHelmChart('LoadBalancerController', {
    chart: 'aws-load-balancer-controller',
    repository: 'https://aws.github.io/eks-charts',
    version: LOAD_BALANCER_CONTROLLER.helmChartVersion,
    namespace: 'kube-system',
    release: 'aws-load-balancer-controller',
    // Its TargetGroupBinding webhook fails closed: the services' manifests may be
    // applied only once the controller's pods serve it.
    wait: true,
    timeout: CHART_TIMEOUT,
    values: {
      clusterName: cluster.clusterName,
      region: stack.region,
      vpcId: cluster.eksCluster.vpc.vpcId,
      serviceAccount: { create: true, name: serviceAccount },
      replicaCount: 2,
      // Requests so that it is never the first evicted, and a budget so that a node
      // group update never drains both replicas at once.
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      podDisruptionBudget: { maxUnavailable: 1 },
      enableServiceMutatorWebhook: false,
      createIngressClassResource: false,
    },
  });
  // Its pods need nodes, and their role, policy and Pod Identity association before
  // they ask for credentials. On delete it goes before the nodes, so the controller
  // can remove the finalizers of the TargetGroupBindings first.
  chart.node.addDependency(cluster.onDemandNodes, role, policy, association);
  return chart;
}

/**
 * The Cluster Autoscaler: reads the node groups' Auto Scaling groups and changes
 * the size only of those tagged as owned by this cluster.
 */
export function installClusterAutoscaler(cluster: Cluster, options: ClusterAutoscalerOptions): void {
  const stack = Stack.of(cluster);
  const kubernetesMinor = cluster.kubernetesVersion.version;
  const { chartVersion, imageTag } = clusterAutoscalerVersions(options, kubernetesMinor);
  if (minorOf(imageTag) !== kubernetesMinor) {
    Annotations.of(cluster).addWarningV2('codelearn:cluster-autoscaler-skew',
      `The Cluster Autoscaler ${imageTag} does not match the cluster's Kubernetes ${kubernetesMinor}: the autoscaler supports the ` +
      'Kubernetes minor version of its own number. Choose the chart that ships it (`NodeScaling.clusterAutoscaler({ chartVersion })`).');
  }
  const serviceAccount = 'cluster-autoscaler';
  const { role, association } = clusterPodIdentity(cluster, 'ClusterAutoscalerRole', 'kube-system', serviceAccount);
  const nodegroups = stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${cluster.clusterName}/*` });
  const policy = new iam.ManagedPolicy(cluster, 'ClusterAutoscalerPolicy', {
    description: `Cluster Autoscaler of ${cluster.node.path}`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: [
          'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags',
          'ec2:DescribeImages', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        resources: ['*'],
        conditions: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.clusterName}`]: 'owned' } },
      }),
      new iam.PolicyStatement({
        actions: ['eks:DescribeNodegroup'],
        resources: [nodegroups],
      }),
    ],
  });
  acknowledge(policy, {
    'AwsSolutions-IAM5[Resource::*]': 'Describe actions, which Auto Scaling and EC2 do not scope to resources, and resizing, ' +
      'which the condition limits to the Auto Scaling groups tagged as owned by this cluster.',
    [`AwsSolutions-IAM5[Resource::${findingValue(cluster, nodegroups)}]`]:
      'Reading the labels and taints of this cluster\'s node groups, to scale a group up from zero.',
  });
  const chart = cluster.eksCluster.addHelmChart('ClusterAutoscaler', {
    chart: 'cluster-autoscaler',
    repository: 'https://kubernetes.github.io/autoscaler',
    version: chartVersion,
    namespace: 'kube-system',
    release: 'cluster-autoscaler',
    wait: true,
    timeout: CHART_TIMEOUT,
    values: {
      cloudProvider: 'aws',
      awsRegion: stack.region,
      autoDiscovery: { clusterName: cluster.clusterName },
      // The image of the chart's own autoscaler version: its RBAC rules are written for it.
      image: { tag: imageTag },
      rbac: { serviceAccount: { create: true, name: serviceAccount } },
      resources: { requests: { cpu: '100m', memory: '300Mi' }, limits: { memory: '600Mi' } },
      extraArgs: {
        'balance-similar-node-groups': true,
        'skip-nodes-with-system-pods': false,
        // The services' /tmp, metrics-server's and the EBS CSI controller's emptyDirs hold
        // nothing worth keeping: without this a node that ever ran one is never removed.
        'skip-nodes-with-local-storage': false,
        // Prefer the spot group for pods that tolerate it, then the least waste.
        'expander': 'priority,least-waste',
      },
      // Matched against the Auto Scaling group names (eks-<node group>-<id>); groups
      // that match no pattern would be dropped, hence the catch-all.
      expanderPriorities: { 50: ['.*SpotNodes.*'], 10: ['.*'] },
    },
  });
  // Its pods need nodes, and their role, policy and Pod Identity association before
  // they ask for credentials.
  chart.node.addDependency(cluster.onDemandNodes, role, policy, association);
}

/**
 * The name of a node group's Auto Scaling group, which EKS gives only at deploy
 * time: looked up then. `name` is the group's in the IDs (`OnDemand`, `Spot`).
 */
export function lookUpAutoScalingGroupName(cluster: Cluster, nodes: eks.Nodegroup, name: string, vpcSubnets: ec2.SubnetSelection,
  logRetention: logs.RetentionDays): string {
  const calls = AwsCalls.of(cluster, { vpc: cluster.eksCluster.vpc, vpcSubnets, encryptionKey: cluster.encryptionKey, logRetention });
  // The node group's own name (not the `<cluster>/<nodegroup>` that its Ref
  // returns without the nodegroupNameAttribute feature flag).
  const nodegroupName = (nodes.node.defaultChild as eks.CfnNodegroup).attrNodegroupName;
  const lookup = calls.call(cluster, `${name}AutoScalingGroup`, {
    onUpdate: {
      service: 'EKS',
      action: 'describeNodegroup',
      parameters: { clusterName: cluster.clusterName, nodegroupName },
      physicalResourceId: cr.PhysicalResourceId.of(`${cluster.clusterName}/${name}`),
      outputPaths: ['nodegroup.resources.autoScalingGroups.0.name'],
    },
  }, [new iam.PolicyStatement({ actions: ['eks:DescribeNodegroup'], resources: [nodes.nodegroupArn] })]);
  return lookup.getResponseField('nodegroup.resources.autoScalingGroups.0.name');
}

/** The scheduled actions, on the on-demand node group's Auto Scaling group. */
export function addScheduledActions(cluster: Cluster, schedules: ScheduledNodeScaling[]): void {
  for (const schedule of schedules) {
    new autoscaling.CfnScheduledAction(cluster, `Schedule${pascalCase(schedule.name)}`, {
      autoScalingGroupName: cluster._autoScalingGroupName(cluster.onDemandNodes),
      recurrence: schedule.schedule,
      timeZone: schedule.timeZone ?? 'UTC',
      minSize: schedule.minSize,
      maxSize: schedule.maxSize,
      desiredCapacity: schedule.desiredSize,
    });
  }
}

export function validateSchedules(schedules: ScheduledNodeScaling[]): void {
  const names = new Set<string>();
  for (const schedule of schedules) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(schedule.name) || names.has(schedule.name)) {
      throw new ConfigurationError(`\`scheduledScaling\` has the name '${schedule.name}': use letters, digits and '-', once per cluster.`);
    }
    names.add(schedule.name);
    if (schedule.schedule.trim().split(/\s+/).length !== 5) {
      throw new ConfigurationError(`\`scheduledScaling.${schedule.name}.schedule\` ('${schedule.schedule}') is not a cron expression of five fields, such as '0 7 * * MON-FRI'.`);
    }
    if (schedule.minSize === undefined && schedule.maxSize === undefined && schedule.desiredSize === undefined) {
      throw new ConfigurationError(`\`scheduledScaling.${schedule.name}\` changes nothing: set minSize, maxSize or desiredSize.`);
    }
    for (const field of ['minSize', 'maxSize', 'desiredSize'] as const) {
      if (schedule[field] !== undefined) {
        requireWholeNumber(`scheduledScaling.${schedule.name}.${field}`, schedule[field]!, 0, 100);
      }
    }
  }
}

/**
 * The Cluster Autoscaler chart and image: the chart for the cluster's Kubernetes
 * version, and always an image whose API reads that chart's permissions grant:
 * its own, or a newer one the table says its rules serve.
 */
function clusterAutoscalerVersions(options: ClusterAutoscalerOptions, kubernetesMinor: string): { chartVersion: string; imageTag: string } {
  const chartVersion = options.chartVersion ?? CLUSTER_AUTOSCALER_FOR_KUBERNETES[kubernetesMinor]?.chart;
  if (!chartVersion) {
    throw new ConfigurationError(`The library knows no Cluster Autoscaler chart for Kubernetes ${kubernetesMinor}: set \`nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion, imageTag })\` ` +
      'to a chart of https://kubernetes.github.io/autoscaler and the autoscaler version it ships (its appVersion).');
  }
  const chart = CLUSTER_AUTOSCALER_CHARTS[chartVersion];
  const images = chart ? imagesOf(chart) : [];
  // Unless told: the image of the cluster's minor version the chart serves, else the chart's own.
  const imageTag = options.imageTag ?? images.find(image => minorOf(image) === kubernetesMinor) ?? chart?.appVersion;
  if (!imageTag) {
    throw new ConfigurationError(`\`clusterAutoscaler.chartVersion\` ('${chartVersion}') is not a chart the library knows: set \`imageTag\` to the autoscaler ` +
      'version it ships (its appVersion, such as \'v1.36.1\'), so that image and permissions match.');
  }
  if (!minorOf(imageTag)) {
    throw new ConfigurationError(`\`clusterAutoscaler.imageTag\` ('${imageTag}') is not an autoscaler version such as 'v1.36.1'.`);
  }
  if (chart && !images.some(image => minorOf(image) === minorOf(imageTag))) {
    throw new ConfigurationError(`\`clusterAutoscaler.imageTag\` ('${imageTag}') is not an autoscaler version chart ${chartVersion} runs (${images.join(' or ')}): ` +
      `the chart's permissions are written for its own version. Remove \`imageTag\`, or choose the chart that ships ${minorOf(imageTag)}.`);
  }
  return { chartVersion, imageTag };
}
