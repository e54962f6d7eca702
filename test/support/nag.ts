import { App, Validations } from 'aws-cdk-lib';
import { NagPack } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ComplianceChecks } from '../../src';

/**
 * Synthesizes the app of `scope`, as `cdk synth` does before the packs run:
 * references between stacks are resolved (into the parameters of nested stacks)
 * and the acknowledgements made at validation are in place.
 */
function synthesized(scope: IConstruct): void {
  (scope.node.root as App).synth();
}

/**
 * Every unacknowledged finding of the four packs under `scope`, one line each:
 * `<rule> <construct path>`. Empty when the scope is clean.
 */
export function complianceFindings(scope: IConstruct): string[] {
  synthesized(scope);
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

/** Every acknowledgement of a nag finding under `scope`: `<rule> <construct path>`. */
export function acknowledgements(scope: IConstruct): string[] {
  const found: string[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data) {
        for (const key of Object.keys(entry.data)) {
          // Stored as 'Annotation::<rule>'. Only cdk-nag findings count; the CloudFormation
          // schema findings carry their own plugin prefix ('CloudFormation-Validate::W9009').
          const id = key.replace(/^annotation::/i, '');
          if (!/^[^[]*::/.test(id)) {
            found.push(`${id} ${construct.node.path}`);
          }
        }
      }
    }
  }
  return found.sort();
}

/**
 * The findings of the four packs as if nothing were acknowledged: each as the
 * rule and the path of the resource it concerns.
 */
export function rawFindings(scope: IConstruct): { rule: string; path: string }[] {
  synthesized(scope);
  const proto = NagPack.prototype as any;
  const original = proto.isAcknowledged;
  proto.isAcknowledged = () => false;
  try {
    const findings: { rule: string; path: string }[] = [];
    for (const pack of ComplianceChecks.packs()) {
      for (const violation of pack.validateScope(scope).violations) {
        for (const resource of violation.violatingResources) {
          findings.push({ rule: violation.ruleName, path: resource.constructPath ?? '' });
        }
      }
    }
    return findings;
  } finally {
    proto.isAcknowledged = original;
  }
}

/**
 * Acknowledgements whose finding does not occur: an acknowledgement on a construct
 * is used when the same rule finds the construct itself or one of its children.
 */
export function unusedAcknowledgements(scope: IConstruct): string[] {
  synthesized(scope);
  const findings = rawFindings(scope);
  return acknowledgements(scope).filter(entry => {
    const [rule, path] = entry.split(' ');
    return !findings.some(finding => finding.rule === rule && (finding.path === path || finding.path.startsWith(`${path}/`)));
  });
}
