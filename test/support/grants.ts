import { Match, Template } from 'aws-cdk-lib/assertions';

/**
 * Asserts that the role `App` of `template` may read the secret whose logical ID
 * starts with `secret`, decrypting it with the key `key` only through Secrets
 * Manager, all in the role's own policy: the template's one key names no role.
 */
export function expectSecretReadThroughRolePolicy(template: Template, secret: string, key: string): void {
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^App') }],
    PolicyDocument: {
      Statement: [
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp(`^${secret}`) } },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${key}`), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
        },
      ],
    },
  });
  const keys = template.findResources('AWS::KMS::Key');
  expect(Object.keys(keys)).toHaveLength(1);
  expect(JSON.stringify(keys)).toContain('kms:');
  expect(JSON.stringify(keys)).not.toMatch(/"App[0-9A-F]{8}"/);
}
