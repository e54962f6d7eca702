import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Cluster, CodeLearnPlatform, Microservice, Network, Observability, SandboxService } from '../../src';
import { allTemplates, testStack } from '../support/app';
import { kubernetesObjects, validateKubernetesObject } from '../support/kubernetes';

/** A cluster with a service and a sandbox that the service calls. */
function standalone(sandboxProps: Partial<ConstructorParameters<typeof SandboxService>[2]> = {}) {
  const stack = testStack();
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
  const posts = new Microservice(stack, 'Posts', { cluster, name: 'post-service', path: '/api/posts/*' });
  const runner = new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', ...sandboxProps });
  runner.allowCallsFrom(posts);
  return { stack, network, cluster, posts, runner };
}

function objectsOf(stack: Stack): any[] {
  return allTemplates(stack).flatMap(template => kubernetesObjects(template));
}

function find(objects: any[], kind: string, namespace: string | undefined, name: string): any {
  const object = objects.find(candidate => candidate.kind === kind && candidate.metadata.namespace === namespace && candidate.metadata.name === name);
  expect(object).toBeDefined();
  return object;
}

describe('SandboxService', () => {
  const { stack, network, cluster, runner } = standalone();
  const template = Template.fromStack(stack);
  const objects = objectsOf(stack);
  const pod = find(objects, 'Deployment', 'code-runner', 'code-runner').spec.template.spec;

  test('its nodes are a group of their own, tainted, outside the workload security group, capping each pod\'s processes', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'ON_DEMAND',
      Labels: { 'codelearn.dev/workload': 'sandbox', 'codelearn.dev/capacity': 'on-demand' },
      Taints: [{ Key: 'codelearn.dev/workload', Value: 'sandbox', Effect: 'NO_SCHEDULE' }],
      ScalingConfig: { MinSize: 1, MaxSize: 3, DesiredSize: 1 },
      LaunchTemplate: { Id: { Ref: Match.stringLikeRegexp('^ClusterSandboxLaunchTemplate') } },
    });
    const [, launchTemplate] = Object.entries<any>(template.findResources('AWS::EC2::LaunchTemplate'))
      .find(([id]) => id.startsWith('ClusterSandboxLaunchTemplate'))!;
    const data = launchTemplate.Properties.LaunchTemplateData;
    // The cluster's security group alone: not the workloads', which the data stores admit.
    expect(data.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'ClusterSecurityGroupId'] }]);
    const workloads = stack.getLogicalId(network.workloadSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup);
    expect(JSON.stringify(data.SecurityGroupIds)).not.toContain(workloads);
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const userData: string = data.UserData['Fn::Base64'];
    expect(userData).toMatch(/^Content-Type: multipart\/mixed; boundary="[^"]+"\nMIME-Version: 1.0\n/);
    expect(userData).toContain('Content-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      podPidsLimit: 1024\n');
    expect(cluster.sandboxNodes).toBeDefined();
    // The other node groups keep the workload security group.
    const [, nodes] = Object.entries<any>(template.findResources('AWS::EC2::LaunchTemplate')).find(([id]) => id.startsWith('ClusterNodeLaunchTemplate'))!;
    expect(nodes.Properties.LaunchTemplateData.SecurityGroupIds).toHaveLength(2);
  });

  test('its pods run only there, hold no credential, and are confined', () => {
    expect(pod.nodeSelector).toEqual({ 'codelearn.dev/workload': 'sandbox' });
    expect(pod.tolerations).toEqual([{ key: 'codelearn.dev/workload', operator: 'Equal', value: 'sandbox', effect: 'NoSchedule' }]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.serviceAccountName).toBe('code-runner');
    expect(pod.runtimeClassName).toBeUndefined();
    expect(pod.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } }));
    const [container] = pod.containers;
    expect(container.securityContext).toEqual(expect.objectContaining({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    }));
    expect(container.resources).toEqual({
      requests: { 'cpu': '250m', 'memory': '256Mi', 'ephemeral-storage': '512Mi' },
      limits: { 'cpu': '500m', 'memory': '256Mi', 'ephemeral-storage': '512Mi' },
    });
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    expect(container.env).toEqual([]);
    expect(find(objects, 'ServiceAccount', 'code-runner', 'code-runner').automountServiceAccountToken).toBe(false);
  });

  test('it has no Pod Identity role, and no other workload tolerates its nodes', () => {
    const associations = allTemplates(stack).flatMap(t => Object.values<any>(t.Resources)).filter(resource => resource.Type === 'AWS::EKS::PodIdentityAssociation');
    expect(associations.length).toBeGreaterThan(0);
    expect(associations.filter(association => association.Properties.Namespace === 'code-runner')).toEqual([]);
    const others = objects.filter(object => object.kind === 'Deployment' && object.metadata.namespace !== 'code-runner');
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) {
      expect(JSON.stringify(other.spec.template.spec.tolerations ?? [])).not.toContain('codelearn.dev/workload');
    }
  });

  test('its namespace denies everything but its callers\' calls on its port: no DNS, no store, no internet', () => {
    // Restricted, and outside the Load Balancer Controller's pod webhook (it fails closed, and the sandbox has no target group).
    const labels = find(objects, 'Namespace', undefined, 'code-runner').metadata.labels;
    expect(labels).toEqual(expect.objectContaining({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' }));
    expect(labels).not.toHaveProperty(['elbv2.k8s.aws/pod-readiness-gate-inject']);
    expect(find(objects, 'Namespace', undefined, 'codelearn').metadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
    const own = find(objects, 'NetworkPolicy', 'code-runner', 'code-runner');
    expect(own.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(own.spec.egress).toEqual([]);
    expect(own.spec.ingress).toEqual([{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'codelearn' } },
        podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['post-service', 'post-service-canary'] }] },
      }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    }]);
    expect(find(objects, 'NetworkPolicy', 'code-runner', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    // The caller's policy lets the call out, to the pods its Service selects (what the VPC CNI admits a ClusterIP for).
    const caller = find(objects, 'NetworkPolicy', 'codelearn', 'post-service');
    expect(caller.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'code-runner' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'code-runner' } } }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
    expect(find(objects, 'Service', 'code-runner', 'code-runner').spec.ports).toEqual([{ name: 'direct', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    expect(runner.namespace).toBe('code-runner');
  });

  test('its policies come before its pods, in one manifest after its namespace', () => {
    const manifests = Object.entries<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([id]) => id.startsWith('RunnerManifest'));
    expect(manifests).toHaveLength(1);
    const kinds = kubernetesObjects({ Resources: Object.fromEntries(manifests) }).map(object => `${object.kind}/${object.metadata.name}`);
    expect(kinds).toEqual(['NetworkPolicy/code-runner', 'NetworkPolicy/default-deny', 'ServiceAccount/code-runner', 'Service/code-runner',
      'Deployment/code-runner', 'HorizontalPodAutoscaler/code-runner', 'PodDisruptionBudget/code-runner']);
    expect(manifests[0][1].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ClusterNamespaceCodeRunner/)]));
  });

  test('every object passes its Kubernetes schema', () => {
    for (const object of objects.filter(candidate => candidate.metadata.namespace === 'code-runner')) {
      validateKubernetesObject(object);
    }
  });
});

