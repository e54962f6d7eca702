import { CustomResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { handlerAsset } from '../handler-asset';
import { acknowledge, acknowledgeCustomResourceHandler } from '../nag';
import { acknowledgeRuntimeChoice, FUNCTION_RUNTIME, FUNCTION_RUNTIME_DEPRECATION } from '../runtimes';
import { vpcFunctionNetworkStatement } from '../vpc-function';

/** Where the database users are made, and as whom. */
export interface DatabaseUsersProps {
  readonly vpc: ec2.IVpc;
  /** Subnets with a route to Secrets Manager and to RDS's trust store (NAT). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Lets the function reach the writer and HTTPS (Secrets Manager, the trust store, CloudFormation). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The master user's secret, attached to the writer. */
  readonly secret: secretsmanager.ISecret;
  readonly encryptionKey: kms.IKey;
  readonly writer: rds.DatabaseInstanceBase;
  readonly databaseName: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The database users that services sign in as with IAM, made on deploy by a
 * function in the VPC that signs in to the writer as the master user (see
 * `handler.ts`). The list is a property of one custom resource, so adding a
 * service runs the function again.
 */
export class DatabaseUsers extends Construct {
  private readonly users = new Set<string>();

  constructor(scope: Construct, id: string, props: DatabaseUsersProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Makes the IAM database users of ${Stack.of(this).stackName}: network interfaces, its logs`,
      statements: [
        vpcFunctionNetworkStatement(),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [props.secret.secretArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      ],
    });
    acknowledge(policy, {
      'AwsSolutions-IAM5[Resource::*]': 'Network interface actions of a Lambda function in a VPC, which EC2 does not scope to resources.',
    });
    // The role has its permissions from the moment it exists: a function in a VPC
    // whose role may not yet create network interfaces fails to create.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Signs in to the database as its master user to make the IAM users of the services',
      managedPolicies: [policy],
    });

    const handler = new lambda.Function(this, 'Function', {
      description: 'Makes the IAM database users of the services (CREATE ROLE ... LOGIN; GRANT rds_iam)',
      runtime: FUNCTION_RUNTIME,
      handler: 'handler.handler',
      code: lambda.Code.fromAsset(handlerDirectory()),
      timeout: Duration.minutes(5),
      memorySize: 256,
      role,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      logGroup,
    });
    new CustomResource(this, 'Resource', {
      serviceToken: handler.functionArn,
      resourceType: 'Custom::DatabaseUsers',
      // The function answers within its own timeout (5 minutes): CloudFormation need not wait an hour.
      serviceTimeout: Duration.minutes(6),
      properties: {
        SecretArn: props.secret.secretArn,
        Host: props.writer.dbInstanceEndpointAddress,
        Port: props.writer.dbInstanceEndpointPort,
        Database: props.databaseName,
        Users: Lazy.list({ produce: () => [...this.users].sort() }),
      },
    });

    acknowledgeCustomResourceHandler(handler, 'The function that makes the database users');
    acknowledgeRuntimeChoice(handler, 'The library fixes the runtime of its own function to the one its release is tested on, ' +
      'so that a newer aws-cdk-lib changes neither the template nor what the handler runs on; Lambda supports it until ' +
      `${FUNCTION_RUNTIME_DEPRECATION}.`);
  }

  /** Adds a user to those made on deploy. */
  public add(user: string): void {
    this.users.add(user);
  }
}

/** The handler's modules: the handler and its PostgreSQL client. */
const HANDLER_FILES = ['handler', 'postgres'];

/** A folder with the handler's JavaScript and nothing else (see `handlerAsset`). */
export function handlerDirectory(): string {
  return handlerAsset(__dirname, HANDLER_FILES, 'codelearn-database-users');
}
