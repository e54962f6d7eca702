import { Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CONFIGURATIONS, deploymentOf } from './configurations';
import { Deployment } from './deployment';
import { RULES } from './rules';
import { lifecycleExpiresAfterTransitions, lockedBucketsStayUsable, lockedVaultsKeepWhatPlansStore } from './rules/data';
import { sparseCountsAreFilled } from './rules/observability';
import { testApp } from '../support/app';

/**
 * Deploy rules: what AWS and Kubernetes enforce when the platform deploys and
 * runs, checked over every configuration the tests synthesize (root and nested
 * templates, and the Kubernetes objects inside them). Each rule cites its source
 * in ./rules; docs/architecture.md lists what they guarantee.
 */
describe.each(CONFIGURATIONS.map(configuration => [`${configuration.name} (${configuration.flags})`, configuration] as const))('%s', (_name, configuration) => {
  test.each(RULES.map(rule => [rule.id, rule] as const))('%s', (_id, rule) => {
    expect(rule.check(deploymentOf(configuration))).toEqual([]);
  });
});

describe('a rule finds what it describes', () => {
  test('sparse-counts-are-filled: an error rate of an unfilled 5xx count', () => {
    const app = testApp();
    const stack = new Stack(app, 'Alarms');
    const metric = (metricName: string) => new cloudwatch.Metric({ namespace: 'AWS/ApplicationELB', metricName, statistic: 'Sum', dimensionsMap: { LoadBalancer: 'app/x/1' } });
    new cloudwatch.Alarm(stack, 'Rate', {
      metric: new cloudwatch.MathExpression({ expression: '100 * errors / requests', usingMetrics: { errors: metric('HTTPCode_Target_5XX_Count'), requests: metric('RequestCount') } }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    new cloudwatch.Alarm(stack, 'Filled', {
      metric: new cloudwatch.MathExpression({ expression: '100 * FILL(errors, 0) / requests', usingMetrics: { errors: metric('HTTPCode_Target_5XX_Count'), requests: metric('RequestCount') } }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(sparseCountsAreFilled.check(Deployment.of('alarms', app))).toEqual([
      expect.stringMatching(/Rate.*'100 \* errors \/ requests' uses the sparse count 'errors' without FILL\(errors, 0\)$/),
    ]);
  });

  test('locked-vaults-keep-what-plans-store: a week in a vault locked for 35 days', () => {
    const app = testApp();
    const stack = new Stack(app, 'Backups');
    const vault = new backup.BackupVault(stack, 'Vault', { lockConfiguration: { minRetention: Duration.days(35) } });
    const plan = new backup.BackupPlan(stack, 'Plan', { backupVault: vault });
    plan.addRule(new backup.BackupPlanRule({ ruleName: 'weekly', deleteAfter: Duration.days(7) }));
    expect(lockedVaultsKeepWhatPlansStore.check(Deployment.of('backups', app))).toEqual([
      expect.stringMatching(/rule weekly keeps recovery points 7 days in a vault locked to 35-∞$/),
    ]);
  });

  test('locked-buckets-stay-usable: access logs into a locked bucket, locked objects replicated blind', () => {
    const app = testApp();
    const stack = new Stack(app, 'Locked');
    const logs = new s3.Bucket(stack, 'Logs', { objectLockEnabled: true });
    const role = new iam.Role(stack, 'Replication', { assumedBy: new iam.ServicePrincipal('s3.amazonaws.com') });
    const source = new s3.Bucket(stack, 'Source', {
      versioned: true,
      objectLockEnabled: true,
      serverAccessLogsBucket: logs,
      replicationRole: role,
      replicationRules: [{ destination: s3.Bucket.fromBucketName(stack, 'Destination', 'destination'), priority: 0 }],
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObjectVersionForReplication'], resources: [source.arnForObjects('*')] }));
    expect(lockedBucketsStayUsable.check(Deployment.of('locked', app))).toEqual([
      expect.stringMatching(/Locked\/Source: delivers access logs into Locked\/Logs, which has Object Lock$/),
      expect.stringMatching(/Locked\/Source: replicates locked objects, but its role may not s3:GetObjectRetention$/),
      expect.stringMatching(/Locked\/Source: replicates locked objects, but its role may not s3:GetObjectLegalHold$/),
    ]);
  });

  test('lifecycle-expires-after-transitions: objects that expire on the day they move', () => {
    const app = testApp();
    const stack = new Stack(app, 'Lifecycle');
    new s3.Bucket(stack, 'Backups', {
      lifecycleRules: [{
        id: 'expire-backups',
        transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(30) }],
        expiration: Duration.days(30),
      }, {
        id: 'too-early',
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(7) }],
      }],
    });
    expect(lifecycleExpiresAfterTransitions.check(Deployment.of('lifecycle', app))).toEqual([
      expect.stringMatching(/rule expire-backups expires objects at 30 days, not after their transition at 30$/),
      expect.stringMatching(/rule too-early moves objects to STANDARD_IA after 7 days, before 30$/),
    ]);
  });
});
