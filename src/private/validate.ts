import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigurationError } from './errors';

/**
 * Throws unless `value` is a whole number from `min` to `max`, naming the
 * property, the value and the range: "`shards` (0) must be a whole number from 1 to 90."
 */
export function requireWholeNumber(name: string, value: number, min: number, max: number, unit?: string): void {
  if (Token.isUnresolved(value)) {
    // The library sizes resources from it (alarms per cache node, subnets, replicas).
    throw new ConfigurationError(`\`${name}\` must be a literal number, not a token: the library sizes resources from it at synthesis.`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    const what = unit ? `a whole number of ${unit}` : 'a whole number';
    throw new ConfigurationError(`\`${name}\` (${value}) must be ${what} from ${min} to ${max}.`);
  }
}

/**
 * The whole number of days in `duration`, or an error naming the property, the
 * value, the allowed range and why.
 */
export function requireWholeDays(name: string, duration: Duration, min: number, max?: number, why?: string): number {
  if (duration.isUnresolved()) {
    throw new ConfigurationError(`\`${name}\` must be a literal duration, not a token.`);
  }
  const days = duration.toDays({ integral: false });
  if (!Number.isInteger(days) || days < min || (max !== undefined && days > max)) {
    const range = max === undefined ? `, at least ${min}` : ` from ${min} to ${max}`;
    throw new ConfigurationError(`\`${name}\` (${duration.toHumanString()}) must be a whole number of days${range}${why ? `: ${why}` : ''}.`);
  }
  return days;
}

/**
 * Throws unless `value` is a Kubernetes DNS-1123 label: lowercase letters, digits
 * and '-', starting with a letter and ending with a letter or digit, at most 63.
 */
export function requireKubernetesName(name: string, value: string): void {
  if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value)) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not a Kubernetes name: use lowercase letters, digits and '-', ` +
      'starting with a letter and ending with a letter or digit, at most 63 characters.');
  }
}

/** An EKS add-on version as `describe-addon-versions` lists it, such as `v1.20.4-eksbuild.2`. */
/**
 * A namespace the platform may make and label as its own: not one of Kubernetes
 * (`default`, `kube-*`) or of the cluster's add-ons, which the restricted Pod
 * Security Standard it applies would break.
 */
export function requireOwnNamespace(name: string, value: string): void {
  if (value === 'default' || value.startsWith('kube-') || value === 'amazon-cloudwatch') {
    throw new ConfigurationError(`\`${name}\` ('${value}') is a namespace of Kubernetes or of the cluster's add-ons: the platform would label it ` +
      'under the restricted Pod Security Standard, and its pods would stop starting. Choose a namespace of your own, such as \'codelearn\'.');
  }
}

export function requireAddonVersion(name: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(value)) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not an EKS add-on version such as 'v1.20.4-eksbuild.2': ` +
      'list them with `aws eks describe-addon-versions --addon-name <add-on> --kubernetes-version <version>`.');
  }
}

/** Kubernetes' binary and decimal suffixes, and what each multiplies by. */
const QUANTITY_SUFFIXES: { [suffix: string]: number } = {
  '': 1, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40,
};

function quantity(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  return match ? Number(match[1]) * QUANTITY_SUFFIXES[match[2] ?? ''] : undefined;
}

/**
 * A CPU quantity as Kubernetes reads it ('250m', '0.5', '2'), at most 64 CPUs: a
 * bare '250' is 250 CPUs, a pod no node can hold.
 */
export function requireCpu(name: string, value: string): number | undefined {
  if (Token.isUnresolved(value)) return undefined;
  const cpus = /^\d+(\.\d+)?m?$/.test(value) ? quantity(value) : undefined;
  if (cpus === undefined || cpus <= 0) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not a Kubernetes CPU quantity: write millicores such as '250m', or CPUs such as '0.5' or '2'.`);
  }
  if (cpus > 64) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is ${cpus} CPUs, more than any node holds: write millicores with 'm', such as '${value}m'.`);
  }
  return cpus;
}

/**
 * A memory quantity as Kubernetes reads it ('512Mi', '1Gi'), from 4 MiB to 1 TiB:
 * '512MB' is no quantity, and a bare '512' is 512 bytes.
 */
export function requireMemory(name: string, value: string): number | undefined {
  if (Token.isUnresolved(value)) return undefined;
  const bytes = /m$/.test(value) ? undefined : quantity(value);
  if (bytes === undefined) {
    const hint = /^(\d+(?:\.\d+)?)\s*([KMGT])i?B$/i.exec(value);
    const fix = hint ? `'${hint[1]}${hint[2].toUpperCase()}i'` : '\'512Mi\' or \'1Gi\'';
    throw new ConfigurationError(`\`${name}\` ('${value}') is not a Kubernetes memory quantity: write it as ${fix}.`);
  }
  if (bytes < 4 * 2 ** 20 || bytes > 2 ** 40) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is ${bytes} bytes: a container needs from 4Mi to 1Ti. Add a unit, such as '${value}Mi'.`);
  }
  return bytes;
}

/** A tag Docker and ECR accept: letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128. */
export function requireImageTag(name: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not an image tag: use letters, digits, '_', '.' and '-', ` +
      'not starting with \'.\' or \'-\', at most 128 characters, such as \'1.4.0\'.');
  }
}

