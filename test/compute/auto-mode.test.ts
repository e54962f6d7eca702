import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { AutoModeOptions, Cluster, ClusterOptions, Microservice, Network, NodeScaling, NodeScalingStrategy, PlatformProfile, SandboxService } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { kubernetesObjects, validateKubernetesObject } from '../support/kubernetes';

function setup(autoMode: AutoModeOptions = {}, props: ClusterOptions & { profile?: PlatformProfile } = {}) {
  const stack = testStack({ env: TEST_ENV });
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Compute', {
    vpc: network.vpc,
    workloadSecurityGroup: network.workloadSecurityGroup,
    nodeScaling: NodeScaling.autoMode(autoMode),
    ...props,
  });
  return { stack, cluster, network, template: () => Template.fromStack(stack) };
}

const objects = (template: Template, kind: string) => kubernetesObjects(template.toJSON()).filter(object => object.kind === kind);
const manifestId = (template: Template, kind: string, name: string) => Object.entries<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
  .find(([, resource]) => JSON.stringify(resource.Properties.Manifest).includes(`\\"kind\\":\\"${kind}\\",\\"metadata\\":{\\"name\\":\\"${name}\\"`))![0];

describe('EKS Auto Mode', () => {
  describe('in production, with spot', () => {
    const { stack, cluster, network } = setup();
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*' });
    const template = Template.fromStack(stack);

    test('enables compute, block storage and load balancing without the built-in pools, and leaves bootstrapSelfManagedAddons unset', () => {
      expect(cluster.nodeScaling.strategy).toBe(NodeScalingStrategy.AUTO_MODE);
      template.hasResourceProperties('AWS::EKS::Cluster', {
        ComputeConfig: { Enabled: true, NodePools: [], NodeRoleArn: Match.absent() },
        StorageConfig: { BlockStorage: { Enabled: true } },
        KubernetesNetworkConfig: { ElasticLoadBalancing: { Enabled: true } },
        BootstrapSelfManagedAddons: Match.absent(),
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sts:TagSession', Principal: { Service: 'eks.amazonaws.com' } })]) },
        ManagedPolicyArns: Match.arrayWith(['AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy']
          .map(policy => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${policy}`]] }))),
      });
    });

    test('makes no managed node groups, no launch template, no Cluster Autoscaler, and none of the add-ons Auto Mode runs itself', () => {
      template.resourceCountIs('AWS::EKS::Nodegroup', 0);
      template.resourceCountIs('AWS::EC2::LaunchTemplate', 0);
      template.resourcePropertiesCountIs('Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' }, 0);
      expect(cluster.onDemandNodes).toBeUndefined();
      expect(cluster.spotNodes).toBeUndefined();
      const addons = Object.values<any>(template.findResources('AWS::EKS::Addon')).map(addon => addon.Properties.AddonName);
      expect(addons).toEqual(['metrics-server']);
    });

    test('gives the nodes a role apart from the node groups\', with the minimal node policies and an EC2 access entry with AmazonEKSAutoNodePolicy', () => {
      // The node groups' role keeps the EC2_LINUX entry EKS made for it, and a principal has one entry only.
      template.resourcePropertiesCountIs('AWS::IAM::Role', { Description: Match.stringLikeRegexp('^Nodes of ') }, 0);
      expect(stack.resolve(cluster.nodeRole.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ComputeAutoModeNodeRole/), 'Arn'] });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
        ManagedPolicyArns: ['AmazonEKSWorkerNodeMinimalPolicy', 'AmazonEC2ContainerRegistryPullOnly']
          .map(policy => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${policy}`]] })),
      });
      template.hasResourceProperties('AWS::EKS::AccessEntry', {
        ClusterName: cluster.clusterName,
        PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ComputeAutoModeNodeRole'), 'Arn'] },
        Type: 'EC2',
        AccessPolicies: [{
          PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy']] },
          AccessScope: { Type: 'cluster' },
        }],
      });
    });

    test('one NodeClass: the node groups\' subnets and security groups, no public addresses, encrypted storage, network policies on', () => {
      const [nodeClass] = objects(template, 'NodeClass');
      expect(nodeClass.apiVersion).toBe('eks.amazonaws.com/v1');
      expect(nodeClass.spec).toEqual({
        role: 'cfn-reference',
        subnetSelectorTerms: network.vpc.privateSubnets.map(() => ({ id: 'cfn-reference' })),
        securityGroupSelectorTerms: [{ id: 'cfn-reference' }, { id: 'cfn-reference' }],
        advancedNetworking: { associatePublicIPAddress: false },
        ephemeralStorage: { size: '50Gi', kmsKeyID: 'cfn-reference' },
        networkPolicy: 'DefaultAllow',
        networkPolicyEventLogs: 'Disabled',
      });
      const manifest = JSON.stringify(template.toJSON().Resources[manifestId(template, 'NodeClass', 'codelearn')]);
      expect(manifest).toMatch(/"role\\":\\"",\{"Ref":"ComputeAutoModeNodeRole[0-9A-F]{8}"\}/);
      expect(manifest).toMatch(/ComputeKey\w+","Arn"/);
      expect(manifest).toMatch(/"Fn::GetAtt":\["ComputeCluster[0-9A-F]{8}","ClusterSecurityGroupId"\]/);
      expect(manifest).toMatch(/"Fn::GetAtt":\["NetworkWorkloadSecurityGroup[0-9A-F]{8}","GroupId"\]/);
      // The ConfigMap that turns Auto Mode's network policy controller on, kept on delete.
      template.hasResource('Custom::AWSCDK-EKS-KubernetesResource', {
        Properties: {
          Manifest: Match.stringLikeRegexp('"kind":"ConfigMap".*"name":"amazon-vpc-cni","namespace":"kube-system".*"enable-network-policy-controller":"true"'),
          Overwrite: true,
        },
        DeletionPolicy: 'Retain',
      });
      expect(manifestId(template, 'NodeClass', 'codelearn')).toMatch(/^ComputeClustermanifestAutoModeNodeClass/);
    });

    test('NodePools named apart from Karpenter\'s, on the Auto Mode NodeClass, with Auto Mode\'s instance labels, weights, taints and limits', () => {
      const pools = objects(template, 'NodePool');
      expect(pools.map(pool => [pool.metadata.name, pool.spec.weight, pool.spec.template.metadata.labels['codelearn.dev/capacity']])).toEqual([
        ['codelearn-auto-on-demand', 10, 'on-demand'], ['codelearn-auto-spot', 100, 'spot'], ['codelearn-auto-spot-fallback', 50, 'spot-fallback'],
      ]);
      for (const pool of pools) {
        expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'eks.amazonaws.com', kind: 'NodeClass', name: 'codelearn' });
        expect(pool.spec.template.spec.requirements).toEqual(expect.arrayContaining([
          { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
          { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: ['4'] },
        ]));
        expect(pool.spec.template.spec.expireAfter).toBe('336h');
        expect(pool.spec.disruption).toMatchObject({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m' });
        expect(() => validateKubernetesObject(pool)).not.toThrow();
      }
      expect(pools.map(pool => pool.spec.template.spec.taints?.length ?? 0)).toEqual([0, 1, 1]);
      expect(pools[0].spec.limits).toEqual({ cpu: '20', memory: '40Gi' });
      expect(() => validateKubernetesObject(objects(template, 'NodeClass')[0])).not.toThrow();
    });

    test('a spot service requires the spot pools\' nodes; the services keep the platform\'s Load Balancer Controller and its TargetGroupBindings', () => {
      const feed = objects(template, 'Deployment').find(d => d.metadata.name === 'feed-service')!.spec.template.spec;
      expect(feed.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'codelearn.dev/capacity', operator: 'In', values: ['spot', 'spot-fallback'] }] }],
      });
      expect(objects(template, 'TargetGroupBinding').map(binding => binding.apiVersion)).toEqual(['elbv2.k8s.aws/v1beta1', 'elbv2.k8s.aws/v1beta1']);
      const chart = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'aws-load-balancer-controller' } }))[0];
      expect(chart.DependsOn).toEqual(expect.arrayContaining([manifestId(template, 'NodePool', 'codelearn-auto-on-demand')]));
    });

    test('Pod Identity associations wait for the cluster, whose Auto Mode nodes run the agent', () => {
      const association = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation'))
        .find(resource => resource.Properties.ServiceAccount === 'aws-load-balancer-controller');
      expect(association.DependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(cluster.eksCluster.node.defaultChild as eks.CfnCluster)]));
    });

    test('deletes the namespaces before the NodePools, and the NodePools before the NodeClass', () => {
      const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
      const namespace = Object.values<any>(manifests).find(resource => JSON.stringify(resource.Properties.Manifest).includes('"kind\\":\\"Namespace'));
      for (const pool of ['on-demand', 'spot', 'spot-fallback']) {
        const id = manifestId(template, 'NodePool', `codelearn-auto-${pool}`);
        expect(namespace.DependsOn).toContain(id);
        expect(manifests[id].DependsOn).toContain(manifestId(template, 'NodeClass', 'codelearn'));
      }
    });

    test('warns about nothing', () => {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    });
  });

  test('in development: the on-demand pool only, and a spot service runs where it can', () => {
    const { stack, cluster, template } = setup({}, { profile: PlatformProfile.DEVELOPMENT });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    const built = template();
    expect(objects(built, 'NodePool').map(pool => pool.metadata.name)).toEqual(['codelearn-auto-on-demand']);
    expect(objects(built, 'Deployment')[0].spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  test('options: strict spot, consolidation and expiry, limits, the user\'s spot types', () => {
    const { stack, cluster, template } = setup(
      { spotFallback: false, consolidateAfter: Duration.seconds(90), expireAfter: Duration.days(21), cpuLimit: 64, memoryLimitGiB: 256 },
      { spotInstanceTypes: [new ec2.InstanceType('c6i.large'), new ec2.InstanceType('c5.large')] });
    new Microservice(stack, 'Feed', { cluster, name: 'feed-service', path: '/api/feed/*', spot: true });
    const built = template();
    const pools = objects(built, 'NodePool');
    expect(pools.map(pool => pool.metadata.name)).toEqual(['codelearn-auto-on-demand', 'codelearn-auto-spot']);
    expect(pools[0].spec.limits).toEqual({ cpu: '64', memory: '256Gi' });
    expect(pools[0].spec.disruption.consolidateAfter).toBe('90s');
    expect(pools[0].spec.template.spec.expireAfter).toBe('504h');
    expect(pools[1].spec.template.spec.requirements).toEqual(expect.arrayContaining([
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['c6i.large', 'c5.large'] },
    ]));
    const feed = objects(built, 'Deployment')[0].spec.template.spec;
    expect(feed.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values).toEqual(['spot']);
  });

  test.each<[string, () => unknown, string]>([
    ['an expiry past 21 days', () => NodeScaling.autoMode({ expireAfter: Duration.days(30) }),
      '`autoMode.expireAfter` (30 days) must be whole seconds from 1 hour to 21 days.'],
    ['a CPU limit of zero', () => NodeScaling.autoMode({ cpuLimit: 0 }), '`autoMode.cpuLimit` (0) must be a whole number from 1 to 100000.'],
    ['sandbox nodes', () => setup({}, { sandboxNodes: {} }),
      '`sandboxNodes` is set, but EKS Auto Mode runs no managed node groups, and the sandbox nodes are one (their kubelet caps each pod\'s processes, ' +
      'which Auto Mode does not let a NodePool set): use `NodeScaling.karpenter()` or `NodeScaling.clusterAutoscaler()`, or remove it.'],
    ['scheduled scaling', () => setup({}, { scheduledScaling: [{ name: 'office-hours', schedule: '0 8 * * 1-5', minSize: 3 }] }),
      '`scheduledScaling` resizes the on-demand node group, which a cluster on EKS Auto Mode does not have: Auto Mode launches nodes for pending pods, ' +
      'so schedule the services\' replicas instead, or use `NodeScaling.clusterAutoscaler()`.'],
    ['a version of an add-on Auto Mode runs', () => setup({}, { addonVersions: { coredns: 'v1.12.4-eksbuild.1' } }),
      '`addonVersions` names \'coredns\', which EKS Auto Mode runs on its nodes itself and the cluster does not install: remove it (Auto Mode updates it with the nodes\' AMI).'],
    ['Kubernetes 1.28', () => setup({}, { kubernetesVersion: eks.KubernetesVersion.of('1.28'), supportType: undefined }),
      'EKS Auto Mode needs Kubernetes 1.29 or later, and the cluster runs 1.28: upgrade it first (docs/operations.md, "Upgrade Kubernetes"), ' +
      'or keep `NodeScaling.clusterAutoscaler()`.'],
  ])('refuses %s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('refuses a sandbox, which needs the sandbox node group', () => {
    const { stack, cluster } = setup();
    expect(() => new SandboxService(stack, 'Runner', { cluster, name: 'code-runner' })).toThrow(
      'Test/Compute runs on EKS Auto Mode, which runs no managed node groups: a SandboxService needs the sandbox node group, whose kubelet caps each ' +
      'pod\'s processes. Use `NodeScaling.karpenter()` or `NodeScaling.clusterAutoscaler()` for a platform with sandboxes.');
  });

  test('the NodeClass schema check refuses what Auto Mode refuses', () => {
    const [nodeClass] = objects(setup().template(), 'NodeClass');
    const broken = { ...nodeClass, spec: { ...nodeClass.spec, networkPolicy: 'Deny', ephemeralStorage: { size: '50 GiB' }, amiFamily: 'AL2023' } };
    expect(() => validateKubernetesObject(broken)).toThrow([
      'NodeClass/codelearn.spec.ephemeralStorage.size: \'50 GiB\' does not match /^\\d+(Gi|G|Ti|T)$/',
      'NodeClass/codelearn.spec.networkPolicy: \'Deny\' is not one of DefaultAllow, DefaultDeny',
      'NodeClass/codelearn.spec: has amiFamily, which the CRD does not know',
    ].join('\n'));
    // A NodePool on Auto Mode's NodeClass with Karpenter's instance labels would never launch.
    const [pool] = objects(setup().template(), 'NodePool');
    const foreign = {
      ...pool,
      spec: {
        ...pool.spec,
        template: {
          ...pool.spec.template,
          spec: {
            ...pool.spec.template.spec,
            requirements: [{ key: 'karpenter.k8s.aws/instance-cpu', operator: 'In', values: ['2'] }],
          },
        },
      },
    };
    expect(() => validateKubernetesObject(foreign)).toThrow('requirement karpenter.k8s.aws/instance-cpu: not a label the eks.amazonaws.com node class\'s nodes carry');
  });
});
