import { Annotations, Aws, CfnCondition, CfnOutput, CfnResource, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { CloudFrontWebAcl } from './cloudfront-web-acl';
import { EdgeProps } from './edge-options';
import { EdgeRoute, forwardTo, validateRoute } from './route';
import { AwsCalls } from '../private/aws-calls';
import { logAccessLogs } from '../private/elb-access-logs';
import { ConfigurationError } from '../private/errors';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, HIPAA_AND_NIST } from '../private/nag';
import { pascalCase } from '../private/names';
import { profileDefaults } from '../private/profile';
import { checkPaths, LAST_PRIORITY, routePriorities } from '../private/routes';
import { subnetCidrs } from '../private/subnets';
import { requirePathPattern, requireWholeNumber } from '../private/validate';
import { DEFAULT_RULE_GROUPS, IP_RULE_GROUPS, logWebAcl, managedRules, validateRuleGroups, visibility, webAclMetricName } from '../private/web-acl';

const HTTP_PORT = 80;
/** The managed prefix list of the addresses CloudFront connects to origins from, VPC origins included. */
const CLOUDFRONT_ORIGIN_FACING = 'com.amazonaws.global.cloudfront.origin-facing';
/** What the listener answers when no rule matches (only while the default route's rule is being created). */
const NOT_FOUND = elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' });

/**
 * How users reach the platform: CloudFront in front of an internal Application
 * Load Balancer that CDK owns, with a path rule per service (weighted across a
 * canary's two target groups), and WAF at both.
 *
 * - CloudFront reaches the load balancer through a VPC origin; the load balancer
 *   sits in private subnets and admits only CloudFront's origin-facing addresses
 *   (the managed prefix list, looked up at deploy time). HTTP/2, strictest desync
 *   mitigation, invalid header fields dropped, access logs.
 * - WAF: the rules that judge the request's content (AWS managed rule groups) on
 *   the load balancer's regional web ACL; the rules that judge the viewer's IP (a
 *   per-IP rate limit, the IP reputation list) on a CloudFront-scope web ACL, which
 *   the edge creates in us-east-1 or takes as `cloudFrontWebAclArn`. Both log to
 *   encrypted log groups with authorization headers and cookies redacted.
 * - Each route is a listener rule with a stable priority (its own, or derived
 *   from its path), created in the scope the caller gives to `addRoute` (the
 *   platform gives each service's, so the rule deploys with the service). The
 *   route without a path is a catch-all rule at the last priority; the listener
 *   itself answers 404.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const workloads: ec2.ISecurityGroup;
 * declare const accessLogs: s3.IBucket;
 * declare const staticAssets: s3.IBucket;
 * declare const gateway: Microservice;
 * declare const users: Microservice;
 * const edge = new Edge(this, 'Edge', {
 *   vpc,
 *   routes: [gateway.route],
 *   workloadSecurityGroup: workloads,
 *   serverAccessLogsBucket: accessLogs,
 *   staticAssetsBucket: staticAssets,
 *   rateLimit: 1000,
 * });
 * // A route in the service's own scope deploys with the service.
 * edge.addRoute(users, 'Route', users.route);
 */
export class Edge extends Construct {
  /** The internal Application Load Balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;

  /**
   * The IPv4 CIDR blocks of the load balancer's subnets, which its nodes send
   * requests and health checks from: a service's `loadBalancerCidrs`.
   */
  public get loadBalancerCidrs(): string[] {
    return subnetCidrs(this.placement.vpc, this.placement.selection, this.node.path);
  }

  private readonly placement: { vpc: ec2.IVpc; selection: ec2.SubnetSelection };

  /** The load balancer's listener: HTTPS with a domain, HTTP otherwise. */
  public readonly listener: elbv2.ApplicationListener;

  /** The bucket of the load balancer's access logs. */
  public readonly logBucket: s3.Bucket;

  /** The regional web ACL associated with the load balancer: the rules that judge the request's content. */
  public readonly webAcl: wafv2.CfnWebACL;

  /** The log group of the regional web ACL. */
  public readonly wafLogGroup: logs.ILogGroup;

  /** The CloudFront distribution in front of everything. */
  public readonly distribution: cloudfront.Distribution;

