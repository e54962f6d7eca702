import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Adds a security group open to the world on SSH: a finding for every pack. */
export function openSecurityGroup(stack: Stack): void {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'OtherVpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'] });
  new ec2.SecurityGroup(stack, 'Open', { vpc }).addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
}

/** Synthesizes `app` and returns the error it must throw. */
export function synthError(app: App): string {
  try {
    app.synth();
  } catch (error) {
    return String(error);
  }
  throw new Error('synthesis succeeded, but a finding was expected to fail it');
}
