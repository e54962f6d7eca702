import { Stack } from 'aws-cdk-lib';
import { ComplianceChecks } from '../src';
import { testApp } from './support/app';
import { openSecurityGroup, synthError } from './support/fixtures';

describe('ComplianceChecks', () => {
  test('registers the four packs once per tree', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    expect(ComplianceChecks.applyTo(app)).toBe(true);
    expect(ComplianceChecks.applyTo(app)).toBe(false);
    expect(ComplianceChecks.applyTo(stack)).toBe(false);
    expect(ComplianceChecks.packs().map(pack => pack.readPackName)).toEqual([
      'AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321',
    ]);
  });

  test('one line on an app checks every stack in it', () => {
    const app = testApp();
    ComplianceChecks.applyTo(app, { verbose: true });
    openSecurityGroup(new Stack(app, 'Test'));
    expect(synthError(app)).toMatch(/The Security Group allows for 0.0.0.0\/0[\s\S]*Test\/Open\/Resource/);
  });
});
