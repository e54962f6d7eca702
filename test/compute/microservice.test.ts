import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Cluster, Microservice, MicroserviceOptions, Network } from '../../src';
import { TEST_ENV, testStack } from '../support/app';
import { kubernetesObjects, validateKubernetesObject } from '../support/kubernetes';

function setup(options: Partial<MicroserviceOptions> = {}, stack: Stack = testStack({ env: TEST_ENV })) {
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
  const service = new Microservice(stack, 'Users', { cluster, name: 'user-service', path: '/api/users/*', ...options });
  return { stack, cluster, service };
}

function objectsOf(template: Template, kind: string): any[] {
  return kubernetesObjects(template.toJSON()).filter(object => object.kind === kind);
}

describe('Microservice', () => {
  describe('with defaults', () => {
    const { service, stack } = setup();
    service.addEnvironment('FEATURE_FLAG', 'on');
    const template = Template.fromStack(stack);
    const objects = kubernetesObjects(template.toJSON());
    const [deployment] = objectsOf(template, 'Deployment');
    const container = deployment.spec.template.spec.containers[0];

    test('applies a namespace and seven objects, each valid against its Kubernetes schema', () => {
      expect(objects.map(object => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
        'Deployment/user-service', 'HorizontalPodAutoscaler/user-service', 'Namespace/codelearn', 'NetworkPolicy/user-service',
        'PodDisruptionBudget/user-service',
        'Service/user-service', 'ServiceAccount/user-service', 'TargetGroupBinding/user-service-8080',
      ]);
      for (const object of objects) {
        expect(() => validateKubernetesObject(object)).not.toThrow();
      }
    });

    test('the namespace enforces the restricted Pod Security Standard and injects the load balancer\'s readiness gate', () => {
      const [namespace] = objectsOf(template, 'Namespace');
      expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      // A new pod is ready only once the load balancer finds it healthy.
      expect(namespace.metadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
    });

    test('applies the TargetGroupBinding as a manifest of its own, named after its port, before the Deployment, so the controller gates the first pods too', () => {
      const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
      const kindsOf = (prefix: string) => Object.entries(manifests).filter(([id]) => id.startsWith(prefix))
        .flatMap(([, resource]) => kubernetesObjects({ Resources: { M: resource } }).map(object => object.kind));
      // kubectl's prune does not delete a TargetGroupBinding (a custom resource): only deleting its manifest does.
      expect(kindsOf('UsersBinding8080')).toEqual(['TargetGroupBinding']);
      expect(kindsOf('UsersManifest')).toEqual(['NetworkPolicy', 'ServiceAccount', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
      const [manifestId, manifest] = Object.entries(manifests).find(([id]) => id.startsWith('UsersManifest'))!;
      const [bindingId, binding] = Object.entries(manifests).find(([id]) => id.startsWith('UsersBinding8080'))!;
      expect(manifest.DependsOn).toContain(bindingId);
      expect(binding.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ComputeClusterchartLoadBalancerController/)]));
      expect(binding.DependsOn).not.toContain(manifestId);
    });

    test('rolls out without losing capacity and leaves the replica count to the autoscaler', () => {
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
      expect(deployment.spec.replicas).toBeUndefined();
      expect(deployment.spec.template.spec.serviceAccountName).toBe('user-service');
    });

    test('is ready when the health path answers, alive while the port listens, and pauses before stopping as long as the target group drains', () => {
      expect(container.readinessProbe).toEqual({ httpGet: { path: '/health', port: 'http' }, timeoutSeconds: 2, periodSeconds: 5, failureThreshold: 3 });
      // An outage of the database or cache takes pods out of the load balancer, and restarts none.
      const listening = { tcpSocket: { port: 'http' }, timeoutSeconds: 2 };
      expect(container.startupProbe).toEqual({ ...listening, periodSeconds: 5, failureThreshold: 30 });
      expect(container.livenessProbe).toEqual({ ...listening, periodSeconds: 10, failureThreshold: 3 });
      expect(container.lifecycle).toEqual({ preStop: { sleep: { seconds: 30 } } });
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(60);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
      });
    });

    test('runs restricted: a numeric non-root user, read-only root filesystem, no privilege escalation, no capabilities', () => {
      // A numeric user: the kubelet refuses runAsNonRoot for an image whose user is root or a name.
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(deployment.spec.template.spec.securityContext).toEqual({
        runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' },
      });
      // /tmp holds nothing worth keeping: the Cluster Autoscaler may remove the node.
      expect(deployment.spec.template.metadata.annotations).toEqual({ 'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes': 'tmp' });
      expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    });

    test('spreads pods across zones and nodes, and stays off spot nodes', () => {
      expect(deployment.spec.template.spec.topologySpreadConstraints.map((c: any) => c.topologyKey))
        .toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
      expect(deployment.spec.template.spec.tolerations).toBeUndefined();
    });

    test('scales on 70% CPU between 2 and 10 pods, and keeps all but one during disruptions', () => {
      const [hpa] = objectsOf(template, 'HorizontalPodAutoscaler');
      expect(hpa.spec).toMatchObject({
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      });
      const [pdb] = objectsOf(template, 'PodDisruptionBudget');
      expect(pdb.spec.maxUnavailable).toBe(1);
    });

    test('binds its pods to an IP target group with the service\'s health check', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetType: 'ip',
        Protocol: 'HTTP',
        Port: 8080,
        HealthCheckPath: '/health',
        Matcher: { HttpCode: '200-399' },
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      });
      const [binding] = objectsOf(template, 'TargetGroupBinding');
      expect(binding.spec).toEqual({ serviceRef: { name: 'user-service', port: 80 }, targetGroupARN: 'cfn-reference', targetType: 'ip' });
      expect(service.path).toBe('/api/users/*');
    });

    test('runs its own ECR image: scanned, immutable, encrypted, expiring', () => {
      template.hasResource('AWS::ECR::Repository', {
        Properties: {
          RepositoryName: 'codelearn/user-service',
          ImageScanningConfiguration: { ScanOnPush: true },
          ImageTagMutability: 'IMMUTABLE',
          EncryptionConfiguration: { EncryptionType: 'KMS' },
          LifecyclePolicy: Match.anyValue(),
        },
        // Named: removed when a first create rolls back, kept otherwise.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      expect(container.image).toMatch(/:1\.0\.0$/);
    });

    test('gets a Pod Identity role and the environment it is given', () => {
      template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
        Namespace: 'codelearn', ServiceAccount: 'user-service', RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UsersRole'), 'Arn'] },
      });
      expect(container.env).toEqual([{ name: 'FEATURE_FLAG', value: 'on' }]);
    });

    test('waits for its namespace, its binding (and so the controller\'s chart) and its Pod Identity association', () => {
      const [manifest] = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
        .filter(([id]) => id.startsWith('UsersManifest')).map(([, resource]) => resource);
      expect(manifest.DependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^ComputeNamespaceCodelearn/),
        expect.stringMatching(/^UsersBinding8080/),
        expect.stringMatching(/^UsersRoleAssociation/),
      ]));
    });
  });

  test('grants go into one managed policy on the service\'s role', () => {
    const { service, stack } = setup();
    new s3.Bucket(stack, 'Bucket').grantRead(service);
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^UsersRole') }] }, 0);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: 'Permissions of the user-service service',
      Roles: [{ Ref: Match.stringLikeRegexp('^UsersRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:GetObject*']) })]) },
    });
    // Pods ask for credentials as they start: the manifest waits for the policy, granted before or after it is made.
    const manifest = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .find(([id]) => id.startsWith('UsersManifest'))?.[1];
    expect(manifest!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^UsersPolicy/)]));
  });

  test('waits for what it is told to, before or after its manifest is made', () => {
    const { service, stack } = setup();
    const before = new s3.Bucket(stack, 'Before');
    service.waitFor(before);
    service.addEnvironment('BUCKET', before.bucketName);
    const after = new s3.Bucket(stack, 'After');
    service.waitFor(after);
    const manifest = Object.entries(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .find(([id]) => id.startsWith('UsersManifest'))?.[1];
    expect(manifest!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^Before/), expect.stringMatching(/^After/)]));
  });

  test('with every option: image, sizes, targets, spot, delay', () => {
    const { stack } = setup({
      image: 'public.ecr.aws/example/users:2.0.0',
      port: 3000,
      healthCheckPath: '/ready',
      minReplicas: 3,
      maxReplicas: 30,
      cpuTarget: 60,
      memoryTarget: 80,
      cpu: '500m',
      memory: '1Gi',
      cpuLimit: '2',
      spot: true,
      deregistrationDelay: Duration.seconds(45),
      environment: { LOG_LEVEL: 'info' },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::Repository', 0);
    const [deployment] = objectsOf(template, 'Deployment');
    const spec = deployment.spec.template.spec;
    expect(spec.containers[0]).toMatchObject({
      image: 'public.ecr.aws/example/users:2.0.0',
      ports: [{ name: 'http', containerPort: 3000, protocol: 'TCP' }],
      env: [{ name: 'LOG_LEVEL', value: 'info' }],
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } },
      lifecycle: { preStop: { sleep: { seconds: 45 } } },
      readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
    });
    expect(spec.tolerations).toEqual([{ key: 'codelearn.dev/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' }]);
    const [hpa] = objectsOf(template, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([['cpu', 60], ['memory', 80]]);
    for (const object of kubernetesObjects(template.toJSON())) {
      expect(() => validateKubernetesObject(object)).not.toThrow();
    }
  });

  test('reads a variable from a ConfigMap of its namespace', () => {
    const { service, stack } = setup();
    service.addEnvironmentFromConfigMap('FEATURES', 'user-settings', 'features');
    const [deployment] = objectsOf(Template.fromStack(stack), 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
      name: 'FEATURES', valueFrom: { configMapKeyRef: { name: 'user-settings', key: 'features' } },
    });
    expect(() => validateKubernetesObject(deployment)).not.toThrow();
  });

  test('runs from a repository it is given, and creates none', () => {
    const stack = testStack({ env: TEST_ENV });
    const network = new Network(stack, 'Network');
    const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Shared', 'shared/users');
    const service = new Microservice(stack, 'Users', { cluster, name: 'user-service', repository, imageTag: '3.1.4' });
    expect(service.repository).toBe(repository);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::Repository', 0);
    const [deployment] = objectsOf(template, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toMatch(/\/shared\/users:3\.1\.4$/);
  });

  test('a canary runs beside the stable version with its own target group and weight', () => {
    const { service, stack } = setup({ imageTag: '1.4.0', canary: { imageTag: '1.5.0', weight: 10 } });
    const template = Template.fromStack(stack);
    const objects = kubernetesObjects(template.toJSON());
    expect(objects.map(object => `${object.kind}/${object.metadata.name}`)).toEqual(expect.arrayContaining([
      'Deployment/user-service', 'Deployment/user-service-canary', 'Service/user-service-canary',
      'HorizontalPodAutoscaler/user-service-canary', 'PodDisruptionBudget/user-service-canary', 'TargetGroupBinding/user-service-canary-8080',
    ]));
    // The canary is manifests of its own: removing it deletes its objects, its binding included.
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [, canaryManifest] = Object.entries(manifests).find(([id]) => id.startsWith('UsersCanaryManifest'))!;
    expect(kubernetesObjects({ Resources: { M: canaryManifest } }).map(object => `${object.kind}/${object.metadata.name}`)).toEqual([
      'Service/user-service-canary', 'Deployment/user-service-canary', 'HorizontalPodAutoscaler/user-service-canary', 'PodDisruptionBudget/user-service-canary',
    ]);
    expect(canaryManifest.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^UsersCanaryBinding8080/), expect.stringMatching(/^UsersManifest/)]));
    expect(service.canaryManifest).toBeDefined();
    expect(objects.filter(object => object.kind === 'ServiceAccount')).toHaveLength(1);
    const deployments = objects.filter(object => object.kind === 'Deployment');
    const [stable, canary] = deployments;
    expect(stable.spec.template.spec.containers[0].image).toMatch(/:1\.4\.0$/);
    expect(canary.spec.template.spec.containers[0].image).toMatch(/:1\.5\.0$/);
    expect(canary.spec.template.spec.serviceAccountName).toBe('user-service');
    expect(stable.spec.selector).not.toEqual(canary.spec.selector);
    const canaryHpa = objects.find(object => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === 'user-service-canary');
    // A canary that takes traffic keeps two pods through an eviction.
    expect(canaryHpa.spec.minReplicas).toBe(2);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    expect(service.canaryTargetGroup).toBeDefined();
    expect(service.canaryWeight).toBe(10);
    for (const object of objects) {
      expect(() => validateKubernetesObject(object)).not.toThrow();
    }
  });

  test('runs as the user and group it is given', () => {
    const { stack } = setup({ runAsUser: 1000, runAsGroup: 2000 });
    const [deployment] = objectsOf(Template.fromStack(stack), 'Deployment');
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 });
  });

  test('a warm canary without traffic may run one pod', () => {
    const { stack } = setup({ canary: { weight: 0 } });
    const hpa = objectsOf(Template.fromStack(stack), 'HorizontalPodAutoscaler').find(object => object.metadata.name === 'user-service-canary');
    expect(hpa.spec.minReplicas).toBe(1);
  });

  test('without a canary the weight is 0', () => {
    const { service } = setup();
    expect(service.canaryWeight).toBe(0);
    expect(service.canaryTargetGroup).toBeUndefined();
  });

  describe('fails on bad input', () => {
    const cases: [string, Partial<MicroserviceOptions>, string][] = [
      ['an upper-case name', { name: 'UserService' },
        '`name` (\'UserService\') is not a Kubernetes name: use lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, at most 63 characters.'],
      ['min above max', { minReplicas: 5, maxReplicas: 3 }, '`maxReplicas` (3) must be >= `minReplicas` (5).'],
      ['an HPA target of 0', { cpuTarget: 0 }, '`cpuTarget` (0) must be a whole number from 1 to 100.'],
      ['an HPA target over 100', { memoryTarget: 150 }, '`memoryTarget` (150) must be a whole number from 1 to 100.'],
      ['a privileged port', { port: 80 }, '`port` (80) must be a whole number from 1024 to 65535.'],
      ['a relative health path', { healthCheckPath: 'health' }, '`healthCheckPath` (\'health\') must start with \'/\'.'],
      ['a path without slash', { path: 'api/users' }, '`path` (\'api/users\') is not a path pattern: write it as \'/api/users/*\'.'],
      ['an image and a tag', { image: 'nginx:1', imageTag: '2' },
        '`image` and `imageTag` are both set: the tag applies to the service\'s own repository. Put the tag in `image`, or remove `image`.'],
      ['a canary weight over 100', { canary: { weight: 150 } }, '`canary.weight` (150) must be a whole number from 0 to 100.'],
      ['a canary larger than the service', { maxReplicas: 3, canary: { weight: 10, minReplicas: 5 } },
        '`canary.minReplicas` (5) must be a whole number from 1 to 3.'],
      ['a canary image and tag', { canary: { weight: 10, image: 'x:1', imageTag: '2' } },
        '`canary.image` and `canary.imageTag` are both set: put the tag in `image`, or remove `image`.'],
      ['a canary tag for an outside image', { image: 'x:1', canary: { weight: 10, imageTag: '2' } },
        '`canary.imageTag` needs the service\'s own repository, but `image` is set: give the canary an `image` instead.'],
      ['a name too long for its canary', { name: `users-${'x'.repeat(46)}`, canary: { weight: 5 } },
        `\`name\` ('users-${'x'.repeat(46)}') is too long: its canary's TargetGroupBinding 'users-${'x'.repeat(46)}-canary-8080' (the name, '-canary' and the port) ` +
        'names the pods\' readiness gate, and Kubernetes stops those at 63 characters. Shorten `name` to 51 characters.'],
      ['a name too long for its binding', { name: `users-${'x'.repeat(53)}` },
        `\`name\` ('users-${'x'.repeat(53)}') is too long: its TargetGroupBinding 'users-${'x'.repeat(53)}-8080' (the name and the port) ` +
        'names the pods\' readiness gate, and Kubernetes stops those at 63 characters. Shorten `name` to 58 characters.'],
      ['a deregistration delay over 5 minutes', { deregistrationDelay: Duration.minutes(10) },
        '`deregistrationDelay` (600) must be a whole number of seconds from 0 to 300.'],
      ['a deregistration delay that is a token', { deregistrationDelay: Duration.seconds(Lazy.number({ produce: () => 30 })) },
        '`deregistrationDelay` must be a literal duration, not a token: the pods\' preStop pause is set from it.'],
      ['a canary with traffic and one pod', { canary: { weight: 10, minReplicas: 1 } },
        '`canary.minReplicas` (1) must be at least 2 while the canary takes traffic (`weight` 10): one eviction would empty its share. Raise it to 2, or set `weight` to 0.'],
      ['root', { runAsUser: 0 }, '`runAsUser` (0) must be a whole number from 1 to 2147483647.'],
      ['a priority without a path', { path: undefined, priority: 5 },
        '`priority` is set, but the service has no `path`: the default route always comes last. Remove `priority`, or give the service a path.'],
      ['a priority at the default route\'s', { priority: 50000 }, '`priority` (50000) must be a whole number from 1 to 49999.'],
      ['a bad variable name', { environment: { 'LOG-LEVEL': 'x' } },
        '`environment` has \'LOG-LEVEL\', which is not an environment variable name: use letters, digits and \'_\'.'],
    ];
    test.each(cases)('%s', (_name, options, message) => {
      expect(() => setup(options)).toThrow(new Error(message));
    });

    test('an image and a repository', () => {
      const stack = testStack({ env: TEST_ENV });
      const network = new Network(stack, 'Network');
      const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
      const repository = ecr.Repository.fromRepositoryName(stack, 'Shared', 'shared/users');
      expect(() => new Microservice(stack, 'Users', { cluster, name: 'user-service', image: 'nginx:1', repository })).toThrow(new Error(
        '`image` and `repository` are both set: the pods run one image. Remove `image` to run from the repository, or `repository`.'));
    });

    test('a variable set twice, once from a ConfigMap', () => {
      const { service } = setup({ environment: { A: '1' } });
      expect(() => service.addEnvironmentFromConfigMap('A', 'settings', 'a')).toThrow(new Error('The environment of user-service already has \'A\': set each variable once.'));
    });

    test('a variable set twice', () => {
      const { service } = setup({ environment: { A: '1' } });
      expect(() => service.addEnvironment('A', '2')).toThrow(new Error('The environment of user-service already has \'A\': set each variable once.'));
    });
  });
});
