import { Annotations, ArnFormat, CfnOutput, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { Microservice } from '../compute';
import { logAccessLogs } from '../private/elb-access-logs';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, acknowledgeDeployTimeCidr, HIPAA_AND_NIST } from '../private/nag';
import { isProduction, defaultLogRetention } from '../private/profile';
import { defaultRoute } from '../private/routes';
import { serviceScope } from '../private/service-scope';
import { requireWholeNumber } from '../private/validate';
import { PlatformProfile } from '../profile';

/**
 * A custom domain for the platform.
 */
export interface EdgeDomain {
  /** The platform's domain name, such as `learn.example.com`. */
  readonly domainName: string;

  /** The public hosted zone that holds the domain name. */
  readonly hostedZone: route53.IHostedZone;

  /**
   * A certificate in us-east-1 for the domain name, for CloudFront.
   *
   * @default - a DNS-validated certificate created here, which requires the stack to be in us-east-1
   */
  readonly cloudFrontCertificate?: acm.ICertificate;
}

/**
 * What a user may set on the edge.
 */
export interface EdgeOptions {
  /**
   * A custom domain: CloudFront serves it with its certificate, Route 53 points
   * A and AAAA alias records at CloudFront, and the load balancer speaks HTTPS to
   * CloudFront with a certificate for `origin.<domainName>`.
   *
   * @default - the platform is served on the CloudFront domain name
   */
  readonly domain?: EdgeDomain;

  /**
   * The path pattern that CloudFront serves from the static assets bucket.
   *
   * @default '/static/*'
   */
  readonly staticPathPattern?: string;

  /**
   * Associate a CloudFront-scope web ACL (the same rules) with the distribution.
   * Such an ACL must be created in us-east-1, so the stack must be there.
   *
   * @default false
   */
  readonly cloudFrontWebAcl?: boolean;

  /**
   * The AWS managed rule groups of the web ACL, by name, in priority order.
   *
   * @default - AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet, AWSManagedRulesSQLiRuleSet, AWSManagedRulesAmazonIpReputationList
   */
  readonly managedRuleGroups?: string[];

  /**
   * The most requests one IP address may send in five minutes before WAF blocks
   * it, from 10 (WAF's minimum) to 2,000,000,000.
   *
   * @default 2000
   */
  readonly rateLimit?: number;

  /**
   * How long the WAF logs are kept.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the WAF log group.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Properties of an `Edge`.
 */
export interface EdgeProps extends EdgeOptions {
  /** The VPC of the load balancer. */
  readonly vpc: ec2.IVpc;

  /**
   * The services to route to. Exactly one has no `path`: it takes the default route.
   */
  readonly services: Microservice[];

  /** The security group of the pods, which the load balancer reaches on each service's port. */
  readonly workloadSecurityGroup: ec2.ISecurityGroup;

  /**
   * Who may reach the load balancer: CloudFront's VPC origin, inside the VPC.
   *
   * @default - the VPC's CIDR block
   */
  readonly ingressPeer?: ec2.IPeer;

  /** The bucket that receives the server access logs of the edge's log bucket. */
  readonly serverAccessLogsBucket: s3.IBucket;

  /** The bucket whose objects CloudFront serves under the static path. */
  readonly staticAssetsBucket: s3.IBucket;

  /**
   * The subnets of the load balancer.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The profile whose defaults apply.
   *
   * @default PlatformProfile.PRODUCTION
   */
  readonly profile?: PlatformProfile;
}

const DEFAULT_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesSQLiRuleSet', 'AWSManagedRulesAmazonIpReputationList',
];
const HTTP_PORT = 80;
/** ALB rule priorities run from 1 to 50,000: the default route comes last. */
const LAST_PRIORITY = 50_000;
/** What the listener answers when no rule matches (only while the default route's rule is being created). */
const NOT_FOUND = elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' });

