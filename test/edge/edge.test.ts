import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Cluster, Edge, EdgeOptions, Microservice, MicroserviceOptions, Network, PlatformProfile, Storage } from '../../src';
import { TEST_ENV, testStack } from '../support/app';

interface Setup {
  readonly options?: EdgeOptions & { profile?: PlatformProfile };
  readonly services?: Omit<MicroserviceOptions, 'cluster'>[];
  readonly stack?: Stack;
}

function setup({ options = {}, services, stack = testStack({ env: TEST_ENV }) }: Setup = {}) {
  const network = new Network(stack, 'Network');
  const cluster = new Cluster(stack, 'Compute', { vpc: network.vpc, workloadSecurityGroup: network.workloadSecurityGroup });
  const storage = new Storage(stack, 'Storage');
  const definitions = services ?? [
    { name: 'api-gateway' },
    { name: 'user-service', path: '/api/users/*', canary: { weight: 10 } },
    { name: 'post-service', path: '/api/posts/*', port: 9090 },
  ];
  const microservices = definitions.map(definition => new Microservice(stack, definition.name, { ...definition, cluster }));
  const edge = new Edge(stack, 'Edge', {
    vpc: network.vpc,
    services: microservices,
    workloadSecurityGroup: network.workloadSecurityGroup,
    ingressPeer: ec2.Peer.ipv4(network.cidr),
    serverAccessLogsBucket: storage.accessLogsBucket,
    ...options,
  });
  return { stack, edge, template: Template.fromStack(stack) };
}

const targetGroup = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}TargetGroup`) });

describe('Edge', () => {
  describe('with defaults', () => {
    const { template, stack } = setup();

    test('creates an internal ALB in private subnets with HTTP/2, strictest desync mitigation and invalid headers dropped', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internal',
        Type: 'application',
        Subnets: [{ Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet2') }],
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'deletion_protection.enabled', Value: 'true' },
          { Key: 'routing.http2.enabled', Value: 'true' },
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'routing.http.desync_mitigation_mode', Value: 'strictest' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
          { Key: 'access_logs.s3.bucket', Value: { Ref: Match.stringLikeRegexp('^EdgeLogBucket') } },
          { Key: 'access_logs.s3.prefix', Value: 'alb' },
        ]),
      });
    });

    test('admits HTTP only from inside the VPC and reaches each service port on the workloads', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Internal load balancer'),
        SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 80, ToPort: 80 })],
      });
      for (const port of [8080, 9090]) {
        template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
          GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkWorkloadSecurityGroup'), 'GroupId'] },
          SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] },
          FromPort: port,
        });
      }
    });

    test('sends the default route to the API gateway and each path to its service', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroup('apigateway') }],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 20,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/posts/*', '/api/posts'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: targetGroup('postservice') }],
      });
    });

    test('weights a canary against the stable version', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/users/*', '/api/users'] } }],
        Actions: [{
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: targetGroup('userservice'), Weight: 90 },
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^userserviceCanaryTargetGroup') }, Weight: 10 },
            ],
          },
        }],
      });
    });

    test('keeps access logs in an SSE-S3 bucket (the only encryption ALB logging takes)', () => {
      template.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^StorageAccessLogs') }, LogFilePrefix: 'edge-logs/' },
          VersioningConfiguration: { Status: 'Enabled' },
        }),
        DeletionPolicy: 'Retain',
      });
    });

    test('protects the ALB with a regional web ACL: four managed rule groups and a rate limit', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: [
          Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', Priority: 0, OverrideAction: { None: {} } }),
          Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet', Priority: 1 }),
          Match.objectLike({ Name: 'AWSManagedRulesSQLiRuleSet', Priority: 2 }),
          Match.objectLike({ Name: 'AWSManagedRulesAmazonIpReputationList', Priority: 3 }),
          Match.objectLike({
            Name: 'RateLimitPerIp',
            Priority: 4,
            Action: { Block: {} },
            Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: { Ref: Match.stringLikeRegexp('^EdgeLoadBalancer') },
        WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeWebAcl'), 'Arn'] },
      });
    });

    test('logs WAF decisions to an encrypted aws-waf-logs- group kept a year, with credentials redacted', () => {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-Test-Edge-'),
          RetentionInDays: 365,
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeKey'), 'Arn'] },
        },
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
        LogDestinationConfigs: [{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':log-group:aws-waf-logs-Test-Edge-')])] }],
        RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
      });
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('/Test/Edge', Match.anyValue());
    });
  });

  test('in an environment-agnostic stack, access logs admit both delivery principals', () => {
    const { template } = setup({ stack: testStack() });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: Match.stringLikeRegexp('^EdgeLogBucket') } },
    }))[0];
    const statements = JSON.stringify(policy.Properties.PolicyDocument.Statement);
    expect(statements).toContain('logdelivery.elasticloadbalancing.amazonaws.com');
    expect(statements).toContain('IsRegionWithElbAccount');
    expect(template.toJSON().Mappings).toBeDefined();
  });

  test('development profile: no deletion protection', () => {
    const { template } = setup({ options: { profile: PlatformProfile.DEVELOPMENT } });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-'), RetentionInDays: 30 });
  });

  test('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const { template } = setup({
      stack,
      options: {
        managedRuleGroups: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesLinuxRuleSet'],
        rateLimit: 50,
        logRetention: logs.RetentionDays.SIX_MONTHS,
        encryptionKey: new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true }),
      },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
        Match.objectLike({ Name: 'AWSManagedRulesLinuxRuleSet' }),
        Match.objectLike({ Name: 'RateLimitPerIp', Priority: 2, Statement: { RateBasedStatement: Match.objectLike({ Limit: 50 }) } }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-'), RetentionInDays: 180, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BroughtKey'), 'Arn'] },
    });
    Annotations.fromStack(stack).hasWarning('/Test/Edge', Match.stringLikeRegexp('^`rateLimit` \\(50\\) blocks an IP'));
  });

  describe('fails on bad input', () => {
    const cases: [string, Setup, string][] = [
      ['a rate limit below WAF\'s minimum', { options: { rateLimit: 5 } }, '`rateLimit` (5) must be a whole number from 10 to 2000000000.'],
      ['a rule group twice', { options: { managedRuleGroups: ['AWSManagedRulesSQLiRuleSet', 'AWSManagedRulesSQLiRuleSet'] } },
        '`managedRuleGroups` ([AWSManagedRulesSQLiRuleSet, AWSManagedRulesSQLiRuleSet]) lists a rule group twice: list each once.'],
      ['a rule group that is not AWS managed', { options: { managedRuleGroups: ['MyRules'] } },
        '`managedRuleGroups` has \'MyRules\', which is not an AWS managed rule group name such as \'AWSManagedRulesCommonRuleSet\'.'],
      ['no default route', { services: [{ name: 'a', path: '/a/*' }] },
        '`services` has 0 service(s) without a path: exactly one takes the load balancer\'s default route. Give the others a path.'],
      ['two default routes', { services: [{ name: 'a' }, { name: 'b' }] },
        '`services` has 2 service(s) without a path (a, b): exactly one takes the load balancer\'s default route. Give the others a path.'],
      ['a path twice', { services: [{ name: 'a' }, { name: 'b', path: '/x/*' }, { name: 'c', path: '/x/*' }] },
        '`services`: \'c\' and \'b\' both take the path \'/x/*\': give each service its own path.'],
    ];
    test.each(cases)('%s', (_name, input, message) => {
      expect(() => setup(input)).toThrow(new Error(message));
    });
  });
});
