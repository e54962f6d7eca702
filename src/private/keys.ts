import { Arn, ArnFormat, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
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

/** How a part's key differs from the rule. */
export interface CustomerManagedKeyOptions {
  /**
   * Why the key lets a caller create grants that no AWS service marks as for an
   * AWS resource: the service that needs it, and where it says so. The key then
   * has no CT.KMS.PR.3 Deny.
   */
  readonly grantsBeyondAwsResources?: string;
}

/**
 * The customer-managed key a part creates when the user brings none: rotation on,
 * retained unless the part's removal policy says otherwise, and grants only for
 * AWS resources unless `options` says which service needs more, and why.
 */
export function customerManagedKey(scope: Construct, id: string, description: string,
  removalPolicy: RemovalPolicy = RemovalPolicy.RETAIN, options: CustomerManagedKeyOptions = {}): kms.Key {
  const key = new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy });
  grantsOnlyForAwsResources(key);
  if (!options.grantsBeyondAwsResources) denyGrantsBeyondAwsServices(key);
  return key;
}

/**
 * The statement AWS Control Tower's CT.KMS.PR.3 (`kms_create_grant_aws_service_check`)
 * looks for: nobody creates a grant on the key unless an AWS service integrated
 * with KMS asks for it (`kms:GrantIsForAWSResource`) or a service principal calls
 * itself (`aws:PrincipalIsAWSService`). The account root keeps `kms:*`, so IAM
 * policies still delegate everything else. Every grant the platform relies on is
 * made by a service for a resource: EBS volumes of the nodes (EC2 for the Auto
 * Scaling role and the EBS CSI driver), RDS, ElastiCache, Amazon MQ, MSK, Secrets
 * Manager and AWS Backup. EKS secrets encryption is the exception: EKS creates
 * its grant as the principal that creates the cluster, without
 * `kms:GrantIsForAWSResource`, so the cluster's key goes without this statement.
 */
export function denyGrantsBeyondAwsServices(key: kms.IKey): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'GrantsOnlyForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.StarPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    // Strings, as the control compares them; IfExists, as the grant key is absent outside grant calls.
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
}

/**
 * Every statement of the key's policy that lets a principal create grants does so
 * only for AWS resources (`kms:GrantIsForAWSResource`): a service acting for the
 * principal (EBS, RDS, Secrets Manager) may hold a grant, never another principal.
 * aws-cdk-lib writes `kms:CreateGrant` beside other actions (for Secrets Manager,
 * for one), and the condition key exists only on grant operations, so such a
 * statement is split: the other actions as they were, and `kms:CreateGrant` alone
 * with the condition. The key administrators' `kms:*` statement stays.
 */
export function grantsOnlyForAwsResources(key: kms.Key): void {
  const cfnKey = key.node.defaultChild as kms.CfnKey;
  const document = cfnKey.keyPolicy;
  cfnKey.keyPolicy = Lazy.uncachedAny({
    produce: context => {
      const rendered = context.resolve(document);
      const statements = [rendered.Statement ?? []].flat().flatMap((statement: any) => {
        const actions: string[] = [statement.Action ?? []].flat();
        if (statement.Effect !== 'Allow' || !actions.includes('kms:CreateGrant')) return [statement];
        const confined = {
          ...statement,
          // Key policies, like IAM's, take each Sid once.
          ...(statement.Sid ? { Sid: `${statement.Sid}CreateGrant` } : {}),
          Action: 'kms:CreateGrant',
          Condition: { ...statement.Condition, Bool: { ...statement.Condition?.Bool, 'kms:GrantIsForAWSResource': true } },
        };
        const others = actions.filter(action => action !== 'kms:CreateGrant');
        return others.length === 0 ? [confined] : [{ ...statement, Action: others.length === 1 ? others[0] : others }, confined];
      });
      return { ...rendered, Statement: statements };
    },
  });
}
