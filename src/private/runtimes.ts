import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/**
 * The runtime of the functions the library writes itself (the database users
 * function). It is fixed, not the newest that aws-cdk-lib knows: a user who
 * upgrades aws-cdk-lib gets the same template, and the function runs on the
 * runtime its release was tested on.
 */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** When Lambda deprecates `FUNCTION_RUNTIME` (AWS Lambda Developer Guide, "Lambda runtimes"). */
export const FUNCTION_RUNTIME_DEPRECATION = '2028-04-30';

/** `nodejs24.x` reads as the family `nodejs` and the version `24.x`, as AwsSolutions-L1 reads it. */
const RUNTIME_NAME = /^([a-z]+)(\d+(\.?\d+|\.x)?)?.*$/;

/**
 * The newest runtime of `runtime`'s family that the installed aws-cdk-lib knows
 * (`lambda.Runtime.ALL`), which is what cdk-nag's AwsSolutions-L1 compares a
 * function's runtime with. Undefined when the runtime is not a family with versions.
 */
export function newestRuntimeOfFamily(runtime: string): string | undefined {
  const family = RUNTIME_NAME.exec(runtime)?.[1];
  if (!family || family === 'provided') {
    return undefined;
  }
  const versions = lambda.Runtime.ALL
    .map(known => known.name)
    .filter(name => name.startsWith(family))
    .map(name => ({ name, version: RUNTIME_NAME.exec(name)?.[2] ?? '0' }))
    .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true, sensitivity: 'base' }));
  return versions.pop()?.name;
}

/**
 * Acknowledges AwsSolutions-L1 ("not the latest runtime") on each function under
 * `scope` whose runtime is older than the newest of its family in the installed
 * aws-cdk-lib, and only on those: a newer aws-cdk-lib adds runtimes, and a
 * function that was compliant yesterday must not fail a user's synthesis today.
 * `reason` says why the runtime is what it is; the acknowledgement adds which
 * runtime it runs and which is newer. Decided when the tree is validated, when
 * every function under `scope` exists.
 */
export function acknowledgeRuntimeChoice(scope: IConstruct, reason: string): void {
  let acknowledged = false;
  scope.node.addValidation({
    validate: () => {
      if (acknowledged) {
        return [];
      }
      acknowledged = true;
      for (const fn of scope.node.findAll().filter((child): child is lambda.CfnFunction => child instanceof lambda.CfnFunction)) {
        const runtime = Stack.of(fn).resolve(fn.runtime);
        if (typeof runtime !== 'string' || Token.isUnresolved(runtime)) {
          continue;
        }
        const newest = newestRuntimeOfFamily(runtime);
        if (newest && newest !== runtime) {
          Validations.of(fn).acknowledge({
            id: 'AwsSolutions-L1',
            reason: `${reason} It runs ${runtime}; the installed aws-cdk-lib also offers ${newest}.`,
          });
        }
      }
      return [];
    },
  });
}
