import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Cache, Cluster, CodeLearnPlatform, Database, MessageBroker, Messaging, Network, PlatformProfile, Storage } from '../src';
import { TEST_ENV, testStack } from './support/app';
import { openSecurityGroup, synthError } from './support/fixtures';
import { dependencyGraph, transitiveDependencies } from './support/graph';

describe('CodeLearnPlatform', () => {
  test('synthesizes with no props in an environment-agnostic stack', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    expect(platform.profile).toBe(PlatformProfile.PRODUCTION);
    expect(platform.network).toBeInstanceOf(Network);
    expect(platform.storage).toBeInstanceOf(Storage);
    expect(platform.database).toBeInstanceOf(Database);
    expect(platform.cache).toBeInstanceOf(Cache);
    expect(platform.messaging).toBeInstanceOf(Messaging);
    expect(platform.cluster).toBeInstanceOf(Cluster);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.resourceCountIs('AWS::S3::Bucket', 4);
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.resourceCountIs('AWS::RDS::DBProxy', 1);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumNodeGroups: 2, ReplicasPerNodeGroup: 1 });
    template.hasResourceProperties('AWS::AmazonMQ::Broker', { EngineType: 'RABBITMQ', DeploymentMode: 'CLUSTER_MULTI_AZ' });
    template.resourceCountIs('AWS::EKS::Cluster', 1);
    template.resourceCountIs('AWS::EKS::Nodegroup', 2);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('synthesizes with no props in a stack with a fixed account and region', () => {
    const stack = testStack({ env: TEST_ENV });
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'dummy1a' });
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('passes each part\'s options through', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', {
      network: { cidr: '10.1.0.0/16', interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.STS] },
      storage: { uploadsAllowedOrigins: ['https://learn.example.com'] },
      messaging: { broker: MessageBroker.kafka() },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.1.0.0/16' });
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://learn.example.com'] })] },
    });
    template.resourceCountIs('AWS::MSK::Cluster', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformNetworkWorkloadSecurityGroup'), 'GroupId'] },
    });
    expect(Object.keys(platform.network.interfaceEndpoints)).toEqual(['sts']);
  });

  test('development profile: reaches every tier and warns', () => {
    const stack = testStack();
    const platform = new CodeLearnPlatform(stack, 'Platform', { profile: PlatformProfile.DEVELOPMENT });
    expect(platform.profile).toBe(PlatformProfile.DEVELOPMENT);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::RDS::DBProxy', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumNodeGroups: 1, ReplicasPerNodeGroup: 0 });
    template.hasResourceProperties('AWS::AmazonMQ::Broker', { DeploymentMode: 'SINGLE_INSTANCE' });
    template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    Annotations.fromStack(stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('^The development profile trades availability for cost'));
  });

  test('opens the data stores only to the workloads\' security group', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack);
    const workloads = { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformNetworkWorkloadSecurityGroup'), 'GroupId'] };
    const expected: [string, number, string][] = [
      ['^PlatformDatabaseSecurityGroup', 5432, 'Workloads to PostgreSQL'],
      ['^PlatformDatabaseProxySecurityGroup', 5432, 'Workloads to PostgreSQL'],
      ['^PlatformCacheSecurityGroup', 6379, 'Workloads to the cache'],
      ['^PlatformMessagingSecurityGroup', 5671, 'Workloads to the broker'],
      ['^PlatformMessagingSecurityGroup', 443, 'Workloads to the broker (management console)'],
    ];
    for (const [group, port, description] of expected) {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp(group), 'GroupId'] },
        SourceSecurityGroupId: workloads,
        FromPort: port,
        ToPort: port,
        Description: description,
      });
    }
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(rules.filter(rule => rule.Properties.CidrIp !== undefined)).toEqual([]);
  });

  test('creates the cluster and the data tier in parallel: neither waits for the other', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    const template = Template.fromStack(stack).toJSON();
    const graph = dependencyGraph(template);
    const ids = Object.keys(template.Resources);
    const clusterIds = ids.filter(id => id.startsWith('PlatformCluster'));
    const dataIds = ids.filter(id => /^Platform(Database|Cache|Messaging|Storage)/.test(id));
    expect(clusterIds.length).toBeGreaterThan(10);
    expect(dataIds.length).toBeGreaterThan(10);
    const violations: string[] = [];
    for (const id of clusterIds) {
      for (const dep of transitiveDependencies(graph, id)) {
        if (dataIds.includes(dep)) violations.push(`${id} -> ${dep}`);
      }
    }
    for (const id of dataIds) {
      for (const dep of transitiveDependencies(graph, id)) {
        if (clusterIds.includes(dep)) violations.push(`${id} -> ${dep}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('fails synthesis on an unacknowledged finding in its stack', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform');
    openSecurityGroup(stack);
    const message = synthError(stack.node.root as App);
    expect(message).toMatch(/AwsSolutions-EC23[\s\S]*HIPAA.Security-EC2RestrictedSSH[\s\S]*NIST.800.53.R5-EC2RestrictedSSH[\s\S]*PCI.DSS.321-EC2RestrictedSSH/);
    expect(message).toContain('Test/Open/Resource');
    expect(message).not.toContain('Test/Platform');
  });

  test('leaves the stack unchecked with complianceChecks: false', () => {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', { complianceChecks: false });
    openSecurityGroup(stack);
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  });

  test('passes the strict CloudFormation schema validation', () => {
    const stack = testStack({ strict: true });
    new CodeLearnPlatform(stack, 'Platform', {
      network: { interfaceEndpoints: Network.eksInterfaceEndpoints() },
    });
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  });
});
