import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigurationError } from './errors';

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

/**
 * The IPv4 CIDR blocks of the subnets that `selection` picks in `vpc`, for the
 * network policies that let pods reach what runs there. `what` names the part
 * for the error an imported subnet without its block gives.
 */
export function subnetCidrs(vpc: ec2.IVpc, selection: ec2.SubnetSelection, what: string): string[] {
  return vpc.selectSubnets(selection).subnets.map(subnet => {
    try {
      return subnet.ipv4CidrBlock;
    } catch {
      throw new ConfigurationError(`The subnet ${subnet.subnetId} of ${what} has no CIDR block: the services' network policies address it by its block. ` +
        'Import it with `ec2.Subnet.fromSubnetAttributes(scope, id, { subnetId, availabilityZone, ipv4CidrBlock })`, or the VPC with its subnets\' blocks.');
    }
  });
}
