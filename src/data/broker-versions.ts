import { Token } from 'aws-cdk-lib';
import { ConfigurationError } from '../private/errors';

/** Checks a broker engine's version against the form that engine takes. */
export function validateVersion(name: string, version: string, pattern: RegExp, example: string): void {
  if (!Token.isUnresolved(version) && !pattern.test(version)) {
    throw new ConfigurationError(`\`${name}\` ('${version}') is not a version this broker takes: write it as '${example}'.`);
  }
}
