import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { CloudFrontWebAcl, Cluster, Edge, EdgeOptions, EdgeRoute, Microservice, MicroserviceOptions, Network, PlatformProfile, Storage } from '../../src';
import { derivedPriority } from '../../src/private/routes';
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
    routes: microservices.map(service => service.route),
    workloadSecurityGroup: network.workloadSecurityGroup,
    serverAccessLogsBucket: storage.accessLogsBucket,
    staticAssetsBucket: storage.staticAssetsBucket,
    ...options,
  });
  return { stack, edge, template: Template.fromStack(stack) };
}

const targetGroup = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}TargetGroup`) });
const prefixList = { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeCloudFrontPrefixList'), 'PrefixLists.0.PrefixListId'] };
const rulePriority = (template: Template, path: string) => Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))
  .find(rule => rule.Properties.Conditions[0].PathPatternConfig.Values[0] === path)?.Properties.Priority;

describe('Edge', () => {
  describe('with defaults', () => {
    const { template, stack } = setup();

    test('creates an internal ALB in private subnets with HTTP/2, strictest desync mitigation and invalid headers dropped', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internal',
        Type: 'application',
        Subnets: [{ Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet2') }],
        LoadBalancerAttributes: Match.arrayWith([
          // Deletion protection would make a rolled-back first deploy fail to delete it.
          { Key: 'deletion_protection.enabled', Value: 'false' },
          { Key: 'routing.http2.enabled', Value: 'true' },
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'routing.http.desync_mitigation_mode', Value: 'strictest' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
          { Key: 'access_logs.s3.bucket', Value: { Ref: Match.stringLikeRegexp('^EdgeLogBucket') } },
          { Key: 'access_logs.s3.prefix', Value: 'alb' },
        ]),
      });
    });

    test('admits CloudFront\'s origin-facing prefix list, looked up at deploy time, and reaches each service port on the workloads', () => {
      template.resourcePropertiesCountIs('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Internal load balancer'), SecurityGroupIngress: Match.anyValue(),
      }, 0);
      template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] } }, 1);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] },
        SourcePrefixListId: prefixList,
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        Description: 'CloudFront VPC origin',
      });
      const lookup = Object.values(template.findResources('Custom::AWS', { Properties: { Create: Match.stringLikeRegexp('describeManagedPrefixLists') } }));
      expect(lookup).toHaveLength(1);
      expect(lookup[0].Properties.Create).toContain('"prefix-list-name","Values":["com.amazonaws.global.cloudfront.origin-facing"]');
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'ec2:DescribeManagedPrefixLists', Resource: '*' }]) },
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
      // The listener names no service: the default route is a catch-all rule, last.
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not found' } }],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 50000,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: targetGroup('apigateway') }],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: derivedPriority('/api/posts/*'),
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/posts/*', '/api/posts'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: targetGroup('postservice') }],
      });
    });

    test('weights a canary against the stable version', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: derivedPriority('/api/users/*'),
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

    test('protects the ALB with a regional web ACL of the content rules: three managed rule groups, nothing keyed on the source IP', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        VisibilityConfig: Match.objectLike({ MetricName: Match.stringLikeRegexp('^Test-Edge-[0-9A-F]{8}-edge$') }),
        Rules: [
          Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', Priority: 0, OverrideAction: { None: {} } }),
          Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet', Priority: 1 }),
          Match.objectLike({ Name: 'AWSManagedRulesSQLiRuleSet', Priority: 2 }),
        ],
      });
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: { Ref: Match.stringLikeRegexp('^EdgeLoadBalancer') },
        WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeWebAcl'), 'Arn'] },
      });
    });

    test('judges the viewer\'s IP at CloudFront: a CloudFront-scope web ACL with the IP reputation list and the rate limit', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'CLOUDFRONT',
        Rules: [
          Match.objectLike({ Name: 'AWSManagedRulesAmazonIpReputationList', Priority: 0 }),
          Match.objectLike({
            Name: 'RateLimitPerIp',
            Priority: 1,
            Action: { Block: {} },
            Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({ WebACLId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeCloudFrontWebAcl'), 'Arn'] } }),
      });
      template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
        ResourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeCloudFrontWebAcl'), 'Arn'] },
        LogDestinationConfigs: [{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':log-group:aws-waf-logs-Test-Edge-CloudFrontWebAcl-')])] }],
      });
    });

    test('logs WAF decisions to an encrypted aws-waf-logs- group kept a year, with credentials redacted', () => {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-Test-Edge-'),
          RetentionInDays: 365,
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeKey'), 'Arn'] },
        },
        // Named: removed when a first create rolls back, so that the retry does not find it.
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
        LogDestinationConfigs: [{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':log-group:aws-waf-logs-Test-Edge-')])] }],
        RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
      });
    });

    test('puts CloudFront in front: the ALB through a VPC origin, static assets through OAC', () => {
      template.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
        VpcOriginEndpointConfig: Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^EdgeLoadBalancer') },
          OriginProtocolPolicy: 'http-only',
        }),
      });
      template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
      });
      template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          HttpVersion: 'http2and3',
          IPV6Enabled: true,
          PriceClass: 'PriceClass_All',
          Logging: { Bucket: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeLogBucket'), 'RegionalDomainName'] }, Prefix: 'cloudfront/' },
          DefaultCacheBehavior: Match.objectLike({
            ViewerProtocolPolicy: 'redirect-to-https',
            AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
            OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
            ResponseHeadersPolicyId: '67f7725c-6f97-4210-82d7-5512b31e9d03',
            Compress: true,
          }),
          CacheBehaviors: [Match.objectLike({
            PathPattern: '/static/*',
            ViewerProtocolPolicy: 'redirect-to-https',
            CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
            ResponseHeadersPolicyId: '67f7725c-6f97-4210-82d7-5512b31e9d03',
          })],
        }),
      });
    });

    test('outputs the CloudFront URL', () => {
      template.hasOutput('*', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeDistribution'), 'DomainName'] }]] } });
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('/Test/Edge', Match.anyValue());
    });
  });

  describe('with a domain', () => {
    const stack = testStack({ env: TEST_ENV });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
    const { template, edge } = setup({ stack, options: { domain: { domainName: 'learn.example.com', hostedZone } } });

    test('serves the domain with a DNS-validated certificate and TLS 1.2', () => {
      template.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: 'learn.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'learn.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }],
      });
      template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          Aliases: ['learn.example.com'],
          ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' }),
          WebACLId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeCloudFrontWebAcl'), 'Arn'] },
        }),
      });
      expect(edge.url).toBe('https://learn.example.com');
    });

    test('points A and AAAA alias records at CloudFront', () => {
      for (const type of ['A', 'AAAA']) {
        template.hasResourceProperties('AWS::Route53::RecordSet', {
          Name: 'learn.example.com.',
          Type: type,
          HostedZoneId: 'Z0123456789ABCDEFGHIJ',
          AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeDistribution'), 'DomainName'] } }),
        });
      }
    });

    test('speaks HTTPS only from CloudFront to the ALB, with a certificate for origin.<domain>', () => {
      template.hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'origin.learn.example.com' });
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      });
      // One reference to the prefix list (it weighs 55 of a group's 60 inbound rules), on 443 only.
      template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] } }, 1);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] }, SourcePrefixListId: prefixList, FromPort: 443, ToPort: 443,
      });
      template.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
        VpcOriginEndpointConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] }),
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        ListenerArn: { Ref: Match.stringLikeRegexp('^EdgeLoadBalancerHttps') },
      });
    });

  });

  test('with a domain outside us-east-1 and a certificate and web ACL brought from there', () => {
    const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555');
    const cloudFrontWebAclArn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/codelearn/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
    const { template } = setup({ stack, options: { domain: { domainName: 'learn.example.com', hostedZone, cloudFrontCertificate: certificate }, cloudFrontWebAclArn } });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        ViewerCertificate: Match.objectLike({ AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' }),
        WebACLId: cloudFrontWebAclArn,
      }),
    });
    template.resourcePropertiesCountIs('AWS::CertificateManager::Certificate', { DomainName: 'learn.example.com' }, 0);
    template.resourcePropertiesCountIs('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' }, 0);
    Annotations.fromStack(stack).hasNoWarning('/Test/Edge', Match.anyValue());
  });

  test('outside us-east-1 without a CloudFront web ACL: content rules at the ALB, and a warning that says how to add the IP rules', () => {
    const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
    const { template } = setup({ stack });
    template.resourcePropertiesCountIs('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' }, 0);
    template.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ WebACLId: Match.absent() }) });
    Annotations.fromStack(stack).hasWarning('/Test/Edge', Match.stringLikeRegexp(
      '^The stack is in eu-west-1: the rate limit and IP reputation rules need a CloudFront-scope web ACL, which exists only in us-east-1. ' +
      'Create a CloudFrontWebAcl in a us-east-1 stack and pass its ARN as `edge.cloudFrontWebAclArn`'));
  });

  test('in an environment-agnostic stack, the CloudFront web ACL exists only when the stack is deployed to us-east-1', () => {
    const stack = testStack();
    const { template } = setup({ stack });
    expect(template.toJSON().Conditions).toEqual(expect.objectContaining({
      [Object.keys(template.toJSON().Conditions).find(name => name.startsWith('EdgeIsUsEast1'))!]: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
    }));
    const cloudFrontAcls = template.findResources('AWS::WAFv2::WebACL', { Properties: { Scope: 'CLOUDFRONT' } });
    expect(Object.values(cloudFrontAcls).map(acl => acl.Condition)).toEqual([expect.stringMatching(/^EdgeIsUsEast1/)]);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: { 'Fn::If': [Match.stringLikeRegexp('^EdgeIsUsEast1'), { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeCloudFrontWebAcl'), 'Arn'] }, { Ref: 'AWS::NoValue' }] },
      }),
    });
    for (const type of ['AWS::Logs::LogGroup', 'AWS::WAFv2::LoggingConfiguration']) {
      const conditioned = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith('EdgeCloudFrontWebAcl'));
      expect(conditioned.map(([, resource]) => resource.Condition)).toEqual([expect.stringMatching(/^EdgeIsUsEast1/)]);
    }
  });

  test('a CloudFrontWebAcl alone, in a us-east-1 stack: the IP rules, logged, with its own key', () => {
    const stack = testStack({ env: TEST_ENV });
    const acl = new CloudFrontWebAcl(stack, 'Global', { rateLimit: 500, managedRuleGroups: ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList'] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      Rules: [
        Match.objectLike({ Name: 'AWSManagedRulesAmazonIpReputationList' }),
        Match.objectLike({ Name: 'AWSManagedRulesAnonymousIpList' }),
        Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } }),
      ],
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(stack.resolve(acl.metric('BlockedRequests').toMetricConfig().metricStat)).toEqual(expect.objectContaining({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      region: 'us-east-1',
      dimensions: [{ name: 'Rule', value: 'ALL' }, { name: 'WebACL', value: acl.metricName }],
    }));
  });

  describe('rule priorities follow the services, not their order', () => {
    const services = [
      { name: 'api-gateway' },
      { name: 'user-service', path: '/api/users/*' },
      { name: 'post-service', path: '/api/posts/*' },
      { name: 'group-service', path: '/api/groups/*' },
    ];
    const priorities = (list: { name: string; path?: string; priority?: number }[]) => {
      const { template } = setup({ services: list });
      return Object.fromEntries(list.filter(service => service.path).map(service => [service.name, rulePriority(template, service.path!)]));
    };
    const all = priorities(services);

    test('removing, adding or reordering services moves no other service\'s rule', () => {
      expect(priorities(services.filter(service => service.name !== 'user-service'))).toEqual({
        'post-service': all['post-service'], 'group-service': all['group-service'],
      });
      expect(priorities([...services, { name: 'feed-service', path: '/api/feed/*' }])).toEqual(expect.objectContaining(all));
      expect(priorities([...services].reverse())).toEqual(all);
      expect(new Set(Object.values(all)).size).toBe(3);
    });

    test('a path that covers another comes after it, whatever the two hash to', () => {
      const nested = priorities([services[0], { name: 'api', path: '/api/*' }, { name: 'users', path: '/api/users/*' }, { name: 'admin', path: '/api/admin/users/*' }]);
      expect(nested.admin).toBeLessThan(nested.users);
      expect(nested.users).toBeLessThan(nested.api);
      // Bands by the segments before the wildcard: three or more, two, one, none.
      const band = (priority: number) => [1, 14_000, 44_000, 49_000, 50_000].findIndex(start => priority < start);
      expect([derivedPriority('/a/b/c/*'), derivedPriority('/a/b/*'), derivedPriority('/a/*'), derivedPriority('/*x')].map(band)).toEqual([1, 2, 3, 4]);
    });

    test('a service may set its own priority', () => {
      expect(priorities([...services.slice(0, 2), { name: 'post-service', path: '/api/posts/*', priority: 7 }])['post-service']).toBe(7);
    });
  });

  describe('routes added in a scope the caller gives', () => {
    function bare(stack: Stack = testStack({ env: TEST_ENV })) {
      const network = new Network(stack, 'Network');
      const storage = new Storage(stack, 'Storage');
      const edge = new Edge(stack, 'Edge', {
        vpc: network.vpc,
        workloadSecurityGroup: network.workloadSecurityGroup,
        serverAccessLogsBucket: storage.accessLogsBucket,
        staticAssetsBucket: storage.staticAssetsBucket,
      });
      const group = (id: string, port = 8080) => new elbv2.ApplicationTargetGroup(stack, id, {
        vpc: network.vpc, port, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP,
      });
      return { stack, edge, group, network };
    }

    test('the rule is created where the caller says, and the workloads admit the load balancer on the route\'s port', () => {
      const { stack, edge, group } = bare();
      const unit = new Construct(stack, 'Search');
      const rule = edge.addRoute(unit, 'Route', { name: 'search', path: '/api/search/*', targetGroups: [{ targetGroup: group('Group', 9000) }], targetPort: 9000 });
      expect(rule.node.path).toBe('Test/Search/Route');
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: derivedPriority('/api/search/*'),
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/search/*', '/api/search'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^Group') } }],
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 9000, ToPort: 9000, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EdgeSecurityGroup'), 'GroupId'] },
      });
    });

    test('without a default route the listener answers 404 to what no rule takes', () => {
      const { stack, edge, group } = bare();
      edge.addRoute(stack, 'Users', { name: 'users', path: '/api/users/*', targetGroups: [{ targetGroup: group('Group') }], targetPort: 8080 });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not found' } }],
      });
    });

    test('a route weighted across three target groups', () => {
      const { stack, edge, group } = bare();
      edge.addRoute(stack, 'Web', {
        name: 'web',
        targetGroups: [{ targetGroup: group('Blue'), weight: 80 }, { targetGroup: group('Green'), weight: 20 }, { targetGroup: group('Dark'), weight: 0 }],
        targetPort: 8080,
      });
      Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 50000,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
        Actions: [{
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^Blue') }, Weight: 80 },
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^Green') }, Weight: 20 },
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^Dark') }, Weight: 0 },
            ],
          },
        }],
      });
    });

    test('bad routes fail with the property, the value and the fix', () => {
      const { stack, edge, group } = bare();
      const targetGroups = [{ targetGroup: group('Group') }];
      const add = (route: Partial<EdgeRoute>) => () => edge.addRoute(stack, `R${Math.random()}`, { name: 'r', targetGroups, targetPort: 8080, ...route });
      expect(add({ targetGroups: [] })).toThrow(new Error('`route.targetGroups` has 0 target groups: a listener rule forwards to 1 to 5.'));
      expect(add({ targetGroups: [{ targetGroup: group('G1'), weight: 1000 }, { targetGroup: group('G2') }] }))
        .toThrow(new Error('`route.targetGroups[0].weight` (1000) must be a whole number from 0 to 999.'));
      expect(add({ targetPort: 0 })).toThrow(new Error('`route.targetPort` (0) must be a whole number from 1 to 65535.'));
      expect(add({ priority: 3 })).toThrow(new Error(
        '`route.priority` is set, but the route has no `path`: the default route always comes last. Remove `priority`, or give the route a path.'));
      expect(add({ path: 'api' })).toThrow(new Error('`route.path` (\'api\') is not a path pattern: write it as \'/api/users/*\'.'));
      expect(add({ name: '' })).toThrow(new Error('`route.name` (\'\') must be a literal, non-empty name such as \'user-service\'.'));
      expect(add({ path: '/*' })).toThrow(new Error('`route.path` (\'/*\') matches every request, as the default route does: leave `path` out for the ' +
        'route that takes everything else, and give the others their prefix, such as \'/api/users/*\'.'));
      const six = Array.from({ length: 6 }, (_, index) => ({ targetGroup: group(`Six${index}`) }));
      expect(add({ targetGroups: six })).toThrow(new Error('`route.targetGroups` has 6 target groups: a listener rule forwards to 1 to 5.'));
      edge.addRoute(stack, 'First', { name: 'first', path: '/first/*', targetGroups, targetPort: 8080 });
      expect(add({ name: 'first', path: '/other/*' })).toThrow(new Error('`route.name` (\'first\') is the name of another route: give each route its own name.'));
      // A taken ID fails before the edge records anything: the same route then goes in under another ID.
      expect(() => edge.addRoute(stack, 'First', { name: 'second', path: '/second/*', targetGroups, targetPort: 9090 })).toThrow(new Error(
        'The ID \'First\' of route \'second\' is taken in Test: give each route its own ID.'));
      edge.addRoute(stack, 'Second', { name: 'second', path: '/second/*', targetGroups, targetPort: 9090 });
      Template.fromStack(stack).resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { FromPort: 9090 }, 1);
    });

    test('an exact path comes before the pattern that also takes it; one that never would fails', () => {
      const { stack, edge, group } = bare();
      const targetGroups = [{ targetGroup: group('Group') }];
      edge.addRoute(stack, 'Api', { name: 'api', path: '/api/*', targetGroups, targetPort: 8080 });
      edge.addRoute(stack, 'Health', { name: 'health', path: '/api', targetGroups, targetPort: 8080 });
      expect(derivedPriority('/api')).toBeLessThan(derivedPriority('/api/*'));
      const { edge: other, group: otherGroup } = bare();
      other.addRoute(other, 'Api', { name: 'api', path: '/api/*', priority: 10, targetGroups: [{ targetGroup: otherGroup('Group') }], targetPort: 8080 });
      expect(() => other.addRoute(other, 'Health', { name: 'health', path: '/api', priority: 20, targetGroups: [{ targetGroup: otherGroup('Other') }], targetPort: 8080 }))
        .toThrow(new Error('`routes`: \'health\' (\'/api\', priority 20) would never be reached: \'api\' (\'/api/*\', priority 10) matches its requests first. ' +
          'Set `priority` on \'health\' below 10, or on \'api\' above 20.'));
    });

    test('one target group with a weight is a weighted forward; weights that all say 0 fail', () => {
      const { stack, edge, group } = bare();
      edge.addRoute(stack, 'Weighed', { name: 'weighed', path: '/weighed/*', targetGroups: [{ targetGroup: group('Group'), weight: 5 }], targetPort: 8080 });
      Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: { Ref: Match.stringLikeRegexp('^Group') }, Weight: 5 }] } }],
      });
      expect(() => edge.addRoute(stack, 'Dark', { name: 'dark', path: '/dark/*', targetGroups: [{ targetGroup: group('Dark'), weight: 0 }], targetPort: 8080 }))
        .toThrow(new Error('`route.targetGroups` all weigh 0: the rule would take the route\'s requests and send them nowhere. Give one target group a weight above 0.'));
      expect(() => edge.addRoute(stack, 'Long', { name: 'long', path: `/${'x'.repeat(130)}/*`, targetGroups: [{ targetGroup: group('Long') }], targetPort: 8080 }))
        .toThrow(new Error(`\`route.path\` ('/${'x'.repeat(23)}…') is 133 characters: a load balancer's path pattern takes 128 at most.`));
    });

    test('routes in the props are named by their place in the list', () => {
      const stack = testStack({ env: TEST_ENV });
      const network = new Network(stack, 'Network');
      const storage = new Storage(stack, 'Storage');
      const group = (id: string) => new elbv2.ApplicationTargetGroup(stack, id, {
        vpc: network.vpc, port: 8080, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP,
      });
      const edge = (routes: EdgeRoute[]) => () => new Edge(stack, `Edge${Math.random()}`, {
        vpc: network.vpc,
        routes,
        workloadSecurityGroup: network.workloadSecurityGroup,
        serverAccessLogsBucket: storage.accessLogsBucket,
        staticAssetsBucket: storage.staticAssetsBucket,
      });
      const targetGroups = [{ targetGroup: group('Group') }];
      expect(edge([{ name: 'a', path: '/a/*', targetGroups, targetPort: 8080 }, { name: 'a', path: '/b/*', targetGroups, targetPort: 8080 }]))
        .toThrow(new Error('`routes[1].name` (\'a\') is the name of another route: give each route its own name.'));
      expect(edge([{ name: 'user-service', path: '/a/*', targetGroups, targetPort: 8080 }, { name: 'user_service', path: '/b/*', targetGroups, targetPort: 8080 }]))
        .toThrow(new Error('`routes[1].name` (\'user_service\') makes the construct ID \'UserServiceRoute\', which another route\'s name makes too: ' +
          'give the routes names that differ in more than \'-\' and \'_\'.'));
      expect(edge([{ name: 'a', path: '/a/*', targetGroups, targetPort: 0 }])).toThrow(new Error('`routes[0].targetPort` (0) must be a whole number from 1 to 65535.'));
    });

    test('more target groups than a load balancer takes', () => {
      const { stack, edge, group } = bare();
      const groups = Array.from({ length: 5 }, (_, index) => ({ targetGroup: group(`Group${index}`) }));
      for (let index = 0; index < 20; index++) {
        edge.addRoute(stack, `Route${index}`, { name: `r${index}`, path: `/r${index}/*`, targetGroups: groups, targetPort: 8080 });
      }
      expect(() => edge.addRoute(stack, 'Last', { name: 'last', path: '/last/*', targetGroups: [groups[0]], targetPort: 8080 })).toThrow(new Error(
        '`routes` need 101 target groups, and an Application Load Balancer takes 100: split the routes between two edges, or raise the quota with AWS Support.'));
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

  test('development profile: a month of WAF logs', () => {
    const { template } = setup({ options: { profile: PlatformProfile.DEVELOPMENT } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^aws-waf-logs-'), RetentionInDays: 30 });
  });

  test('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const { template } = setup({
      stack,
      options: {
        managedRuleGroups: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesLinuxRuleSet', 'AWSManagedRulesAnonymousIpList'],
        rateLimit: 50,
        logRetention: logs.RetentionDays.SIX_MONTHS,
        encryptionKey: new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true }),
      },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: [Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }), Match.objectLike({ Name: 'AWSManagedRulesLinuxRuleSet' })],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      Rules: [
        Match.objectLike({ Name: 'AWSManagedRulesAnonymousIpList', Priority: 0 }),
        Match.objectLike({ Name: 'RateLimitPerIp', Priority: 1, Statement: { RateBasedStatement: Match.objectLike({ Limit: 50 }) } }),
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
      ['two default routes', { services: [{ name: 'a' }, { name: 'b' }] },
        '`routes`: \'b\' has no `path`, and \'a\' takes the default route already: give \'b\' a path.'],
      ['a path twice', { services: [{ name: 'a' }, { name: 'b', path: '/x/*' }, { name: 'c', path: '/x/*' }] },
        '`routes`: \'c\' and \'b\' both take the path \'/x/*\': give each route its own path.'],
      ['a static path that is not a pattern', { options: { staticPathPattern: 'static' } },
        '`staticPathPattern` (\'static\') is not a path pattern: write it as \'/static/*\'.'],
      ['a static path that a service takes', { options: { staticPathPattern: '/api/users/*' } },
        '`staticPathPattern` (\'/api/users/*\') is also the path of \'user-service\': give the static assets another path.'],
    ];
    test.each(cases)('%s', (_name, input, message) => {
      expect(() => setup(input)).toThrow(new Error(message));
    });

    const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    test('a domain without a hosted zone', () => {
      const stack = testStack({ env: TEST_ENV });
      expect(() => setup({ stack, options: { domain: { domainName: 'learn.example.com' } as any } }))
        .toThrow(new Error('`domain.hostedZone` is missing: a domain needs the public hosted zone that holds it, for the certificates and the alias records.'));
    });
    test('a domain that is not a domain name', () => {
      const stack = testStack({ env: TEST_ENV });
      expect(() => setup({ stack, options: { domain: { domainName: 'Learn Example', hostedZone: zone(stack) } } }))
        .toThrow(new Error('`domain.domainName` (\'Learn Example\') is not a literal domain name such as \'learn.example.com\'.'));
    });
    test('a domain outside us-east-1 without a certificate', () => {
      const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
      expect(() => setup({ stack, options: { domain: { domainName: 'learn.example.com', hostedZone: zone(stack) } } })).toThrow(new Error(
        '`domain` needs a certificate in us-east-1 for CloudFront, but the stack\'s region is \'eu-west-1\': pass `domain.cloudFrontCertificate` ' +
        '(created in us-east-1, for example in a small stack there), or deploy the platform to us-east-1.'));
    });
    test('a domain in an environment-agnostic stack without a certificate', () => {
      const stack = testStack();
      expect(() => setup({ stack, options: { domain: { domainName: 'learn.example.com', hostedZone: zone(stack) } } })).toThrow(new Error(
        '`domain` needs a certificate in us-east-1 for CloudFront, but the stack\'s region is not set: pass `domain.cloudFrontCertificate` ' +
        '(created in us-east-1, for example in a small stack there), or deploy the platform to us-east-1.'));
    });
    test('a CloudFront web ACL ARN that is not one', () => {
      expect(() => setup({ options: { cloudFrontWebAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1' } })).toThrow(new Error(
        '`cloudFrontWebAclArn` (\'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1\') is not the ARN of a CloudFront-scope web ACL, ' +
        'such as \'arn:aws:wafv2:us-east-1:123456789012:global/webacl/codelearn/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111\'.'));
    });
    test('a CloudFrontWebAcl outside us-east-1', () => {
      const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
      expect(() => new CloudFrontWebAcl(stack, 'Acl')).toThrow(new Error(
        'A CloudFrontWebAcl must be in a us-east-1 stack, where CloudFront-scope web ACLs live, but this stack\'s region is \'eu-west-1\': ' +
        'create it in a us-east-1 stack and pass its `webAclArn` to the platform as `edge.cloudFrontWebAclArn`.'));
    });
    test('two services on one priority', () => {
      expect(() => setup({ services: [{ name: 'a' }, { name: 'b', path: '/b/*', priority: 5 }, { name: 'c', path: '/c/*', priority: 5 }] })).toThrow(new Error(
        '`routes`: \'c\' (\'/c/*\') and \'b\' (\'/b/*\') both take listener rule priority 5: set `priority` on one of them to a free number from 1 to 49999.'));
    });
    test('a general path checked before a more specific one', () => {
      expect(() => setup({ services: [{ name: 'a' }, { name: 'api', path: '/api/*', priority: 5 }, { name: 'users', path: '/api/users/*', priority: 9 }] })).toThrow(new Error(
        '`routes`: \'users\' (\'/api/users/*\', priority 9) would never be reached: \'api\' (\'/api/*\', priority 5) matches its requests first. ' +
        'Set `priority` on \'users\' below 5, or on \'api\' above 9.'));
    });
  });
});
