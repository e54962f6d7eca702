import { Template } from 'aws-cdk-lib/assertions';
import { DefaultPlatformStack } from '../examples/default-platform';
import { DevelopmentPlatformStack } from '../examples/development-platform';
import { PlatformProfile } from '../src';
import { testApp } from './support/app';

describe('examples', () => {
  test('the default platform synthesizes with the specification\'s network', () => {
    const stack = new DefaultPlatformStack(testApp(), 'CodeLearnPlatform');
    const template = Template.fromStack(stack);
    expect(stack.platform.profile).toBe(PlatformProfile.PRODUCTION);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('the development platform synthesizes with one NAT gateway', () => {
    const stack = new DevelopmentPlatformStack(testApp(), 'CodeLearnPlatformDev');
    const template = Template.fromStack(stack);
    expect(stack.platform.profile).toBe(PlatformProfile.DEVELOPMENT);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.10.0.0/16' });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });
});
