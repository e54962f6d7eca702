import { ArnFormat, Aws, CfnDeletionPolicy, Duration, Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BoundBroker, BrokerContext } from './broker-binding';
import type { RabbitMqOptions } from './broker-options';
import { validateVersion } from './broker-versions';
import { adoptLogGroup } from '../private/adopted-log-group';
import { AwsCalls } from '../private/aws-calls';
import { ConfigurationError } from '../private/errors';
import { grantReadSecret } from '../private/grants';
import { acknowledge, acknowledgeControlRule, HIPAA_AND_NIST } from '../private/nag';
import { egressSubnets } from '../private/subnets';
import { checkSupport } from '../private/support';
import { requireInstanceType } from '../private/validate';

const AMQPS_PORT = 5671;

/**
 * Amazon MQ for RabbitMQ in `scope`: a private three-node cluster across zones (one
 * node in development), its administrative user's credentials in Secrets Manager,
 * and its general log kept with the broker key and the log retention.
 */
export function bindRabbitMq(scope: Construct, options: RabbitMqOptions, context: BrokerContext): BoundBroker {
  const { defaults, encryptionKey, securityGroup, subnets } = context;
  const cluster = defaults.rabbitMqCluster;
  const engineVersion = options.engineVersion ?? '3.13';
  validateVersion('engineVersion', engineVersion, /^\d+\.\d+$/, '3.13');
  checkSupport(scope, 'engineVersion', 'Amazon MQ for RabbitMQ', engineVersion,
    { fix: 'Choose a supported `engineVersion`: Amazon MQ upgrades minor versions in place; a major version needs a new broker (docs/operations.md).' });
  // Amazon MQ names instance types with the prefix, which the broker adds.
  requireInstanceType('instanceType', (options.instanceType ?? defaults.rabbitMqInstanceType).toString(), 'mq');
  const instanceType = `mq.${options.instanceType ?? defaults.rabbitMqInstanceType}`;
  const username = options.username ?? 'codelearn';
  if (!/^[A-Za-z0-9_.~-]{2,100}$/.test(username) || username === 'guest') {
    throw new ConfigurationError(`\`username\` ('${username}') must be 2 to 100 letters, digits, '-', '_', '.' or '~', and not 'guest'.`);
  }

  const credentials = new secretsmanager.Secret(scope, 'Credentials', {
    description: `Administrative user of the RabbitMQ broker of ${scope.node.path}`,
    encryptionKey,
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
  const stack = Stack.of(scope);
  new logs.ResourcePolicy(scope, 'LogPolicy', {
    resourcePolicyName: `${Names.uniqueResourceName(scope, { maxLength: 200 })}-amazonmq-logs`,
    policyStatements: [new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('mq.amazonaws.com')],
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws/amazonmq/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    })],
  });

  // The deployment mode cannot change in place, and CloudFormation replaces a named
  // resource only under a new name: a single-instance broker's name says so, so that
  // moving between development and production replaces it. The name ends with the
  // first part of the stack's ID, new for each create of the stack: a broker kept
  // when its stack was deleted does not hold the name of the next one.
  const stackPart = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
  const broker = new amazonmq.CfnBroker(scope, 'Broker', {
    brokerName: cluster
      ? `${Names.uniqueResourceName(scope, { maxLength: 41, separator: '-' })}-${stackPart}`
      : `${Names.uniqueResourceName(scope, { maxLength: 34, separator: '-' })}-single-${stackPart}`,
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
  broker.applyRemovalPolicy(context.removalPolicy);
  // A replaced broker (development to production and back) is deleted once its
  // successor is up and the services point at it: kept, it would hold the name the
  // next switch needs, and bill for a broker no client uses. Drain it first
  // (docs/operations.md); its deletion still keeps it when the stack is deleted.
  broker.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.DELETE;
  keepGeneralLogs(scope, broker, context);

  return {
    clientPort: ec2.Port.tcpRange(AMQPS_PORT, AMQPS_PORT),
    endpoints: broker.attrAmqpEndpoints,
    endpointsDescription: 'The AMQPS endpoints of RabbitMQ',
    rabbitMqBroker: broker,
    credentials,
    grantConnect: grantee => grantReadSecret(grantee, credentials, encryptionKey),
    connectionEnvironment: () => ({ BROKER_ENGINE: 'rabbitmq', BROKER_CREDENTIALS_SECRET_ARN: credentials.secretArn }),
    connectionLists: () => ({ BROKER_ENDPOINTS: broker.attrAmqpEndpoints }),
    metric: (metricName, props) => new cloudwatch.Metric({
      namespace: 'AWS/AmazonMQ',
      metricName,
      dimensionsMap: { Broker: broker.brokerName },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    }),
  };
}

/**
 * Amazon MQ writes RabbitMQ's general log to /aws/amazonmq/broker/<broker ID>/general,
 * a group it creates itself, without retention or a key. The broker ID exists only
 * once the broker does, so the group cannot be made first: right after the broker,
 * deploy-time calls create it (or find it made) with the broker key, and set its
 * retention.
 */
function keepGeneralLogs(scope: Construct, broker: amazonmq.CfnBroker, context: BrokerContext): void {
  const { encryptionKey, logRetention: retention } = context;
  const calls = AwsCalls.of(scope, {
    vpc: context.vpc, vpcSubnets: egressSubnets(context.vpc), encryptionKey, logRetention: retention,
  });
  // Also on update: a replaced broker (a new ID) writes to a new group.
  adoptLogGroup(scope, 'GeneralLogGroup', {
    calls,
    logGroupName: `/aws/amazonmq/broker/${broker.ref}/general`,
    prefix: '/aws/amazonmq/broker/',
    encryptionKey,
    retention,
    acknowledgement: 'The general log groups of Amazon MQ brokers, which Amazon MQ names after each broker\'s generated ID.',
  });
}
