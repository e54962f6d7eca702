import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { acknowledge, acknowledgeCustomResourceHandler, findingValue } from './nag';
import { acknowledgeRuntimeChoice } from './runtimes';
import { vpcFunctionNetworkStatement } from './vpc-function';

/** Where the function that makes deploy-time AWS calls runs and logs. */
export interface AwsCallsOptions {
  /** The VPC of the function. */
  readonly vpc: ec2.IVpc;
  /** Subnets with a route to the AWS APIs (a NAT gateway or interface endpoints). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The key of the function's log group; it must let CloudWatch Logs use it. */
  readonly encryptionKey: kms.IKey;
  /** How long the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
}

/** The construct ID of the AwsCustomResource singleton function in a stack. */
const SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
const ID = 'CodeLearnAwsCalls';
const ACKNOWLEDGED = new WeakSet<IConstruct>();

/**
 * The AWS API calls a stack makes at deploy time through aws-cdk-lib's
 * `AwsCustomResource` (values CloudFormation does not return, such as a managed
 * prefix list's ID or a node group's Auto Scaling group). That framework runs
 * every call of a stack in one function, with the role and VPC of the first call
 * made: so the stack gets one role here, whose managed policy each call extends,
 * attached when the role is created, so that the function never starts without
 * its permissions to create network interfaces.
 */
export class AwsCalls extends Construct {
  /** The calls of `scope`'s stack: created by the first caller, with its options. */
  public static of(scope: Construct, options: AwsCallsOptions): AwsCalls {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(ID) as AwsCalls | undefined) ?? new AwsCalls(stack, ID, options);
  }

  private readonly role: iam.Role;
  private readonly policy: iam.ManagedPolicy;
  private readonly logGroup: logs.LogGroup;
  private readonly options: AwsCallsOptions;

  private constructor(scope: Construct, id: string, options: AwsCallsOptions) {
    super(scope, id);
    this.options = options;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: options.encryptionKey,
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Deploy-time AWS calls of ${Stack.of(this).stackName}: network interfaces in the VPC, its own logs, and each call's own actions`,
      statements: [
        vpcFunctionNetworkStatement(),
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the deploy-time AWS calls of ${Stack.of(this).stackName}`,
      managedPolicies: [this.policy],
    });
    acknowledge(this.policy, {
      'AwsSolutions-IAM5[Resource::*]': 'Network interface actions of a Lambda function in a VPC, which EC2 does not scope to resources, ' +
        'and Describe actions of the calls, which their services do not scope either.',
    });
  }

  /**
   * One call (or create, update and delete calls) at deploy time, allowed by
   * `statements` added to the shared role's policy.
   */
  public call(scope: Construct, id: string, calls: { onCreate?: cr.AwsSdkCall; onUpdate?: cr.AwsSdkCall; onDelete?: cr.AwsSdkCall },
    statements: iam.PolicyStatement[], acknowledgements: { [finding: string]: string } = {}): cr.AwsCustomResource {
    this.policy.addStatements(...statements);
    acknowledge(this.policy, acknowledgements);
    const resource = new cr.AwsCustomResource(scope, id, {
      ...calls,
      role: this.role,
      vpc: this.options.vpc,
      vpcSubnets: this.options.vpcSubnets,
      logGroup: this.logGroup,
      installLatestAwsSdk: false,
    });
    // The call runs with the statements added above.
    resource.node.addDependency(this.policy);
    this.acknowledgeFunction();
    return resource;
  }

  /** A resource ARN pattern the calls' policy names, as the nag finding spells it. */
  public finding(arn: string): string {
    return `AwsSolutions-IAM5[Resource::${findingValue(this, arn)}]`;
  }

  /** The ARN of log groups whose names start with `prefix`, for calls on CloudWatch Logs. */
  public logGroupArn(prefix: string): string {
    return Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  private acknowledgeFunction(): void {
    const singleton = Stack.of(this).node.tryFindChild(SINGLETON_ID);
    if (!singleton || ACKNOWLEDGED.has(singleton)) {
      return;
    }
    ACKNOWLEDGED.add(singleton);
    acknowledgeCustomResourceHandler(singleton, 'The function of aws-cdk-lib that makes the deploy-time AWS calls');
    acknowledgeRuntimeChoice(singleton, 'The function of aws-cdk-lib\'s AwsCustomResource: aws-cdk-lib chooses its runtime ' +
      '(the region\'s latest Node.js runtime it has tested) and moves it in its own releases; no property sets it.');
  }
}
