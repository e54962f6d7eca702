import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * A security group whose only egress rules are separate resources (to another
 * group) keeps EC2's default allow-all egress: the CDK drops its "disallow all"
 * placeholder when the first egress rule is added, even one it then writes as a
 * separate resource. Restate the placeholder so the group's own egress list is
 * never empty.
 */
export function closeDefaultEgress(securityGroup: ec2.SecurityGroup): void {
  (securityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [{
    CidrIp: '255.255.255.255/32',
    Description: 'Disallow all traffic',
    FromPort: 252,
    IpProtocol: 'icmp',
    ToPort: 86,
  }]);
}

