import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/**
 * With `@aws-cdk/aws-lambda:useCdkManagedLogGroup` (which `cdk init` sets),
 * functions that aws-cdk-lib makes for itself (a kubectl provider's, a provider
 * framework's) get log groups of their own under `scope`: they are encrypted with
 * `key` and keep their logs for `retention`. Named after a function that a
 * rolled-back create deletes, they are removed with it.
 */
export function secureManagedLogGroups(scope: IConstruct | undefined, key: kms.IKey, retention: logs.RetentionDays): void {
  for (const logGroup of scope?.node.findAll().filter((child): child is logs.CfnLogGroup => child instanceof logs.CfnLogGroup) ?? []) {
    if (logGroup.kmsKeyId !== undefined) continue;
    logGroup.kmsKeyId = key.keyArn;
    logGroup.retentionInDays = retention;
    logGroup.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  }
}
