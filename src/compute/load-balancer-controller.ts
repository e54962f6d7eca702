import { Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IDependable } from 'constructs';
import { INodeScalingTarget } from './node-scaling-target';
import { acknowledge, findingValue } from '../private/nag';

/**
 * The Load Balancer Controller the cluster installs, and its chart: docs/operations.md
 * gives the CRD step for it. v3.5.0 (2026-08-03) is the newest chart of
 * https://aws.github.io/eks-charts, released after Kubernetes 1.36; aws-cdk-lib's
 * newest constant is v3.2.2. Its IAM policy document is the same as v2.17's, its
 * Gateway API controllers switch themselves off when the Gateway API CRDs are
 * absent, and this platform uses only its TargetGroupBinding reconciler.
 */
export const LOAD_BALANCER_CONTROLLER = eks.AlbControllerVersion.of('v3.5.0', '3.5.0');
/** How long the controller's pods may take to be ready: within the kubectl provider's 15-minute invocation. */
const CHART_TIMEOUT = Duration.minutes(10);

/**
 * The AWS Load Balancer Controller, for TargetGroupBindings only: it registers
 * pods in target groups that CDK owns. Its policy reads ELB and EC2 and
 * registers targets in this account's target groups, nothing more.
 */
export function installLoadBalancerController(cluster: INodeScalingTarget, stack: Stack, capacity: IDependable): eks.HelmChart {
  const serviceAccount = 'aws-load-balancer-controller';
  const { role, association } = cluster.addServiceAccountRole('LoadBalancerControllerRole', 'kube-system', serviceAccount);
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
  // Its pods need nodes (the on-demand node group, or the NodePool that EKS Auto Mode
  // launches them from), and their role, policy and Pod Identity association before
  // they ask for credentials. On delete it goes before the nodes, so the controller
  // can remove the finalizers of the TargetGroupBindings first.
  chart.node.addDependency(capacity, role, policy, association);
  return chart;
}
