import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where data stores go: the VPC's isolated subnets when it has them, otherwise its
 * private subnets (a brought VPC may have no isolated tier).
 */
export function dataSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return {
    subnetType: vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
  };
}

/**
 * Where a function that calls AWS APIs runs: the VPC's private subnets with
 * egress when it has them, otherwise its data subnets (which then need interface
 * endpoints for the APIs called).
 */
export function egressSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : dataSubnets(vpc);
}
