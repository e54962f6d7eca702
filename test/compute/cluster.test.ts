import { CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Cluster, ClusterOptions, ClusterSupportType, INodeScalingTarget, Network, NodeScaling, NodeScalingStrategy, PlatformProfile } from '../../src';
import { TEST_ENV, testStack } from '../support/app';

function setup(props: ClusterOptions & { profile?: PlatformProfile } = {}, stack: Stack = testStack({ env: TEST_ENV })) {
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup, ...props });
  return { stack, cluster, template: Template.fromStack(stack) };
}

const ref = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}`) });
const arnOf = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'] });
/** Pod Identity's trust, conditioned on the session tags it sets: this cluster, one namespace, one service account. */
const podIdentityTrust = (namespace: string, serviceAccount: string) => ({
  Action: ['sts:AssumeRole', 'sts:TagSession'],
  Effect: 'Allow',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Condition: {
    StringEquals: {
      'aws:RequestTag/eks-cluster-arn': arnOf('ComputeCluster'),
      'aws:RequestTag/kubernetes-namespace': namespace,
      'aws:RequestTag/kubernetes-service-account': serviceAccount,
    },
  },
});

describe('Cluster', () => {
  describe('with defaults', () => {
    const { cluster, template, stack } = setup();

    test('says its support policy, and its node groups follow its Kubernetes version', () => {
      // Standard support only: at its end EKS upgrades the control plane, instead of billing extended support.
      template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.36', UpgradePolicy: { SupportType: 'STANDARD' } });
      template.resourcePropertiesCountIs('AWS::EKS::Nodegroup', { Version: '1.36', ReleaseVersion: Match.absent() }, 2);
      const { template: pinned } = setup({
        kubernetesVersion: eks.KubernetesVersion.V1_34, nodeReleaseVersion: '1.34.2-20261118', supportType: ClusterSupportType.EXTENDED,
      });
      pinned.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.34', UpgradePolicy: { SupportType: 'EXTENDED' } });
      pinned.resourcePropertiesCountIs('AWS::EKS::Nodegroup', { Version: '1.34', ReleaseVersion: '1.34.2-20261118' }, 2);
    });

    test('publishes Container Insights metrics by cluster name', () => {
      expect(stack.resolve(cluster.metricInsights('node_cpu_utilization'))).toMatchObject({
        namespace: 'ContainerInsights', metricName: 'node_cpu_utilization', statistic: 'Average', dimensions: { ClusterName: cluster.clusterName },
      });
    });

    test('creates a private Kubernetes 1.36 cluster with envelope-encrypted secrets, access entries and every log type', () => {
      template.hasResource('AWS::EKS::Cluster', {
        Properties: Match.objectLike({
          Name: cluster.clusterName,
          Version: '1.36',
          AccessConfig: { AuthenticationMode: 'API' },
          EncryptionConfig: [{ Provider: { KeyArn: arnOf('ComputeKey') }, Resources: ['secrets'] }],
          ResourcesVpcConfig: Match.objectLike({
            EndpointPrivateAccess: true,
            EndpointPublicAccess: false,
            SubnetIds: [ref('NetworkVpcPrivateSubnet1'), ref('NetworkVpcPrivateSubnet2')],
          }),
          Logging: {
            ClusterLogging: {
              EnabledTypes: [{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }, { Type: 'controllerManager' }, { Type: 'scheduler' }],
            },
          },
        }),
        DependsOn: Match.arrayWith([Match.stringLikeRegexp('^ComputeControlPlaneLogs')]),
      });
      expect(cluster.clusterName).toMatch(/^Test-Compute-[0-9A-F]{8}$/);
    });

    test('keeps control-plane logs a year in an encrypted group it creates first', () => {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/aws/eks/${cluster.clusterName}/cluster`, RetentionInDays: 365, KmsKeyId: arnOf('ComputeKey') },
        // Named after the cluster: removed when a first create rolls back, kept otherwise.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
    });

    test('lets EC2 use the key for node volumes on behalf of this account, as the aws/ebs key does, naming no role that may not exist', () => {
      const throughEc2 = { 'kms:CallerAccount': '123456789012', 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' };
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Effect: 'Allow',
              Principal: { AWS: '*' },
              Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
              Resource: '*',
              Condition: { StringEquals: throughEc2 },
            },
            {
              Effect: 'Allow',
              Principal: { AWS: '*' },
              Action: 'kms:CreateGrant',
              Resource: '*',
              Condition: { StringEquals: throughEc2, Bool: { 'kms:GrantIsForAWSResource': true } },
            },
          ]),
        },
      });
      // The Auto Scaling service-linked role exists only once the account has used Auto Scaling.
      expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).not.toContain('AWSServiceRoleForAutoScaling');
    });

    test('launches nodes with IMDSv2 (hop limit 1), one-minute monitoring, encrypted gp3 volumes and the workloads\' security group', () => {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          Monitoring: { Enabled: true },
          BlockDeviceMappings: [{
            DeviceName: '/dev/xvda',
            Ebs: { Encrypted: true, KmsKeyId: arnOf('ComputeKey'), VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true },
          }],
          SecurityGroupIds: [
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^ComputeCluster'), 'ClusterSecurityGroupId'] },
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkWorkloadSecurityGroup'), 'GroupId'] },
          ],
        }),
      });
    });

    test('runs an on-demand group of t3.medium (2 to 10, 3 at first) on AL2023', () => {
      template.hasResourceProperties('AWS::EKS::Nodegroup', {
        CapacityType: 'ON_DEMAND',
        AmiType: 'AL2023_x86_64_STANDARD',
        InstanceTypes: ['t3.medium'],
        ScalingConfig: { MinSize: 2, MaxSize: 10, DesiredSize: 3 },
        Labels: { 'codelearn.dev/capacity': 'on-demand' },
        LaunchTemplate: { Id: ref('ComputeNodeLaunchTemplate'), Version: Match.anyValue() },
        NodeRole: arnOf('ComputeNodeRole'),
        Subnets: [ref('NetworkVpcPrivateSubnet1'), ref('NetworkVpcPrivateSubnet2')],
        UpdateConfig: { MaxUnavailablePercentage: 33 },
        NodeRepairConfig: { Enabled: true },
      });
    });

    test('runs a tainted spot group of several instance types of one shape that scales from zero', () => {
      template.hasResourceProperties('AWS::EKS::Nodegroup', {
        CapacityType: 'SPOT',
        // 2 vCPU and 4 GiB each: the Cluster Autoscaler plans a group with its first type.
        InstanceTypes: ['t3.medium', 't3a.medium', 'c5.large', 'c5a.large', 'c6i.large', 'c6a.large'],
        ScalingConfig: { MinSize: 0, MaxSize: 10, DesiredSize: 0 },
        Taints: [{ Key: 'codelearn.dev/capacity', Value: 'spot', Effect: 'NO_SCHEDULE' }],
        Labels: { 'codelearn.dev/capacity': 'spot' },
      });
      expect(cluster.spotNodes).toBeDefined();
      // The key every language's users tolerate, from the jsii API.
      expect(Cluster.CAPACITY_LABEL).toBe('codelearn.dev/capacity');
    });

    test('gives nodes only the worker and image-pull policies', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKSWorkerNodePolicy']] },
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']] },
        ],
      });
    });

    test('installs six native add-ons, the node-less ones before the nodes', () => {
      const addons = template.findResources('AWS::EKS::Addon');
      const names = Object.values(addons).map(addon => addon.Properties.AddonName).sort();
      expect(names).toEqual(['aws-ebs-csi-driver', 'coredns', 'eks-pod-identity-agent', 'kube-proxy', 'metrics-server', 'vpc-cni']);
      for (const addon of Object.values(addons)) {
        expect(addon.Properties.ResolveConflicts).toBe('OVERWRITE');
      }
      const nodegroup = Object.values(template.findResources('AWS::EKS::Nodegroup', { Properties: { CapacityType: 'ON_DEMAND' } }))[0];
      expect(nodegroup.DependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^ComputeAddonVpcCni/), expect.stringMatching(/^ComputeAddonKubeProxy/), expect.stringMatching(/^ComputeAddonEksPodIdentityAgent/),
      ]));
      const coredns = Object.values(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'coredns' } }))[0];
      expect(coredns.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ComputeClusterNodegroupOnDemandNodes/)]));
    });

    test('gives vpc-cni and the EBS CSI driver their own Pod Identity roles', () => {
      template.hasResourceProperties('AWS::EKS::Addon', {
        AddonName: 'vpc-cni',
        PodIdentityAssociations: [{ ServiceAccount: 'aws-node', RoleArn: arnOf('ComputeCniRole') }],
      });
      template.hasResourceProperties('AWS::EKS::Addon', {
        AddonName: 'aws-ebs-csi-driver',
        PodIdentityAssociations: [{ ServiceAccount: 'ebs-csi-controller-sa', RoleArn: arnOf('ComputeEbsCsiRole') }],
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [podIdentityTrust('kube-system', 'aws-node')] },
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKS_CNI_Policy']] }],
      });
    });

    test('trusts each Pod Identity role only to its own cluster, namespace and service account', () => {
      const trusts = Object.values(template.findResources('AWS::IAM::Role'))
        .map(role => role.Properties.AssumeRolePolicyDocument.Statement[0])
        .filter(statement => statement.Principal.Service === 'pods.eks.amazonaws.com');
      expect(trusts).toHaveLength(4);
      for (const [namespace, serviceAccount] of [['kube-system', 'aws-node'], ['kube-system', 'ebs-csi-controller-sa'],
        ['kube-system', 'aws-load-balancer-controller'], ['kube-system', 'cluster-autoscaler']]) {
        template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [podIdentityTrust(namespace, serviceAccount)] } });
      }
    });

    test('installs the AWS Load Balancer Controller with a Pod Identity role that cannot create load balancers', () => {
      template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
        Chart: 'aws-load-balancer-controller',
        Repository: 'https://aws.github.io/eks-charts',
        Namespace: 'kube-system',
        Release: 'aws-load-balancer-controller',
        // The newest chart (v3.5.0), released after Kubernetes 1.36.
        Version: '3.5.0',
      });
      template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
        Namespace: 'kube-system', ServiceAccount: 'aws-load-balancer-controller', RoleArn: arnOf('ComputeLoadBalancerControllerRole'),
      });
      const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy', {
        Properties: { Description: Match.stringLikeRegexp('^AWS Load Balancer Controller') },
      }))[0];
      const actions: string[] = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => s.Action);
      expect(actions.filter(action => !/:Describe/.test(action))).toEqual(['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets']);
    });

    test('waits for the controller\'s pods (its webhook fails closed), after their Pod Identity association', () => {
      for (const [chart, serviceAccount] of [['aws-load-balancer-controller', 'aws-load-balancer-controller'], ['cluster-autoscaler', 'cluster-autoscaler']]) {
        const [resource] = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: chart } }));
        expect(resource.Properties).toEqual(expect.objectContaining({ Wait: true, Timeout: '600s' }));
        const [association] = Object.keys(template.findResources('AWS::EKS::PodIdentityAssociation', { Properties: { ServiceAccount: serviceAccount } }));
        expect(resource.DependsOn).toContain(association);
      }
    });

    test('installs the Cluster Autoscaler, allowed to resize only this cluster\'s groups', () => {
      expect(cluster.nodeScaling.strategy).toBe(NodeScalingStrategy.CLUSTER_AUTOSCALER);
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([{
            Effect: 'Allow',
            Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
            Resource: '*',
            Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.clusterName}`]: 'owned' } },
          }]),
        },
      });
    });

    test('runs the autoscaler of the cluster\'s Kubernetes version on a chart whose rules serve it, with requests', () => {
      // Chart 9.59.0 ships autoscaler 1.35 with the RBAC rules 1.35 needs (resource.k8s.io);
      // no chart ships 1.36 yet, and 1.36.1 reads nothing more (src/private/versions.ts).
      template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
        Chart: 'cluster-autoscaler',
        Repository: 'https://kubernetes.github.io/autoscaler',
        Version: '9.59.0',
        Namespace: 'kube-system',
        Values: Match.serializedJson(Match.objectLike({
          image: { tag: 'v1.36.1' },
          autoDiscovery: { clusterName: cluster.clusterName },
          resources: { requests: { cpu: '100m', memory: '300Mi' }, limits: { memory: '600Mi' } },
        })),
      });
    });

    test('removes nodes whose pods have emptyDirs, and prefers the spot group for pods that tolerate it', () => {
      template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
        Chart: 'cluster-autoscaler',
        Values: Match.serializedJson(Match.objectLike({
          extraArgs: {
            'balance-similar-node-groups': true,
            'skip-nodes-with-system-pods': false,
            'skip-nodes-with-local-storage': false,
            'expander': 'priority,least-waste',
          },
          expanderPriorities: { 50: ['.*SpotNodes.*'], 10: ['.*'] },
        })),
      });
      // The pattern matches the spot group's generated name (its Auto Scaling group is eks-<name>-<id>), not the on-demand one's.
      const names = Object.keys(template.findResources('AWS::EKS::Nodegroup'));
      expect(names.filter(name => /SpotNodes/.test(name))).toHaveLength(1);
      expect(names.filter(name => /OnDemandNodes/.test(name))).toHaveLength(1);
    });

    test('gives the Load Balancer Controller requests and a disruption budget', () => {
      const [chart] = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'aws-load-balancer-controller' } }));
      // The values carry the VPC's ID, so they are a join: read them with the reference as text.
      const values = JSON.parse(chart.Properties.Values['Fn::Join'][1].map((part: any) => typeof part === 'string' ? part : 'vpc').join(''));
      expect(values).toMatchObject({
        replicaCount: 2,
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        podDisruptionBudget: { maxUnavailable: 1 },
      });
    });

    test('lets the kubectl handler read no container registry: both charts come from HTTPS repositories', () => {
      const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => /KubectlProviderHandlerServiceRole/.test(id))![1];
      expect(JSON.stringify(role.Properties.ManagedPolicyArns)).not.toContain('ContainerRegistry');
      expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AWSLambdaVPCAccessExecutionRole');
      expect(Object.keys(template.toJSON().Conditions ?? {}).filter(name => /EcrPublic/.test(name))).toEqual([]);
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('/Test/Compute', Match.anyValue());
    });
  });

  test('development profile: one small on-demand group without spot, and a warning', () => {
    const { cluster, template, stack } = setup({ profile: PlatformProfile.DEVELOPMENT });
    template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 1, MaxSize: 3, DesiredSize: 1 } });
    // Five-minute EC2 metrics are enough for development.
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ Monitoring: { Enabled: false } }) });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/eks/'), RetentionInDays: 30 });
    expect(cluster.spotNodes).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp('^The cluster runs one small on-demand node group'));
  });

  test('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const { template } = setup({
      kubernetesVersion: eks.KubernetesVersion.V1_35,
      publicEndpointCidrs: ['203.0.113.0/24'],
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.LARGE),
      nodes: { minSize: 3, maxSize: 20, desiredSize: 4 },
      spot: true,
      spotInstanceTypes: [new ec2.InstanceType('m5.large'), new ec2.InstanceType('m5a.large')],
      spotNodes: { minSize: 1, maxSize: 5, desiredSize: 2 },
      nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.55.1', imageTag: 'v1.35.1' }),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true }),
    }, stack);
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] }),
      EncryptionConfig: [{ Provider: { KeyArn: arnOf('BroughtKey') }, Resources: ['secrets'] }],
    });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'ON_DEMAND', InstanceTypes: ['m5.large'], ScalingConfig: { MinSize: 3, MaxSize: 20, DesiredSize: 4 },
    });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'SPOT', InstanceTypes: ['m5.large', 'm5a.large'], ScalingConfig: { MinSize: 1, MaxSize: 5, DesiredSize: 2 },
    });
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'cluster-autoscaler', Version: '9.55.1', Values: Match.serializedJson(Match.objectLike({ image: { tag: 'v1.35.1' } })),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/eks/'), RetentionInDays: 90 });
    template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('^Encrypts the Kubernetes') }, 0);
  });

  test('creates Pod Identity roles for services', () => {
    const stack = testStack({ env: TEST_ENV });
    const cluster = new Cluster(stack, 'Compute', { vpc: new Network(stack, 'Network').vpc });
    const identity = cluster.addPodIdentityRole('AppRole', 'apps', 'user-service');
    new s3.Bucket(stack, 'Bucket', { enforceSSL: true }).grantRead(identity);
    const template = Template.fromStack(stack);
    // The grant is a customer-managed policy on the role, never an inline one.
    const inline = Object.values(template.findResources('AWS::IAM::Policy')).filter(policy => JSON.stringify(policy.Properties.Roles).includes('ComputeAppRole'));
    expect(inline).toEqual([]);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: 'Permissions of apps/user-service',
      Roles: [{ Ref: Match.stringLikeRegexp('^ComputeAppRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:GetObject*']) })]) },
    });
    expect(stack.resolve(identity.role.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ComputeAppRole/), 'Arn'] });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: ref('ComputeCluster'),
      Namespace: 'apps',
      ServiceAccount: 'user-service',
      RoleArn: arnOf('ComputeAppRole'),
    });
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [podIdentityTrust('apps', 'user-service')] } });
  });

  test('CPU target tracking at 70% instead of the Cluster Autoscaler', () => {
    const { cluster, template, stack } = setup({ nodeScaling: NodeScaling.cpuTargetTracking() });
    expect(cluster.nodeScaling.strategy).toBe(NodeScalingStrategy.CPU_TARGET_TRACKING);
    template.resourcePropertiesCountIs('Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' }, 0);
    template.resourcePropertiesCountIs('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 70 },
      AutoScalingGroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp('AutoScalingGroup'), 'nodegroup.resources.autoScalingGroups.0.name'] },
    }, 2);
    const lookups = Object.values(template.findResources('Custom::AWS'));
    expect(lookups).toHaveLength(2);
    for (const lookup of lookups) {
      expect(JSON.stringify(lookup.Properties.Create)).toContain('\\"action\\":\\"describeNodegroup\\"');
      // The node group's own name: its Ref is `<cluster>/<nodegroup>` without a feature flag.
      expect(JSON.stringify(lookup.Properties.Create)).toMatch(/"Fn::GetAtt":\["ComputeClusterNodegroup(OnDemand|Spot)Nodes[0-9A-F]{8}","NodegroupName"\]/);
    }
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'eks:DescribeNodegroup' })]) },
    });
    // The function's role has its network-interface permissions from the moment it exists.
    const [roleId, role] = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('CodeLearnAwsCallsRole'))!;
    const [functionResource] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Role: { 'Fn::GetAtt': [roleId, 'Arn'] } } }));
    const policy = JSON.stringify(template.toJSON().Resources[role.Properties.ManagedPolicyArns[0].Ref].Properties.PolicyDocument);
    expect(policy).toContain('ec2:CreateNetworkInterface');
    expect(policy).toContain('logs:PutLogEvents');
    expect(functionResource.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/^CodeLearnAwsCallsLogs/) });
    Annotations.fromStack(stack).hasNoWarning('/Test/Compute', Match.anyValue());
  });

  test('a strategy binds itself: one of your own replaces the autoscaler with no change to the cluster', () => {
    /** Stands in for Karpenter: records what it was bound to and leaves a marker. */
    class OwnScaling extends NodeScaling {
      public readonly strategy = NodeScalingStrategy.CUSTOM;
      public bound?: INodeScalingTarget;
      constructor() {
        super();
      }
      public bind(cluster: INodeScalingTarget): void {
        this.bound = cluster;
        new CfnWaitConditionHandle(cluster, 'OwnScaling');
        // A strategy may size the node groups through their Auto Scaling groups, looked up once each.
        expect(cluster.autoScalingGroupName(cluster.onDemandNodes!)).toBe(cluster.autoScalingGroupName(cluster.onDemandNodes!));
        const stranger = cluster.eksCluster.addNodegroupCapacity('Stranger', { minSize: 0 });
        expect(() => cluster.autoScalingGroupName(stranger)).toThrow(new Error(
          'Test/Compute/Cluster/NodegroupStranger is not a node group of Test/Compute, or the cluster is not built yet.'));
      }
    }
    const own = new OwnScaling();
    const { cluster, template } = setup({ nodeScaling: own });
    expect(own.bound).toBe(cluster);
    expect(cluster.nodeScaling).toBe(own);
    template.resourcePropertiesCountIs('Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' }, 0);
    template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 0);
    template.resourceCountIs('AWS::CloudFormation::WaitConditionHandle', 1);
    expect(Object.keys(template.findResources('Custom::AWS'))).toEqual([expect.stringMatching(/^ComputeOnDemandAutoScalingGroup/)]);
  });

  test('Cluster Autoscaler combined with target tracking warns', () => {
    const { template, stack } = setup({ nodeScaling: NodeScaling.clusterAutoscaler({ cpuTargetTrackingPercent: 60 }) });
    template.resourcePropertiesCountIs('Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' }, 1);
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', { TargetTrackingConfiguration: Match.objectLike({ TargetValue: 60 }) });
    Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp('^Cluster Autoscaler and CPU target tracking both resize'));
  });

  test('scheduled scaling of the on-demand group', () => {
    const { template } = setup({
      scheduledScaling: [
        { name: 'weekday-morning', schedule: '0 7 * * MON-FRI', timeZone: 'Europe/Berlin', minSize: 4, desiredSize: 5 },
        { name: 'night', schedule: '0 22 * * *', minSize: 2, desiredSize: 2 },
      ],
    });
    template.hasResourceProperties('AWS::AutoScaling::ScheduledAction', {
      Recurrence: '0 7 * * MON-FRI',
      TimeZone: 'Europe/Berlin',
      MinSize: 4,
      DesiredCapacity: 5,
      MaxSize: Match.absent(),
      AutoScalingGroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ComputeOnDemandAutoScalingGroup'), 'nodegroup.resources.autoScalingGroups.0.name'] },
    });
    template.hasResourceProperties('AWS::AutoScaling::ScheduledAction', { Recurrence: '0 22 * * *', TimeZone: 'UTC' });
    template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 0);
  });

  test('fails on a Pod Identity role for a namespace that is not a Kubernetes name', () => {
    const stack = testStack();
    const cluster = new Cluster(stack, 'Compute', { vpc: new ec2.Vpc(stack, 'Vpc') });
    expect(() => cluster.addPodIdentityRole('AppRole', 'Apps', 'user-service')).toThrow(new Error(
      '`namespace` (\'Apps\') is not a Kubernetes name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, at most 63 characters.'));
  });

  describe('fails on bad input', () => {
    const cases: [string, ClusterOptions, string][] = [
      ['min above max', { nodes: { minSize: 5, maxSize: 3, desiredSize: 3 } },
        '`nodes.maxSize` (3) must be >= `nodes.minSize` (5): raise maxSize or lower minSize.'],
      ['desired below min', { nodes: { minSize: 2, maxSize: 10, desiredSize: 1 } },
        '`nodes.desiredSize` (1) must be a whole number from `nodes.minSize` (2) to `nodes.maxSize` (10).'],
      ['desired above max', { spotNodes: { desiredSize: 11 } },
        '`spotNodes.desiredSize` (11) must be a whole number from `spotNodes.minSize` (0) to `spotNodes.maxSize` (10).'],
      ['a negative minimum', { nodes: { minSize: -1 } }, '`nodes.minSize` (-1) must be a whole number from 0 to 100.'],
      ['too many nodes', { nodes: { maxSize: 500 } }, '`nodes.maxSize` (500) must be a whole number from 1 to 100.'],
      ['one spot type', { spotInstanceTypes: [new ec2.InstanceType('m5.large')] },
        '`spotInstanceTypes` lists 1 type(s): a spot group needs at least 2, so that capacity is found when one type is short.'],
      ['spot options without spot', { spot: false, spotNodes: { maxSize: 3 } },
        '`spotNodes` and `spotInstanceTypes` are set but `spot` is false: set `spot: true`, or remove them.'],
      ['a schedule that is not cron', { scheduledScaling: [{ name: 'morning', schedule: 'every morning', minSize: 3 }] },
        '`scheduledScaling.morning.schedule` (\'every morning\') is not a cron expression of five fields, such as \'0 7 * * MON-FRI\'.'],
      ['a schedule that changes nothing', { scheduledScaling: [{ name: 'noop', schedule: '0 7 * * *' }] },
        '`scheduledScaling.noop` changes nothing: set minSize, maxSize or desiredSize.'],
      ['a schedule name twice', { scheduledScaling: [{ name: 'a', schedule: '0 7 * * *', minSize: 1 }, { name: 'a', schedule: '0 8 * * *', minSize: 2 }] },
        '`scheduledScaling` has the name \'a\': use letters, digits and \'-\', once per cluster.'],
      ['a world-open endpoint', { publicEndpointCidrs: ['0.0.0.0/0'] },
        '`publicEndpointCidrs` has \'0.0.0.0/0\': list IPv4 CIDR blocks narrower than 0.0.0.0/0, such as \'203.0.113.0/24\'.'],
      ['an endpoint CIDR that is none', { publicEndpointCidrs: ['999.0.0.0/8'] },
        '`publicEndpointCidrs` has \'999.0.0.0/8\': list IPv4 CIDR blocks narrower than 0.0.0.0/0, such as \'203.0.113.0/24\'.'],
      ['an autoscaler image its chart does not ship', { nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.52.1', imageTag: 'v1.35.0' }) },
        '`clusterAutoscaler.imageTag` (\'v1.35.0\') is not an autoscaler version chart 9.52.1 runs (v1.34.1): the chart\'s permissions are ' +
        'written for its own version. Remove `imageTag`, or choose the chart that ships 1.35.'],
      ['an autoscaler 1.36 on a chart whose rules do not serve it', { nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.58.0', imageTag: 'v1.36.1' }) },
        '`clusterAutoscaler.imageTag` (\'v1.36.1\') is not an autoscaler version chart 9.58.0 runs (v1.35.0): the chart\'s permissions are ' +
        'written for its own version. Remove `imageTag`, or choose the chart that ships 1.36.'],
      ['an unknown chart without its image', { nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.99.0' }) },
        '`clusterAutoscaler.chartVersion` (\'9.99.0\') is not a chart the library knows: set `imageTag` to the autoscaler version it ships ' +
        '(its appVersion, such as \'v1.36.1\'), so that image and permissions match.'],
      ['an add-on the cluster does not install', { addonVersions: { 'aws-efs-csi-driver': 'v2.1.0-eksbuild.1' } },
        '`addonVersions` names \'aws-efs-csi-driver\', which is not an add-on of the cluster: use \'vpc-cni\', \'kube-proxy\', ' +
        '\'eks-pod-identity-agent\', \'coredns\', \'metrics-server\', \'aws-ebs-csi-driver\'.'],
      ['an add-on version that is not one', { addonVersions: { 'vpc-cni': '1.20' } },
        '`addonVersions.vpc-cni` (\'1.20\') is not an EKS add-on version such as \'v1.20.4-eksbuild.2\': ' +
        'list them with `aws eks describe-addon-versions --addon-name <add-on> --kubernetes-version <version>`.'],
      ['an autoscaler image that is no version', { nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.99.0', imageTag: 'latest' }) },
        '`clusterAutoscaler.imageTag` (\'latest\') is not an autoscaler version such as \'v1.36.1\'.'],
      ['a node release of another Kubernetes version', { nodeReleaseVersion: '1.34.2-20261118' },
        '`nodeReleaseVersion` (\'1.34.2-20261118\') must be an EKS AMI release of Kubernetes 1.36, such as \'1.36.0-20261118\': find the newest with ' +
        '`aws ssm get-parameter --name /aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/release_version`.'],
      ['a node release that is no release', { nodeReleaseVersion: 'latest' },
        '`nodeReleaseVersion` (\'latest\') must be an EKS AMI release of Kubernetes 1.36, such as \'1.36.0-20261118\': find the newest with ' +
        '`aws ssm get-parameter --name /aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/release_version`.'],
      ['a Kubernetes version without a known chart', { kubernetesVersion: eks.KubernetesVersion.V1_33, supportType: ClusterSupportType.EXTENDED },
        'The library knows no Cluster Autoscaler chart for Kubernetes 1.33: set `nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion, imageTag })` ' +
        'to a chart of https://kubernetes.github.io/autoscaler and the autoscaler version it ships (its appVersion).'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      const stack = testStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      expect(() => new Cluster(stack, 'Compute', { vpc, ...props })).toThrow(new Error(message));
    });

    test('pins the add-on versions it is given, and leaves the others to EKS', () => {
      const { stack } = setup({ addonVersions: { 'vpc-cni': 'v1.20.4-eksbuild.2', 'coredns': 'v1.12.4-eksbuild.1' } });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', AddonVersion: 'v1.20.4-eksbuild.2' });
      template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'coredns', AddonVersion: 'v1.12.4-eksbuild.1' });
      template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'kube-proxy', AddonVersion: Match.absent() });
    });

    test('warns when the autoscaler does not match the cluster\'s Kubernetes version, or the kubectl layer is more than a minor version off', () => {
      const { stack } = setup({
        kubernetesVersion: eks.KubernetesVersion.V1_34, supportType: ClusterSupportType.EXTENDED, nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.59.0' }),
      });
      Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp(
        '^The Cluster Autoscaler v1.35.0 does not match the cluster\'s Kubernetes 1.34'));
      // kubectl 1.36 works with 1.35: one minor version of skew.
      const { stack: previous } = setup({ kubernetesVersion: eks.KubernetesVersion.V1_35 });
      Annotations.fromStack(previous).hasNoWarning('/Test/Compute', Match.stringLikeRegexp('^The cluster runs Kubernetes'));
      Annotations.fromStack(previous).hasNoWarning('/Test/Compute', Match.stringLikeRegexp('^The Cluster Autoscaler'));
      Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp(
        '^The cluster runs Kubernetes 1.34 with the kubectl 1.36 layer: kubectl supports one minor version of skew'));
      // A chart whose rules serve only 1.35 runs 1.35 on a 1.36 cluster, and says so.
      const { stack: olderChart } = setup({ nodeScaling: NodeScaling.clusterAutoscaler({ chartVersion: '9.58.0' }) });
      Annotations.fromStack(olderChart).hasWarning('/Test/Compute', Match.stringLikeRegexp(
        '^The Cluster Autoscaler v1.35.0 does not match the cluster\'s Kubernetes 1.36'));
    });

    test('a CPU target outside 10-90', () => {
      expect(() => NodeScaling.cpuTargetTracking({ targetUtilizationPercent: 95 }))
        .toThrow(new Error('The CPU target of node scaling (95) must be a whole percentage from 10 to 90.'));
      expect(() => NodeScaling.clusterAutoscaler({ cpuTargetTrackingPercent: 0 }))
        .toThrow(new Error('The CPU target of node scaling (0) must be a whole percentage from 10 to 90.'));
    });
  });
});