describe('SandboxService options', () => {
  test('egress it names, a stronger runtime, its own sizes and node group', () => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', {
      vpc: network.vpc,
      sandboxNodes: { instanceType: new ec2.InstanceType('c6i.large'), minSize: 0, maxSize: 5, desiredSize: 0, podPidsLimit: 512 },
    });
    const runner = new SandboxService(stack, 'Runner', {
      cluster,
      name: 'code-runner',
      namespace: 'learners',
      runtimeClassName: 'gvisor',
      cpuLimit: '2',
      memory: '1Gi',
      ephemeralStorage: '2Gi',
      tmpSize: '1Gi',
      image: 'public.ecr.aws/example/runner:3.1.0',
    });
    runner.allowEgressTo(['203.0.113.0/24'], ec2.Port.tcp(443));
    const template = Template.fromStack(stack);
    // From zero nodes, the Cluster Autoscaler learns the nodes' disk from the group's tag, or no sandbox pod would fit.
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      InstanceTypes: ['c6i.large'],
      ScalingConfig: { MinSize: 0, MaxSize: 5, DesiredSize: 0 },
      Labels: Match.objectLike({ 'codelearn.dev/workload': 'sandbox' }),
      Tags: { 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage': '50Gi' },
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ UserData: { 'Fn::Base64': Match.stringLikeRegexp('podPidsLimit: 512\n') } }),
    });
    const objects = objectsOf(stack);
    const pod = find(objects, 'Deployment', 'learners', 'code-runner').spec.template.spec;
    expect(pod.runtimeClassName).toBe('gvisor');
    expect(pod.containers[0].image).toBe('public.ecr.aws/example/runner:3.1.0');
    expect(pod.containers[0].resources.limits).toEqual({ 'cpu': '2', 'memory': '1Gi', 'ephemeral-storage': '2Gi' });
    expect(find(objects, 'NetworkPolicy', 'learners', 'code-runner').spec.egress).toEqual([{ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] }]);
    expect(runner.repository).toBeUndefined();
    template.resourceCountIs('AWS::ECR::Repository', 0);
  });

  test('without an image it gets an ECR repository of its own', () => {
    const { stack, runner } = standalone({ imageTag: '0.9.0' });
    expect(runner.repository).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'codelearn/code-runner', ImageTagMutability: 'IMMUTABLE' });
    expect(find(objectsOf(stack), 'Deployment', 'code-runner', 'code-runner').spec.template.spec.containers[0].image).toContain(':0.9.0');
  });

  const cases: [string, (cluster: Cluster, stack: Stack) => void, string][] = [
    ['a namespace a service uses', (cluster, stack) => {
      new Microservice(stack, 'Posts', { cluster, name: 'post-service' });
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', namespace: 'codelearn' });
    }, '`namespace` (\'codelearn\') of a sandbox is used by another workload of Test/Cluster: a sandbox runs alone in a namespace of its own. Give it another namespace (by default, its name).'],
    ['a service in a sandbox\'s namespace', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner' });
      new Microservice(stack, 'Posts', { cluster, name: 'post-service', namespace: 'code-runner' });
    }, '`namespace` (\'code-runner\') is a sandbox\'s: its pods run untrusted code, and no other workload shares its namespace. Give this one another namespace.'],
    ['two sandboxes in one namespace', (cluster, stack) => {
      new SandboxService(stack, 'One', { cluster, name: 'one', namespace: 'sandbox' });
      new SandboxService(stack, 'Two', { cluster, name: 'two', namespace: 'sandbox' });
    }, '`namespace` (\'sandbox\') of a sandbox is used by another workload'],
    ['a system namespace', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', namespace: 'kube-system' });
    }, '`namespace` (\'kube-system\') is a namespace of Kubernetes or of the cluster\'s add-ons: the platform would label it under the restricted Pod Security Standard, ' +
      'and its pods would stop starting. Choose a namespace of your own, such as \'codelearn\'.'],
    ['/tmp as large as the disk', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', ephemeralStorage: '256Mi' });
    }, '`tmpSize` (\'256Mi\') must be less than `ephemeralStorage` (\'256Mi\'), which also holds the container\'s logs and writable layer: ' +
      'the kubelet would evict the pod before /tmp is full. Raise `ephemeralStorage`, or lower `tmpSize`.'],
    ['a disk size in MB', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', ephemeralStorage: '512MB' });
    }, '`ephemeralStorage` (\'512MB\') is not a Kubernetes memory quantity: write it as \'512Mi\'.'],
    ['a CPU request above its limit', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', cpu: '1' });
    }, '`cpu` (\'1\') is more than `cpuLimit` (\'500m\'): Kubernetes refuses a request above its limit. Raise `cpuLimit`, or lower `cpu`.'],
    ['a RuntimeClass that is no name', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', runtimeClassName: 'gVisor' });
    }, '`runtimeClassName` (\'gVisor\') is not the name of a RuntimeClass: use lowercase letters, digits, \'-\' and \'.\', such as \'gvisor\'.'],
    ['an image with a tag', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner', image: 'example/runner:1', imageTag: '2' });
    }, '`image` and `imageTag` are both set: the tag applies to the service\'s own repository. Put the tag in `image`, or remove `image`.'],
    ['egress to no block', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner' }).allowEgressTo([], ec2.Port.tcp(443));
    }, 'code-runner: `allowEgressTo` was given no CIDR block for port 443: name the ranges the pods may reach.'],
    ['egress to a host name', (cluster, stack) => {
      new SandboxService(stack, 'Runner', { cluster, name: 'code-runner' }).allowEgressTo(['pypi.org'], ec2.Port.tcp(443));
    }, 'code-runner: `allowEgressTo` was given \'pypi.org\', which is not an IPv4 CIDR block such as \'10.0.224.0/24\'.'],
    ['sandbox nodes twice', (cluster) => {
      cluster.addSandboxNodes();
      cluster.addSandboxNodes();
    }, 'Test/Cluster has its sandbox nodes already: set `sandboxNodes` (or call `addSandboxNodes`) once, before any SandboxService.'],
    ['a PID limit the node\'s daemons cannot live with', (cluster) => {
      cluster.addSandboxNodes({ podPidsLimit: 128 });
    }, '`sandboxNodes.podPidsLimit` (128) must be a whole number from 256 to 32768'],
    ['a node group whose most is below its fewest', (cluster) => {
      cluster.addSandboxNodes({ minSize: 4 });
    }, '`sandboxNodes.maxSize` (3) must be >= `sandboxNodes.minSize` (4): raise maxSize or lower minSize.'],
    ['a node group that cannot hold its size', (cluster) => {
      cluster.addSandboxNodes({ minSize: 2, desiredSize: 1 });
    }, '`sandboxNodes.desiredSize` (1) must be a whole number from `sandboxNodes.minSize` (2) to `sandboxNodes.maxSize` (3).'],
  ];
  test.each(cases)('%s fails with a message that gives the fix', (_, build, message) => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Cluster', { vpc: network.vpc });
    expect(() => build(cluster, stack)).toThrow(message);
  });
});