/**
 * How users reach the platform: an internal Application Load Balancer that CDK
 * owns, with a path rule per service (weighted across a canary's two target
 * groups), and a regional WAF web ACL.
 *
 * - The load balancer sits in private subnets and admits only traffic from
 *   inside the VPC, where CloudFront's VPC origin reaches it; HTTP/2, strictest
 *   desync mitigation, invalid header fields dropped, access logs, deletion
 *   protection in production.
 * - The web ACL applies AWS managed rule groups and a per-IP rate limit, and logs
 *   to an encrypted log group (authorization headers and cookies redacted).
 * - A service whose stack is nested in this one (as in the platform) gets its rule
 *   in its own scope, so it deploys with the service; otherwise the rule is the
 *   edge's. The service without a path takes a catch-all rule at the last
 *   priority; the listener itself answers 404.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const services: Microservice[];
 * declare const workloads: ec2.ISecurityGroup;
 * declare const accessLogs: s3.IBucket;
 * declare const staticAssets: s3.IBucket;
 * new Edge(this, 'Edge', {
 *   vpc,
 *   services,
 *   workloadSecurityGroup: workloads,
 *   serverAccessLogsBucket: accessLogs,
 *   staticAssetsBucket: staticAssets,
 *   rateLimit: 1000,
 * });
 */
export class Edge extends Construct {
  /** The internal Application Load Balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;

  /** The load balancer's listener. */
  public readonly listener: elbv2.ApplicationListener;

  /** The bucket of the load balancer's access logs. */
  public readonly logBucket: s3.Bucket;

  /** The regional web ACL associated with the load balancer. */
  public readonly webAcl: wafv2.CfnWebACL;

  /** The log group of the web ACL. */
  public readonly wafLogGroup: logs.ILogGroup;

  /** The CloudFront distribution in front of everything. */
  public readonly distribution: cloudfront.Distribution;

  /**
   * The CloudFront-scope web ACL.
   *
   * @default - none unless `cloudFrontWebAcl` is set
   */
  public readonly cloudFrontWebAcl?: wafv2.CfnWebACL;

