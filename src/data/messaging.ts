import { Arn, ArnFormat, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { DataStoreProps } from './data-store-props';
import { KafkaOptions, MessageBroker, MessageBrokerEngine, RabbitMqOptions } from './message-broker';
import { AwsCalls } from '../private/aws-calls';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret } from '../private/grants';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, acknowledgeGrantedWildcards, HIPAA_AND_NIST } from '../private/nag';
import { ProfileDefaults, profileDefaults } from '../private/profile';
import { closeDefaultEgress } from '../private/security-groups';
import { dataSubnets, egressSubnets } from '../private/subnets';
import { requireInstanceType, requireWholeNumber } from '../private/validate';

/**
 * What a user may set on the messaging tier.
 */
export interface MessagingOptions {
  /**
   * The broker: `MessageBroker.rabbitMq()` or `MessageBroker.kafka()`. Moving a
   * deployed platform to the other engine makes the new broker and keeps the old
   * one, no longer managed, so that nothing queued is lost: delete it by hand once
   * drained.
   *
   * @default - MessageBroker.rabbitMq()
   */
  readonly broker?: MessageBroker;

  /**
   * How long the broker logs are kept: Kafka's broker logs, RabbitMQ's general log.
   *
   * @default - one year in production, one month in development
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the RabbitMQ credentials, the Kafka volumes and
   * the Kafka broker logs. (Amazon MQ for RabbitMQ encrypts its storage with an
   * AWS-owned key: it accepts no other.)
   *
   * A key you bring must let IAM policies grant its use (its policy allows the
   * account root, as CDK keys' do): grants to readers of the credentials add
   * `kms:Decrypt` to the reader's policy, not to the key's.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the broker or cluster when it leaves the stack. Both have
   * fixed names, so the default keeps them on update and delete but removes them
   * when a first create rolls back (a kept one would make the retry fail).
   *
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of `Messaging`.
 */
export interface MessagingProps extends MessagingOptions, DataStoreProps {}

const AMQPS_PORT = 5671;
const RABBITMQ_CONSOLE_PORT = 443;
const KAFKA_IAM_PORT = 9098;

/**
 * The platform's message broker: Amazon MQ for RabbitMQ (a private three-node
 * cluster across zones, credentials in Secrets Manager, general logs on) or Amazon
 * MSK (TLS everywhere, IAM authentication, volumes encrypted with a customer key,
 * broker logs in an encrypted log group).
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * declare const workloads: ec2.ISecurityGroup;
 * const messaging = new Messaging(this, 'Messaging', { vpc, broker: MessageBroker.rabbitMq() });
 * messaging.connections.allowDefaultPortFrom(workloads);
 */
export class Messaging extends Construct implements ec2.IConnectable {
  /** The engine of the broker. */
  public readonly engine: MessageBrokerEngine;

  /**
   * Who may connect: allowing a peer opens AMQPS (5671) of RabbitMQ, or the
   * IAM-authenticated TLS port (9098) of Kafka.
   */
  public readonly connections: ec2.Connections;

  /** The key of the credentials, volumes and logs. */
  public readonly encryptionKey: kms.IKey;

  /**
   * The RabbitMQ broker.
   *
   * @default - none with Kafka
   */
  public readonly rabbitMqBroker?: amazonmq.CfnBroker;

  /**
   * The administrative user's credentials of RabbitMQ (`username`, `password`).
   *
   * @default - none with Kafka, which authenticates with IAM
   */
  public readonly credentials?: secretsmanager.ISecret;

  /**
   * The MSK cluster.
   *
   * @default - none with RabbitMQ
   */
  public readonly kafkaCluster?: msk.CfnCluster;

