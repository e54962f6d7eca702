import { Annotations, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConfigurationError } from './errors';

/** One version of a product AWS runs for the platform, and when AWS stops. */
export interface SupportedVersion {
  /** The product, as messages name it. */
  readonly product: string;
  /** The version, or its major (`15`), minor (`1.35`) or `3.9.x` form, as the platform writes it. */
  readonly version: string;
  /** The last day of (standard) support, `YYYY-MM-DD`; undefined while AWS announces none. */
  readonly endOfSupport?: string;
  /** The last day of paid extended support, where AWS offers it. */
  readonly endOfExtendedSupport?: string;
  /** Where AWS says so. */
  readonly source: string;
}

const EKS = 'https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html';
const RDS = 'https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html';
const MSK = 'https://docs.aws.amazon.com/msk/latest/developerguide/supported-kafka-versions.html';
const MQ = 'https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-version-support.html';
const CACHE = 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/engine-versions.html';

/**
 * Every version the library ships as a default, and those next to it, with the
 * end of support AWS publishes (read 2026-12-06). Synthesis warns 90 days before
 * a chosen version's end and fails after it; a test fails when a default is past
 * its end on the day it runs.
 */
export const SUPPORT: SupportedVersion[] = [
  { product: 'Amazon EKS Kubernetes', version: '1.32', endOfSupport: '2026-03-23', endOfExtendedSupport: '2027-03-23', source: EKS },
  { product: 'Amazon EKS Kubernetes', version: '1.33', endOfSupport: '2026-07-29', endOfExtendedSupport: '2027-07-29', source: EKS },
  { product: 'Amazon EKS Kubernetes', version: '1.34', endOfSupport: '2026-12-02', endOfExtendedSupport: '2027-12-02', source: EKS },
  { product: 'Amazon EKS Kubernetes', version: '1.35', endOfSupport: '2027-03-27', endOfExtendedSupport: '2028-03-27', source: EKS },
  { product: 'Amazon EKS Kubernetes', version: '1.36', endOfSupport: '2027-08-02', endOfExtendedSupport: '2028-08-02', source: EKS },
  { product: 'Amazon RDS for PostgreSQL', version: '14', endOfSupport: '2027-02-28', endOfExtendedSupport: '2030-02-28', source: RDS },
  { product: 'Amazon RDS for PostgreSQL', version: '15', endOfSupport: '2028-02-29', endOfExtendedSupport: '2031-02-28', source: RDS },
  { product: 'Amazon RDS for PostgreSQL', version: '16', endOfSupport: '2029-02-28', endOfExtendedSupport: '2032-02-29', source: RDS },
  { product: 'Amazon RDS for PostgreSQL', version: '17', endOfSupport: '2030-02-28', endOfExtendedSupport: '2033-02-28', source: RDS },
  { product: 'Amazon RDS for PostgreSQL', version: '18', endOfSupport: '2031-02-28', endOfExtendedSupport: '2034-02-28', source: RDS },
  { product: 'Amazon MSK Apache Kafka', version: '3.6.0', endOfSupport: '2026-06-01', source: MSK },
  { product: 'Amazon MSK Apache Kafka', version: '3.7.x', endOfSupport: '2026-09-01', source: MSK },
  { product: 'Amazon MSK Apache Kafka', version: '3.8.x', source: MSK },
  { product: 'Amazon MSK Apache Kafka', version: '3.9.x', source: MSK },
  { product: 'Amazon MQ for RabbitMQ', version: '3.13', source: MQ },
  { product: 'Amazon MQ for RabbitMQ', version: '4.2', source: MQ },
  { product: 'Amazon ElastiCache for Redis OSS', version: '6', endOfSupport: '2027-01-31', source: CACHE },
  { product: 'Amazon ElastiCache for Redis OSS', version: '7.1', source: CACHE },
  { product: 'Amazon ElastiCache for Valkey', version: '7.2', source: CACHE },
  { product: 'Amazon ElastiCache for Valkey', version: '8.0', source: CACHE },
];

const DAY = 24 * 60 * 60 * 1000;
/** How long before a version's end synthesis warns. */
export const WARNING_DAYS = 90;

/** The entry of `product` that `version` falls under (`15` for `15.8`, `1.35` for `1.35`), if the table has one. */
export function supportOf(product: string, version: string): SupportedVersion | undefined {
  return SUPPORT.filter(entry => entry.product === product)
    .find(entry => version === entry.version || version.startsWith(`${entry.version}.`) ||
      (entry.version.endsWith('.x') && version.startsWith(entry.version.slice(0, -1))));
}

/**
 * Warns when `version` of `product` (the value of property `name`) reaches the end
 * of its support within 90 days, and fails once it is past, on `today`. `extended`
 * says the user chose paid extended support, which has an end of its own.
 */
export function checkSupport(scope: Construct, name: string, product: string, version: string,
  options: { readonly extended?: boolean; readonly fix: string; readonly today?: Date }): void {
  if (Token.isUnresolved(version)) return;
  const entry = supportOf(product, version);
  const end = options.extended ? entry?.endOfExtendedSupport : entry?.endOfSupport;
  if (!entry || !end) return;
  const today = options.today ?? new Date();
  const days = Math.floor((Date.parse(`${end}T23:59:59Z`) - today.getTime()) / DAY);
  const what = `${product} ${version} (\`${name}\`) ${options.extended ? 'leaves extended support' : 'reaches its end of support'} on ${end} (${entry.source})`;
  if (days < 0) {
    throw new ConfigurationError(`${what}: it is past. ${options.fix}`);
  }
  if (days <= WARNING_DAYS) {
    Annotations.of(scope).addWarningV2('codelearn:version-support', `${what}, in ${days} days. ${options.fix}`);
  }
}
