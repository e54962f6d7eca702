import { ArnFormat, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledge, findingValue } from '../private/nag';
import { closeDefaultEgress } from '../private/security-groups';

/** Where the database's RDS Proxy goes and what it fronts. */
export interface ProxyOptions {
  readonly instance: rds.DatabaseInstanceBase;
  /** The writer's identifier: the proxy is `<identifier>-proxy`. */
  readonly identifier: string;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The writer's security group, which admits the proxy. */
  readonly writerSecurityGroup: ec2.SecurityGroup;
  readonly port: number;
}

/**
 * The RDS Proxy in front of the writer, in `scope`: TLS only, and IAM from end to
 * end (clients sign in to the proxy, and the proxy to the writer, as their own
 * database users).
 */
export function addProxy(scope: Construct, options: ProxyOptions): { proxy: rds.DatabaseProxy; securityGroup: ec2.SecurityGroup } {
  const proxySecurityGroup = new ec2.SecurityGroup(scope, 'ProxySecurityGroup', {
    vpc: options.vpc,
    description: 'RDS Proxy: admits the allowed clients, reaches the writer',
    allowAllOutbound: false,
  });
  // End-to-end IAM authentication: the proxy signs in to the writer as each
  // client's own database user, with IAM (grantConnect lets its role do so).
  const role = new iam.Role(scope, 'ProxyRole', {
    assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
    description: `Lets the RDS Proxy of ${scope.node.path} connect to the writer with IAM as its clients' users`,
  });
  // The proxy signs in as the user its client authenticated as, and a client may
  // authenticate only as the user it is granted on the proxy (grantConnect): one
  // statement for every IAM user of the writer keeps the policy one size.
  const writerUsers = dbUserArn(scope, (options.instance.node.defaultChild as rds.CfnDBInstance).attrDbiResourceId, '*');
  const proxyPolicy = new iam.ManagedPolicy(scope, 'ProxyPolicy', {
    description: `Lets the RDS Proxy of ${scope.node.path} connect to the writer with IAM as its clients' users`,
    roles: [role],
    statements: [new iam.PolicyStatement({ actions: ['rds-db:connect'], resources: [writerUsers] })],
  });
  acknowledge(proxyPolicy, {
    [`AwsSolutions-IAM5[Resource::${findingValue(scope, writerUsers)}]`]: 'The proxy signs in to the writer as the user its client ' +
      'authenticated as, and each client may authenticate on the proxy only as its own user (rds-db:connect on the proxy, per user).',
  });
  const proxy = new rds.DatabaseProxy(scope, 'Proxy', {
    proxyTarget: rds.ProxyTarget.fromInstance(options.instance),
    dbProxyName: `${options.identifier}-proxy`,
    defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
    vpc: options.vpc,
    vpcSubnets: options.vpcSubnets,
    securityGroups: [proxySecurityGroup],
    role: role.withoutPolicyUpdates(),
    requireTLS: true,
    iamAuth: true,
    idleClientTimeout: Duration.minutes(30),
    maxConnectionsPercent: 90,
    debugLogging: false,
  });
  pinRulePorts([options.writerSecurityGroup, proxySecurityGroup], options.port);
  closeDefaultEgress(proxySecurityGroup);
  return { proxy, securityGroup: proxySecurityGroup };
}

/**
 * The proxy opens the writer's port to itself (both sides) with the port as a deploy-time
 * attribute; write it literally, so that the template and the nag rules can read
 * which port the rule opens.
 */
export function pinRulePorts(securityGroups: ec2.SecurityGroup[], port: number): void {
  for (const child of securityGroups.flatMap(group => group.node.children)) {
    if ((child instanceof ec2.CfnSecurityGroupIngress || child instanceof ec2.CfnSecurityGroupEgress) && Token.isUnresolved(child.fromPort)) {
      child.fromPort = port;
      child.toPort = port;
    }
  }
}

/** The IAM resource of database user `dbUser` on the instance or proxy whose resource ID is `resourceId`. */
export function dbUserArn(scope: Construct, resourceId: string, dbUser: string): string {
  return Stack.of(scope).formatArn({
    service: 'rds-db',
    resource: 'dbuser',
    resourceName: `${resourceId}/${dbUser}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * A fixed, unique identifier, so that the log groups can be named before the
 * instance exists. Derived from the construct path: the same on every deploy.
 */
export function instanceIdentifier(scope: Construct): string {
  const name = Names.uniqueResourceName(scope, { maxLength: 50, separator: '-' }).toLowerCase();
  return name.replace(/[^a-z0-9-]/g, '').replace(/-+/g, '-').replace(/^[^a-z]+/, '').replace(/-$/, '');
}
