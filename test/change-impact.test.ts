import * as fs from 'fs';
import * as path from 'path';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { App, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CacheAuthentication, CacheEngine, CodeLearnPlatform, CodeLearnPlatformProps, DataAccess, MessageBroker, Network, NodeScaling, PlatformProfile, ServiceDefinition } from '../src';
import { TEST_ENV, testApp } from './support/app';

/**
 * Day 2: the changes a team makes to a running platform in its first year, each
 * applied alone to the default platform and judged as `cdk diff` judges it
 * (`@aws-cdk/cloudformation-diff`, from the registry's update behaviours). A
 * stateful resource may be replaced or removed only where the change says so and
 * why; docs/operations.md has the same changes in its table.
 */

/** What CloudFormation keeps data in: replacing or removing one loses or strands it. */
const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance', 'AWS::ElastiCache::ReplicationGroup', 'AWS::AmazonMQ::Broker', 'AWS::MSK::Cluster', 'AWS::S3::Bucket',
  'AWS::KMS::Key', 'AWS::ECR::Repository', 'AWS::Logs::LogGroup', 'AWS::EKS::Cluster', 'AWS::SecretsManager::Secret', 'AWS::Backup::BackupVault',
];

/**
 * The property that names each stateful type. CloudFormation cannot replace a
 * resource whose name stays the same ("cannot update a stack when a custom-named
 * resource requires replacing"): the update fails, and nothing is lost.
 */
const NAMES: { [type: string]: string } = {
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::ElastiCache::ReplicationGroup': 'ReplicationGroupId',
  'AWS::AmazonMQ::Broker': 'BrokerName',
  'AWS::MSK::Cluster': 'ClusterName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::EKS::Cluster': 'Name',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Backup::BackupVault': 'BackupVaultName',
};

/** Why a change into or out of EKS Auto Mode leaves the cluster in place, or fails without harm. */
const AUTO_MODE_IN_PLACE = 'The registry marks the whole KubernetesNetworkConfig as replacing, but only its ServiceIpv4Cidr, ServiceIpv6Cidr and IpFamily are create-only; ElasticLoadBalancing, like ComputeConfig and StorageConfig, is not, and EKS turns Auto Mode on and off in place (UpdateClusterConfig; EKS user guide, "Enable EKS Auto Mode on an existing cluster"). BootstrapSelfManagedAddons, which is create-only, stays unset. Either CloudFormation updates the cluster in place, or it refuses the replacement under the fixed name and the deploy fails with the cluster untouched: never a new, empty cluster (docs/operations.md, "Change the node scaling strategy").';

/** The impacts that lose, strand or may lose a stateful resource. */
const HARMFUL = [ResourceImpact.WILL_REPLACE, ResourceImpact.MAY_REPLACE, ResourceImpact.WILL_DESTROY, ResourceImpact.WILL_ORPHAN];

/** What the suite knows of a harmful impact that the diff reports. */
interface Verdict {
  /** What `cdk diff` reports, from the registry's update behaviours. */
  readonly diff: 'replace' | 'may replace' | 'orphan';
  /** What really happens; `refused` is a replacement under the same name, which CloudFormation rejects. */
  readonly outcome: 'in place' | 'replaced' | 'refused' | 'kept, no longer managed';
  /** Why, with the procedure when it is not a plain deploy. */
  readonly why: string;
}

interface Change {
  /** As the changes table in docs/operations.md names it. */
  readonly name: string;
  /** The platform before the change (default: the default production platform). */
  readonly before?: CodeLearnPlatformProps;
  /** The platform after it. */
  readonly after: CodeLearnPlatformProps;
  /**
   * The stateful resources the diff reports as replaced, maybe replaced, destroyed
   * or orphaned, by `<template path>/<logical ID>` pattern, with what happens.
   */
  readonly verdicts?: { [resource: string]: Verdict };
}

