import { CfnResource, Fn, Stack } from 'aws-cdk-lib';
import { Deployment } from './deployment';
import { handWritten, manifest } from './hand-written';
import { podsReachWhatTheyUse } from './rules/network-policies';
import { sandboxesAreApart, sandboxNodesAreApart } from './rules/sandbox';

function deploymentOf(build: (stack: Stack) => void): Deployment {
  return handWritten('Sandbox', build);
}

const TOLERATION = { key: 'codelearn.dev/workload', operator: 'Equal', value: 'sandbox', effect: 'NoSchedule' };

function runner(pod: object, name = 'runner'): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'learners' },
    spec: { template: { metadata: { labels: { 'app.kubernetes.io/name': name } }, spec: { containers: [{ name, image: 'runner:1' }], ...pod } } },
  };
}

function policy(egress: object[]): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'runner', namespace: 'learners' },
    spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'runner' } }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress },
  };
}

const CONFINED = {
  nodeSelector: { 'codelearn.dev/workload': 'sandbox' },
  tolerations: [TOLERATION],
  automountServiceAccountToken: false,
  enableServiceLinks: false,
  serviceAccountName: 'runner',
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{
    name: 'runner',
    image: 'runner:1',
    resources: { limits: { 'cpu': '500m', 'memory': '256Mi', 'ephemeral-storage': '512Mi' } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  }],
};

describe('the sandbox rules find what they describe', () => {
  test('sandboxes-are-apart: a pod that tolerates the sandbox nodes with nothing else, a token, a role, and a way out', () => {
    const loose = deploymentOf(stack => {
      manifest(stack, 'Runner', [
        policy([
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }] },
          { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
          { ports: [{ protocol: 'TCP', port: 22 }] },
        ]),
        runner({ tolerations: [TOLERATION], serviceAccountName: 'runner' }),
        runner({}, 'neighbour'),
      ]);
      new CfnResource(stack, 'Role', { type: 'AWS::EKS::PodIdentityAssociation', properties: { Namespace: 'learners', ServiceAccount: 'runner' } });
    });
    expect(sandboxesAreApart.check(loose)).toEqual([
      'learners/runner: tolerates the sandbox nodes but does not select them, so it may run beside the services',
      'learners/runner: mounts its service account\'s token, a credential to the Kubernetes API',
      'learners/runner: gets the namespace\'s Services as environment variables',
      'learners/runner: Sandbox/Role gives its service account an IAM role',
      'learners/runner: container runner has no cpu limit',
      'learners/runner: container runner has no memory limit',
      'learners/runner: container runner has no ephemeral-storage limit',
      'learners/runner: container runner may write its root filesystem',
      'learners/runner: container runner allows privilege escalation',
      'learners/runner: container runner may run as root',
      'learners/runner: container runner keeps Linux capabilities',
      'learners/runner: container runner runs without a seccomp profile',
      'learners/runner: shares its namespace with neighbour, whose policies and Services it would reach',
      expect.stringMatching(/^learners\/runner: Sandbox\/Runner lets it out to pods .*kube-dns.*, such as DNS or another service$/),
      'learners/runner: Sandbox/Runner lets it out to 0.0.0.0/0, where the VPC\'s stores, the Pod Identity agent or the instance metadata are',
      'learners/runner: Sandbox/Runner lets it out anywhere',
    ]);
  });

  test('sandboxes-are-apart: a confined sandbox passes, and a service that selects its nodes does not', () => {
    const confined = deploymentOf(stack => {
      manifest(stack, 'Runner', [policy([{ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] }]), runner(CONFINED)]);
    });
    expect(sandboxesAreApart.check(confined)).toEqual([]);
    // It resolves no names and holds no credentials: nothing for it to reach.
    expect(podsReachWhatTheyUse.check(confined)).toEqual([]);
    const intruder = deploymentOf(stack => {
      manifest(stack, 'Web', [{ ...runner({ nodeSelector: { 'codelearn.dev/workload': 'sandbox' } }, 'web'), metadata: { name: 'web', namespace: 'apps' } }]);
    });
    expect(sandboxesAreApart.check(intruder)).toEqual(['apps/web: selects the sandbox nodes without being a sandbox']);
  });

  test('sandbox-nodes-are-apart: nodes in the stores\' security group, with metadata open, user data that is no MIME and no PID limit', () => {
    const deployment = deploymentOf(stack => {
      const workloads = new CfnResource(stack, 'Workloads', { type: 'AWS::EC2::SecurityGroup', properties: { GroupDescription: 'w' } });
      const database = new CfnResource(stack, 'DatabaseGroup', { type: 'AWS::EC2::SecurityGroup', properties: { GroupDescription: 'd' } });
      new CfnResource(stack, 'Ingress', {
        type: 'AWS::EC2::SecurityGroupIngress',
        properties: { GroupId: database.getAtt('GroupId'), SourceSecurityGroupId: workloads.getAtt('GroupId'), IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 },
      });
      new CfnResource(stack, 'Database', { type: 'AWS::RDS::DBInstance', properties: { VPCSecurityGroups: [], VpcSecurityGroupIds: [database.getAtt('GroupId')] } });
      const template = new CfnResource(stack, 'Template', {
        type: 'AWS::EC2::LaunchTemplate',
        properties: { LaunchTemplateData: { SecurityGroupIds: [workloads.getAtt('GroupId')], UserData: Fn.base64('#!/bin/bash\necho hi\n') } },
      });
      new CfnResource(stack, 'Nodes', {
        type: 'AWS::EKS::Nodegroup',
        properties: { LaunchTemplate: { Id: template.ref }, Taints: [{ Key: 'codelearn.dev/workload', Value: 'sandbox', Effect: 'NO_SCHEDULE' }] },
      });
    });
    expect(sandboxNodesAreApart.check(deployment)).toEqual([
      'Sandbox/Nodes: its launch template\'s user data is not a MIME multi-part document, which EKS refuses for a managed node group',
      'Sandbox/Nodes: carries Sandbox/Workloads, which a data store admits: a sandbox\'s pods would reach it past their policies',
      'Sandbox/Nodes: its pods may reach the instance metadata, and the node\'s role',
      'Sandbox/Nodes: no NodeConfig sets the kubelet\'s podPidsLimit, so one pod\'s processes can exhaust the node\'s',
    ]);
  });
});
