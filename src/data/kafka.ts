import { Annotations, Arn, ArnFormat, Aws, CfnCondition, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { BoundBroker, BrokerContext } from './broker-binding';
import type { KafkaOptions } from './broker-options';
import { validateVersion } from './broker-versions';
import { allowCloudWatchLogs } from '../private/keys';
import { acknowledgeGrantedWildcards } from '../private/nag';
import { closeDefaultEgress } from '../private/security-groups';
import { checkSupport } from '../private/support';
import { requireInstanceType, requireWholeNumber } from '../private/validate';

/** The Apache Kafka version of a new MSK cluster: the newest 3.x, with no end of support announced (src/private/support.ts). */
const KAFKA_VERSION = '3.9.x';

const KAFKA_IAM_PORT = 9098;

/**
 * The broker storage utilization MSK grows the volumes at: AWS recommends 50 to
 * 60% (https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand-details.html),
 * as a growth can follow another only after six hours.
 */
export const KAFKA_STORAGE_TARGET_PERCENT = 60;

/** The Regions where MSK has no storage auto scaling (https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand.html). */
export const KAFKA_NO_STORAGE_SCALING_REGIONS = ['ap-northeast-3', 'af-south-1', 'ap-southeast-5'];

/**
 * Amazon MSK in `scope`: TLS between clients and brokers and inside the cluster,
 * IAM authentication, volumes encrypted with the broker key, broker logs in an
 * encrypted log group.
 */
export function bindKafka(scope: Construct, options: KafkaOptions, context: BrokerContext): BoundBroker {
  const { defaults, encryptionKey, securityGroup, subnets } = context;
  const kafkaVersion = options.kafkaVersion ?? KAFKA_VERSION;
  validateVersion('kafkaVersion', kafkaVersion, /^\d+\.\d+\.(\d+|x)$/, KAFKA_VERSION);
  checkSupport(scope, 'kafkaVersion', 'Amazon MSK Apache Kafka', kafkaVersion,
    { fix: `Upgrade the cluster to a supported version (\`kafkaVersion: '${KAFKA_VERSION}'\`, the default; MSK upgrades in place, broker by broker).` });
  // MSK names instance types with the prefix, which the cluster adds.
  requireInstanceType('instanceType', (options.instanceType ?? defaults.kafkaInstanceType).toString(), 'kafka');
  const instanceType = `kafka.${options.instanceType ?? defaults.kafkaInstanceType}`;
  const brokersPerAz = options.brokersPerAz ?? 1;
  requireWholeNumber('brokersPerAz', brokersPerAz, 1, 5);
  const volumeSize = options.volumeSize ?? 100;
  requireWholeNumber('volumeSize', volumeSize, 1, 16384, 'GiB');
  const maxVolumeSize = options.maxVolumeSize ?? Math.min(16384, volumeSize * 4);
  requireWholeNumber('maxVolumeSize', maxVolumeSize, volumeSize, 16384, 'GiB');
  const zones = new Set(subnets.subnets.map(subnet => subnet.availabilityZone)).size;

  // Brokers talk to each other on the TLS and IAM ports.
  securityGroup.connections.allowInternally(ec2.Port.tcpRange(9092, 9098), 'Broker to broker');
  closeDefaultEgress(securityGroup);
  allowCloudWatchLogs(encryptionKey);
  const logGroup = new logs.LogGroup(scope, 'BrokerLogs', {
    retention: context.logRetention,
    encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const cluster = new msk.CfnCluster(scope, 'Cluster', {
    clusterName: Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' }),
    kafkaVersion,
    numberOfBrokerNodes: brokersPerAz * zones,
    brokerNodeGroupInfo: {
      instanceType,
      clientSubnets: subnets.subnetIds,
      securityGroups: [securityGroup.securityGroupId],
      storageInfo: { ebsStorageInfo: { volumeSize } },
    },
    encryptionInfo: {
      encryptionAtRest: { dataVolumeKmsKeyId: encryptionKey.keyArn },
      encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
    },
    clientAuthentication: {
      sasl: { iam: { enabled: true } },
      unauthenticated: { enabled: false },
    },
    enhancedMonitoring: 'PER_BROKER',
    loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: logGroup.logGroupName } } },
  });
  cluster.applyRemovalPolicy(context.removalPolicy);
  if (maxVolumeSize > volumeSize) scaleStorage(scope, cluster, volumeSize, maxVolumeSize);

  return {
    clientPort: ec2.Port.tcp(KAFKA_IAM_PORT),
    endpoints: [cluster.attrArn],
    endpointsDescription: 'The MSK cluster ARN (aws kafka get-bootstrap-brokers)',
    kafkaCluster: cluster,
    logGroup,
    grantConnect: grantee => grantKafkaClient(scope, cluster, grantee),
    connectionEnvironment: () => ({ BROKER_ENGINE: 'kafka', KAFKA_CLUSTER_ARN: cluster.attrArn }),
    // Clients ask MSK for the bootstrap brokers (kafka:GetBootstrapBrokers).
    connectionLists: () => ({}),
    metric: (metricName, props) => new cloudwatch.Metric({
      namespace: 'AWS/Kafka',
      metricName,
      dimensionsMap: { 'Cluster Name': cluster.clusterName },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    }),
  };
}

