import { RemovalPolicy } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ProfileDefaults } from '../private/profile';

/** What a broker engine is made with, in the `Messaging` construct's scope. */
export interface BrokerContext {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SelectedSubnets;
  /** The broker's security group: the engine opens what its nodes need between them. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly encryptionKey: kms.IKey;
  readonly defaults: ProfileDefaults['messaging'];
  readonly logRetention: logs.RetentionDays;
  /** The broker's removal policy. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A broker engine, made: what `Messaging` exposes, whichever the engine. Each
 * engine (RabbitMQ, Kafka) makes its resources and answers for its clients.
 */
export interface BoundBroker {
  /** The port a client connects to. */
  readonly clientPort: ec2.Port;
  /** The broker's endpoints: RabbitMQ's AMQPS endpoints, or the Kafka cluster's ARN. */
  readonly endpoints: string[];
  /** What `endpoints` holds, in words. */
  readonly endpointsDescription: string;
  /** RabbitMQ's broker and its administrative user's credentials. */
  readonly rabbitMqBroker?: amazonmq.CfnBroker;
  readonly credentials?: secretsmanager.ISecret;
  /** The MSK cluster and its broker log group. */
  readonly kafkaCluster?: msk.CfnCluster;
  readonly logGroup?: logs.ILogGroup;
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  connectionEnvironment(): { [name: string]: string };
  connectionLists(): { [name: string]: string[] };
  metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric;
}
