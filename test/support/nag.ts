import { IConstruct } from 'constructs';
import { ComplianceChecks } from '../../src';

/**
 * Every unacknowledged finding of the four packs under `scope`, one line each:
 * `<rule> <construct path>`. Empty when the scope is clean.
 */
export function complianceFindings(scope: IConstruct): string[] {
  const findings: string[] = [];
  for (const pack of ComplianceChecks.packs()) {
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) {
        findings.push(`${violation.ruleName} ${resource.constructPath ?? resource.resourceLogicalId}`);
      }
    }
  }
  return findings.sort();
}
