import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { AwsCalls } from './aws-calls';
import { allowCloudWatchLogs } from './keys';

/** A log group whose name a service fixes, made or found at deploy time. */
export interface AdoptedLogGroupOptions {
  /** The deploy-time calls of the stack. */
  readonly calls: AwsCalls;
  /** The group's name, as the service writes to it. */
  readonly logGroupName: string;
  /** The prefix of the names this stack's calls may touch, for their policy (`/aws/rds/instance/`). */
  readonly prefix: string;
  /** The key the group is encrypted with. */
  readonly encryptionKey: kms.IKey;
  readonly retention: logs.RetentionDays;
  /** What the calls' policy findings are acknowledged with, the first time a prefix is allowed. */
  readonly acknowledgement?: string;
}

/** The log group, and what its users wait for: the group exists with its key and retention. */
export interface AdoptedLogGroup {
  readonly logGroup: logs.ILogGroup;
  readonly ready: IDependable;
}

/**
 * A log group with a name the service fixes (RDS writes to
 * `/aws/rds/instance/<id>/postgresql`, Amazon MQ to `/aws/amazonmq/broker/<id>/general`),
 * made by deploy-time calls that find it made already, instead of an
 * `AWS::Logs::LogGroup`: a retained group of that name (from a replica removed
 * and added back, a profile switched and back, a stack deleted and deployed
 * again) would make CloudFormation's create fail with "already exists". The
 * calls set the key and the retention on every create and update; removing the
 * resource keeps the group and its logs, as a retained group would.
 */
export function adoptLogGroup(scope: Construct, id: string, options: AdoptedLogGroupOptions): AdoptedLogGroup {
  const { calls, logGroupName, encryptionKey, retention } = options;
  allowCloudWatchLogs(encryptionKey);
  const arn = calls.logGroupArn(options.prefix);
  const call = (action: string, parameters: object, ignoreErrorCodesMatching?: string): cr.AwsSdkCall => ({
    service: 'CloudWatchLogs',
    action,
    parameters,
    ignoreErrorCodesMatching,
    physicalResourceId: cr.PhysicalResourceId.of(`${logGroupName}:${action}`),
  });
  const statement = (action: string) => new iam.PolicyStatement({ actions: [action], resources: [arn] });
  const both = (action: string, parameters: object, ignore?: string) =>
    ({ onCreate: call(action, parameters, ignore), onUpdate: call(action, parameters, ignore) });
  const create = calls.call(scope, id, both('createLogGroup', { logGroupName, kmsKeyId: encryptionKey.keyArn }, 'ResourceAlreadyExistsException'),
    [statement('logs:CreateLogGroup')], options.acknowledgement ? { [calls.finding(arn)]: options.acknowledgement } : {});
  const key = calls.call(scope, `${id}Key`, both('associateKmsKey', { logGroupName, kmsKeyId: encryptionKey.keyArn }), [statement('logs:AssociateKmsKey')]);
  // The group exists (made here, kept from before, or made by the service) before its key is set.
  key.node.addDependency(create);
  // The calls themselves, not an empty construct: a dependency on a construct
  // reaches only the resources beneath it.
  const ready = new DependencyGroup(create, key);
  if (retention !== logs.RetentionDays.INFINITE) {
    const retain = calls.call(scope, `${id}Retention`, both('putRetentionPolicy', { logGroupName, retentionInDays: retention }),
      [statement('logs:PutRetentionPolicy')]);
    // The group exists before its retention is set.
    retain.node.addDependency(create);
    ready.add(retain);
  }
  return { logGroup: logs.LogGroup.fromLogGroupName(scope, `${id}Group`, logGroupName), ready };
}
