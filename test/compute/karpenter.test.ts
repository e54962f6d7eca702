import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Cluster, ClusterOptions, KarpenterOptions, Microservice, Network, NodeScaling, NodeScalingStrategy, PlatformProfile, SandboxService } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { kubernetesObjects, validateKubernetesObject } from '../support/kubernetes';

function setup(karpenter: KarpenterOptions = {}, props: ClusterOptions & { profile?: PlatformProfile } = {}) {
  const stack = testStack({ env: TEST_ENV });
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Compute', {
    vpc: network.vpc,
    workloadSecurityGroup: network.workloadSecurityGroup,
    nodeScaling: NodeScaling.karpenter(karpenter),
    ...props,
  });
  return { stack, cluster, network, template: () => Template.fromStack(stack) };
}

const objects = (template: Template, kind: string) => kubernetesObjects(template.toJSON()).filter(object => object.kind === kind);
const arnOf = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'] });

describe('Karpenter', () => {
  describe('in production, with spot', () => {
    const { stack, cluster } = setup();
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*' });
    const template = Template.fromStack(stack);

    test('replaces the Cluster Autoscaler and the spot node group; the on-demand group stays, for the system', () => {
      expect(cluster.nodeScaling.strategy).toBe(NodeScalingStrategy.KARPENTER);
      template.resourcePropertiesCountIs('Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' }, 0);
      template.resourceCountIs('AWS::EKS::Nodegroup', 1);
      template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'ON_DEMAND', ScalingConfig: { MinSize: 2, MaxSize: 10, DesiredSize: 3 } });
      expect(cluster.spotNodes).toBeUndefined();
    });

    test('installs the CRDs\' chart, then the controller\'s, 1.14.1 from Karpenter\'s OCI registry, waiting for them', () => {
      template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
        Chart: 'karpenter-crd',
        Repository: 'oci://public.ecr.aws/karpenter/karpenter-crd',
        Version: '1.14.1',
        Namespace: 'kube-system',
        Release: 'karpenter-crd',
        Wait: true,
        Timeout: '600s',
      });
      const controller = template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'karpenter' } });
      const [id, chart] = Object.entries<any>(controller)[0];
      expect(chart.Properties).toMatchObject({ Repository: 'oci://public.ecr.aws/karpenter/karpenter', Version: '1.14.1', Release: 'karpenter', Wait: true });
      expect(chart.DependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^ComputeClusterchartKarpenterCrds/), expect.stringMatching(/^ComputeClusterNodegroupOnDemandNodes/),
        expect.stringMatching(/^ComputeKarpenterControllerRoleAssociation/), expect.stringMatching(/^ComputeKarpenterControllerPolicy/),
        expect.stringMatching(/^ComputeAddonCoredns/),
      ]));
      const text = JSON.stringify(chart.Properties.Values);
      expect(text).toContain(`\\"clusterName\\":\\"${cluster.clusterName}\\"`);
      expect(text).toContain('\\"replicas\\":2');
      expect(text).toContain('\\"env\\":[{\\"name\\":\\"AWS_REGION\\",\\"value\\":\\"us-east-1\\"}]');
      expect(text).toMatch(/interruptionQueue.*ComputeKarpenterInterruptions\w+","QueueName"/);
      expect(id).toMatch(/^ComputeClusterchartKarpenter/);
    });

    test('lets the kubectl handler log in to ECR Public, and only that', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('KubectlProviderHandlerServiceRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'ecr-public:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
            { Action: 'sts:GetServiceBearerToken', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'sts:AWSServiceName': 'ecr-public.amazonaws.com' } } },
          ]),
        },
      });
    });

    test('gives the nodes a role of their own, an instance profile and an EC2_LINUX access entry', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
        Description: Match.stringLikeRegexp('^Nodes that Karpenter launches'),
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKSWorkerNodePolicy']] },
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']] },
        ],
      });
      template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: Match.stringLikeRegexp('^ComputeKarpenterNodeRole') }] });
      template.hasResource('AWS::EKS::AccessEntry', {
        Properties: { ClusterName: cluster.clusterName, PrincipalArn: arnOf('ComputeKarpenterNodeRole'), Type: 'EC2_LINUX' },
        DependsOn: [Match.stringLikeRegexp('^ComputeCluster[0-9A-F]{8}$')],
      });
    });

    test('reads interruptions from an encrypted queue that four EventBridge rules fill', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 300, SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sqs:*', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Principal: { Service: 'events.amazonaws.com' } }),
          ]),
        },
      });
      for (const [source, detailType] of [
        ['aws.ec2', 'EC2 Spot Instance Interruption Warning'], ['aws.ec2', 'EC2 Instance Rebalance Recommendation'],
        ['aws.ec2', 'EC2 Instance State-change Notification'], ['aws.health', 'AWS Health Event'],
      ]) {
        template.hasResourceProperties('AWS::Events::Rule', {
          EventPattern: { 'source': [source], 'detail-type': [detailType] },
          Targets: [Match.objectLike({ Arn: arnOf('ComputeKarpenterInterruptions') })],
        });
      }
    });

    test('gives the controller a Pod Identity role that launches and ends only this cluster\'s tagged instances', () => {
      template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'karpenter' });
      const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${cluster.clusterName}`]: 'owned' };
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^ComputeKarpenterControllerRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'CreateOwnedResources',
              Action: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
              Condition: {
                StringEquals: { [`aws:RequestTag/kubernetes.io/cluster/${cluster.clusterName}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': cluster.clusterName },
                StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
              },
            }),
            Match.objectLike({
              Sid: 'DeleteOwnResources',
              Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
              Condition: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
            }),
            Match.objectLike({
              Sid: 'PassNodeRole',
              Action: 'iam:PassRole',
              Resource: arnOf('ComputeKarpenterNodeRole'),
              Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
            }),
            Match.objectLike({ Sid: 'CreateSpotServiceLinkedRole', Action: 'iam:CreateServiceLinkedRole', Condition: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } } }),
            Match.objectLike({ Sid: 'ReadInterruptions', Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], Resource: arnOf('ComputeKarpenterInterruptions') }),
          ]),
        },
      });
      // The stack makes the instance profile: the controller creates, tags and deletes none.
      const documents = JSON.stringify(template.findResources('AWS::IAM::ManagedPolicy'));
      expect(documents).not.toMatch(/iam:(CreateInstanceProfile|TagInstanceProfile|AddRoleToInstanceProfile|DeleteInstanceProfile)/);
    });

    test('launches AL2023 nodes with IMDSv2 at one hop, encrypted gp3 roots with the cluster key, in the node groups\' subnets and security groups', () => {
      const [nodeClass] = objects(template, 'EC2NodeClass');
      expect(nodeClass.spec).toEqual({
        amiFamily: 'AL2023',
        amiSelectorTerms: [{ alias: 'al2023@latest' }],
        instanceProfile: 'cfn-reference',
        subnetSelectorTerms: [{ id: 'cfn-reference' }, { id: 'cfn-reference' }],
        securityGroupSelectorTerms: [{ id: 'cfn-reference' }, { id: 'cfn-reference' }],
        associatePublicIPAddress: false,
        detailedMonitoring: true,
        metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
        blockDeviceMappings: [{
          deviceName: '/dev/xvda',
          rootVolume: true,
          ebs: { volumeSize: '50Gi', volumeType: 'gp3', encrypted: true, kmsKeyID: 'cfn-reference', deleteOnTermination: true },
        }],
      });
      const manifest = JSON.stringify(Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
        .find(resource => JSON.stringify(resource).includes('EC2NodeClass')));
      expect(manifest).toMatch(/ComputeKey\w+","Arn"/);
      expect(manifest).toMatch(/ComputeKarpenterNodeProfile\w+"/);
      expect(manifest).toMatch(/"Fn::GetAtt":\["ComputeCluster[0-9A-F]{8}","ClusterSecurityGroupId"\]/);
      expect(manifest).toMatch(/"Fn::GetAtt":\["NetworkWorkloadSecurityGroup[0-9A-F]{8}","GroupId"\]/);
    });

    test('offers on-demand, spot and its on-demand fallback, by weight, with limits of the node groups\' maxima, consolidating', () => {
      const pools = objects(template, 'NodePool');
      expect(pools.map(pool => [pool.metadata.name, pool.spec.weight, pool.spec.limits, pool.spec.template.metadata.labels['codelearn.dev/capacity']])).toEqual([
        ['codelearn-on-demand', 10, { cpu: '20', memory: '40Gi' }, 'on-demand'],
        ['codelearn-spot', 100, { cpu: '20', memory: '40Gi' }, 'spot'],
        ['codelearn-spot-fallback', 50, { cpu: '20', memory: '40Gi' }, 'spot-fallback'],
      ]);
      const capacity = (pool: any) => pool.spec.template.spec.requirements.find((r: any) => r.key === 'karpenter.sh/capacity-type').values;
      expect(pools.map(capacity)).toEqual([['on-demand'], ['spot'], ['on-demand']]);
      expect(pools.map(pool => pool.spec.template.spec.taints)).toEqual([
        undefined,
        [{ key: 'codelearn.dev/capacity', value: 'spot', effect: 'NoSchedule' }],
        [{ key: 'codelearn.dev/capacity', value: 'spot', effect: 'NoSchedule' }],
      ]);
      for (const pool of pools) {
        expect(pool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] });
        expect(pool.spec.template.spec).toMatchObject({ expireAfter: '720h', terminationGracePeriod: '10m' });
        expect(pool.spec.template.spec.requirements).toEqual(expect.arrayContaining([
          { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
          { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
        ]));
        expect(() => validateKubernetesObject(pool)).not.toThrow();
      }
    });

    test('a spot service requires the spot pools\' nodes; an ordinary one does not tolerate them', () => {
      const [feed, users] = ['feed-service', 'user-service'].map(name => objects(template, 'Deployment').find(d => d.metadata.name === name)!.spec.template.spec);
      expect(feed.tolerations).toEqual([{ key: 'codelearn.dev/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' }]);
      expect(feed.affinity.nodeAffinity).toEqual({
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'codelearn.dev/capacity', operator: 'In', values: ['spot', 'spot-fallback'] }] }],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100, preference: { matchExpressions: [{ key: 'codelearn.dev/capacity', operator: 'In', values: ['spot'] }] },
        }],
      });
      expect(users.tolerations).toBeUndefined();
      expect(users.affinity).toBeUndefined();
    });

    test('deletes the namespaces before the NodePools, the NodePools before the node class, the node class before the controller', () => {
      const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
      const idOf = (fragment: string) => Object.keys(manifests).find(id => id.includes(fragment))!;
      // A manifest a pool, so that a pool removed from the options is deleted, not kept by kubectl's prune.
      const pools = ['OnDemand', 'Spot', 'SpotFallback'].map(name => idOf(`manifestKarpenterNodePool${name}`));
      expect(pools).toEqual([
        expect.stringMatching(/^ComputeClustermanifestKarpenterNodePoolOnDemand[0-9A-F]{8}$/),
        expect.stringMatching(/^ComputeClustermanifestKarpenterNodePoolSpot[0-9A-F]{8}$/),
        expect.stringMatching(/^ComputeClustermanifestKarpenterNodePoolSpotFallback[0-9A-F]{8}$/),
      ]);
      for (const pool of pools) {
        expect(manifests[pool].DependsOn).toContain(idOf('manifestKarpenterNodeClass'));
      }
      expect(manifests[idOf('manifestKarpenterNodeClass')].DependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^ComputeClusterchartKarpenter[0-9A-F]{8}$/), expect.stringMatching(/^ComputeKarpenterNodeAccess/),
      ]));
      const namespaces = Object.entries<any>(manifests).filter(([, resource]) => JSON.stringify(resource.Properties.Manifest).includes('\\"kind\\":\\"Namespace\\"'));
      expect(namespaces.length).toBeGreaterThan(0);
      for (const [, namespace] of namespaces) expect(namespace.DependsOn).toEqual(expect.arrayContaining(pools));
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    });
  });

  test('in development: one replica, the on-demand pool only, and a spot service runs where it can', () => {
    const { stack, cluster, template } = setup({}, { profile: PlatformProfile.DEVELOPMENT });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    const built = template();
    expect(objects(built, 'NodePool').map(pool => [pool.metadata.name, pool.spec.limits])).toEqual([['codelearn-on-demand', { cpu: '6', memory: '24Gi' }]]);
    const chart = Object.values<any>(built.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'karpenter' } }))[0];
    expect(JSON.stringify(chart.Properties.Values)).toContain('\\"replicas\\":1');
    const feed = objects(built, 'Deployment')[0].spec.template.spec;
    expect(feed.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  test('options: strict spot, consolidation and expiry, limits, a pinned AMI, the user\'s spot types', () => {
    const { stack, cluster, template } = setup(
      { spotFallback: false, consolidateAfter: Duration.seconds(90), expireAfter: Duration.days(7), cpuLimit: 64, memoryLimitGiB: 256 },
      {
        instanceType: new ec2.InstanceType('m6i.xlarge'),
        spotInstanceTypes: [new ec2.InstanceType('c6i.large'), new ec2.InstanceType('c5.large')],
        spotNodes: { maxSize: 4 },
        nodeReleaseVersion: '1.36.0-20261118',
      });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    const built = template();
    const pools = objects(built, 'NodePool');
    expect(pools.map(pool => [pool.metadata.name, pool.spec.limits])).toEqual([
      ['codelearn-on-demand', { cpu: '64', memory: '256Gi' }],
      ['codelearn-spot', { cpu: '8', memory: '16Gi' }],
    ]);
    expect(pools[1].spec.template.spec.requirements).toContainEqual({ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['c6i.large', 'c5.large'] });
    expect(pools[0].spec.disruption.consolidateAfter).toBe('90s');
    expect(pools[0].spec.template.spec.expireAfter).toBe('168h');
    expect(objects(built, 'EC2NodeClass')[0].spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20261118' }]);
    const feed = objects(built, 'Deployment')[0].spec.template.spec;
    expect(feed.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values).toEqual(['spot']);
    for (const object of [...pools, ...objects(built, 'EC2NodeClass')]) expect(() => validateKubernetesObject(object)).not.toThrow();
  });

  test('the on-demand limits follow the node group\'s type and maximum', () => {
    const { template } = setup({}, { instanceType: new ec2.InstanceType('r6i.2xlarge'), nodes: { minSize: 2, maxSize: 5, desiredSize: 2 } });
    expect(objects(template(), 'NodePool')[0].spec.limits).toEqual({ cpu: '40', memory: '320Gi' });
  });

  test('scheduled scaling still acts on the on-demand node group', () => {
    const { template } = setup({}, { scheduledScaling: [{ name: 'night', schedule: '0 22 * * *', minSize: 2, maxSize: 4 }] });
    template().hasResourceProperties('AWS::AutoScaling::ScheduledAction', { Recurrence: '0 22 * * *', MinSize: 2, MaxSize: 4 });
  });

  test('warns that the sandbox nodes keep their size, which only the Cluster Autoscaler changes', () => {
    const { stack, cluster } = setup();
    new SandboxService(stack, 'Runner', { cluster, name: 'code-runner' });
    Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp(
      '^The sandbox node group keeps 1 node\\(s\\): node scaling KARPENTER does not resize managed node groups, so sandboxNodes.maxSize \\(3\\) is never reached.'));
  });

  test.each<[string, () => unknown, string]>([
    ['a chart that is not Karpenter v1', () => NodeScaling.karpenter({ chartVersion: '0.37.0' }),
      '`karpenter.chartVersion` (\'0.37.0\') is not a Karpenter v1 release such as \'1.14.1\'.'],
    ['a consolidation delay above a day', () => NodeScaling.karpenter({ consolidateAfter: Duration.hours(25) }),
      '`karpenter.consolidateAfter` (1 day 1 hour) must be whole seconds from 0 seconds to 1 day.'],
    ['an expiry below an hour', () => NodeScaling.karpenter({ expireAfter: Duration.minutes(30) }),
      '`karpenter.expireAfter` (30 minutes) must be whole seconds from 1 hour to 90 days.'],
    ['a CPU limit of zero', () => NodeScaling.karpenter({ cpuLimit: 0 }), '`karpenter.cpuLimit` (0) must be a whole number from 1 to 100000.'],
    ['a Kubernetes version Karpenter 1.14 does not serve', () => setup({}, { kubernetesVersion: eks.KubernetesVersion.of('1.37') }),
      'Karpenter 1.14.1 does not serve Kubernetes 1.37 (it serves 1.30 to 1.36): choose a Kubernetes version it serves, or `NodeScaling.clusterAutoscaler()`.'],
    ['an instance type whose shape the library does not know', () => setup({}, { instanceType: new ec2.InstanceType('i4i.large') }),
      'Karpenter cannot derive the limits of NodePool codelearn-on-demand from instance type \'i4i.large\' (not a t, c, m or r type it knows): ' +
      'set `NodeScaling.karpenter({ cpuLimit, memoryLimitGiB })`.'],
  ])('fails on %s, and says what to do', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('the Karpenter schema checks refuse what the 1.14.1 CRDs refuse', () => {
    const { template } = setup();
    const [nodeClass] = objects(template(), 'EC2NodeClass');
    const [pool] = objects(template(), 'NodePool');
    const broken = {
      ...pool,
      spec: {
        ...pool.spec,
        weight: 0,
        disruption: { ...pool.spec.disruption, consolidateAfter: '1 minute' },
        template: { spec: { ...pool.spec.template.spec, requirements: [{ key: 'karpenter.k8s.aws/instance-cpu', operator: 'Gt', values: ['many'] }] } },
        replicas: 'two',
      },
    };
    expect(() => validateKubernetesObject(broken)).toThrow([
      'NodePool/codelearn-on-demand.spec.weight: 0 < 1',
      'NodePool/codelearn-on-demand.spec.disruption.consolidateAfter: \'1 minute\' does not match /^(([0-9]+(s|m|h))+|Never)$/',
      'NodePool/codelearn-on-demand.spec: has replicas, which the CRD does not know',
      'requirement karpenter.k8s.aws/instance-cpu: Gt takes one whole number',
    ].join('\n'));
    expect(() => validateKubernetesObject({ ...nodeClass, spec: { ...nodeClass.spec, role: 'KarpenterNodeRole', amiSelectorTerms: [{ alias: 'al2023@newest' }] } }))
      .toThrow([
        'spec: must set exactly one of role and instanceProfile',
        'spec.amiSelectorTerms: alias \'al2023@newest\' names no family and version Karpenter resolves',
      ].join('\n'));
  });

  test('warns on a Karpenter minor version the library has not written its permissions for', () => {
    const { stack } = setup({ chartVersion: '1.15.0' });
    Annotations.fromStack(stack).hasWarning('/Test/Compute', Match.stringLikeRegexp('^Karpenter 1.15.0 is not the 1.14.1'));
  });
});
