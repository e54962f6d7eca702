import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { CodeLearnPlatform, DataAccess } from '../src';

/**
 * The specification's services plus one, a canary release, a sandbox that runs
 * learners' code for the post service, and a custom domain.
 * The stack may live in any region: the CloudFront certificate comes from us-east-1.
 */
export class CustomServicesPlatformStack extends Stack {
  public readonly platform: CodeLearnPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789EXAMPLE',
      zoneName: 'example.com',
    });
    const cloudFrontCertificate = acm.Certificate.fromCertificateArn(this, 'CloudFrontCertificate',
      'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555');

    this.platform = new CodeLearnPlatform(this, 'Platform', {
      edge: { domain: { domainName: 'learn.example.com', hostedZone, cloudFrontCertificate } },
      services: [
        ...CodeLearnPlatform.defaultServices().map(service => service.name === 'post-service'
          ? { ...service, imageTag: '1.4.0', canary: { imageTag: '1.5.0', weight: 10 }, calls: ['code-runner'] }
          : service),
        {
          name: 'feed-service',
          path: '/api/feed/*',
          spot: true,
          latencyObjective: Duration.millis(300),
          access: [DataAccess.CACHE, DataAccess.MESSAGING, DataAccess.STATIC_ASSETS],
        },
      ],
      // Learners' code runs here, on nodes of its own, with no credentials and no network but the post service's calls.
      sandboxes: [{ name: 'code-runner', imageTag: '0.9.0' }],
      observability: { alarmEmails: ['oncall@example.com'] },
      repositoryPrefix: 'codelearn-custom',
    });
  }
}