test('Observability.watchPods names its alarms after a literal name, and fails without one', () => {
  const { stack, runner } = standalone();
  const observability = new Observability(stack, 'Observability');
  expect(() => observability.watchPods(runner, '', runner.pods)).toThrow(
    '`name` (\'\') must be a literal, non-empty name such as \'code-runner\': it names the alarms.');
  const [alarm] = observability.watchPods(runner, runner.serviceName, runner.pods);
  expect(Object.keys(observability.alarms)).toContain('CodeRunnerCrashLoop');
  expect(observability.alarms.CodeRunnerCrashLoop).toBe(alarm);
  Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'pod_container_status_waiting_reason_crash_loop_back_off',
    Dimensions: Match.arrayWith([{ Name: 'Namespace', Value: 'code-runner' }, { Name: 'PodName', Value: 'code-runner' }]),
  });
});

describe('sandboxes in the platform', () => {
  test('a service calls a sandbox it names in `calls`; the sandbox is its own nested stack with its repository beside the services\'', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', {
      services: CodeLearnPlatform.defaultServices().map(service => service.name === 'post-service' ? { ...service, calls: ['code-runner'] } : service),
      sandboxes: [{ name: 'code-runner' }],
    });
    expect(Object.keys(platform.sandboxes)).toEqual(['code-runner']);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'codelearn/code-runner' });
    expect(Object.entries<any>(template.findOutputs('*')).filter(([id]) => id.startsWith('PlatformRepositoryCodeRunner'))
      .map(([, output]) => output.Description)).toEqual(['The ECR repository of code-runner']);
    expect(Object.keys(template.findResources('AWS::CloudFormation::Stack')).some(id => id.startsWith('PlatformServicesCodeRunnerStack'))).toBe(true);
    const objects = objectsOf(stack);
    expect(find(objects, 'NetworkPolicy', 'code-runner', 'code-runner').spec.ingress[0].from[0].podSelector.matchExpressions[0].values).toEqual(['post-service', 'post-service-canary']);
    expect(JSON.stringify(find(objects, 'NetworkPolicy', 'codelearn', 'post-service').spec.egress)).toContain('"kubernetes.io/metadata.name":"code-runner"');
    expect(JSON.stringify(find(objects, 'NetworkPolicy', 'codelearn', 'user-service').spec.egress)).not.toContain('code-runner');
    // Its crash loops page, from its own nested stack, on the platform's topic.
    const alarm = platform.observability.alarms.CodeRunnerCrashLoop;
    expect(Stack.of(alarm)).toBe(Stack.of(platform.sandboxes['code-runner']));
    const alarmTemplate = Template.fromStack(Stack.of(alarm));
    alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'pod_container_status_waiting_reason_crash_loop_back_off',
      Namespace: 'ContainerInsights',
      Dimensions: [
        { Name: 'ClusterName', Value: Match.anyValue() },
        { Name: 'Namespace', Value: 'code-runner' },
        { Name: 'PodName', Value: 'code-runner' },
      ],
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    expect(Object.keys(platform.observability.alarms).filter(name => name.startsWith('CodeRunner'))).toEqual(['CodeRunnerCrashLoop']);
  });

  test.each([
    [{ sandboxes: [{ name: 'post-service' }] },
      '`sandboxes[0].name` (\'post-service\') is also the name of a service or another sandbox: each has its own ECR repository and stack, named after it. Rename one.'],
    [{ sandboxes: [{ name: 'codelearn' }] }, '`sandboxes[0].name` (\'codelearn\') is the services\' namespace, and a sandbox\'s namespace is its name: rename it.'],
    [{ sandboxes: [{ name: 'kube-runner' }] }, '`sandboxes[0].name` (\'kube-runner\') is a namespace of Kubernetes or of the cluster\'s add-ons'],
    [{ services: [{ name: 'api-gateway', calls: ['runner'] }], sandboxes: [{ name: 'code-runner' }] },
      '`services[0].calls` names \'runner\', which is not a service or sandbox of the platform: name one of \'api-gateway\', \'code-runner\', or add \'runner\' to `services` or `sandboxes`.'],
    [{ sandboxes: [{ name: 'code-runner', ephemeralStorage: '1Gb' }] }, '`sandboxes[0].ephemeralStorage` (\'1Gb\') is not a Kubernetes memory quantity: write it as \'1Gi\'.'],
  ])('%j fails', (props, message) => {
    expect(() => new CodeLearnPlatform(testStack(), 'Platform', props)).toThrow(message);
  });
});
