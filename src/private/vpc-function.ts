import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * What a Lambda function in a VPC needs to attach to it: the network interface
 * actions of the AWS-managed AWSLambdaVPCAccessExecutionRole (version 3), which EC2
 * does not scope to resources.
 */
export function vpcFunctionNetworkStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: ['*'],
  });
}