const SERVICES = CodeLearnPlatform.defaultServices();
const withServices = (services: ServiceDefinition[]): CodeLearnPlatformProps => ({ services });
const feed: ServiceDefinition = { name: 'feed-service', path: '/api/feed/*', access: [DataAccess.DATABASE, DataAccess.CACHE] };
// A renamed service is renamed in the gateway's calls too: a call to a name that is gone fails synthesis.
const rename = (from: string, to: string) => SERVICES.map(service => ({
  ...(service.name === from ? { ...service, name: to } : service),
  ...(service.calls ? { calls: service.calls.map(callee => (callee === from ? to : callee)) } : {}),
}));
const repath = (name: string, to: string) => SERVICES.map(service => service.name === name ? { ...service, path: to } : service);
const canary = (weight: number) => SERVICES.map(service => service.name === 'post-service' ? { ...service, canary: { weight } } : service);

export const CHANGES: Change[] = [
  {
    name: 'database instance class (db.t3.medium to db.r5.large)',
    after: { database: { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R5, ec2.InstanceSize.LARGE) } },
  },
  {
    name: 'PostgreSQL 15 to 16',
    after: { database: { engineVersion: rds.PostgresEngineVersion.VER_16 } },
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'The new version and the new family\'s parameter group go in one ModifyDBInstance call, allowed by AllowMajorVersionUpgrade; ' +
          'the parameter group (a new one, postgres16) is what the registry calls "may replace".',
      },
      'Platform/PlatformDatabaseReplica1': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'RDS upgrades in-Region replicas with their writer; CloudFormation then sets the new parameter group on the replica.',
      },
    },
  },
  {
    name: 'database storage (100 to 200 GiB, limit 500 to 1000)',
    after: { database: { allocatedStorage: 200, maxAllocatedStorage: 1000 } },
  },
  {
    name: 'automated backup retention (7 to 14 days)',
    after: { database: { backupRetention: Duration.days(14) } },
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'RDS interrupts the instance only when retention moves between 0 and a positive value; the platform keeps it from 1 to 35.',
      },
    },
  },
  {
    name: 'read replicas (1 to 2)',
    after: { database: { readReplicas: 2 } },
  },
  {
    name: 'cache node type (cache.t3.medium to cache.r7g.large)',
    after: { cache: { nodeType: new ec2.InstanceType('r7g.large') } },
  },
  {
    name: 'cache replicas per shard (1 to 2)',
    after: { cache: { replicasPerShard: 2 } },
    verdicts: {
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'replace',
        outcome: 'refused',
        why: 'The registry data says a new ReplicasPerNodeGroup replaces the group; the only evidence of in-place is one roadmap comment ' +
          '(cloudformation-coverage-roadmap #918), for the property changed alone. Either CloudFormation applies it online, or it refuses ' +
          'the replacement (the ID is fixed) and the deploy fails with the cache untouched: never a new, empty cache.',
      },
    },
  },
  {
    name: 'cache engine (Redis OSS 7.1 to Valkey 8.0)',
    after: { cache: { engine: CacheEngine.VALKEY } },
    verdicts: {
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'replace',
        outcome: 'refused',
        why: 'CloudFormation replaces a replication group whose engine changes, and refuses to under the fixed ID: the deploy fails and ' +
          'the cache is untouched. Bump `cache.generation` with the engine to accept a new, empty Valkey cache with a new endpoint (the old ' +
          'one is snapshotted). ElastiCache can upgrade Redis OSS to Valkey in place (`aws elasticache modify-replication-group --engine ' +
          'valkey`), but the stack would then drift.',
      },
    },
  },
  {
    name: 'cache engine with a new generation (Redis OSS 7.1 to Valkey 8.0, generation 1 to 2)',
    after: { cache: { engine: CacheEngine.VALKEY, generation: 2 } },
    verdicts: {
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'replace',
        outcome: 'replaced',
        why: 'The new generation is a new ID, which lets CloudFormation replace the group: a new, empty Valkey cache with a new endpoint; ' +
          'the old one is snapshotted (`UpdateReplacePolicy: Snapshot`) and deleted. The services get the new endpoint on the same deploy.',
      },
    },
  },
  {
    name: 'cache shards (2 to 3)',
    after: { cache: { shards: 3 } },
    verdicts: {
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'The UseOnlineResharding update policy reshards online instead of replacing; AWS asks for it in a deploy of its own.',
      },
    },
  },
  {
    name: 'node instance type (t3.medium to m5.large)',
    after: { cluster: { instanceType: ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.LARGE) } },
  },
  {
    name: 'node group limits (3 to 10 nodes at most)',
    after: { cluster: { nodes: { maxSize: 10 } } },
  },
  {
    // Karpenter and its NodePools come first; the spot node group and the Cluster Autoscaler go in the cleanup (docs/operations.md).
    name: 'node scaling (Cluster Autoscaler to Karpenter)',
    after: { cluster: { nodeScaling: NodeScaling.karpenter() } },
  },
  {
    // The spot node group and the autoscaler come first; the NodePools go (Karpenter drains their nodes), then Karpenter.
    name: 'node scaling (Karpenter to the Cluster Autoscaler)',
    before: { cluster: { nodeScaling: NodeScaling.karpenter() } },
    after: {},
  },
  {
    // In place: the cluster enables Auto Mode (compute, storage, load balancing) and keeps its
    // bootstrapSelfManagedAddons; the NodePools come first, the node groups and add-ons go in the cleanup.
    name: 'node scaling (Cluster Autoscaler to EKS Auto Mode)',
    after: { cluster: { nodeScaling: NodeScaling.autoMode() } },
    verdicts: { 'Platform/PlatformCluster': { diff: 'replace', outcome: 'refused', why: AUTO_MODE_IN_PLACE } },
  },
  {
    // The node groups and add-ons come first, then the cluster leaves Auto Mode; the NodePools go in the cleanup.
    name: 'node scaling (EKS Auto Mode to the Cluster Autoscaler)',
    before: { cluster: { nodeScaling: NodeScaling.autoMode() } },
    after: {},
    verdicts: { 'Platform/PlatformCluster': { diff: 'replace', outcome: 'refused', why: AUTO_MODE_IN_PLACE } },
  },
  {
    // In place in the template; MSK refuses it when auto scaling has grown the volumes past 200 GiB (docs/operations.md).
    name: 'Kafka `volumeSize` (100 to 200 GiB)',
    before: { messaging: { broker: MessageBroker.kafka() } },
    after: { messaging: { broker: MessageBroker.kafka({ volumeSize: 200 }) } },
  },
  {
    name: 'message broker (RabbitMQ to Kafka)',
    after: { messaging: { broker: MessageBroker.kafka() } },
    verdicts: {
      'Platform/PlatformMessagingBroker': {
        diff: 'orphan',
        outcome: 'kept, no longer managed',
        why: 'The RabbitMQ broker and its credentials are kept (and billed) beside the new MSK cluster, so that nothing queued is lost: ' +
          'move the services to Kafka, drain the queues, then delete the broker and the secret by hand.',
      },
      'Platform/PlatformMessagingCredentials': {
        diff: 'orphan',
        outcome: 'kept, no longer managed',
        why: 'The broker\'s credentials, kept with it.',
      },
    },
  },
  {
    name: 'a service added',
    after: withServices([...SERVICES, feed]),
  },
  {
    name: 'a service removed',
    before: withServices([...SERVICES, feed]),
    after: withServices(SERVICES),
    verdicts: {
      'Platform/PlatformServicesFeedServiceRepository': {
        diff: 'orphan',
        outcome: 'kept, no longer managed',
        why: 'The service\'s ECR repository keeps its images; delete it with `aws ecr delete-repository --force` when they are no longer needed.',
      },
    },
  },
  {
    name: 'a service renamed (post-service to article-service)',
    after: withServices(rename('post-service', 'article-service')),
    verdicts: {
      'Platform/PlatformServicesPostServiceRepository': {
        diff: 'orphan',
        outcome: 'kept, no longer managed',
        why: 'A service\'s repository is named after it: the renamed service gets a new, empty repository (push its image before the deploy), and the old one is kept.',
      },
    },
  },
  {
    name: 'a service re-pathed (/api/posts/* to /api/articles/*)',
    after: withServices(repath('post-service', '/api/articles/*')),
  },
  {
    name: 'a canary started (20% of post-service)',
    after: withServices(canary(20)),
  },
  {
    name: 'a canary promoted (back to one version)',
    before: withServices(canary(20)),
    after: withServices(SERVICES),
  },
  {
    name: 'a domain added',
    after: { edge: { domain: { domainName: 'learn.example.com', hostedZone: 'zone' as any } } },
  },
  {
    name: 'network CIDR (10.0.0.0/16 to 10.8.0.0/16)',
    after: { network: { cidr: '10.8.0.0/16' } },
    verdicts: {
      'Platform/PlatformMessagingBroker': {
        diff: 'replace',
        outcome: 'refused',
        why: 'A new block is a new VPC, which no data store can follow: the broker would be replaced under its name (refused), and RDS and ' +
          'ElastiCache reject security groups of another VPC. The block is chosen once; a new one means a new platform and a data migration.',
      },
    },
  },
  {
    name: 'interface endpoints added',
    after: { network: { interfaceEndpoints: Network.eksInterfaceEndpoints() } },
  },
  {
    name: 'log retention (one to two years)',
    after: { logRetention: logs.RetentionDays.TWO_YEARS },
  },
  {
    name: 'alarm recipients added',
    after: { observability: { alarmEmails: ['oncall@example.com'] } },
  },
  {
    name: 'development to production',
    before: { profile: PlatformProfile.DEVELOPMENT },
    after: { profile: PlatformProfile.PRODUCTION },
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'Multi-AZ is added online (RDS creates the standby from a snapshot; writes may slow meanwhile); the database is kept.',
      },
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'may replace',
        outcome: 'in place',
        why: 'A second shard is added online (`UseOnlineResharding`) and the node type scaled up online; both profiles have one replica ' +
          'per shard, so ReplicasPerNodeGroup does not change. Deploy the profile in steps if both change at once fails (docs/operations.md).',
      },
      'Platform/PlatformMessagingBroker': {
        diff: 'replace',
        outcome: 'replaced',
        why: 'A broker\'s deployment mode cannot change: the single-instance broker (named `…-single`) is replaced by a three-node cluster ' +
          'under the production name; messages still queued in the old one are lost, so drain it first.',
      },
    },
  },
  {
    name: 'database name (codelearn to learn)',
    after: { database: { databaseName: 'learn' } },
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'replace',
        outcome: 'refused',
        why: 'DBName is fixed at creation, and the writer\'s identifier is fixed: CloudFormation refuses the update, nothing is lost. ' +
          'Create the new database with SQL instead (`CREATE DATABASE`), or keep the name.',
      },
    },
  },
  {
    name: 'database key replaced (a key of your own)',
    after: { database: { encryptionKey: 'brought' as any } },
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'replace',
        outcome: 'refused',
        why: 'RDS cannot re-encrypt an instance: CloudFormation refuses to replace the named writer. Copy a snapshot with the new key and ' +
          'restore it into a new stack (`database.snapshotIdentifier`).',
      },
      'Platform/PlatformDatabaseReplica1': {
        diff: 'replace',
        outcome: 'refused',
        why: 'A replica shares its writer\'s key; the update fails with the writer\'s.',
      },
      'Platform/PlatformDatabaseBackupVault': {
        diff: 'replace',
        outcome: 'refused',
        why: 'A vault\'s key is fixed and its name too: the update fails.',
      },
      'Platform/PlatformDatabaseKey': {
        diff: 'orphan',
        outcome: 'kept, no longer managed',
        why: 'The old key is retained: it still decrypts the snapshots and recovery points made with it.',
      },
    },
  },
  {
    name: 'snapshotIdentifier removed from a restored writer',
    before: { database: { snapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1a2b3c4d' } },
    after: {},
    verdicts: {
      'Platform/PlatformDatabaseInstance': {
        diff: 'replace',
        outcome: 'refused',
        why: 'Without DBSnapshotIdentifier the writer reads as a new, empty instance (with a database name, a master user and a key of ' +
          'its own); its identifier is fixed, so the update fails and nothing is lost. Keep the option set for the stack\'s life.',
      },
      'Platform/PlatformDatabaseReplica1': {
        diff: 'replace',
        outcome: 'refused',
        why: 'The replica would name the database key; it fails with the writer.',
      },
    },
  },
  {
    name: 'cache sign-in from IAM to an AUTH token',
    after: { cache: { authentication: CacheAuthentication.AUTH_TOKEN } },
    verdicts: {
      'Platform/PlatformCacheReplicationGroup': {
        diff: 'may replace',
        outcome: 'refused',
        why: 'CloudFormation cannot move a replication group between user groups and an AUTH token in place (cloudformation-coverage-roadmap #2356; ' +
          'the registry says "may replace"), and refuses the replacement under the fixed ID. Bump `cache.generation` with it to accept a new, ' +
          'empty cache with a new endpoint, the old one snapshotted; or choose it at the first deploy.',
      },
    },
  },
];

/** Every template of the platform's stack, by the nested stack's path (the root is ''). */
function synthesize(props: CodeLearnPlatformProps): Map<string, any> {
  const app = testApp();
  const stack = new Stack(app, 'Platform', { env: TEST_ENV });
  const resolved = props.edge?.domain
    ? {
      ...props,
      edge: {
        ...props.edge,
        domain: {
          ...props.edge.domain,
          hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
        },
      },
    }
    : props;
  const withKey = resolved.database?.encryptionKey
    ? { ...resolved, database: { ...resolved.database, encryptionKey: new kms.Key(stack, 'BroughtKey', { enableKeyRotation: true }) } }
    : resolved;
  new CodeLearnPlatform(stack, 'Platform', withKey);
  const assembly = (stack.node.root as App).synth();
  const templates = new Map<string, any>([['', assembly.getStackArtifact(stack.artifactId).template]]);
  for (const nested of stack.node.findAll().filter(NestedStack.isNestedStack)) {
    templates.set(nested.node.path, JSON.parse(fs.readFileSync(path.join(assembly.directory, nested.templateFile), 'utf8')));
  }
  return templates;
}

/** The stateful resources a change replaces, may replace, destroys or orphans, as `<stack>/<logical ID>: <impact>`. */
function harm(before: Map<string, any>, after: Map<string, any>): Map<string, string> {
  const found = new Map<string, string>();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const diff = fullDiff(before.get(key) ?? { Resources: {} }, after.get(key) ?? { Resources: {} });
    diff.resources.forEachDifference((logicalId, change) => {
      const type = change.oldResourceType ?? change.newResourceType;
      if (type && STATEFUL_TYPES.includes(type) && HARMFUL.includes(change.changeImpact)) {
        const name = NAMES[type] && change.oldValue?.Properties?.[NAMES[type]];
        const sameName = change.changeImpact === ResourceImpact.WILL_REPLACE && name !== undefined
          && JSON.stringify(name) === JSON.stringify(change.newValue?.Properties?.[NAMES[type]]);
        found.set(`${key || 'Platform'}/${logicalId}`, sameName ? `${change.changeImpact} under the same name` : change.changeImpact);
      }
    });
  }
  return found;
}

