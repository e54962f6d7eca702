import { ArnFormat, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { handlerAsset } from '../handler-asset';
import { acknowledge, acknowledgeControlRule, acknowledgeCustomResourceHandler, acknowledgeManagedPolicies, findingValue } from '../nag';
import { acknowledgeRuntimeChoice, FUNCTION_RUNTIME, FUNCTION_RUNTIME_DEPRECATION } from '../runtimes';
import { vpcFunctionNetworkStatement } from '../vpc-function';

/** Where the gates of a cluster run and log. */
export interface ReleaseGatesProps {
  /** The cluster: its private endpoint, its certificate authority and its access entries. */
  readonly eksCluster: eks.Cluster;
  /** Subnets with a route to the cluster's endpoint and to the AWS APIs (NAT). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The key of the logs, and of the functions' environment. */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** How often the waiter asks whether a release is done. */
export const QUERY_INTERVAL = Duration.seconds(20);

/**
 * The longest a gate may take: CloudFormation waits at most an hour for a custom
 * resource (`ServiceTimeout`), so each gate's own timeout stays below it.
 */
export const TOTAL_TIMEOUT = Duration.minutes(60);

const HANDLER_FILES = ['handler', 'decide', 'eks-token'];

/**
 * The release gates of one cluster: a custom-resource provider with an
 * asynchronous waiter (`onEvent` decides, `isComplete` is polled every 20 s), its
 * functions in the cluster's VPC with the cluster security group (which the
 * private endpoint admits), and a role that Kubernetes knows through an access
 * entry: `AmazonEKSViewPolicy` (read-only), scoped to the namespaces of the
 * services it gates; and the read of the alarms the gates judge by.
 */
export class ReleaseGates extends Construct {
  /** The provider's service token, for `Custom::ReleaseGate` and `Custom::ReleasePromotion`. */
  public readonly serviceToken: string;

  /** The role of the gate's functions. */
  public readonly role: iam.Role;

  /** The access entry of the role: gates run after it. */
  public readonly accessEntry: eks.AccessEntry;

  private readonly namespaces = new Set<string>();
  private readonly functions: lambda.Function[];
  private readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ReleaseGatesProps) {
    super(scope, id);
    const cluster = props.eksCluster;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const stack = Stack.of(this);
    const root = rootStack(stack).stackName;
    // Whether an update is CloudFormation's rollback: the platform's stack and its nested stacks.
    const describeStacks = new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [
        stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${root}/*` }),
        stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${root}-*` }),
      ],
    });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Release gates of ${cluster.node.path}: network interfaces, its logs, the status of the stack it runs in`,
      statements: [
        vpcFunctionNetworkStatement(),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        // The functions' environment is encrypted with the key.
        new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn] }),
        describeStacks,
        // The alarms the gates judge releases by. One statement for every service: a policy a
        // service on the shared role would meet IAM's quota of 10 managed policies a role.
        new iam.PolicyStatement({
          actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
          resources: [stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }),
      ],
    });
    const [stackArn, nestedArns] = describeStacks.resources;
    acknowledge(this.policy, {
      [`AwsSolutions-IAM5[Resource::${findingValue(this, stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }))}]`]:
        'Reads (DescribeAlarms, DescribeAlarmHistory: state and history, no data) of the alarms of this account and region: the gates judge each ' +
        'service by its own alarms, and granting them alarm by alarm would attach a managed policy a service to this one role, whose IAM quota is 10.',
      'AwsSolutions-IAM5[Resource::*]': 'Network interface actions of a Lambda function in a VPC, which EC2 does not scope to resources.',
      [`AwsSolutions-IAM5[Resource::${findingValue(this, stackArn)}]`]:
        'DescribeStacks on the platform\'s stack, whatever its ID: the gate reads whether CloudFormation is rolling it back.',
      [`AwsSolutions-IAM5[Resource::${findingValue(this, nestedArns)}]`]:
        'DescribeStacks on the nested stacks of the platform (named after it), where the services and their gates are.',
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Release gates: read the rollout in the services\' namespaces and the state of the alarms they judge by',
      managedPolicies: [this.policy],
    });

    const code = lambda.Code.fromAsset(handlerAsset(__dirname, HANDLER_FILES, 'codelearn-release-gate'));
    const environment = {
      CLUSTER_NAME: cluster.clusterName,
      CLUSTER_ENDPOINT: cluster.clusterEndpoint,
      CLUSTER_CA: cluster.clusterCertificateAuthorityData,
    };
    const handler = (name: string, entry: string, description: string, timeout: Duration) => new lambda.Function(this, name, {
      description,
      runtime: FUNCTION_RUNTIME,
      handler: `handler.${entry}`,
      code,
      timeout,
      memorySize: 256,
      role: this.role,
      vpc: cluster.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [cluster.clusterSecurityGroup],
      environment,
      environmentEncryption: props.encryptionKey,
      logGroup,
    });
    const onEvent = handler('OnEvent', 'onEvent', 'Release gate: decides what a deploy of a service asks to check', Duration.minutes(1));
    const isComplete = handler('IsComplete', 'isComplete', 'Release gate: checks a service\'s rollout and its alarms', Duration.minutes(1));
    this.functions = [onEvent, isComplete];

    const waiterLogs = new logs.LogGroup(this, 'WaiterLogs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      // The framework's functions log with the gate's, encrypted and kept as long.
      logGroup,
      queryInterval: QUERY_INTERVAL,
      totalTimeout: TOTAL_TIMEOUT,
      vpc: cluster.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [cluster.clusterSecurityGroup],
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.serviceToken = provider.serviceToken;

    // Read-only in the services' namespaces: Deployments, ReplicaSets, Pods, Events.
    this.accessEntry = new eks.AccessEntry(this, 'Access', {
      cluster,
      principal: this.role.roleArn,
      accessPolicies: [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSViewPolicy', {
        accessScopeType: eks.AccessScopeType.NAMESPACE,
        namespaces: Lazy.list({ produce: () => [...this.namespaces].sort() }),
      })],
    });

    acknowledgeCustomResourceHandler(this, 'The release gate');
    acknowledgeRuntimeChoice(this, 'The library fixes the runtime of its own functions to the one its release is tested on, ' +
      'so that a newer aws-cdk-lib changes neither the template nor what the handler runs on; Lambda supports it until ' +
      `${FUNCTION_RUNTIME_DEPRECATION}. The provider framework's functions are aws-cdk-lib's.`);
    acknowledgeControlRule(provider, 'IAMNoInlinePolicy', 'The provider framework of aws-cdk-lib creates and scopes the policies of its own roles ' +
      '(invoke the two gate functions, run its waiter).');
    const stackOf = Stack.of(this);
    const arnOf = (fn: IConstruct) => `<${stackOf.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
    const frameworkFunctions = ['framework-isComplete', 'framework-onTimeout'].map(name => provider.node.findChild(name));
    acknowledge(provider, Object.fromEntries([
      ...[onEvent, isComplete, ...frameworkFunctions].map(fn => [`AwsSolutions-IAM5[Resource::${arnOf(fn)}]`,
        'The provider framework invokes the versions of its own functions and of the gate\'s only.']),
      ['AwsSolutions-SF2', 'The provider framework\'s waiter only calls the gate\'s isComplete function every 20 s: its executions are logged in full ' +
        '(level ALL), and the gate\'s verdicts are in its own log group; a trace would show the same single call.'],
    ]));
    acknowledge(provider.node.findChild('waiter-state-machine'), {
      'AwsSolutions-IAM5[Resource::*]': 'The log delivery actions that Step Functions needs to log the waiter\'s executions, which CloudWatch Logs ' +
        'authorizes on \'*\' only (Step Functions Developer Guide, "IAM policies for logging to CloudWatch Logs").',
    });
    for (const role of provider.node.findAll().filter((child): child is iam.CfnRole => child instanceof iam.CfnRole)) {
      acknowledgeManagedPolicies(role, 'The AWS-maintained Lambda execution policies (logs, VPC interfaces) that aws-cdk-lib\'s provider framework attaches to its functions.');
    }
  }

  /** Lets the gates read the rollout in `namespace`. */
  public addNamespace(namespace: string): void {
    this.namespaces.add(namespace);
  }

  /** Publishes each refused release to `topic`. */
  public notify(topic: sns.ITopic): void {
    for (const fn of this.functions) fn.addEnvironment('ALARM_TOPIC_ARN', topic.topicArn);
    this.policy.addStatements(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
    if (topic.masterKey) {
      // SNS asks the publisher's permission to make and read the data key of an encrypted topic.
      this.policy.addStatements(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [topic.masterKey.keyArn] }));
    }
  }
}

function rootStack(stack: Stack): Stack {
  let current = stack;
  while (current.nestedStackParent) current = current.nestedStackParent;
  return current;
}