  /**
   * The log group of the Kafka broker logs.
   *
   * @default - none with RabbitMQ, whose general log group Amazon MQ creates itself
   */
  public readonly logGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const defaults = profileDefaults(props.profile).messaging;
    const broker = props.broker ?? MessageBroker.rabbitMq();
    this.engine = broker.engine;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? dataSubnets(props.vpc));

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the message broker of ${this.node.path}`);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Message broker: admits the allowed clients on the broker ports',
      allowAllOutbound: false,
    });

    if (broker.engine === MessageBrokerEngine.RABBITMQ) {
      this.connections = new ec2.Connections({
        securityGroups: [securityGroup],
        defaultPort: ec2.Port.tcpRange(AMQPS_PORT, AMQPS_PORT),
      });
      const result = this.createRabbitMq(broker.rabbitMqOptions ?? {}, securityGroup, subnets, defaults);
      this.rabbitMqBroker = result.broker;
      this.credentials = result.credentials;
      this.rabbitMqBroker.applyRemovalPolicy(removalPolicy);
      this.keepGeneralLogs(props, props.logRetention ?? profileDefaults(props.profile).logRetention);
    } else {
      this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(KAFKA_IAM_PORT) });
      const logRetention = props.logRetention ?? profileDefaults(props.profile).logRetention;
      const result = this.createKafka(broker.kafkaOptions ?? {}, securityGroup, subnets, defaults, logRetention);
      this.kafkaCluster = result.cluster;
      this.logGroup = result.logGroup;
      this.kafkaCluster.applyRemovalPolicy(removalPolicy);
    }
  }

  /**
   * Opens the broker to `peer`: AMQPS for RabbitMQ, the IAM-authenticated TLS port
   * for Kafka. Not RabbitMQ's management console: see `allowManagementFrom`.
   */
  public allowFrom(peer: ec2.IConnectable, description?: string): void {
    this.connections.allowDefaultPortFrom(peer, description);
  }

  /**
   * Opens RabbitMQ's management console and HTTP API (443) to `peer`, such as an
   * administrator's bastion. The platform's services never get it: the broker's
   * only user is an administrator, and the console is where that power is used.
   */
  public allowManagementFrom(peer: ec2.IConnectable, description?: string): void {
    if (this.engine !== MessageBrokerEngine.RABBITMQ) {
      throw new ConfigurationError('allowManagementFrom: only Amazon MQ for RabbitMQ has a management console; MSK is managed through its API.');
    }
    this.connections.allowFrom(peer, ec2.Port.tcp(RABBITMQ_CONSOLE_PORT), description);
  }

  /**
   * A metric of the broker, by its engine's dimensions: Amazon MQ's by `Broker`
   * (`RabbitMQMemUsed`, `MessageReadyCount`, …), MSK's by `Cluster Name`
   * (`OfflinePartitionsCount`, `ActiveControllerCount`, …). Averaged over five
   * minutes unless told.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const dimensionsMap: { [name: string]: string } = this.rabbitMqBroker
      ? { Broker: this.rabbitMqBroker.brokerName }
      : { 'Cluster Name': this.kafkaCluster!.clusterName };
    return new cloudwatch.Metric({
      namespace: this.rabbitMqBroker ? 'AWS/AmazonMQ' : 'AWS/Kafka',
      metricName,
      dimensionsMap,
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * A metric of one Kafka broker (`brokerId` from 1 to `kafkaCluster.numberOfBrokerNodes`),
   * such as `UnderReplicatedPartitions`; nothing with RabbitMQ.
   */
  public metricKafkaBroker(metricName: string, brokerId: number, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    if (!this.kafkaCluster) return undefined;
    return new cloudwatch.Metric({
      namespace: 'AWS/Kafka',
      metricName,
      dimensionsMap: { 'Cluster Name': this.kafkaCluster.clusterName, 'Broker ID': String(brokerId) },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * The AMQPS endpoints of RabbitMQ, or the ARN of the Kafka cluster (MSK gives
   * its bootstrap brokers through `aws kafka get-bootstrap-brokers`, not through
   * CloudFormation).
   */
  public get endpoints(): string[] {
    return this.rabbitMqBroker ? this.rabbitMqBroker.attrAmqpEndpoints : [this.kafkaCluster!.attrArn];
  }

  /**
   * Lets `grantee` use the broker as a client, whichever the engine: read
   * RabbitMQ's credentials (`grantReadCredentials`), or connect to Kafka with IAM
   * and use its topics and consumer groups (`grantKafkaClient`).
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return this.kafkaCluster ? this.grantKafkaClient(grantee) : this.grantReadCredentials(grantee);
  }

  /**
   * What a client needs, as environment variables whose values are strings:
   * `BROKER_ENGINE` (`rabbitmq` or `kafka`), and `BROKER_CREDENTIALS_SECRET_ARN`
   * or `KAFKA_CLUSTER_ARN`. Lists come from `connectionLists`.
   */
  public connectionEnvironment(): { [name: string]: string } {
    return this.kafkaCluster
      ? { BROKER_ENGINE: 'kafka', KAFKA_CLUSTER_ARN: this.kafkaCluster.attrArn }
      : { BROKER_ENGINE: 'rabbitmq', BROKER_CREDENTIALS_SECRET_ARN: this.credentials!.secretArn };
  }

  /**
   * What a client needs, as environment variables whose values are lists known
   * only at deploy time: `BROKER_ENDPOINTS`, RabbitMQ's AMQPS endpoints (none with
   * Kafka, whose clients ask MSK for the bootstrap brokers). A nested stack's
   * parameters cannot carry a list attribute: pass these through a place the
   * clients share, such as a ConfigMap (the platform's `broker-endpoints`), joined
   * with commas.
   */
  public connectionLists(): { [name: string]: string[] } {
    return this.rabbitMqBroker ? { BROKER_ENDPOINTS: this.rabbitMqBroker.attrAmqpEndpoints } : {};
  }

  /** Lets `grantee` read the RabbitMQ credentials. Throws for Kafka, which has none. */
  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    if (!this.credentials) {
      throw new ConfigurationError('grantReadCredentials: the Kafka broker authenticates with IAM and has no credentials; use grantKafkaClient.');
    }
    return grantReadSecret(grantee, this.credentials, this.encryptionKey);
  }

  /**
   * Lets `grantee` find the Kafka cluster's bootstrap brokers (MSK gives them only
   * through `GetBootstrapBrokers`), connect to it with IAM, describe, create,
   * write and read its topics, and use consumer groups. Throws for RabbitMQ.
   */
  public grantKafkaClient(grantee: iam.IGrantable): iam.Grant {
    const cluster = this.kafkaCluster;
    if (!cluster) {
      throw new ConfigurationError('grantKafkaClient: the RabbitMQ broker authenticates with its credentials; use grantReadCredentials.');
    }
    const data = iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:Connect', 'kafka-cluster:DescribeCluster',
        'kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData',
        'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup',
      ],
      resourceArns: [cluster.attrArn, ...this.kafkaResourceArns],
    });
    acknowledgeGrantedWildcards(this, data, this.kafkaResourceArns,
      'The topics and consumer groups of this one Kafka cluster; a client creates and uses its own topics.');
    return data.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
      resourceArns: [cluster.attrArn],
    }));
  }

  /**
   * Amazon MQ writes RabbitMQ's general log to /aws/amazonmq/broker/<broker ID>/general,
   * a group it creates itself, without retention or a key. The broker ID exists only
   * once the broker does, so the group cannot be made first: right after the broker,
   * deploy-time calls create it (or find it made) with the broker key, and set its
   * retention.
   */
  private keepGeneralLogs(props: MessagingProps, retention: logs.RetentionDays): void {
    allowCloudWatchLogs(this.encryptionKey);
    const calls = AwsCalls.of(this, {
      vpc: props.vpc, vpcSubnets: egressSubnets(props.vpc), encryptionKey: this.encryptionKey, logRetention: retention,
    });
    const logGroupName = `/aws/amazonmq/broker/${this.rabbitMqBroker!.ref}/general`;
    const arn = calls.logGroupArn('/aws/amazonmq/broker/');
    const call = (action: string, parameters: object, ignoreErrorCodesMatching?: string): cr.AwsSdkCall => ({
      service: 'CloudWatchLogs',
      action,
      parameters,
      ignoreErrorCodesMatching,
      physicalResourceId: cr.PhysicalResourceId.of(`${logGroupName}:${action}`),
    });
    const statement = (action: string) => new iam.PolicyStatement({ actions: [action], resources: [arn] });
    const acknowledgement = {
      [calls.finding(arn)]: 'The general log groups of Amazon MQ brokers, which Amazon MQ names after each broker\'s generated ID.',
    };
    // Also on update: a replaced broker (a new ID) writes to a new group.
    const create = calls.call(this, 'GeneralLogGroup', {
      onCreate: call('createLogGroup', { logGroupName, kmsKeyId: this.encryptionKey.keyArn }, 'ResourceAlreadyExistsException'),
      onUpdate: call('createLogGroup', { logGroupName, kmsKeyId: this.encryptionKey.keyArn }, 'ResourceAlreadyExistsException'),
    }, [statement('logs:CreateLogGroup')], acknowledgement);
    const key = calls.call(this, 'GeneralLogKey', {
      onCreate: call('associateKmsKey', { logGroupName, kmsKeyId: this.encryptionKey.keyArn }),
      onUpdate: call('associateKmsKey', { logGroupName, kmsKeyId: this.encryptionKey.keyArn }),
    }, [statement('logs:AssociateKmsKey')]);
    // The group exists (made here or by Amazon MQ) before its key is set.
    key.node.addDependency(create);
    if (retention === logs.RetentionDays.INFINITE) {
      return;
    }
    const retain = calls.call(this, 'GeneralLogRetention', {
      onCreate: call('putRetentionPolicy', { logGroupName, retentionInDays: retention }),
      onUpdate: call('putRetentionPolicy', { logGroupName, retentionInDays: retention }),
    }, [statement('logs:PutRetentionPolicy')]);
    // The group exists (made here or by Amazon MQ) before its retention is set.
    retain.node.addDependency(create);
  }

  /**
   * The ARNs of every topic and every consumer group of the Kafka cluster.
   *
   * @default - none with RabbitMQ
   */
  public get kafkaResourceArns(): string[] {
    const cluster = this.kafkaCluster;
    if (!cluster) {
      return [];
    }
    // arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
    const uuid = Fn.select(2, Fn.split('/', cluster.attrArn));
    return ['topic', 'group'].map(resource => Arn.format({
      service: 'kafka', resource, resourceName: `${cluster.clusterName}/${uuid}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }, Stack.of(this)));
  }

  private createRabbitMq(options: RabbitMqOptions, securityGroup: ec2.SecurityGroup, subnets: ec2.SelectedSubnets, defaults: ProfileDefaults['messaging']) {
    const cluster = defaults.rabbitMqCluster;
    const engineVersion = options.engineVersion ?? '3.13';
    validateVersion('engineVersion', engineVersion, /^\d+\.\d+$/, '3.13');
    // Amazon MQ names instance types with the prefix, which the broker adds.
    requireInstanceType('instanceType', (options.instanceType ?? defaults.rabbitMqInstanceType).toString(), 'mq');
    const instanceType = `mq.${options.instanceType ?? defaults.rabbitMqInstanceType}`;
    const username = options.username ?? 'codelearn';
    if (!/^[A-Za-z0-9_.~-]{2,100}$/.test(username) || username === 'guest') {
      throw new ConfigurationError(`\`username\` ('${username}') must be 2 to 100 letters, digits, '-', '_', '.' or '~', and not 'guest'.`);
    }

    const credentials = new secretsmanager.Secret(this, 'Credentials', {
      description: `Administrative user of the RabbitMQ broker of ${this.node.path}`,
      encryptionKey: this.encryptionKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rotation = 'Amazon MQ for RabbitMQ sets this user only when the broker is created; later password changes go through ' +
      'the RabbitMQ management API, which has no managed rotation. The password is generated, encrypted with the broker key, ' +
      'and readable only through grantReadCredentials.';
    acknowledge(credentials, { 'AwsSolutions-SMG4': rotation });
    acknowledgeControlRule(credentials, 'SecretsManagerRotationEnabled', rotation, HIPAA_AND_NIST);

    // Amazon MQ writes the general log into a log group it creates; CloudWatch Logs
    // must let it, for this account's brokers only.
    const stack = Stack.of(this);
    new logs.ResourcePolicy(this, 'LogPolicy', {
      resourcePolicyName: `${Names.uniqueResourceName(this, { maxLength: 200 })}-amazonmq-logs`,
      policyStatements: [new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('mq.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws/amazonmq/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      })],
    });

    const broker = new amazonmq.CfnBroker(this, 'Broker', {
      // The deployment mode cannot change in place, and CloudFormation replaces a named
      // resource only under a new name: a single-instance broker's name says so, so
      // that moving from development to production replaces it (the production name
      // is the one brokers always had).
      brokerName: cluster
        ? Names.uniqueResourceName(this, { maxLength: 50, separator: '-' })
        : `${Names.uniqueResourceName(this, { maxLength: 43, separator: '-' })}-single`,
      engineType: 'RABBITMQ',
      engineVersion,
      hostInstanceType: instanceType,
      deploymentMode: cluster ? 'CLUSTER_MULTI_AZ' : 'SINGLE_INSTANCE',
      publiclyAccessible: false,
      subnetIds: cluster ? subnets.subnetIds : [subnets.subnetIds[0]],
      securityGroups: [securityGroup.securityGroupId],
      autoMinorVersionUpgrade: true,
      maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '06:30', timeZone: 'UTC' },
      logs: { general: true },
      users: [{
        username,
        password: credentials.secretValueFromJson('password').unsafeUnwrap(),
      }],
    });
    return { broker, credentials };
  }

  private createKafka(options: KafkaOptions, securityGroup: ec2.SecurityGroup, subnets: ec2.SelectedSubnets,
    defaults: ProfileDefaults['messaging'], logRetention: logs.RetentionDays) {
    const kafkaVersion = options.kafkaVersion ?? '3.6.0';
    validateVersion('kafkaVersion', kafkaVersion, /^\d+\.\d+\.(\d+|x)$/, '3.6.0');
    // MSK names instance types with the prefix, which the cluster adds.
    requireInstanceType('instanceType', (options.instanceType ?? defaults.kafkaInstanceType).toString(), 'kafka');
    const instanceType = `kafka.${options.instanceType ?? defaults.kafkaInstanceType}`;
    const brokersPerAz = options.brokersPerAz ?? 1;
    requireWholeNumber('brokersPerAz', brokersPerAz, 1, 5);
    const volumeSize = options.volumeSize ?? 100;
    requireWholeNumber('volumeSize', volumeSize, 1, 16384, 'GiB');
    const zones = new Set(subnets.subnets.map(subnet => subnet.availabilityZone)).size;

    // Brokers talk to each other on the TLS and IAM ports.
    securityGroup.connections.allowInternally(ec2.Port.tcpRange(9092, 9098), 'Broker to broker');
    closeDefaultEgress(securityGroup);
    allowCloudWatchLogs(this.encryptionKey);
    const logGroup = new logs.LogGroup(this, 'BrokerLogs', {
      retention: logRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      kafkaVersion,
      numberOfBrokerNodes: brokersPerAz * zones,
      brokerNodeGroupInfo: {
        instanceType,
        clientSubnets: subnets.subnetIds,
        securityGroups: [securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize } },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: this.encryptionKey.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true } },
        unauthenticated: { enabled: false },
      },
      enhancedMonitoring: 'PER_BROKER',
      loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: logGroup.logGroupName } } },
    });
    return { cluster, logGroup };
  }
}

function validateVersion(name: string, version: string, pattern: RegExp, example: string): void {
  if (!Token.isUnresolved(version) && !pattern.test(version)) {
    throw new ConfigurationError(`\`${name}\` ('${version}') is not a version this broker takes: write it as '${example}'.`);
  }
}

