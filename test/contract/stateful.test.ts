import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CodeLearnPlatform } from '../../src';
import { TEST_ENV, testStack } from '../support/app';

/**
 * The logical IDs of stateful resources are public contract: a change replaces
 * the resource and loses its data. This test pins them; changing the list below
 * is a breaking change and needs a note in the changelog.
 */
const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance', 'AWS::ElastiCache::ReplicationGroup', 'AWS::S3::Bucket', 'AWS::AmazonMQ::Broker', 'AWS::MSK::Cluster',
  'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::ECR::Repository', 'AWS::Backup::BackupVault',
];
const CONTRACT = path.join(__dirname, 'stateful-resources.json');

function statefulResources(template: Template): Record<string, { type: string; deletionPolicy?: string }> {
  const resources = template.toJSON().Resources as Record<string, any>;
  const entries: [string, { type: string; deletionPolicy?: string }][] = Object.entries(resources)
    .filter(([, resource]) => STATEFUL_TYPES.includes(resource.Type))
    .map(([id, resource]) => [id, { type: resource.Type, deletionPolicy: resource.DeletionPolicy }]);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

describe('stateful resources', () => {
  const stack = testStack({ env: TEST_ENV });
  new CodeLearnPlatform(stack, 'Platform');
  const resources = statefulResources(Template.fromStack(stack));

  test('keep the logical IDs and types of the contract', () => {
    const contract = JSON.parse(fs.readFileSync(CONTRACT, 'utf8'));
    expect(resources).toEqual(contract);
  });

  test('are retained or snapshotted on delete, except the read replica (a copy)', () => {
    // RetainExceptOnCreate keeps a resource on update and delete too; it removes it only
    // when the create that made it rolls back (the deploy rules require it for fixed names).
    for (const [id, resource] of Object.entries(resources)) {
      const expected = id.startsWith('PlatformDatabaseReplica') && resource.type === 'AWS::RDS::DBInstance' ? ['Delete'] : ['Retain', 'RetainExceptOnCreate', 'Snapshot'];
      expect({ id, deletionPolicy: resource.deletionPolicy }).toEqual({ id, deletionPolicy: expect.stringMatching(new RegExp(`^(${expected.join('|')})$`)) });
    }
  });

  test('keep their logical IDs when options change', () => {
    const changed = testStack({ env: TEST_ENV });
    new CodeLearnPlatform(changed, 'Platform', {
      database: { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE), allocatedStorage: 200, maxAllocatedStorage: 1000 },
      cache: { nodeType: new ec2.InstanceType('r7g.large'), shards: 3 },
      cluster: {
        instanceType: ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.LARGE),
        nodes: { minSize: 3, maxSize: 20, desiredSize: 4 },
      },
    });
    expect(Object.keys(statefulResources(Template.fromStack(changed)))).toEqual(Object.keys(resources));
  });

  test('keep their logical IDs when replicas are added', () => {
    const more = testStack({ env: TEST_ENV });
    new CodeLearnPlatform(more, 'Platform', { database: { readReplicas: 3 }, cache: { replicasPerShard: 2 } });
    const ids = Object.keys(statefulResources(Template.fromStack(more)));
    expect(ids).toEqual(expect.arrayContaining(Object.keys(resources)));
    expect(ids.filter(id => !Object.keys(resources).includes(id)).every(id => /^PlatformDatabase(Replica[23]|Replica[23]Log)/.test(id))).toBe(true);
  });
});
