import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Lets `grantee` read `secret`, encrypted with `key`, through the grantee's own
 * policy alone: the secret's actions on the secret, and decryption with the key
 * only through Secrets Manager. `secret.grantRead()` would also name the grantee
 * in the key's policy, and then the key, and the data store it encrypts, would
 * wait for the grantee (in the platform, a service's nested stack, which waits for
 * the cluster). The keys' policies delegate to IAM, so this is enough.
 */
export function grantReadSecret(grantee: iam.IGrantable, secret: secretsmanager.ISecret, key: kms.IKey): iam.Grant {
  const read = iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    resourceArns: [secret.secretFullArn ?? secret.secretArn],
  });
  const decrypt = iam.Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt'],
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` } },
  });
  return read.combine(decrypt);
}

/**
 * A grant to `role` through `policy`, a managed policy that already holds the
 * permission for every role it is attached to (one statement, written with
 * policy variables): attaches the policy, adds nothing to it, and waits for it.
 */
export function grantThroughSharedPolicy(role: iam.Role, policy: iam.ManagedPolicy, actions: string[], resourceArns: string[]): iam.Grant {
  policy.attachToRole(role);
  const principal: iam.IPrincipal = {
    get grantPrincipal() { return principal; },
    assumeRoleAction: role.assumeRoleAction,
    principalAccount: role.principalAccount,
    get policyFragment() { return role.policyFragment; },
    addToPrincipalPolicy: () => ({ statementAdded: true, policyDependable: policy }),
  };
  return iam.Grant.addToPrincipal({ grantee: principal, actions, resourceArns });
}
