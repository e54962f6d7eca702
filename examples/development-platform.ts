import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CodeLearnPlatform, PlatformProfile } from '../src';

/**
 * A cheaper platform for development: one NAT gateway, shorter log retention.
 */
export class DevelopmentPlatformStack extends Stack {
  public readonly platform: CodeLearnPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.platform = new CodeLearnPlatform(this, 'Platform', {
      profile: PlatformProfile.DEVELOPMENT,
      network: { cidr: '10.10.0.0/16' },
      // Its own repositories: the example app's platforms may share an account and region.
      repositoryPrefix: 'codelearn-dev',
    });
  }
}
