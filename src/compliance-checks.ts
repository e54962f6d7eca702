import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Options for `ComplianceChecks`.
 */
export interface ComplianceChecksOptions {
  /**
   * Print the explanation of each rule with its finding.
   *
   * @default false
   */
  readonly verbose?: boolean;
}

const applied = new WeakSet<IConstruct>();

/**
 * The cdk-nag rule packs that the platform is kept clean against: AWS Solutions,
 * HIPAA Security, NIST 800-53 rev 5 and PCI DSS 3.2.1.
 *
 * `CodeLearnPlatform` registers them on its stack. Register them on your whole app
 * with one line to check your own resources too; an unacknowledged finding fails
 * `cdk synth`.
 *
 * @example
 * const app = new App();
 * ComplianceChecks.applyTo(app);
 */
export class ComplianceChecks {
  /**
   * New instances of the four packs.
   */
  public static packs(options: ComplianceChecksOptions = {}): NagPack[] {
    const props = { verbose: options.verbose ?? false };
    return [
      new AwsSolutionsChecks(undefined, props),
      new HIPAASecurityChecks(undefined, props),
      new NIST80053R5Checks(undefined, props),
      new PCIDSS321Checks(undefined, props),
    ];
  }

  /**
   * Registers the four packs as validation plugins on `scope` (an app, a stage or
   * a stack). Does nothing when they are already registered on `scope` or on one
   * of its ancestors.
   *
   * @returns whether the packs were registered by this call
   */
  public static applyTo(scope: IConstruct, options: ComplianceChecksOptions = {}): boolean {
    if (scope.node.scopes.some(ancestor => applied.has(ancestor))) {
      return false;
    }
    Validations.of(scope).addPlugins(...ComplianceChecks.packs(options));
    applied.add(scope);
    return true;
  }

  private constructor() {}
}