/**
 * An image reference Docker accepts: `[registry[:port]/]repository[:tag][@digest]`,
 * the repository in lowercase.
 */
export function requireImage(name: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const registry = '(?:[A-Za-z0-9.-]+(?::\\d+)?/)?';
  const reference = new RegExp(`^${registry}${component}(?:/${component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
  if (!reference.test(value)) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not an image reference: write it as 'registry/repository:tag', ` +
      'the repository in lowercase, such as \'public.ecr.aws/example/users:2.0.0\'.');
  }
}

/**
 * An EC2 instance type whose family and size exist, such as 't3.medium' (not
 * 't3.mediun'), without the 'db.' prefix that RDS adds to it.
 */
export function requireInstanceType(name: string, value: string, addedPrefix?: string): void {
  if (Token.isUnresolved(value)) return;
  const example = addedPrefix ? SERVICE_EXAMPLES[addedPrefix] : 't3.medium';
  const prefix = Object.keys(SERVICES).find(candidate => value.startsWith(`${candidate}.`));
  const rest = prefix ? value.slice(prefix.length + 1) : undefined;
  if (prefix && rest && knownInstanceType(rest)) {
    if (prefix === addedPrefix) {
      throw new ConfigurationError(`\`${name}\` ('${value}') carries the '${prefix}.' prefix, which the library adds: write '${rest}'.`);
    }
    throw new ConfigurationError(`\`${name}\` ('${value}') is ${SERVICES[prefix]} type; ` +
      (addedPrefix ? `this takes ${SERVICES[addedPrefix]} type without its '${addedPrefix}.' prefix, such as '${example}' for '${addedPrefix}.${example}'.`
        : `this takes an EC2 instance type, such as '${example}'.`));
  }
  if (!knownInstanceType(value)) {
    throw new ConfigurationError(addedPrefix
      ? `\`${name}\` ('${value}') is not an instance type: write a family and a size that exist, such as '${example}' (for '${addedPrefix}.${example}').`
      : `\`${name}\` ('${value}') is not an EC2 instance type: write a family and a size that exist, such as 't3.medium' or 'm5.large'.`);
  }
}

/** The services whose instance types carry a prefix, and how a message names their types. */
const SERVICES: { [prefix: string]: string } = { db: 'an RDS', cache: 'an ElastiCache', mq: 'an Amazon MQ', kafka: 'an MSK' };

/** A type each service offers, for the messages. */
const SERVICE_EXAMPLES: { [prefix: string]: string } = { db: 't3.medium', cache: 't3.medium', mq: 'm7g.large', kafka: 'm5.large' };

function knownInstanceType(value: string): boolean {
  const [family, size, ...rest] = value.split('.');
  return rest.length === 0 && INSTANCE_FAMILIES.has(family) && INSTANCE_SIZES.has(size);
}

/** The instance families and sizes aws-cdk-lib knows, from its enums. */
const INSTANCE_FAMILIES = new Set<string>(Object.values(ec2.InstanceClass) as string[]);
const INSTANCE_SIZES = new Set<string>(Object.values(ec2.InstanceSize) as string[]);

/** A latency objective: a literal duration from 10 milliseconds to 60 seconds. */
export function requireLatency(name: string, latency: Duration): void {
  if (latency.isUnresolved() || latency.toMilliseconds() < 10 || latency.toMilliseconds() > 60_000) {
    throw new ConfigurationError(`\`${name}\` (${latency.toHumanString()}) must be a literal duration from 10 milliseconds to 60 seconds.`);
  }
}

/** A listener rule path pattern: '/' and then letters, digits, '_', '-', '.', '*' or '/'. */
export function requirePathPattern(name: string, value: string, example: string): void {
  if (!/^\/[A-Za-z0-9_\-.*/]+$/.test(value)) {
    throw new ConfigurationError(`\`${name}\` ('${value}') is not a path pattern: write it as '${example}'.`);
  }
  if (value.length > 128) {
    throw new ConfigurationError(`\`${name}\` ('${value.slice(0, 24)}…') is ${value.length} characters: a load balancer's path pattern takes 128 at most.`);
  }
}