  /**
   * The CloudFront-scope web ACL that the edge created: the rules that judge the viewer's IP.
   *
   * @default - none with `cloudFrontWebAclArn`, or outside us-east-1
   */
  public readonly cloudFrontWebAcl?: CloudFrontWebAcl;

  /** The URL of the platform: `https://` and the custom domain, or the CloudFront domain name. */
  public readonly url: string;

  private readonly webAclMetricName: string;
  private readonly staticPath: string;
  private readonly workloadSecurityGroup: ec2.ISecurityGroup;
  private readonly routes: EdgeRoute[] = [];
  private readonly targetPorts = new Set<number>();

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 2000;
    requireWholeNumber('rateLimit', rateLimit, 10, 2_000_000_000);
    const ruleGroups = props.managedRuleGroups ?? DEFAULT_RULE_GROUPS;
    validateRuleGroups('managedRuleGroups', ruleGroups);
    const staticPath = props.staticPathPattern ?? '/static/*';
    requirePathPattern('staticPathPattern', staticPath, '/static/*');
    this.staticPath = staticPath;
    this.workloadSecurityGroup = props.workloadSecurityGroup;
    const stack = Stack.of(this);
    const inUsEast1 = stack.region === 'us-east-1';
    if (props.domain) {
      if (!props.domain.hostedZone) {
        throw new ConfigurationError('`domain.hostedZone` is missing: a domain needs the public hosted zone that holds it, for the certificates and the alias records.');
      }
      const name = props.domain.domainName;
      if (Token.isUnresolved(name) || !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/.test(name)) {
        throw new ConfigurationError(`\`domain.domainName\` ('${name}') is not a literal domain name such as 'learn.example.com'.`);
      }
      const zone = literalZoneName(props.domain.hostedZone);
      if (zone !== undefined && name !== zone && !name.endsWith(`.${zone}`)) {
        throw new ConfigurationError(`\`domain.domainName\` ('${name}') is not in \`domain.hostedZone\` ('${zone}'): the certificates are validated and ` +
          `the aliases written in that zone. Use a name that ends with '.${zone}', or the zone that holds '${name}'.`);
      }
      if (!props.domain.cloudFrontCertificate && !inUsEast1) {
        throw new ConfigurationError(
          `\`domain\` needs a certificate in us-east-1 for CloudFront, but the stack's region is ${Token.isUnresolved(stack.region) ? 'not set' : `'${stack.region}'`}: ` +
          'pass `domain.cloudFrontCertificate` (created in us-east-1, for example in a small stack there), or deploy the platform to us-east-1.');
      }
    }
    if (props.cloudFrontWebAclArn !== undefined && !Token.isUnresolved(props.cloudFrontWebAclArn) &&
      !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[^/]+\/[^/]+$/.test(props.cloudFrontWebAclArn)) {
      throw new ConfigurationError(`\`cloudFrontWebAclArn\` ('${props.cloudFrontWebAclArn}') is not the ARN of a CloudFront-scope web ACL, ` +
        'such as \'arn:aws:wafv2:us-east-1:123456789012:global/webacl/codelearn/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111\'.');
    }

    // ALB and CloudFront standard logs are delivered only to buckets with
    // S3-managed encryption; CloudFront's delivery also needs ACLs enabled.
    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: 'edge-logs/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'expire-load-balancer-logs',
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
        expiration: Duration.days(365),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    const sseS3 = 'Elastic Load Balancing and CloudFront deliver access logs only to buckets encrypted with S3-managed keys (SSE-S3).';
    acknowledgeControlRule(this.logBucket, 'S3DefaultEncryptionKMS', sseS3);
    acknowledgeControlRule(this.logBucket, 'S3BucketReplicationEnabled',
      'Load balancer access logs are operational records kept in the region they describe.');