describe('changes to a running platform', () => {
  const defaults = synthesize({});

  test.each(CHANGES.map(change => [change.name, change] as const))('%s', (_name, change) => {
    const before = change.before ? synthesize(change.before) : defaults;
    const after = synthesize(change.after);
    const found = [...harm(before, after).entries()].map(([resource, impact]) => `${resource.replace(/[0-9A-F]{8}$/, '')}: ${impact}`);
    const impacts = { 'replace': ResourceImpact.WILL_REPLACE, 'may replace': ResourceImpact.MAY_REPLACE, 'orphan': ResourceImpact.WILL_ORPHAN };
    const declared = Object.entries(change.verdicts ?? {}).map(([resource, verdict]) =>
      `${resource}: ${impacts[verdict.diff]}${verdict.outcome === 'refused' && verdict.diff === 'replace' ? ' under the same name' : ''}`);
    expect(found.sort()).toEqual(declared.sort());
  });

  test('a change of node scaling adds the new strategy\'s parts and removes the old one\'s, and nothing else of the cluster\'s', () => {
    const karpenter = synthesize({ cluster: { nodeScaling: NodeScaling.karpenter() } });
    /** The root template's resources that `from` lacks and `to` has, by construct ID without its hash. */
    const added = (from: Map<string, any>, to: Map<string, any>) => Object.keys(to.get('').Resources)
      .filter(id => !(id in from.get('').Resources)).map(id => `${to.get('').Resources[id].Type} ${id.replace(/[0-9A-F]{8}$/, '')}`).sort();
    const autoscaler = [
      'AWS::EKS::Nodegroup PlatformClusterNodegroupSpotNodes',
      'AWS::EKS::PodIdentityAssociation PlatformClusterClusterAutoscalerRoleAssociation',
      'AWS::IAM::ManagedPolicy PlatformClusterClusterAutoscalerPolicy',
      'AWS::IAM::Role PlatformClusterClusterAutoscalerRole',
      'Custom::AWSCDK-EKS-HelmChart PlatformClusterchartClusterAutoscaler',
    ];
    expect(added(karpenter, defaults)).toEqual(autoscaler);
    expect(added(defaults, karpenter)).toEqual([
      'AWS::EKS::AccessEntry PlatformClusterKarpenterNodeAccess',
      'AWS::EKS::PodIdentityAssociation PlatformClusterKarpenterControllerRoleAssociation',
      'AWS::Events::Rule PlatformClusterKarpenterInstanceStateChange',
      'AWS::Events::Rule PlatformClusterKarpenterRebalance',
      'AWS::Events::Rule PlatformClusterKarpenterScheduledChange',
      'AWS::Events::Rule PlatformClusterKarpenterSpotInterruption',
      'AWS::IAM::InstanceProfile PlatformClusterKarpenterNodeProfile',
      'AWS::IAM::ManagedPolicy PlatformClusterKarpenterControllerPolicy',
      'AWS::IAM::Role PlatformClusterKarpenterControllerRole',
      'AWS::IAM::Role PlatformClusterKarpenterNodeRole',
      'AWS::SQS::Queue PlatformClusterKarpenterInterruptions',
      'AWS::SQS::QueuePolicy PlatformClusterKarpenterInterruptionsPolicy',
      'Custom::AWSCDK-EKS-HelmChart PlatformClusterchartKarpenter',
      'Custom::AWSCDK-EKS-HelmChart PlatformClusterchartKarpenterCrds',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestKarpenterNodeClass',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestKarpenterNodePoolOnDemand',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestKarpenterNodePoolSpot',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestKarpenterNodePoolSpotFallback',
    ]);
    // Auto Mode: the managed node groups, their launch template and the add-ons Auto Mode runs go with the autoscaler.
    const autoMode = synthesize({ cluster: { nodeScaling: NodeScaling.autoMode() } });
    expect(added(autoMode, defaults)).toEqual([...autoscaler,
      'AWS::EC2::LaunchTemplate PlatformClusterNodeLaunchTemplate',
      'AWS::IAM::Role PlatformClusterNodeRole',
      'AWS::EKS::Addon PlatformClusterAddonAwsEbsCsiDriver',
      'AWS::EKS::Addon PlatformClusterAddonCoredns',
      'AWS::EKS::Addon PlatformClusterAddonEksPodIdentityAgent',
      'AWS::EKS::Addon PlatformClusterAddonKubeProxy',
      'AWS::EKS::Addon PlatformClusterAddonVpcCni',
      'AWS::EKS::Nodegroup PlatformClusterNodegroupOnDemandNodes',
      'AWS::IAM::ManagedPolicy PlatformClusterEbsCsiKeyPolicy',
      'AWS::IAM::Role PlatformClusterCniRole',
      'AWS::IAM::Role PlatformClusterEbsCsiRole'].sort());
    expect(added(defaults, autoMode)).toEqual([
      'AWS::EKS::AccessEntry PlatformClusterAutoModeNodeAccess',
      'AWS::IAM::Role PlatformClusterAutoModeNodeRole',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClusterAutoModeNetworkPolicy',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestAutoModeNodeClass',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestAutoModeNodePoolOnDemand',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestAutoModeNodePoolSpot',
      'Custom::AWSCDK-EKS-KubernetesResource PlatformClustermanifestAutoModeNodePoolSpotFallback',
    ]);
  });

  test('covers at least fifteen changes, each in the changes table of docs/operations.md', () => {
    expect(CHANGES.length).toBeGreaterThanOrEqual(15);
    const operations = fs.readFileSync(path.join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
    expect(CHANGES.map(change => change.name).filter(name => !operations.includes(`| ${name} |`))).toEqual([]);
  });
});
