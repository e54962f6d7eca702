import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { BoundBroker, BrokerContext } from './broker-binding';
import { bindKafka } from './kafka';
import { bindRabbitMq } from './rabbitmq';
import { ConfigurationError } from '../private/errors';

/**
 * The engine behind a `MessageBroker`.
 */
export enum MessageBrokerEngine {
  /** Amazon MQ for RabbitMQ. */
  RABBITMQ = 'RABBITMQ',

  /** Amazon MSK (Apache Kafka). */
  KAFKA = 'KAFKA',
}

/**
 * Options of an Amazon MQ for RabbitMQ broker.
 */
export interface RabbitMqOptions {
  /**
   * The broker instance type, without the `mq.` prefix, which the broker adds:
   * `ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.XLARGE)` runs
   * mq.m7g.xlarge.
   *
   * @default - m7g.large (a three-node cluster) in production, t3.micro (one node) in development
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The RabbitMQ version, `major.minor`.
   *
   * @default '3.13'
   */
  readonly engineVersion?: string;

  /**
   * The name of the broker's administrative user, whose generated password is
   * kept in Secrets Manager.
   *
   * @default 'codelearn'
   */
  readonly username?: string;
}

/**
 * Options of an Amazon MSK (Kafka) cluster.
 */
export interface KafkaOptions {
  /**
   * The broker instance type, without the `kafka.` prefix, which the cluster adds:
   * `ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE)` runs
   * kafka.m7g.large.
   *
   * @default - m5.large in production, t3.small in development
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The Apache Kafka version.
   *
   * @default '3.9.x'
   */
  readonly kafkaVersion?: string;

  /**
   * How many brokers run in each Availability Zone, from 1 to 5.
   *
   * @default 1
   */
  readonly brokersPerAz?: number;

  /**
   * The EBS volume of each broker, in GiB, from 1 to 16384: the size a new
   * cluster starts with. MSK grows the volumes on its own (storage auto scaling)
   * and never shrinks them, so after a growth only a larger value deploys.
   *
   * @default 100
   */
  readonly volumeSize?: number;

  /**
   * The largest EBS volume, in GiB, that storage auto scaling may grow each
   * broker's to, from `volumeSize` to 16384. Set it to `volumeSize` to turn auto
   * scaling off.
   *
   * @default - four times `volumeSize`, at most 16384
   */
  readonly maxVolumeSize?: number;
}

const RABBITMQ_OPTIONS: (keyof RabbitMqOptions)[] = ['instanceType', 'engineVersion', 'username'];
const KAFKA_OPTIONS: (keyof KafkaOptions)[] = ['instanceType', 'kafkaVersion', 'brokersPerAz', 'volumeSize', 'maxVolumeSize'];

/**
 * The message broker of the platform's event-driven communication: Amazon MQ for
 * RabbitMQ (the default, and the specification's diagram) or Amazon MSK.
 *
 * @example
 * new CodeLearnPlatform(this, 'Platform', {
 *   messaging: { broker: MessageBroker.kafka({ brokersPerAz: 2 }) },
 * });
 */
export class MessageBroker {
  /** Amazon MQ for RabbitMQ. */
  public static rabbitMq(options: RabbitMqOptions = {}): MessageBroker {
    rejectForeignOptions(options, RABBITMQ_OPTIONS, 'MessageBroker.rabbitMq()', 'MessageBroker.kafka()');
    return new MessageBroker(MessageBrokerEngine.RABBITMQ, (scope, context) => bindRabbitMq(scope, options, context), options);
  }

  /** Amazon MSK, with TLS and IAM authentication. */
  public static kafka(options: KafkaOptions = {}): MessageBroker {
    rejectForeignOptions(options, KAFKA_OPTIONS, 'MessageBroker.kafka()', 'MessageBroker.rabbitMq()');
    return new MessageBroker(MessageBrokerEngine.KAFKA, (scope, context) => bindKafka(scope, options, context), undefined, options);
  }

  /** The engine. */
  public readonly engine: MessageBrokerEngine;

  /**
   * The RabbitMQ options.
   *
   * @default - none when the engine is Kafka
   */
  public readonly rabbitMqOptions?: RabbitMqOptions;

  /**
   * The Kafka options.
   *
   * @default - none when the engine is RabbitMQ
   */
  public readonly kafkaOptions?: KafkaOptions;

  private constructor(engine: MessageBrokerEngine, private readonly binder: (scope: Construct, context: BrokerContext) => BoundBroker,
    rabbitMqOptions?: RabbitMqOptions, kafkaOptions?: KafkaOptions) {
    this.engine = engine;
    this.rabbitMqOptions = rabbitMqOptions;
    this.kafkaOptions = kafkaOptions;
  }

  /**
   * Makes the broker in `scope` (a `Messaging`): each engine makes its own
   * resources and answers for its clients, so `Messaging`'s engine-neutral
   * methods delegate to it.
   *
   * @internal
   */
  public _bind(scope: Construct, context: BrokerContext): BoundBroker {
    return this.binder(scope, context);
  }
}

function rejectForeignOptions(options: object, allowed: string[], factory: string, other: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ConfigurationError(`\`${key}\` is not an option of ${factory} (it takes ${allowed.map(name => `\`${name}\``).join(', ')}): ` +
        `use ${other} for it, or remove it.`);
    }
  }
}
