import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CodeLearnPlatform, DataAccess, MessageBroker, Network, PlatformProfile, ServiceDefinition } from '../src';
import { allTemplates, mergedTemplate, TEST_ENV, testApp, testStack } from './support/app';
import { openSecurityGroup, synthError } from './support/fixtures';
import { kubernetesObjects, validateKubernetesObject } from './support/kubernetes';

describe('CodeLearnPlatform', () => {
  test('synthesizes with no props in an environment-agnostic stack', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    expect(platform.profile).toBe(PlatformProfile.PRODUCTION);
    // Construct IDs are API: a renamed part would replace its resources.
    expect([platform.network, platform.storage, platform.database, platform.cache, platform.messaging, platform.cluster, platform.edge,
      platform.observability].map(part => part.node.path)).toEqual(['Network', 'Storage', 'Database', 'Cache', 'Messaging', 'Cluster', 'Edge',
      'Observability'].map(id => `Test/Platform/${id}`));
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.resourceCountIs('AWS::S3::Bucket', 5);
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    // Each service is a nested stack of its own, with its target group and rule.
    template.resourceCountIs('AWS::CloudFormation::Stack', 4);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    mergedTemplate(stack).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 4);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('AWS::RDS::DBProxy', 1);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumNodeGroups: 2, ReplicasPerNodeGroup: 1 });
    template.hasResourceProperties('AWS::AmazonMQ::Broker', { EngineType: 'RABBITMQ', DeploymentMode: 'CLUSTER_MULTI_AZ' });
    template.resourceCountIs('AWS::EKS::Cluster', 1);
    template.resourceCountIs('AWS::EKS::Nodegroup', 2);
    // One warning: where it is deployed decides whether the IP rules exist.
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map(warning => warning.entry.data)).toEqual([
      expect.stringMatching(/^The stack is environment-agnostic: the rate limit and IP reputation rules \(a CloudFront-scope web ACL\) are created only if it is deployed to us-east-1/),
    ]);
  });

  test('places subnets by zone ID where EKS does not support every zone, deciding at deploy time in an environment-agnostic stack', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    const [condition] = Object.keys(template.findConditions('*', {
      'Fn::Or': [
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-west-1'] },
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'ca-central-1'] },
      ],
    }));
    expect(condition).toMatch(/^PlatformNetworkEksZonesById/);
    const [mapping] = Object.entries(template.toJSON().Mappings).find(([id]) => id.startsWith('PlatformNetworkEksZoneIds'))!;
    expect(template.toJSON().Mappings[mapping]).toEqual({
      'us-east-1': { zone0: 'use1-az1', zone1: 'use1-az2' },
      'us-west-1': { zone0: 'usw1-az1', zone1: 'usw1-az3' },
      'ca-central-1': { zone0: 'cac1-az1', zone1: 'cac1-az2' },
    });
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', {
      AvailabilityZoneId: { 'Fn::If': [condition, { 'Fn::FindInMap': [mapping, { Ref: 'AWS::Region' }, 'zone1'] }, { Ref: 'AWS::NoValue' }] },
      AvailabilityZone: { 'Fn::If': [condition, { Ref: 'AWS::NoValue' }, { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] }] },
    }, 3);
  });

  test('synthesizes with no props in a stack with a fixed account and region', () => {
    const stack = testStack({ env: TEST_ENV });
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    // In us-east-1, by zone ID on zones EKS supports: a zone name maps to use1-az3 in some accounts.
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { AvailabilityZoneId: 'use1-az1', AvailabilityZone: Match.absent() }, 3);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { AvailabilityZoneId: 'use1-az2', AvailabilityZone: Match.absent() }, 3);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    // In a region where EKS supports every zone, by name.
    const europe = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
    new CodeLearnPlatform(europe, 'Platform', { edge: { cloudFrontWebAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/codelearn/a1b2c3d4' } });
    Template.fromStack(europe).hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'dummy1a', AvailabilityZoneId: Match.absent() });
  });

  test('passes each part\'s options through', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', {
      network: { cidr: '10.1.0.0/16', interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.STS] },
      storage: { uploadsAllowedOrigins: ['https://learn.example.com'] },
      messaging: { broker: MessageBroker.kafka() },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.1.0.0/16' });
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://learn.example.com'] })] },
    });
    template.resourceCountIs('AWS::MSK::Cluster', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformNetworkWorkloadSecurityGroup'), 'GroupId'] },
    });
    expect(Object.keys(platform.network.interfaceEndpoints)).toEqual(['sts']);
  });

  test('outputs what an operator needs after a deploy', () => {
    const stack = testStack({ env: TEST_ENV });
    new CodeLearnPlatform(stack, 'Platform');
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    const names = Object.keys(outputs).map(id => id.replace(/^Platform/, '').replace(/[0-9A-F]{8}$/, '')).sort();
    expect(names).toEqual([
      'BackupsBucket', 'BrokerEndpoints', 'CacheEndpoint', 'ClusterName', 'ClusterSecurityGroupId', 'DashboardUrl', 'DatabaseProxyEndpoint', 'DatabaseReaderEndpoints', 'DatabaseSecretArn',
      'DatabaseWriterEndpoint', 'EdgeUrl', 'KubeconfigCommand', 'RepositoryApiGateway', 'RepositoryGroupService', 'RepositoryPostService',
      'RepositoryUserService', 'StaticAssetsBucket', 'UploadsBucket',
    ]);
    const kubeconfig = Object.entries(outputs).find(([id]) => id.startsWith('PlatformKubeconfigCommand'))![1] as any;
    expect(kubeconfig.Value).toMatch(/^aws eks update-kubeconfig --name Test-Platform-Cluster-[0-9A-F]{8} --region us-east-1$/);
  });

  test('one log retention for every log group, unless a part sets its own', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', {
      logRetention: logs.RetentionDays.THREE_MONTHS,
      cache: { logRetention: logs.RetentionDays.TWO_WEEKS },
    });
    const groups = Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup')).map(group => group.Properties);
    // Flow logs, the writer's 2 (the replica's are made by deploy-time calls, which find them kept), cache 2,
    // cluster, WAF (regional and CloudFront), the deploy-time calls' function, the function that makes the database users,
    // the release gates' functions and their waiter.
    expect(groups).toHaveLength(12);
    for (const group of groups) {
      expect(group.KmsKeyId).toBeDefined();
    }
    expect(groups.filter(group => group.RetentionInDays === 14)).toHaveLength(2);
    expect(groups.filter(group => group.RetentionInDays !== 14).every(group => group.RetentionInDays === 90)).toBe(true);
  });

  test('names the services\' repositories <prefix>/<service>, one prefix a platform per account and region', () => {
    const app = testApp();
    const stack = new Stack(app, 'Prod');
    new CodeLearnPlatform(stack, 'Platform');
    expect(() => new CodeLearnPlatform(new Stack(app, 'Dev'), 'Platform', { profile: PlatformProfile.DEVELOPMENT })).toThrow(new Error(
      '`repositoryPrefix` (\'codelearn\') is taken by Prod/Platform, which may deploy to the same account and region: ECR repository names are ' +
      'unique there. Give each platform its own prefix, such as \'codelearn-dev\'.'));
    const ownPrefix = new Stack(app, 'Dev2');
    new CodeLearnPlatform(ownPrefix, 'Platform', { profile: PlatformProfile.DEVELOPMENT, repositoryPrefix: 'codelearn-dev' });
    const names = (of: Stack) => Object.values(Template.fromStack(of).findResources('AWS::ECR::Repository')).map(repository => repository.Properties.RepositoryName).sort();
    expect(names(stack)).toEqual(['codelearn/api-gateway', 'codelearn/group-service', 'codelearn/post-service', 'codelearn/user-service']);
    expect(names(ownPrefix)).toContain('codelearn-dev/user-service');
    // Platforms in different regions may share it, the account written or not.
    const regions = testApp();
    for (const region of ['eu-west-1', 'us-west-2']) {
      const regional = new Stack(regions, `Platform-${region}`, { env: { account: '123456789012', region } });
      expect(() => new CodeLearnPlatform(regional, 'Platform', { repositoryPrefix: 'shared', network: { availabilityZones: [`${region}a`, `${region}b`] } })).not.toThrow();
      expect(() => new CodeLearnPlatform(new Stack(regions, `Agnostic-${region}`, { env: { region } }), 'Platform', { repositoryPrefix: 'agnostic' })).not.toThrow();
    }
    expect(() => new CodeLearnPlatform(testStack(), 'Platform', { repositoryPrefix: 'Code Learn' })).toThrow(new Error(
      '`repositoryPrefix` (\'Code Learn\') is not an ECR repository name: use lowercase letters, digits, \'.\', \'_\', \'-\' and \'/\' between them, such as \'codelearn-dev\'.'));
  });

  test('every key lets principals create grants only for AWS resources, and denies the rest (CT.KMS.PR.3), but the EKS secrets key', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    const keys = Template.fromStack(stack).findResources('AWS::KMS::Key');
    const database = Object.entries(keys).find(([id]) => id.startsWith('PlatformDatabaseKey'))![1];
    const statements = database.Properties.KeyPolicy.Statement;
    // aws-cdk-lib's statement for Secrets Manager, split: the data key actions as they
    // were, and CreateGrant alone, for AWS resources only.
    const viaSecretsManager = statements.filter((statement: any) => JSON.stringify(statement.Condition ?? {}).includes('secretsmanager.'));
    expect(viaSecretsManager.flatMap((statement: any) => [statement.Action].flat()).sort()).toEqual([
      'kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*',
    ]);
    expect(viaSecretsManager.filter((statement: any) => [statement.Action].flat().includes('kms:CreateGrant'))).toEqual([
      expect.objectContaining({ Action: 'kms:CreateGrant', Condition: expect.objectContaining({ Bool: { 'kms:GrantIsForAWSResource': true } }) }),
    ]);
    // This stack's eight; the CloudFront WAF's key, in us-east-1, is read by the deploy rule key-grants-only-for-aws-resources.
    expect(Object.keys(keys)).toHaveLength(8);
    // EKS creates the secrets-encryption grant as the cluster's creator, without
    // kms:GrantIsForAWSResource: the cluster's key has no Deny conditioned on it.
    const [[clusterKeyId, clusterKey]] = Object.entries(keys).filter(([id]) => id.startsWith('PlatformClusterKey'));
    expect(clusterKey.Properties.KeyPolicy.Statement.filter((statement: any) => statement.Effect === 'Deny')).toEqual([]);
    for (const [id, key] of Object.entries(keys).filter(([keyId]) => keyId !== clusterKeyId)) {
      // AWS Control Tower's CT.KMS.PR.3, in the form its Guard rule matches; the account keeps kms:*.
      expect([id, key.Properties.KeyPolicy.Statement]).toEqual([id, expect.arrayContaining([
        expect.objectContaining({ Effect: 'Allow', Action: 'kms:*', Principal: { AWS: expect.anything() } }),
        {
          Sid: 'GrantsOnlyForAwsServices',
          Effect: 'Deny',
          Principal: '*',
          Action: 'kms:CreateGrant',
          Resource: '*',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        },
      ])]);
    }
    for (const key of Object.values(keys)) {
      for (const statement of key.Properties.KeyPolicy.Statement) {
        if (statement.Effect === 'Allow' && [statement.Action].flat().includes('kms:CreateGrant')) {
          expect(statement.Condition.Bool).toEqual(expect.objectContaining({ 'kms:GrantIsForAWSResource': true }));
        }
      }
    }
  });

  test('development profile: reaches every tier and warns', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', { profile: PlatformProfile.DEVELOPMENT });
    expect(platform.profile).toBe(PlatformProfile.DEVELOPMENT);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumNodeGroups: 1, ReplicasPerNodeGroup: 1 });
    template.hasResourceProperties('AWS::AmazonMQ::Broker', { DeploymentMode: 'SINGLE_INSTANCE' });
    template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    Annotations.fromStack(stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('^The development profile trades availability for cost'));
  });

  test('development profile: one on-demand t3.large holds the add-ons, the controllers and one small pod a service', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', {
      profile: PlatformProfile.DEVELOPMENT,
      services: [...CodeLearnPlatform.defaultServices(), { name: 'search-service', path: '/api/search/*', minReplicas: 2, cpu: '250m' }],
    });
    mergedTemplate(stack).hasResourceProperties('AWS::EKS::Nodegroup', {
      InstanceTypes: ['t3.large'],
      CapacityType: 'ON_DEMAND',
      ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 3 },
    });
    const objects = allTemplates(stack).flatMap(kubernetesObjects);
    const requests = (name: string) => objects.find(object => object.kind === 'Deployment' && object.metadata.name === name).spec.template.spec.containers[0].resources.requests;
    const minReplicas = (name: string) => objects.find(object => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === name).spec.minReplicas;
    for (const name of ['api-gateway', 'user-service', 'post-service', 'group-service']) {
      expect([name, requests(name), minReplicas(name)]).toEqual([name, { cpu: '100m', memory: '256Mi' }, 1]);
    }
    // What a definition says wins over the profile's defaults.
    expect([requests('search-service'), minReplicas('search-service')]).toEqual([{ cpu: '250m', memory: '256Mi' }, 2]);
  });

  test('opens the data stores only to the workloads, and the writer also to the proxy and the database\'s own functions', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(rule => rule.Properties);
    const dataStores = rules.filter(rule => /^Platform(Database|Cache|Messaging)/.test(rule.GroupId['Fn::GetAtt'][0]));
    const summary = dataStores.map(rule => [rule.GroupId['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''), rule.SourceSecurityGroupId['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''), rule.FromPort, rule.ToPort]);
    expect(summary.sort()).toEqual([
      ['PlatformCacheSecurityGroup', 'PlatformNetworkWorkloadSecurityGroup', 6379, 6379],
      ['PlatformDatabaseProxySecurityGroup', 'PlatformNetworkWorkloadSecurityGroup', 5432, 5432],
      ['PlatformDatabaseSecurityGroup', 'PlatformDatabaseProxySecurityGroup', 5432, 5432],
      // The functions that sign in as the master user: rotation and the database users.
      ['PlatformDatabaseSecurityGroup', 'PlatformDatabaseRotationSecurityGroup', 5432, 5432],
      ['PlatformDatabaseSecurityGroup', 'PlatformNetworkWorkloadSecurityGroup', 5432, 5432],
      // AMQPS only: the management console is not opened to the workloads.
      ['PlatformMessagingSecurityGroup', 'PlatformNetworkWorkloadSecurityGroup', 5671, 5671],
    ]);
    expect(rules.filter(rule => rule.CidrIp !== undefined || rule.CidrIpv6 !== undefined)).toEqual([]);
  });

  test('fails synthesis on an unacknowledged finding in its stack', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    openSecurityGroup(stack);
    const message = synthError(stack.node.root as App);
    expect(message).toMatch(/AwsSolutions-EC23[\s\S]*HIPAA.Security-EC2RestrictedSSH[\s\S]*NIST.800.53.R5-EC2RestrictedSSH[\s\S]*PCI.DSS.321-EC2RestrictedSSH/);
    expect(message).toContain('Test/Open/Resource');
    expect(message).not.toContain('Test/Platform');
  });

  test('leaves the stack unchecked with complianceChecks: false', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false });
    openSecurityGroup(stack);
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  });

  test('passes the strict CloudFormation schema validation', () => {
    const stack = testStack({ strict: true });
    new CodeLearnPlatform(stack, 'Platform', {
      network: { interfaceEndpoints: Network.eksInterfaceEndpoints() },
    });
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  });

  describe('services', () => {
    const stack = testStack({ env: TEST_ENV });
    const platform = new CodeLearnPlatform(stack, 'Platform');
    const template = mergedTemplate(stack);
    const objects = allTemplates(stack).flatMap(kubernetesObjects);
    const envOf = (name: string) => {
      const deployment = objects.find(object => object.kind === 'Deployment' && object.metadata.name === name);
      return Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((variable: any) => [variable.name, variable.value]));
    };

    test('runs the specification\'s four services, the API gateway on the default route', () => {
      expect(Object.keys(platform.services)).toEqual(['api-gateway', 'user-service', 'post-service', 'group-service']);
      expect(Object.values(platform.services).map(service => service.path)).toEqual([undefined, '/api/users/*', '/api/posts/*', '/api/groups/*']);
      expect(Object.values(platform.services).map(service => service.node.path))
        .toEqual(['ApiGateway', 'UserService', 'PostService', 'GroupService'].map(unit => `Test/Platform/Services/${unit}/Stack/Service`));
      template.resourceCountIs('AWS::ECR::Repository', 4);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 4);
    });

    test('every Kubernetes object the platform applies is valid against its schema', () => {
      // The namespace and its default-deny policy, seven objects a service, and the ConfigMaps of the replicas' and the broker's endpoints.
      expect(objects.length).toBe(2 + 4 * 7 + 2);
      for (const object of objects) {
        expect(() => validateKubernetesObject(object)).not.toThrow();
      }
    });

    test('passes configuration, never secret values, as environment', () => {
      expect(Object.keys(envOf('user-service')).sort()).toEqual([
        'AWS_REGION', 'BROKER_CREDENTIALS_SECRET_ARN', 'BROKER_ENDPOINTS', 'BROKER_ENGINE', 'CACHE_AUTH', 'CACHE_HOST',
        'CACHE_PORT', 'CACHE_REPLICATION_GROUP_ID', 'CACHE_USER', 'DATABASE_HOST', 'DATABASE_NAME', 'DATABASE_PORT', 'DATABASE_READER_HOSTS', 'DATABASE_USER',
        'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'UPLOADS_BUCKET',
      ]);
      expect(envOf('user-service')).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://cloudwatch-agent.amazon-cloudwatch:4316', OTEL_SERVICE_NAME: 'user-service',
      });
      expect(envOf('user-service')).toMatchObject({
        AWS_REGION: 'us-east-1',
        DATABASE_PORT: '5432',
        DATABASE_NAME: 'codelearn',
        DATABASE_USER: 'user_service',
        CACHE_PORT: '6379',
        BROKER_ENGINE: 'rabbitmq',
        CACHE_AUTH: 'iam',
        CACHE_USER: expect.stringMatching(/^test-user-service-[0-9a-f]{8}$/),
      });
      expect(Object.keys(envOf('api-gateway')).sort()).toEqual([
        'AWS_REGION', 'CACHE_AUTH', 'CACHE_HOST', 'CACHE_PORT', 'CACHE_REPLICATION_GROUP_ID', 'CACHE_USER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME',
      ]);
      expect(Object.keys(envOf('group-service'))).not.toContain('UPLOADS_BUCKET');
      expect(JSON.stringify(objects)).not.toMatch(/resolve:secretsmanager/);
    });

    test('gives every service that uses the cache its own cache user, in the group before its pods start', () => {
      const root = Template.fromStack(stack);
      const users = root.findResources('AWS::ElastiCache::User', { Properties: { AuthenticationMode: { Type: 'iam' } } });
      expect(Object.values(users).map(user => user.Properties.UserId).sort()).toEqual(
        ['api-gateway', 'group-service', 'post-service', 'user-service'].map(name => expect.stringMatching(new RegExp(`^test-${name}-[0-9a-f]{8}$`))));
      const [groupId] = Object.keys(root.findResources('AWS::ElastiCache::UserGroup'));
      expect(root.toJSON().Resources[groupId].Properties.UserIds).toHaveLength(5);
      // Each service's stack waits for the group, which waits for every user.
      const services = root.findResources('AWS::CloudFormation::Stack');
      expect(Object.keys(services)).toHaveLength(4);
      for (const service of Object.values(services)) {
        expect(service.DependsOn).toContain(groupId);
      }
    });

    test('makes the database user of every service that reads or writes the database on deploy', () => {
      template.hasResourceProperties('Custom::DatabaseUsers', {
        Users: ['group_service', 'post_service', 'user_service'],
        Database: 'codelearn',
        Host: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformDatabaseInstance'), 'Endpoint.Address'] },
      });
      template.hasResourceProperties('Custom::DatabaseUsers', {
        SecretArn: { Ref: Match.stringLikeRegexp('^PlatformDatabaseInstanceSecretAttachment') },
        Port: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformDatabaseInstance'), 'Endpoint.Port'] },
        // CloudFormation waits for an answer six minutes at most, not an hour.
        ServiceTimeout: '360',
      });
      // The function runs in the VPC, on Node.js 24, with the rotation's security group:
      // HTTPS out (Secrets Manager, the RDS trust store, CloudFormation) and the writer.
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Timeout: 300,
        VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformDatabaseRotationSecurityGroup'), 'GroupId'] }], SubnetIds: Match.anyValue() },
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Functions that sign in as the master user'),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
      });
      // It reads the master secret, decrypting through Secrets Manager only.
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Description: Match.stringLikeRegexp('^Makes the IAM database users'),
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp('^PlatformDatabaseInstanceSecretAttachment') } },
            {
              Effect: 'Allow',
              Action: 'kms:Decrypt',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformDatabaseKey'), 'Arn'] },
              Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
            },
          ]),
        },
      });
    });

    test('passes the replicas\' endpoints through one ConfigMap, and grants connecting to them', () => {
      const deployment = objects.find(object => object.kind === 'Deployment' && object.metadata.name === 'user-service');
      expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
        name: 'DATABASE_READER_HOSTS', valueFrom: { configMapKeyRef: { name: 'database-readers', key: 'hosts' } },
      });
      const readers = objects.filter(object => object.kind === 'ConfigMap' && object.metadata.name === 'database-readers');
      expect(readers).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: 'database-readers', namespace: 'codelearn' }) })]);
      expect(Object.keys(readers[0].data)).toEqual(['hosts']);
      // One policy of the database's, attached to the three roles that read it.
      const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy', {
        Properties: { Description: Match.stringLikeRegexp('^IAM authentication to the read replicas') },
      }));
      expect(policies).toHaveLength(1);
      const { Roles: roles, PolicyDocument: document } = policies[0].Properties;
      expect(roles).toHaveLength(3);
      // One statement for every role: each connects as the user its role's tag names, so the policy
      // does not grow with the services (IAM's 6,144-character limit on a managed policy).
      expect(document.Statement).toEqual([expect.objectContaining({ Action: 'rds-db:connect' })]);
      expect(JSON.stringify(document.Statement[0].Resource)).toMatch(/\/\$\{aws:PrincipalTag\/codelearn-database-user\}/);
      const tagged = Object.values(template.findResources('AWS::IAM::Role'))
        .flatMap(role => (role.Properties.Tags ?? []).filter((tag: any) => tag.Key === 'codelearn-database-user').map((tag: any) => tag.Value));
      expect(tagged.sort()).toEqual(['group_service', 'post_service', 'user_service']);
    });

    test('passes RabbitMQ\'s endpoints, a list, through a ConfigMap of the platform\'s stack, never as a nested stack\'s parameter', () => {
      const deployment = objects.find(object => object.kind === 'Deployment' && object.metadata.name === 'user-service');
      expect(deployment.spec.template.spec.containers[0].env).toContainEqual({
        name: 'BROKER_ENDPOINTS', valueFrom: { configMapKeyRef: { name: 'broker-endpoints', key: 'endpoints' } },
      });
      const root = Template.fromStack(stack);
      const [configMap] = Object.values(root.findResources('Custom::AWSCDK-EKS-KubernetesResource', {
        Properties: { Manifest: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::Join': [',', { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformMessagingBroker'), 'AmqpEndpoints'] }] }])] } },
      }));
      expect(configMap).toBeDefined();
      for (const nested of Object.values(root.findResources('AWS::CloudFormation::Stack'))) {
        expect(JSON.stringify(nested.Properties.Parameters)).not.toContain('AmqpEndpoints');
      }
    });

    test('grants each service only the access it declares', () => {
      const statementsOf = (service: string) => {
        const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy', {
          Properties: { Description: `Permissions of the ${service} service` },
        }));
        return JSON.stringify(policies.map(policy => policy.Properties.PolicyDocument));
      };
      expect(statementsOf('user-service')).toContain('rds-db:connect');
      expect(statementsOf('user-service')).toContain('s3:PutObject');
      expect(statementsOf('group-service')).toContain('rds-db:connect');
      expect(statementsOf('group-service')).not.toContain('s3:');
      expect(statementsOf('api-gateway')).not.toContain('rds-db:connect');
      expect(statementsOf('api-gateway')).toContain('elasticache:Connect');
      expect(statementsOf('api-gateway')).toContain(':user:test-api-gateway-');
      expect(statementsOf('api-gateway')).not.toContain(':user:test-user-service-');
      expect(statementsOf('api-gateway')).not.toContain('secretsmanager:');
    });
  });

  test('replaces the services and wires Kafka and static assets', () => {
    const stack = testStack({ env: TEST_ENV });
    const platform = new CodeLearnPlatform(stack, 'Platform', {
      messaging: { broker: MessageBroker.kafka() },
      services: [
        { name: 'gateway', port: 3000 },
        { name: 'feed', path: '/api/feed/*', spot: true, access: [DataAccess.MESSAGING, DataAccess.STATIC_ASSETS] },
      ],
    });
    expect(Object.keys(platform.services)).toEqual(['gateway', 'feed']);
    const objects = allTemplates(stack).flatMap(kubernetesObjects);
    const feed = objects.find(object => object.kind === 'Deployment' && object.metadata.name === 'feed');
    const env = feed.spec.template.spec.containers[0].env.map((variable: any) => variable.name);
    expect(env).toEqual(['AWS_REGION', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'BROKER_ENGINE', 'KAFKA_CLUSTER_ARN', 'STATIC_ASSETS_BUCKET']);
    // Kafka's clients ask MSK for the brokers: no list to share, so no broker-endpoints ConfigMap.
    expect(objects.filter(object => object.kind === 'ConfigMap' && object.metadata.name === 'broker-endpoints')).toEqual([]);
    expect(feed.spec.template.spec.tolerations).toHaveLength(1);
  });

  describe('fails on bad services', () => {
    const cases: [string, ServiceDefinition[], string][] = [
      ['no service', [], '`services` is empty: the platform needs at least the service that takes the default route.'],
      ['a name twice', [{ name: 'api' }, { name: 'api', path: '/x/*' }], '`services` lists \'api\' twice: give each service its own name.'],
      ['a path twice', [{ name: 'api' }, { name: 'a', path: '/x/*' }, { name: 'b', path: '/x/*' }],
        '`services`: \'b\' and \'a\' both take the path \'/x/*\': give each service its own path.'],
      ['two default routes', [{ name: 'api' }, { name: 'web' }],
        '`services` has 2 service(s) without a `path` (api, web): exactly one, the API gateway, takes the default route. Give the others a path.'],
      ['no default route', [{ name: 'a', path: '/a/*' }],
        '`services` has 0 service(s) without a `path`: exactly one, the API gateway, takes the default route. Give the others a path.'],
    ];
    test.each(cases)('%s', (_name, services, message) => {
      expect(() => new CodeLearnPlatform(testStack(), 'Platform', { services })).toThrow(new Error(message));
    });
  });
});
