import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { ClusterSupportType, CodeLearnPlatform, MessageBroker } from '../src';
import { testApp } from './support/app';
import { LOAD_BALANCER_CONTROLLER } from '../src/compute/load-balancer-controller';
import { checkSupport, SUPPORT, supportOf, WARNING_DAYS } from '../src/private/support';
import { KUBERNETES_VERSION } from '../src/private/versions';

/**
 * The versions the library ships, against the calendar: each default within its
 * support on the day the tests run, and a chosen version that expires warned
 * about, then refused.
 */
describe('versions and their end of support', () => {
  const DEFAULTS: Array<[string, string]> = [
    ['Amazon EKS Kubernetes', KUBERNETES_VERSION.version],
    ['Amazon RDS for PostgreSQL', rds.PostgresEngineVersion.VER_15.postgresMajorVersion],
    ['Amazon MSK Apache Kafka', '3.9.x'],
    ['Amazon MQ for RabbitMQ', '3.13'],
    ['Amazon ElastiCache for Redis OSS', '7.1'],
    ['Amazon ElastiCache for Valkey', '8.0'],
  ];

  test.each(DEFAULTS)('the default %s %s is in the table and within its support today', (product, version) => {
    const entry = supportOf(product, version);
    expect(entry).toBeDefined();
    if (entry?.endOfSupport) {
      // Fails on the day a default passes its end: ship a newer default before it.
      expect(Date.parse(`${entry.endOfSupport}T23:59:59Z`)).toBeGreaterThan(Date.now());
    }
  });

  test('every entry cites AWS and writes its dates as dates', () => {
    for (const entry of SUPPORT) {
      expect(entry.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      for (const date of [entry.endOfSupport, entry.endOfExtendedSupport].filter(Boolean)) expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  test(`warns ${WARNING_DAYS} days before the end, and fails after it`, () => {
    const app = new App();
    const stack = new Stack(app, 'Versions');
    const fix = 'Upgrade it.';
    checkSupport(stack, 'kubernetesVersion', 'Amazon EKS Kubernetes', '1.35', { fix, today: new Date('2026-12-27T12:00:00Z') });
    checkSupport(stack, 'kubernetesVersion', 'Amazon EKS Kubernetes', '1.35', { fix, today: new Date('2026-12-26T12:00:00Z') });
    Annotations.fromStack(stack).hasWarning('/Versions', Match.stringLikeRegexp(
      '^Amazon EKS Kubernetes 1.35 \\(`kubernetesVersion`\\) reaches its end of support on 2027-03-27 \\(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html\\), in 90 days. Upgrade it.'));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('in 91 days'))).toHaveLength(0);
    expect(() => checkSupport(stack, 'kafkaVersion', 'Amazon MSK Apache Kafka', '3.6.0', { fix, today: new Date('2026-06-02T00:00:00Z') })).toThrow(
      'Amazon MSK Apache Kafka 3.6.0 (`kafkaVersion`) reaches its end of support on 2026-06-01 (https://docs.aws.amazon.com/msk/latest/developerguide/supported-kafka-versions.html): it is past. Upgrade it.');
    // Extended support has an end of its own.
    expect(() => checkSupport(stack, 'kubernetesVersion', 'Amazon EKS Kubernetes', '1.34', { fix, extended: true, today: new Date('2026-12-06T00:00:00Z') })).not.toThrow();
  });

  test('a platform on MSK 3.6.0, or on Kubernetes 1.34 without extended support, fails at synth and says what to do', () => {
    const platform = (props: object) => () => new CodeLearnPlatform(new Stack(testApp(), 'Platform'), 'Platform', props);
    expect(platform({ messaging: { broker: MessageBroker.kafka({ kafkaVersion: '3.6.0' }) } })).toThrow(
      /^Amazon MSK Apache Kafka 3.6.0 \(`kafkaVersion`\) reaches its end of support on 2026-06-01 .*: it is past. Upgrade the cluster to a supported version \(`kafkaVersion: '3.9.x'`/);
    expect(platform({ cluster: { kubernetesVersion: eks.KubernetesVersion.V1_34 } })).toThrow(
      /^Amazon EKS Kubernetes 1.34 \(`cluster.kubernetesVersion`\) reaches its end of support on 2026-12-02 .*To stay, set `supportType: ClusterSupportType.EXTENDED`/);
    expect(platform({ cluster: { kubernetesVersion: eks.KubernetesVersion.V1_34, supportType: ClusterSupportType.EXTENDED } })).not.toThrow();
  });

  test('the Load Balancer Controller\'s CRD upgrade step names the chart the platform installs', () => {
    // Helm never upgrades a chart's crds/: docs/operations.md gives the step, for this chart version.
    const operations = fs.readFileSync(path.join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
    const chart = LOAD_BALANCER_CONTROLLER.helmChartVersion;
    expect(operations).toContain(`helm show crds eks/aws-load-balancer-controller --version ${chart} | kubectl apply --server-side -f -`);
    expect(operations).toContain(`the platform installs chart ${chart}, controller ${LOAD_BALANCER_CONTROLLER.version}`);
  });
});