  /** The URL of the platform: `https://` and the custom domain, or the CloudFront domain name. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const production = isProduction(props.profile);
    const rateLimit = props.rateLimit ?? 2000;
    requireWholeNumber('rateLimit', rateLimit, 10, 2_000_000_000);
    const ruleGroups = props.managedRuleGroups ?? DEFAULT_RULE_GROUPS;
    validateRuleGroups(ruleGroups);
    const defaultService = defaultRoute(props.services.map(service => ({ name: service.serviceName, path: service.path, service }))).service;
    const staticPath = props.staticPathPattern ?? '/static/*';
    if (!/^\/[A-Za-z0-9_\-.*/]+$/.test(staticPath)) {
      throw new Error(`\`staticPathPattern\` ('${staticPath}') is not a path pattern: write it as '/static/*'.`);
    }
    if (props.services.some(service => service.path === staticPath)) {
      throw new Error(`\`staticPathPattern\` ('${staticPath}') is also a service's path: give the static assets another path.`);
    }
    const stack = Stack.of(this);
    const inUsEast1 = stack.region === 'us-east-1';
    if (props.domain) {
      if (!props.domain.hostedZone) {
        throw new Error('`domain.hostedZone` is missing: a domain needs the public hosted zone that holds it, for the certificates and the alias records.');
      }
      const name = props.domain.domainName;
      if (Token.isUnresolved(name) || !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/.test(name)) {
        throw new Error(`\`domain.domainName\` ('${name}') is not a literal domain name such as 'learn.example.com'.`);
      }
      if (!props.domain.cloudFrontCertificate && !inUsEast1) {
        throw new Error(
          `\`domain\` needs a certificate in us-east-1 for CloudFront, but the stack's region is ${Token.isUnresolved(stack.region) ? 'not set' : `'${stack.region}'`}: ` +
          'pass `domain.cloudFrontCertificate` (created in us-east-1, for example in a small stack there), or deploy the platform to us-east-1.');
      }
    }
    if (props.cloudFrontWebAcl && !inUsEast1) {
      throw new Error('`cloudFrontWebAcl` needs the stack in us-east-1, where CloudFront-scope web ACLs live: deploy the platform there, or leave the option unset (the regional web ACL protects the load balancer).');
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

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Internal load balancer: HTTP from inside the VPC (CloudFront VPC origin), to the pods of the services',
      allowAllOutbound: false,
    });
    const ingressPeer = props.ingressPeer ?? ec2.Peer.ipv4(props.vpc.vpcCidrBlock);
    securityGroup.addIngressRule(ingressPeer, ec2.Port.tcp(HTTP_PORT), 'HTTP from the CloudFront VPC origin inside the VPC');
    if (Token.isUnresolved(ingressPeer.uniqueId)) {
      acknowledgeDeployTimeCidr(securityGroup,
        'The load balancer admits only the VPC\'s own CIDR block (CloudFront\'s VPC origin), which is known only at deploy time, so the rule cannot read it.');
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      internetFacing: false,
      securityGroup,
      http2Enabled: true,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      deletionProtection: production,
      idleTimeout: Duration.seconds(60),
    });
    logAccessLogs(this.loadBalancer, this.logBucket, 'alb');
    if (!production) {
      acknowledgeControlRule(this.loadBalancer, 'ELBDeletionProtectionEnabled',
        'The development profile lets the stack delete its load balancer; synthesis warns that the profile is not for production.',
        HIPAA_AND_NIST);
    }

    // Each service's pods admit the load balancer on their port.
    const ports = new Set(props.services.map(service => service.port));
    for (const port of ports) {
      this.loadBalancer.connections.allowTo(props.workloadSecurityGroup, ec2.Port.tcp(port), 'Load balancer to the pods of the services');
    }

    const originDomain = props.domain ? `origin.${props.domain.domainName}` : undefined;
    if (props.domain && originDomain) {
      const originCertificate = new acm.Certificate(this, 'OriginCertificate', {
        domainName: originDomain,
        validation: acm.CertificateValidation.fromDns(props.domain.hostedZone),
      });
      securityGroup.addIngressRule(ingressPeer, ec2.Port.tcp(HTTPS_PORT),
        'HTTPS from the CloudFront VPC origin inside the VPC');
      this.listener = this.loadBalancer.addListener('Https', {
        port: HTTPS_PORT,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [originCertificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: NOT_FOUND,
      });
      const redirect = this.loadBalancer.addListener('Http', {
        port: HTTP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: String(HTTPS_PORT), permanent: true }),
      });
      acknowledgeControlRule(redirect, 'ELBv2ACMCertificateRequired',
        'This listener serves nothing: it answers every request with a permanent redirect to the HTTPS listener.');
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: HTTP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: NOT_FOUND,
      });
      const inVpc = 'Viewers reach the platform over HTTPS at CloudFront; CloudFront reaches this internal load balancer through a ' +
        'VPC origin, so the HTTP hop stays inside the VPC. Without a domain the load balancer has no name to hold a certificate for.';
      acknowledgeControlRule(this.loadBalancer, 'ALBHttpToHttpsRedirection', inVpc);
      acknowledgeControlRule(this.listener, 'ELBv2ACMCertificateRequired', inVpc);
    }

    // In the platform each service's rule is created in the service's scope, so it
    // lives in the service's nested stack, and the listener names no service: no
    // service waits for another. The default route is a catch-all rule at the last
    // priority; the listener itself answers 404.
    props.services.filter(service => service.path !== undefined).forEach((service, index) => {
      const path = service.path!;
      const base = path.endsWith('/*') ? path.slice(0, -2) : undefined;
      this.route(service, (index + 1) * 10, base ? [path, base] : [path]);
    });
    this.route(defaultService, LAST_PRIORITY, ['/*']);

    // The web ACL.
    const key = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the WAF logs of ${this.node.path}`);
    allowCloudWatchLogs(key);
    const retention = props.logRetention ?? defaultLogRetention(production);
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('codelearn-edge'),
      rules: [
        ...ruleGroups.map((name, index): wafv2.CfnWebACL.RuleProperty => ({
          name,
          priority: index,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
          visibilityConfig: visibility(name),
        })),
        {
          name: 'RateLimitPerIp',
          priority: ruleGroups.length,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });
    this.wafLogGroup = this.logWebAcl(this.webAcl, 'WafLogs', '', retention, key);

    if (props.cloudFrontWebAcl) {
      this.cloudFrontWebAcl = new wafv2.CfnWebACL(this, 'CloudFrontWebAcl', {
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        visibilityConfig: visibility('codelearn-cloudfront'),
        rules: this.webAcl.rules,
      });
      this.logWebAcl(this.cloudFrontWebAcl, 'CloudFrontWafLogs', '-cloudfront', retention, key);
    }

    this.distribution = this.createDistribution(props, staticPath, originDomain, production);
    this.url = props.domain ? `https://${props.domain.domainName}` : `https://${this.distribution.distributionDomainName}`;
    new CfnOutput(this, 'Url', { value: this.url, description: 'The platform\'s URL' });

    if (!Token.isUnresolved(rateLimit) && rateLimit < 100) {
      Annotations.of(this).addWarningV2('codelearn:edge-rate-limit',
        `\`rateLimit\` (${rateLimit}) blocks an IP after fewer than 100 requests in five minutes: users behind a shared NAT may be blocked.`);
    }
  }

  /** The listener rule that sends `paths` to `service` (in the service's stack when it is nested in this one). */
  private route(service: Microservice, priority: number, paths: string[]): elbv2.ApplicationListenerRule {
    const { scope, id } = serviceScope(this, service, 'Route');
    return new elbv2.ApplicationListenerRule(scope, id, {
      listener: this.listener,
      priority,
      conditions: [elbv2.ListenerCondition.pathPatterns(paths)],
      action: forwardTo(service),
    });
  }

  /**
   * Logs a web ACL to an encrypted log group. WAF delivers only to groups whose
   * name starts with aws-waf-logs-, and takes their ARN without the ':*' suffix of
   * the group's Arn attribute, so the name is fixed and the ARN built from it.
   */
  private logWebAcl(acl: wafv2.CfnWebACL, id: string, suffix: string, retention: logs.RetentionDays, key: kms.IKey): logs.ILogGroup {
    const name = `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 180, separator: '-' })}${suffix}`;
    const logGroup = new logs.LogGroup(this, id, {
      logGroupName: name,
      retention,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, `${id}Configuration`, {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [Stack.of(this).formatArn({
        service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
    // The destination is named, not referenced, and WAF checks that it exists.
    logging.node.addDependency(logGroup);
    return logGroup;
  }

  private createDistribution(props: EdgeProps, staticPath: string, originDomain: string | undefined, production: boolean): cloudfront.Distribution {
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
      priceClass: production ? cloudfront.PriceClass.PRICE_CLASS_ALL : cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: this.cloudFrontWebAcl?.attrArn,
    });
    acknowledge(distribution, {
      'AwsSolutions-CFR1': 'The platform serves learners worldwide; no country is restricted by default.',
    });
    if (!this.cloudFrontWebAcl) {
      acknowledge(distribution, {
        'AwsSolutions-CFR2': 'Every request that CloudFront does not answer from its cache reaches the load balancer, whose regional web ACL applies ' +
          'the same rules. A CloudFront-scope ACL needs a us-east-1 stack and is the `cloudFrontWebAcl` option.',
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

/** Forwards to the service's target group, weighted across its canary when it has one. */
function forwardTo(service: Microservice): elbv2.ListenerAction {
  if (!service.canaryTargetGroup) {
    return elbv2.ListenerAction.forward([service.targetGroup]);
  }
  return elbv2.ListenerAction.weightedForward([
    { targetGroup: service.targetGroup, weight: 100 - service.canaryWeight },
    { targetGroup: service.canaryTargetGroup, weight: service.canaryWeight },
  ]);
}

function validateRuleGroups(groups: string[]): void {
  if (new Set(groups).size !== groups.length) {
    throw new Error(`\`managedRuleGroups\` ([${groups.join(', ')}]) lists a rule group twice: list each once.`);
  }
  for (const group of groups) {
    if (!/^AWSManagedRules[A-Za-z0-9]+$/.test(group)) {
      throw new Error(`\`managedRuleGroups\` has '${group}', which is not an AWS managed rule group name such as 'AWSManagedRulesCommonRuleSet'.`);
    }
  }
}
