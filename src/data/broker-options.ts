import * as ec2 from 'aws-cdk-lib/aws-ec2';

/*
 * The engines a MessageBroker runs and their options, apart from the factory so
 * that each engine's file (rabbitmq.ts, kafka.ts) reads its options without
 * importing the factory that imports it.
 */

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
