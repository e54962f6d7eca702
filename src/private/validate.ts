import { Duration, Token } from 'aws-cdk-lib';

/**
 * Throws unless `value` is a whole number from `min` to `max`, naming the
 * property, the value and the range: "`shards` (0) must be a whole number from 1 to 90."
 */
export function requireWholeNumber(name: string, value: number, min: number, max: number, unit?: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const what = unit ? `a whole number of ${unit}` : 'a whole number';
    throw new Error(`\`${name}\` (${value}) must be ${what} from ${min} to ${max}.`);
  }
}

/**
 * The whole number of days in `duration`, or an error naming the property, the
 * value, the allowed range and why.
 */
export function requireWholeDays(name: string, duration: Duration, min: number, max?: number, why?: string): number {
  if (duration.isUnresolved()) {
    throw new Error(`\`${name}\` must be a literal duration, not a token.`);
  }
  const days = duration.toDays({ integral: false });
  if (!Number.isInteger(days) || days < min || (max !== undefined && days > max)) {
    const range = max === undefined ? `, at least ${min}` : ` from ${min} to ${max}`;
    throw new Error(`\`${name}\` (${duration.toHumanString()}) must be a whole number of days${range}${why ? `: ${why}` : ''}.`);
  }
  return days;
}

/**
 * Throws unless `value` is a Kubernetes DNS-1123 label: lowercase letters, digits
 * and '-', starting with a letter and ending with a letter or digit, at most 63.
 */
export function requireKubernetesName(name: string, value: string): void {
  if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value)) {
    throw new Error(`\`${name}\` ('${value}') is not a Kubernetes name: use lowercase letters, digits and '-', ` +
      'starting with a letter and ending with a letter or digit, at most 63 characters.');
  }
}

/** An EKS add-on version as `describe-addon-versions` lists it, such as `v1.20.4-eksbuild.2`. */
export function requireAddonVersion(name: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(value)) {
    throw new Error(`\`${name}\` ('${value}') is not an EKS add-on version such as 'v1.20.4-eksbuild.2': ` +
      'list them with `aws eks describe-addon-versions --addon-name <add-on> --kubernetes-version <version>`.');
  }
}