/**
 * Grows the brokers' volumes from `volumeSize` up to `maxVolumeSize` GiB as they
 * fill (Application Auto Scaling target tracking; MSK never scales in). The
 * scalable target runs with Application Auto Scaling's service-linked role for
 * MSK, which registering creates. In a Region without MSK storage scaling
 * there is none; in a stack of no fixed Region, a condition leaves it out there.
 */
function scaleStorage(scope: Construct, cluster: msk.CfnCluster, volumeSize: number, maxVolumeSize: number): void {
  const region = Stack.of(scope).region;
  if (!Token.isUnresolved(region) && KAFKA_NO_STORAGE_SCALING_REGIONS.includes(region)) {
    Annotations.of(scope).addWarningV2('codelearn:kafka-storage-scaling',
      `MSK has no storage auto scaling in ${region}: the brokers keep their ${volumeSize} GiB volumes. ` +
      'Watch the BrokerDisk alarm and raise `volumeSize` yourself.');
    return;
  }
  const target = new autoscaling.CfnScalableTarget(scope, 'StorageScaling', {
    serviceNamespace: 'kafka',
    scalableDimension: 'kafka:broker-storage:VolumeSize',
    resourceId: cluster.attrArn,
    minCapacity: volumeSize,
    maxCapacity: maxVolumeSize,
  });
  const policy = new autoscaling.CfnScalingPolicy(scope, 'StorageScalingPolicy', {
    policyName: 'broker-storage-utilization',
    policyType: 'TargetTrackingScaling',
    scalingTargetId: target.ref,
    targetTrackingScalingPolicyConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' },
      targetValue: KAFKA_STORAGE_TARGET_PERCENT,
      disableScaleIn: true,
    },
  });
  if (Token.isUnresolved(region)) {
    const supported = new CfnCondition(scope, 'StorageScalingSupported', {
      expression: Fn.conditionNot(Fn.conditionOr(...KAFKA_NO_STORAGE_SCALING_REGIONS.map(name => Fn.conditionEquals(Aws.REGION, name)))),
    });
    target.cfnOptions.condition = supported;
    policy.cfnOptions.condition = supported;
  }
}

/** The ARNs of every topic and every consumer group of `cluster`. */
export function kafkaResourceArns(scope: Construct, cluster: msk.CfnCluster): string[] {
  // arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
  const uuid = Fn.select(2, Fn.split('/', cluster.attrArn));
  return ['topic', 'group'].map(resource => Arn.format({
    service: 'kafka', resource, resourceName: `${cluster.clusterName}/${uuid}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  }, Stack.of(scope)));
}

/**
 * Lets `grantee` find `cluster`'s bootstrap brokers, connect to it with IAM,
 * describe, create, write and read its topics, and use consumer groups; the topic
 * and group wildcards are acknowledged on the grantee's policy.
 */
export function grantKafkaClient(scope: Construct, cluster: msk.CfnCluster, grantee: iam.IGrantable): iam.Grant {
  const resources = kafkaResourceArns(scope, cluster);
  const data = iam.Grant.addToPrincipal({
    grantee,
    actions: [
      'kafka-cluster:Connect', 'kafka-cluster:DescribeCluster',
      'kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData',
      'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup',
    ],
    resourceArns: [cluster.attrArn, ...resources],
  });
  acknowledgeGrantedWildcards(scope, data, resources,
    'The topics and consumer groups of this one Kafka cluster; a client creates and uses its own topics.');
  return data.combine(iam.Grant.addToPrincipal({
    grantee,
    actions: ['kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
    resourceArns: [cluster.attrArn],
  }));
}
