import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { CodeLearnPlatform } from '../src';

/**
 * The platform in a VPC that already exists: private subnets with egress in two
 * zones for the cluster, isolated subnets for the data stores. Nothing is looked up.
 * The subnets' CIDR blocks are given: the services' network policies admit the
 * load balancer, and reach the data stores, by block.
 */
export class ByoVpcPlatformStack extends Stack {
  public readonly platform: CodeLearnPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'SharedVpc', {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidrBlock: '10.50.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
      privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'],
      privateSubnetIpv4CidrBlocks: ['10.50.0.0/19', '10.50.32.0/19'],
      isolatedSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
      isolatedSubnetRouteTableIds: ['rtb-0bbbbbbbbbbbbbbb1', 'rtb-0bbbbbbbbbbbbbbb2'],
      isolatedSubnetIpv4CidrBlocks: ['10.50.200.0/24', '10.50.201.0/24'],
    });
    this.platform = new CodeLearnPlatform(this, 'Platform', { network: { vpc }, repositoryPrefix: 'codelearn-shared-vpc' });
  }
}
