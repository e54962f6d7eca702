import { Arn, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * Lets CloudWatch Logs encrypt and decrypt with `key` for this account's log
 * groups only (the encryption context names the log group). A log group cannot
 * use a customer-managed key without it.
 */
export function allowCloudWatchLogs(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': Arn.format({
          service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }, stack),
      },
    },
  }));
}

/**
 * The customer-managed key a part creates when the user brings none: rotation on,
 * retained unless the part's removal policy says otherwise.
 */
export function customerManagedKey(scope: Construct, id: string, description: string,
  removalPolicy: RemovalPolicy = RemovalPolicy.RETAIN): kms.Key {
  return new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy });
}
