import { Construct } from 'constructs';
import { BoundBroker, BrokerContext } from './broker-binding';
import { KafkaOptions, MessageBrokerEngine, RabbitMqOptions } from './broker-options';
import { bindKafka } from './kafka';
import { bindRabbitMq } from './rabbitmq';
import { ConfigurationError } from '../private/errors';


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
