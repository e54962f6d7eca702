import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EdgeRoute } from './route';
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
   * The ARN of a CloudFront-scope web ACL made in us-east-1 (for example with
   * `CloudFrontWebAcl` in a us-east-1 stack), for a platform outside us-east-1.
   * The rules that judge the viewer's IP address (the rate limit, IP reputation)
   * work only at CloudFront: behind it, the load balancer sees CloudFront's
   * addresses.
   *
   * @default - in a us-east-1 stack, and in an environment-agnostic stack deployed to us-east-1, the edge creates one; elsewhere none (synthesis warns)
   */
  readonly cloudFrontWebAclArn?: string;

  /**
   * The AWS managed rule groups, by name, in priority order. Groups that judge
   * the request's content go on the load balancer's regional web ACL; those that
   * judge the source IP (AWSManagedRulesAmazonIpReputationList,
   * AWSManagedRulesAnonymousIpList) go on the CloudFront-scope web ACL.
   *
   * @default - AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet, AWSManagedRulesSQLiRuleSet, AWSManagedRulesAmazonIpReputationList
   */
  readonly managedRuleGroups?: string[];

  /**
   * The most requests one viewer IP address may send in five minutes before WAF
   * blocks it, from 10 (WAF's minimum) to 2,000,000,000. A rule of the
   * CloudFront-scope web ACL that the edge creates: it has no effect with
   * `cloudFrontWebAclArn`, nor in a stack outside us-east-1.
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
   * The routes to the services, each a listener rule in the edge (`<Name>Route`).
   * Add routes in a scope of your choice with `addRoute`.
   *
   * @default - none: the listener answers 404 until routes are added
   */
  readonly routes?: EdgeRoute[];

  /** The security group of the pods, which the load balancer reaches on each route's target port. */
  readonly workloadSecurityGroup: ec2.ISecurityGroup;

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
