import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Dependable, IConstruct } from 'constructs';

/** The three packs that carry the HIPAA, NIST 800-53 R5 and PCI DSS rules, by finding prefix. */
export const CONTROL_PACKS = ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

/** The packs with the rules that PCI DSS 3.2.1 does not carry (Multi-AZ, secret rotation). */
export const HIPAA_AND_NIST = ['HIPAA.Security', 'NIST.800.53.R5'];

/** Acknowledges each finding on `scope`, each with its own reason. */
export function acknowledge(scope: IConstruct, findings: { [id: string]: string }): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/**
 * Acknowledges one rule of the HIPAA, NIST 800-53 R5 and PCI DSS packs (or of the
 * packs named) on `scope`, with one reason.
 */
export function acknowledgeControlRule(scope: IConstruct, rule: string, reason: string, packs: string[] = CONTROL_PACKS): void {
  for (const pack of packs) {
    Validations.of(scope).acknowledge({ id: `${pack}-${rule}`, reason });
  }
}

/**
 * A security group rule whose source is a CIDR block known only at deploy time
 * (a VPC's `vpcCidrBlock` attribute) reads to the packs like 0.0.0.0/0; this
 * acknowledges those findings on `securityGroup` with `reason`.
 */
export function acknowledgeDeployTimeCidr(securityGroup: IConstruct, reason: string): void {
  acknowledge(securityGroup, { 'AwsSolutions-EC23': reason });
  acknowledgeControlRule(securityGroup, 'EC2RestrictedCommonPorts', reason);
  acknowledgeControlRule(securityGroup, 'EC2RestrictedSSH', reason);
}

/**
 * How the nag rules spell a value inside a finding ID, such as the resource of
 * `AwsSolutions-IAM5[Resource::<BucketLogicalId.Arn>/*]`: strings as they are,
 * references in angle brackets, joins joined.
 */
export function findingValue(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

/**
 * Acknowledges `AwsSolutions-IAM5` for `resource`, an ARN with a wildcard, on
 * `scope`. The finding spells the resource as the template of `scope`'s stack does,
 * and a reference to a resource of another stack becomes a nested stack's parameter
 * only when synthesis resolves references. So the acknowledgement is made then:
 * when the construct tree is validated, after references are resolved and before
 * the packs run.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  let acknowledged = false;
  scope.node.addValidation({
    validate: () => {
      if (!acknowledged) {
        acknowledge(scope, { [`AwsSolutions-IAM5[Resource::${findingValue(scope, resource)}]`]: reason });
        acknowledged = true;
      }
      return [];
    },
  });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for each of `resources`, ARNs with a wildcard
 * that `grant` (made by `granter`) puts in a policy, on that policy: the
 * acknowledgement sits with the grant that makes the wildcard, whoever the
 * grantee. A role's default policy becomes the grant's dependency only when the
 * role's aspect splits it, so the policy is found when the tree is validated.
 */
export function acknowledgeGrantedWildcards(granter: IConstruct, grant: iam.Grant, resources: string[], reason: string): void {
  let acknowledged = false;
  granter.node.addValidation({
    validate: () => {
      if (!acknowledged) {
        // Empty until the role's aspect has run: tried again on the next validation.
        const policies = Dependable.of(grant).dependencyRoots;
        for (const policy of policies) {
          for (const resource of resources) {
            acknowledge(policy, { [`AwsSolutions-IAM5[Resource::${findingValue(policy, resource)}]`]: reason });
          }
        }
        acknowledged = policies.length > 0;
      }
      return [];
    },
  });
}

/**
 * Acknowledges `AwsSolutions-IAM4` for each AWS-managed policy attached to the
 * role resource `cfnRole`, one finding at a time, with `reason`.
 */
export function acknowledgeManagedPolicies(cfnRole: iam.CfnRole, reason: string): void {
  const arns = Stack.of(cfnRole).resolve(cfnRole.managedPolicyArns) ?? [];
  for (const arn of arns) {
    Validations.of(cfnRole).acknowledge({ id: `AwsSolutions-IAM4[Policy::${flatten(arn)}]`, reason });
  }
}

function flatten(node: any): string {
  if (node === undefined) {
    return '';
  }
  if (typeof node === 'string') {
    return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return items.map(flatten).join(delimiter);
  }
  if (node['Fn::Sub']) {
    return flatten(node['Fn::Sub']);
  }
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (node['Fn::ImportValue']) {
    return flatten(node['Fn::ImportValue']);
  }
  if (node.Ref) {
    return `<${flatten(node.Ref)}>`;
  }
  return JSON.stringify(node);
}

/**
 * Acknowledges the HIPAA and NIST Lambda concurrency and dead-letter rules on a
 * custom resource handler, `what` naming it: CloudFormation invokes it
 * synchronously and hears of its failures, so reserved concurrency would only
 * fail deploys and a dead-letter queue would receive nothing.
 */
export function acknowledgeCustomResourceHandler(handler: IConstruct, what: string): void {
  const invoked = `${what}, a custom resource handler that CloudFormation invokes synchronously on deploy`;
  acknowledge(handler, {
    'HIPAA.Security-LambdaConcurrency': `${invoked}: reserved concurrency would only make deploys fail.`,
    'NIST.800.53.R5-LambdaConcurrency': `${invoked}: reserved concurrency would only make deploys fail.`,
    'HIPAA.Security-LambdaDLQ': `${invoked}: it reports failures to CloudFormation, which fails the deploy; a dead-letter queue would receive nothing.`,
    'NIST.800.53.R5-LambdaDLQ': `${invoked}: it reports failures to CloudFormation, which fails the deploy; a dead-letter queue would receive nothing.`,
  });
}
