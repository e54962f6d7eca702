import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BoundBroker } from './broker-binding';
import { MessageBrokerEngine } from './broker-options';
import { DataStoreProps } from './data-store-props';
import { grantKafkaClient, kafkaResourceArns } from './kafka';
import { MessageBroker } from './message-broker';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret } from '../private/grants';
import { customerManagedKey } from '../private/keys';
import { profileDefaults } from '../private/profile';
import { dataSubnets, subnetCidrs } from '../private/subnets';

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

const RABBITMQ_CONSOLE_PORT = 443;

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

  /**
   * The IPv4 CIDR blocks of the subnets the broker runs in: where its clients
   * connect to, as a service's network policy lets them (`Microservice.allowEgressTo`
   * with `connections.defaultPort`).
   */
  public get subnetCidrs(): string[] {
    return subnetCidrs(this.placement.vpc, this.placement.selection, this.node.path);
  }

  private readonly placement: { vpc: ec2.IVpc; selection: ec2.SubnetSelection };

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

  /** The engine, made: what answers for the clients. */
  private readonly broker: BoundBroker;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const defaults = profileDefaults(props.profile).messaging;
    const broker = props.broker ?? MessageBroker.rabbitMq();
    this.engine = broker.engine;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? dataSubnets(props.vpc));
    this.placement = { vpc: props.vpc, selection: props.vpcSubnets ?? dataSubnets(props.vpc) };

    this.encryptionKey = props.encryptionKey ?? customerManagedKey(this, 'Key', `Encrypts the message broker of ${this.node.path}`);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Message broker: admits the allowed clients on the broker ports',
      allowAllOutbound: false,
    });
    this.broker = broker._bind(this, {
      vpc: props.vpc,
      subnets,
      securityGroup,
      encryptionKey: this.encryptionKey,
      defaults,
      logRetention: props.logRetention ?? profileDefaults(props.profile).logRetention,
      removalPolicy,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: this.broker.clientPort });
    this.rabbitMqBroker = this.broker.rabbitMqBroker;
    this.credentials = this.broker.credentials;
    this.kafkaCluster = this.broker.kafkaCluster;
    this.logGroup = this.broker.logGroup;
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
    return this.broker.metric(metricName, props);
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
    return [...this.broker.endpoints];
  }

  /** What `endpoints` holds, in words: for a stack output or a runbook. */
  public get endpointsDescription(): string {
    return this.broker.endpointsDescription;
  }

  /**
   * Lets `grantee` use the broker as a client, whichever the engine: read
   * RabbitMQ's credentials (`grantReadCredentials`), or connect to Kafka with IAM
   * and use its topics and consumer groups (`grantKafkaClient`).
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return this.broker.grantConnect(grantee);
  }

  /**
   * What a client needs, as environment variables whose values are strings:
   * `BROKER_ENGINE` (`rabbitmq` or `kafka`), and `BROKER_CREDENTIALS_SECRET_ARN`
   * or `KAFKA_CLUSTER_ARN`. Lists come from `connectionLists`.
   */
  public connectionEnvironment(): { [name: string]: string } {
    return this.broker.connectionEnvironment();
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
    return this.broker.connectionLists();
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
    if (!this.kafkaCluster) {
      throw new ConfigurationError('grantKafkaClient: the RabbitMQ broker authenticates with its credentials; use grantReadCredentials.');
    }
    return grantKafkaClient(this, this.kafkaCluster, grantee);
  }

  /**
   * The ARNs of every topic and every consumer group of the Kafka cluster.
   *
   * @default - none with RabbitMQ
   */
  public get kafkaResourceArns(): string[] {
    return this.kafkaCluster ? kafkaResourceArns(this, this.kafkaCluster) : [];
  }
}
