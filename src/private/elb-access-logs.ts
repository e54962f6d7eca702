import { Aws, CfnCondition, CfnMapping, Fn, Stack, Token } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * Sends the load balancer's access logs to `bucket` under `prefix`, in any stack.
 *
 * In a stack with a known region this is the CDK's own `logAccessLogs`. An
 * environment-agnostic stack learns its region at deploy time, so the bucket
 * policy admits both delivery principals: the Elastic Load Balancing service
 * principal (regions from August 2022 on) and, through a region map, the
 * Elastic Load Balancing account of the older regions.
 */
export function logAccessLogs(loadBalancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: string): void {
  const stack = Stack.of(loadBalancer);
  if (!Token.isUnresolved(stack.region)) {
    loadBalancer.logAccessLogs(bucket, prefix);
    return;
  }
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', prefix);

  const regions = RegionInfo.regions.filter(region => region.elbv2Account !== undefined);
  const scope = loadBalancer.node.scope!;
  const mapping = new CfnMapping(scope, 'ElbAccountMap', {
    mapping: Object.fromEntries(regions.map(region => [region.name, { account: region.elbv2Account! }])),
  });
  const equals = regions.map(region => Fn.conditionEquals(Aws.REGION, region.name));
  const chunks: any[] = [];
  for (let i = 0; i < equals.length; i += 10) {
    const chunk = equals.slice(i, i + 10);
    chunks.push(chunk.length === 1 ? chunk[0] : Fn.conditionOr(...chunk));
  }
  const legacyRegion = new CfnCondition(scope, 'IsRegionWithElbAccount', {
    expression: chunks.length === 1 ? chunks[0] : Fn.conditionOr(...chunks),
  });
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [objects],
  }));
  // In a newer region the statement names the stack's own account, which owns the bucket anyway.
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ArnPrincipal(Fn.conditionIf(legacyRegion.logicalId,
      `arn:${Aws.PARTITION}:iam::${mapping.findInMap(Aws.REGION, 'account')}:root`,
      `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`).toString())],
    actions: ['s3:PutObject'],
    resources: [objects],
  }));
  // Elastic Load Balancing checks that it may write to the bucket when logging is
  // turned on: the bucket policy (a child of the bucket) must exist first.
  loadBalancer.node.addDependency(bucket);
}