    const key = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the WAF logs of ${this.node.path}`);
    allowCloudWatchLogs(key);
    const retention = props.logRetention ?? profileDefaults(props.profile).logRetention;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.placement = { vpc: props.vpc, selection: vpcSubnets };

    // CloudFront's VPC origin connects from CloudFront's origin-facing addresses,
    // not from the VPC's block: the group admits that managed prefix list, on the
    // one port the origin uses (the list weighs 55 of a group's 60 inbound rules).
    const originPort = props.domain ? HTTPS_PORT : HTTP_PORT;
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Internal load balancer: CloudFront (VPC origin) on ${originPort}, to the pods of the services`,
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.prefixList(this.cloudFrontPrefixList(props.vpc, vpcSubnets, key, retention)),
      ec2.Port.tcp(originPort), 'CloudFront VPC origin');

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets,
      internetFacing: false,
      securityGroup,
      http2Enabled: true,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      // Deletion protection would make a rolled-back first deploy fail to delete it.
      deletionProtection: false,
      idleTimeout: Duration.seconds(60),
    });
    logAccessLogs(this.loadBalancer, this.logBucket, 'alb');
    acknowledgeControlRule(this.loadBalancer, 'ELBDeletionProtectionEnabled',
      'The load balancer holds no data and CloudFormation owns it: deletion protection would make a rolled-back first deploy ' +
      'fail (ROLLBACK_FAILED) instead of letting it be retried. Enable termination protection on the stack to guard against deletion.',
      HIPAA_AND_NIST);

    const originDomain = props.domain ? `origin.${props.domain.domainName}` : undefined;
    if (props.domain && originDomain) {
      const originCertificate = new acm.Certificate(this, 'OriginCertificate', {
        domainName: originDomain,
        validation: acm.CertificateValidation.fromDns(props.domain.hostedZone),
      });
      this.listener = this.loadBalancer.addListener('Https', {
        port: HTTPS_PORT,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [originCertificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: NOT_FOUND,
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: HTTP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: NOT_FOUND,
      });
      const inVpc = 'Viewers reach the platform over HTTPS at CloudFront; CloudFront reaches this internal load balancer through a ' +
        'VPC origin, so the HTTP hop stays inside AWS\'s network. Without a domain the load balancer has no name to hold a certificate for.';
      acknowledgeControlRule(this.loadBalancer, 'ALBHttpToHttpsRedirection', inVpc);
      acknowledgeControlRule(this.listener, 'ELBv2ACMCertificateRequired', inVpc);
    }

    (props.routes ?? []).forEach((route, index) => this.createRoute(this, `${pascalCase(route.name)}Route`, route, `routes[${index}]`));

    // The regional web ACL: the rules that judge the request's content.
    const contentGroups = ruleGroups.filter(group => !IP_RULE_GROUPS.includes(group));
    const ipGroups = ruleGroups.filter(group => IP_RULE_GROUPS.includes(group));
    this.webAclMetricName = webAclMetricName(this, 'edge');
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclMetricName),
      rules: managedRules(contentGroups),
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });
    this.wafLogGroup = logWebAcl(this, this.webAcl, 'WafLogs', '', retention, key).logGroup;

    // The CloudFront-scope web ACL: the rules that judge the viewer's IP.
    let cloudFrontWebAclId: string | undefined = props.cloudFrontWebAclArn;
    if (cloudFrontWebAclId === undefined && (inUsEast1 || Token.isUnresolved(stack.region))) {
      this.cloudFrontWebAcl = new CloudFrontWebAcl(this, 'CloudFrontWebAcl', {
        rateLimit, managedRuleGroups: ipGroups, logRetention: retention, encryptionKey: key,
      });
      cloudFrontWebAclId = this.cloudFrontWebAcl.webAclArn;
      if (!inUsEast1) {
        // An environment-agnostic stack learns its region at deploy time: the web
        // ACL exists only where it can, in us-east-1.
        const isUsEast1 = new CfnCondition(this, 'IsUsEast1', { expression: Fn.conditionEquals(Aws.REGION, 'us-east-1') });
        for (const resource of this.cloudFrontWebAcl.node.findAll().filter(CfnResource.isCfnResource)) {
          if (resource.cfnResourceType !== 'AWS::KMS::Key') resource.cfnOptions.condition = isUsEast1;
        }
        cloudFrontWebAclId = Fn.conditionIf(isUsEast1.logicalId, cloudFrontWebAclId, Aws.NO_VALUE).toString();
        Annotations.of(this).addWarningV2('codelearn:edge-ip-rules-region',
          'The stack is environment-agnostic: the rate limit and IP reputation rules (a CloudFront-scope web ACL) are created only if it is ' +
          'deployed to us-east-1. In another region, create a CloudFrontWebAcl in a us-east-1 stack and pass `edge.cloudFrontWebAclArn`.');
      }
    } else if (cloudFrontWebAclId === undefined) {
      Annotations.of(this).addWarningV2('codelearn:edge-ip-rules-region',
        `The stack is in ${stack.region}: the rate limit and IP reputation rules need a CloudFront-scope web ACL, which exists only in us-east-1. ` +
        'Create a CloudFrontWebAcl in a us-east-1 stack and pass its ARN as `edge.cloudFrontWebAclArn`; until then only the content rules apply.');
    }

    this.distribution = this.createDistribution(props, staticPath, originDomain, cloudFrontWebAclId);
    this.url = props.domain ? `https://${props.domain.domainName}` : `https://${this.distribution.distributionDomainName}`;
    new CfnOutput(this, 'Url', { value: this.url, description: 'The platform\'s URL' });

    if (!Token.isUnresolved(rateLimit) && rateLimit < 100) {
      Annotations.of(this).addWarningV2('codelearn:edge-rate-limit',
        `\`rateLimit\` (${rateLimit}) blocks an IP after fewer than 100 requests in five minutes: users behind a shared NAT may be blocked.`);
    }
  }

  /**
   * A metric of the regional web ACL as a whole: `AllowedRequests` or
   * `BlockedRequests`. WAF names the web ACL by its metric name.
   */
  public metricWebAcl(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      dimensionsMap: { WebACL: this.webAclMetricName, Rule: 'ALL', Region: Stack.of(this).region },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** A metric of the distribution (`Requests`, `5xxErrorRate`), read in us-east-1 where CloudFront publishes it. */
  public metricDistribution(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/CloudFront',
      metricName,
      dimensionsMap: { DistributionId: this.distribution.distributionId, Region: 'Global' },
      statistic: 'Sum',
      region: 'us-east-1',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * Routes requests to a service: a listener rule created as `id` in `scope`,
   * and the workloads' security group opened to the load balancer on the
   * route's target port.
   *
   * Give the service's own scope (the platform gives each service's), so that
   * the rule deploys with the service and the listener names no service: no
   * service waits for another. A scope in a stack that this edge's stack
   * depends on would make a cycle.
   *
   * Priorities come from the routes, never from the order they are added in. A
   * route fails when its name, path or priority is another's, when it has no path
   * and another has none, when a route with a wider pattern would take its
   * requests first, or when the load balancer would exceed 100 target groups.
   */
  public addRoute(scope: Construct, id: string, route: EdgeRoute): elbv2.ApplicationListenerRule {
    return this.createRoute(scope, id, route, 'route');
  }

  /** `addRoute`, with `where` naming the route in the messages. */
  private createRoute(scope: Construct, id: string, route: EdgeRoute, where: string): elbv2.ApplicationListenerRule {
    validateRoute(where, route);
    if (this.routes.some(other => other.name === route.name)) {
      throw new ConfigurationError(`\`${where}.name\` ('${route.name}') is the name of another route: give each route its own name.`);
    }
    if (route.path === this.staticPath) {
      throw new ConfigurationError(`\`staticPathPattern\` ('${this.staticPath}') is also the path of '${route.name}': give the static assets another path.`);
    }
    const routes = [...this.routes, route];
    checkPaths(routes, 'routes');
    const priority = route.path === undefined ? LAST_PRIORITY : routePriorities(routes, 'routes').get(route)!;
    const targetGroups = routes.reduce((sum, each) => sum + each.targetGroups.length, 0);
    if (targetGroups > ALB_QUOTA) {
      throw new ConfigurationError(`\`routes\` need ${targetGroups} target groups, and an Application Load Balancer takes ${ALB_QUOTA}: ` +
        'split the routes between two edges, or raise the quota with AWS Support.');
    }
    const taken = scope.node.tryFindChild(id);
    if (taken) {
      throw new ConfigurationError(where.startsWith('routes[')
        ? `\`${where}.name\` ('${route.name}') makes the construct ID '${id}', which another route's name makes too: give the routes names that differ in more than '-' and '_'.`
        : `The ID '${id}' of route '${route.name}' is taken in ${scope.node.path}: give each route its own ID.`);
    }
    // The rule first: the edge records the route only once it exists.
    const path = route.path ?? '/*';
    const base = path !== '/*' && path.endsWith('/*') ? path.slice(0, -2) : undefined;
    const rule = new elbv2.ApplicationListenerRule(scope, id, {
      listener: this.listener,
      priority,
      conditions: [elbv2.ListenerCondition.pathPatterns(base ? [path, base] : [path])],
      action: forwardTo(route),
    });
    this.routes.push(route);
    if (!this.targetPorts.has(route.targetPort)) {
      this.targetPorts.add(route.targetPort);
      this.loadBalancer.connections.allowTo(this.workloadSecurityGroup, ec2.Port.tcp(route.targetPort), 'Load balancer to the pods of the services');
    }
    return rule;
  }

  /**
   * The ID of the CloudFront origin-facing prefix list, looked up at deploy time:
   * AWS assigns it per region and CloudFormation has no way to name it.
   */
  private cloudFrontPrefixList(vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection, key: kms.IKey, logRetention: logs.RetentionDays): string {
    const calls = AwsCalls.of(this, { vpc, vpcSubnets, encryptionKey: key, logRetention });
    const lookup: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING] }] },
      physicalResourceId: cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    return calls.call(this, 'CloudFrontPrefixList', { onCreate: lookup, onUpdate: lookup },
      [new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] })])
      .getResponseField('PrefixLists.0.PrefixListId');
  }

  private createDistribution(props: EdgeProps, staticPath: string, originDomain: string | undefined,
    webAclId: string | undefined): cloudfront.Distribution {
    const vpcOrigin = origins.VpcOrigin.withApplicationLoadBalancer(this.loadBalancer, {
      domainName: originDomain,
      protocolPolicy: originDomain ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(30),
    });
    const certificate = props.domain && (props.domain.cloudFrontCertificate ?? new acm.Certificate(this, 'Certificate', {
      domainName: props.domain.domainName,
      validation: acm.CertificateValidation.fromDns(props.domain.hostedZone),
    }));
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `CodeLearn platform (${this.node.path})`,
      defaultBehavior: {
        origin: vpcOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: true,
      },
      additionalBehaviors: {
        [staticPath]: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(props.staticAssetsBucket),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
          compress: true,
        },
      },
      domainNames: props.domain ? [props.domain.domainName] : undefined,
      certificate,
      minimumProtocolVersion: props.domain ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: profileDefaults(props.profile).edge.priceClass,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId,
    });
    acknowledge(distribution, {
      'AwsSolutions-CFR1': 'The platform serves learners worldwide; no country is restricted by default.',
    });
    if (webAclId === undefined) {
      acknowledge(distribution, {
        'AwsSolutions-CFR2': 'CloudFront-scope web ACLs exist only in us-east-1 and this stack is elsewhere: the load balancer\'s regional ' +
          'web ACL applies the content rules, and synthesis warns until `cloudFrontWebAclArn` brings the IP rules.',
      });
    }
    if (!props.domain) {
      acknowledge(distribution, {
        'AwsSolutions-CFR4': 'Without a domain CloudFront serves its default *.cloudfront.net certificate, whose security policy CloudFront sets; ' +
          'with `domain` the distribution requires TLS 1.2 (TLSv1.2_2021).',
      });
    }
    if (props.domain) {
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(distribution));
      new route53.ARecord(this, 'AliasA', { zone: props.domain.hostedZone, recordName: props.domain.domainName, target });
      new route53.AaaaRecord(this, 'AliasAaaa', { zone: props.domain.hostedZone, recordName: props.domain.domainName, target });
    }
    return distribution;
  }
}

/** The HTTPS port of the load balancer when the platform has a domain. */
const HTTPS_PORT = 443;

/** The zone's name when it is written in the app (without its final dot); undefined when it is not known at synth. */
function literalZoneName(zone: route53.IHostedZone): string | undefined {
  let name: string;
  try {
    name = zone.zoneName;
  } catch {
    // HostedZone.fromHostedZoneId has no name to give.
    return undefined;
  }
  return Token.isUnresolved(name) ? undefined : name.replace(/\.$/, '').toLowerCase();
}

/** Target groups, and listener rules, an Application Load Balancer takes by default. */
const ALB_QUOTA = 100;
