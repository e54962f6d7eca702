import * as fs from 'fs';
import * as path from 'path';
import { CodeLearnPlatform, DataAccess, MessageBroker } from '../src';
import { testStack } from './support/app';
import { DependencyGraph, GraphNode } from './support/graph';

/**
 * A deploy lasts as long as its heaviest chain of references. The unavoidable one
 * is the database writer and then its read replica; these tests keep every other
 * chain off it and off the cluster's.
 */
describe('deploy order', () => {
  /** The path below the platform, without the L1's default child name. */
  const short = (node: GraphNode) => node.path.replace(/^Test\/Platform\//, '').replace(/(\/(Resource|Default))+$/, '');
  /** The data stores that take minutes to create. */
  const SLOW_DATA = ['AWS::RDS::DBInstance', 'AWS::RDS::DBProxy', 'AWS::ElastiCache::ReplicationGroup', 'AWS::AmazonMQ::Broker', 'AWS::MSK::Cluster'];
  const isKubernetesObject = (node: GraphNode) => node.type.startsWith('Custom::AWSCDK-EKS-');

  function platformGraph(services = CodeLearnPlatform.defaultServices(), kafka = false): DependencyGraph {
    const stack = testStack();
    new CodeLearnPlatform(stack, 'Platform', {
      complianceChecks: false,
      services,
      messaging: kafka ? { broker: MessageBroker.kafka() } : undefined,
    });
    return DependencyGraph.of(stack);
  }

  const graph = platformGraph();
  // The cluster as it takes time: the EKS control plane, node groups, add-ons and
  // what the kubectl provider applies (the cluster's key and log group take seconds,
  // and the deploy-time calls' log group of every tier uses that key).
  const cluster = graph.find(/^Test\/Platform\/Cluster\//).filter(node => /^(AWS::EKS::|Custom::AWSCDK-EKS-)/.test(node.type));
  // The replicas' connect policy is the database's grant to the services: it is
  // attached to their roles and waits for them, and nothing waits for it (below).
  const data = graph.find(/^Test\/Platform\/(Database|Cache|Messaging)\//).filter(node => !/\/ReplicaConnect\//.test(node.path));
  const isData = (node: GraphNode) => data.includes(node);

  test('finds the cluster, its node groups and add-ons, and the data stores', () => {
    const types = (nodes: GraphNode[]) => new Set(nodes.map(node => node.type));
    expect([...types(cluster)]).toEqual(expect.arrayContaining(['AWS::EKS::Cluster', 'AWS::EKS::Nodegroup', 'AWS::EKS::Addon']));
    expect([...types(data)]).toEqual(expect.arrayContaining(SLOW_DATA.filter(type => type !== 'AWS::MSK::Cluster')));
  });

  test('the cluster, its node groups and add-ons wait for no data store', () => {
    const violations = cluster.flatMap(node => graph.waitsFor(node.id).filter(isData).map(dep => `${short(node)} -> ${short(dep)}`));
    expect(violations).toEqual([]);
  });

  test('no data store waits for the cluster', () => {
    const violations = data.flatMap(node => graph.waitsFor(node.id).filter(dep => cluster.includes(dep)).map(dep => `${short(node)} -> ${short(dep)}`));
    expect(violations).toEqual([]);
  });

  test('Kubernetes objects wait only for the data stores whose endpoints they carry', () => {
    const waits = (g: DependencyGraph) => Object.fromEntries(g.find(/^Test\/Platform\//).filter(isKubernetesObject).map(node =>
      [short(node), g.waitsFor(node.id).filter(dep => SLOW_DATA.includes(dep.type)).map(short).sort()]));
    // The proxy authenticates with IAM and reads no secret: it is created beside the
    // writer, and a service (DATABASE_HOST) waits for the proxy alone. The replicas'
    // endpoints (DATABASE_READER_HOSTS) and RabbitMQ's (BROKER_ENDPOINTS) are in
    // ConfigMaps that the services read: only those wait for the replicas and the broker.
    // A service that signs in to the database also waits for its user, which the
    // users function makes on the writer (a minute after the writer is up).
    const proxy = ['Database/Proxy'];
    const signsIn = ['Database/Instance', ...proxy];
    expect(waits(graph)).toEqual({
      'Cluster/Cluster/chart-LoadBalancerController': [],
      'Cluster/Cluster/chart-ClusterAutoscaler': [],
      'Cluster/NamespaceCodelearn': [],
      // The namespace's deny goes last, after every service's policy: it waits as they do.
      'Services/DefaultDeny/Manifest': ['Cache/ReplicationGroup', 'Database/Instance', ...proxy],
      // It also waits for the replicas' connect policy, attached to the services' roles:
      // pods read it only once they may connect.
      'Services/DatabaseReaders': ['Cache/ReplicationGroup', 'Database/Instance', ...proxy, 'Database/Replica1'],
      'Services/BrokerEndpoints': ['Messaging/Broker'],
      'Services/ApiGateway/Stack/Service/Manifest': ['Cache/ReplicationGroup'],
      'Services/UserService/Stack/Service/Manifest': ['Cache/ReplicationGroup', ...signsIn],
      'Services/PostService/Stack/Service/Manifest': ['Cache/ReplicationGroup', ...signsIn],
      'Services/GroupService/Stack/Service/Manifest': ['Cache/ReplicationGroup', ...signsIn],
      // A binding carries no endpoint: it waits as long as its service's stack does.
      'Services/ApiGateway/Stack/Service/Binding8080': ['Cache/ReplicationGroup'],
      'Services/UserService/Stack/Service/Binding8080': ['Cache/ReplicationGroup', ...signsIn],
      'Services/PostService/Stack/Service/Binding8080': ['Cache/ReplicationGroup', ...signsIn],
      'Services/GroupService/Stack/Service/Binding8080': ['Cache/ReplicationGroup', ...signsIn],
    });

    // With Kafka, a service carries the MSK cluster's ARN; without data access, nothing.
    const kafka = platformGraph([
      { name: 'gateway' },
      { name: 'events', path: '/api/events/*', access: [DataAccess.MESSAGING] },
    ], true);
    expect(waits(kafka)).toEqual(expect.objectContaining({
      'Services/Gateway/Stack/Service/Manifest': [],
      'Services/Events/Stack/Service/Manifest': ['Messaging/Cluster'],
    }));
  });

  test('no service waits for another: each nested stack stands alone', () => {
    const stacks = graph.find(/^Test\/Platform\/Services\/\w+\/Stack\.NestedStack\/Stack\.NestedStackResource$/);
    expect(stacks.map(short)).toEqual(['ApiGateway', 'UserService', 'PostService', 'GroupService']
      .map(name => `Services/${name}/Stack.NestedStack/Stack.NestedStackResource`));
    // The ConfigMaps the services share, and the namespace's deny (which waits for every
    // service, and which no service waits for), are the platform's, not a service's.
    const owner = (node: GraphNode) => /^Test\/Platform\/Services\/(?!DatabaseReaders|BrokerEndpoints|DefaultDeny)(\w+)\//.exec(node.path)?.[1];
    const violations = graph.find(/^Test\/Platform\/Services\//).filter(node => owner(node) !== undefined).flatMap(node => graph.waitsFor(node.id)
      .filter(dep => owner(dep) !== undefined && owner(dep) !== owner(node))
      .map(dep => `${short(node)} -> ${short(dep)}`));
    expect(violations).toEqual([]);
  });

  test('only the replicas\' ConfigMap and connect policy wait for a read replica, the end of the longest chain', () => {
    const replicas = graph.find(/^Test\/Platform\/Database\/Replica\d+\/Resource$/);
    expect(replicas).toHaveLength(1);
    const waitingFor = (targets: GraphNode[]) => [...graph.nodes.values()]
      .filter(node => graph.waitsFor(node.id).some(dep => targets.includes(dep)))
      .map(short);
    const waiting = waitingFor(replicas);
    expect(waiting.sort()).toEqual(['Database/ReplicaConnect', 'Services/DatabaseReaders']);
    // Both are leaves: nothing waits for them but the ConfigMap for the policy.
    expect(waitingFor(graph.find(/^Test\/Platform\/(Database\/ReplicaConnect|Services\/DatabaseReaders)\//))).toEqual(['Services/DatabaseReaders']);
  });

  test('every explicit dependency in src/ has its reason in a comment beside it', () => {
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap(entry => entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)]);
    const sites: string[] = [];
    const unexplained: string[] = [];
    for (const file of files(path.join(__dirname, '..', 'src')).filter(name => name.endsWith('.ts'))) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, index) => {
        if (!line.includes('.addDependency(')) return;
        const site = `${path.relative(path.join(__dirname, '..'), file)}:${index + 1}`;
        sites.push(site);
        if (!lines.slice(Math.max(0, index - 4), index).some(above => /^\s*(\/\/|\*)/.test(above))) unexplained.push(site);
      });
    }
    expect(sites.length).toBeGreaterThanOrEqual(12);
    expect(unexplained).toEqual([]);
  });
});

describe('the profile table', () => {
  test('holds every default that differs between the profiles: no part branches on the profile for a default', () => {
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap(entry => entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)]);
    const branches = files(path.join(__dirname, '..', 'src'))
      .filter(name => name.endsWith('.ts') && !name.endsWith(path.join('private', 'profile.ts')))
      .flatMap(file => fs.readFileSync(file, 'utf8').split('\n')
        .map((line, index) => ({ line, site: `${path.relative(path.join(__dirname, '..'), file)}:${index + 1}` }))
        .filter(({ line }) => /\bproduction\s*\?|\?\?\s*production\b|=== PlatformProfile\.(PRODUCTION|DEVELOPMENT)\s*\?/.test(line))
        .map(({ site }) => site));
    expect(branches).toEqual([]);
  });
});
