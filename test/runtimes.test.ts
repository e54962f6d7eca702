import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CodeLearnPlatform, MessageBroker, PlatformProfile } from '../src';
import { allTemplates, Flags, TEST_ENV, testStack } from './support/app';
import { complianceFindings, unusedAcknowledgements } from './support/nag';
import { FUNCTION_RUNTIME, newestRuntimeOfFamily } from '../src/private/runtimes';

/**
 * A newer aws-cdk-lib adds Lambda runtimes (2.277 added nodejs26.x), and
 * cdk-nag's AwsSolutions-L1 flags every function that does not run the newest of
 * its family that the installed aws-cdk-lib knows. These tests stand in for that
 * newer aws-cdk-lib: they add runtimes to `lambda.Runtime.ALL` (this file's own
 * module registry: jest isolates it from every other test file).
 */
const configurations: [string, (stack: Stack) => void][] = [
  ['the default platform', stack => new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false })],
  ['the development profile', stack => new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false, profile: PlatformProfile.DEVELOPMENT })],
  ['the Kafka platform', stack => new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false, messaging: { broker: MessageBroker.kafka() } })],
];

function withNewerRuntimes<T>(names: string[], run: () => T): T {
  const before = lambda.Runtime.ALL.length;
  for (const name of names) {
    new lambda.Runtime(name, name.startsWith('python') ? lambda.RuntimeFamily.PYTHON : lambda.RuntimeFamily.NODEJS);
  }
  try {
    return run();
  } finally {
    lambda.Runtime.ALL.splice(before);
  }
}

function functionsOf(stack: Stack): { id: string; runtime: string }[] {
  return allTemplates(stack).flatMap(template => Object.entries(template.Resources ?? {})
    .filter(([, resource]: [string, any]) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Runtime)
    .map(([id, resource]: [string, any]) => ({ id, runtime: resource.Properties.Runtime })));
}

describe('Lambda runtimes across aws-cdk-lib releases', () => {
  test('the newest runtime of a family is read as AwsSolutions-L1 reads it', () => {
    expect(newestRuntimeOfFamily('nodejs20.x')).toBe(newestRuntimeOfFamily('nodejs24.x'));
    expect(withNewerRuntimes(['nodejs26.x', 'nodejs100.x'], () => newestRuntimeOfFamily('nodejs24.x'))).toBe('nodejs100.x');
    expect(withNewerRuntimes(['python3.99'], () => newestRuntimeOfFamily('python3.13'))).toBe('python3.99');
    expect(newestRuntimeOfFamily('provided.al2023')).toBeUndefined();
  });

  test.each(configurations)('%s stays clean under an aws-cdk-lib that offers newer runtimes than its functions run', (_name, build) => {
    const findings = withNewerRuntimes(['nodejs26.x', 'nodejs28.x', 'python3.99'], () => {
      const stack = testStack({ env: TEST_ENV, flags: Flags.CDK_INIT });
      build(stack);
      return complianceFindings(stack);
    });
    expect(findings).toEqual([]);
  });

  test('each acknowledgement names the runtime the function runs and the newer one, and is made only when one is newer', () => {
    const stack = withNewerRuntimes(['nodejs28.x'], () => {
      const built = testStack({ env: TEST_ENV });
      new CodeLearnPlatform(built, 'Platform', { complianceChecks: false });
      expect(unusedAcknowledgements(built)).toEqual([]);
      return built;
    });
    const users = stack.node.findChild('Platform').node.findChild('Database').node.findChild('Users').node.findChild('Function').node.defaultChild!;
    const acknowledged = users.node.metadata.filter(entry => JSON.stringify(entry.data ?? '').includes('AwsSolutions-L1'));
    expect(JSON.stringify(acknowledged)).toMatch(/runs nodejs24\.x; the installed aws-cdk-lib also offers nodejs28\.x/);
  });

  test('the library\'s own function keeps its runtime whatever aws-cdk-lib offers', () => {
    const runtimes = withNewerRuntimes(['nodejs28.x'], () => {
      const stack = testStack({ env: TEST_ENV });
      new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false });
      return functionsOf(stack).filter(fn => fn.id.startsWith('PlatformDatabaseUsersFunction')).map(fn => fn.runtime);
    });
    expect(runtimes).toEqual([FUNCTION_RUNTIME.name]);
  });
});
