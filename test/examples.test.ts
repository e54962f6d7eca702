import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { ByoVpcPlatformStack } from '../examples/byo-vpc-platform';
import { CustomServicesPlatformStack } from '../examples/custom-services-platform';
import { DefaultPlatformStack } from '../examples/default-platform';
import { DevelopmentPlatformStack } from '../examples/development-platform';
import { PlatformProfile } from '../src';
import { testApp } from './support/app';

describe('examples', () => {
  test('synthesize with the feature flags cdk init writes (cdk.json, kept in step with aws-cdk-lib)', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));
    expect(cdkJson.context).toEqual(CURRENTLY_RECOMMENDED_FLAGS);
  });

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

  test('custom services with a domain synthesize with five services, a canary and the domain', () => {
    const stack = new CustomServicesPlatformStack(testApp(), 'CodeLearnPlatformCustom');
    const template = Template.fromStack(stack);
    expect(Object.keys(stack.platform.services)).toEqual(['api-gateway', 'user-service', 'post-service', 'group-service', 'feed-service']);
    expect(stack.platform.services['post-service'].canaryWeight).toBe(10);
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'learn.example.com.', Type: 'AAAA' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
  });

  test('the brought VPC synthesizes without creating one', () => {
    const stack = new ByoVpcPlatformStack(testApp(), 'CodeLearnPlatformByoVpc');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'] });
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false, SecurityGroupIds: Match.anyValue(), SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'] },
    });
  });
});
