import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { eksToken, presign } from '../../src/private/release-gate/eks-token';
import {
  checkEvent, checkWithin, decideEvent, GateClients, GateEvent, KubernetesError, lambdaClients, ROLLBACK_WAIT_SECONDS,
} from '../../src/private/release-gate/handler';

/*
 * The release gate's decisions, fed with Kubernetes API and CloudWatch answers in
 * test/compute/release-gate/. They are written in the exact shape the API server
 * (apps/v1 Deployment and ReplicaSetList, v1 PodList and EventList) and
 * CloudWatch (DescribeAlarms, DescribeAlarmHistory) return, field for field, with
 * the reasons and messages those services write. They stand in for recordings: no
 * EKS cluster or AWS account is reachable from here, and no kube-apiserver can be
 * built here (Debian's Go is 1.19; Kubernetes needs 1.24 or newer).
 */

const recorded = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, 'release-gate', `${name}.json`), 'utf8'));

const STARTED = Date.parse('2026-12-05T10:02:00Z');
const ERROR_RATE = 'Platform-Svc-UserServiceErrorRate-1A2B3C';
const LATENCY = 'Platform-Svc-UserServiceLatencyP99-4D5E6F';
const CANARY_ERROR_RATE = 'Platform-Svc-UserServiceCanaryErrorRate-7G8H9I';

interface World {
  kubernetes?: string;
  alarms?: string;
  history?: string;
  stackStatus?: string | Error;
  kubernetesError?: Error;
  now: number;
}

function clients(world: World) {
  const logged: string[] = [];
  const notified: { subject: string; message: string }[] = [];
  const asked: string[] = [];
  const gate: GateClients = {
    kubernetes: async requestPath => {
      asked.push(requestPath);
      if (world.kubernetesError) throw world.kubernetesError;
      const answers = recorded(`kubernetes-${world.kubernetes ?? 'healthy-rollout'}`);
      if (/\/deployments\/user-service$/.test(requestPath)) return answers.deployment;
      if (/\/deployments\//.test(requestPath)) throw new KubernetesError(404, 'deployments.apps "user-service-canary" not found');
      if (/\/replicasets\?/.test(requestPath)) return answers.replicasets;
      if (/\/pods\?/.test(requestPath)) return answers.pods;
      if (/\/events\?/.test(requestPath)) return answers.events;
      throw new Error(`unexpected path ${requestPath}`);
    },
    alarms: async names => recorded(`cloudwatch-alarms-${world.alarms ?? 'ok'}`).MetricAlarms.filter((alarm: any) => names.includes(alarm.AlarmName)),
    alarmHistory: async name => (world.history ? recorded(`cloudwatch-history-${world.history}`).AlarmHistoryItems : [])
      .filter((item: any) => item.AlarmName === name),
    stackStatus: async () => {
      if (world.stackStatus instanceof Error) throw world.stackStatus;
      return world.stackStatus ?? 'UPDATE_IN_PROGRESS';
    },
    notify: async (subject, message) => {
      notified.push({ subject, message });
    },
    log: message => logged.push(message),
    now: () => world.now,
  };
  return { gate, logged, notified, asked };
}

const track = (image: string) => ({
  Name: 'stable', Deployment: 'user-service', Spec: JSON.stringify({ kind: 'Deployment', image }), Alarms: [ERROR_RATE, LATENCY],
});
const properties = (image = '1.5.0', extra: object = {}) => ({
  Service: 'user-service',
  Namespace: 'codelearn',
  Tracks: [track(image)],
  CanaryWeight: '0',
  Alarms: [],
  BakeSeconds: '300',
  ProgressDeadlineSeconds: '600',
  ...extra,
});

function update(now: object, before: object, resourceType = 'Custom::ReleaseGate'): GateEvent {
  return {
    RequestType: 'Update',
    ResourceType: resourceType,
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Platform-Svc/1',
    LogicalResourceId: 'ServiceReleaseGate',
    PhysicalResourceId: 'codelearn/user-service/ServiceReleaseGate',
    ResourceProperties: now,
    OldResourceProperties: before,
  };
}

/** The release of 1.5.0 over 1.4.0, as `onEvent` decides it at `STARTED`. */
async function releaseEvent(world: Partial<World> = {}): Promise<GateEvent> {
  const event = update(properties('1.5.0'), properties('1.4.0'));
  const decided = await decideEvent(event, clients({ now: STARTED, ...world }).gate);
  return { ...event, ...decided };
}

describe('onEvent: what a deploy asks the gate to check', () => {
  test('a release of the stable track is gated: its rollout, then 300 s of its alarms', async () => {
    const decided = await decideEvent(update(properties('1.5.0'), properties('1.4.0')), clients({ now: STARTED }).gate);
    expect(decided.Data).toEqual({ Mode: 'gate', StartedAt: String(STARTED), Tracks: 'stable', Bake: '300' });
    expect(decided.PhysicalResourceId).toBe('codelearn/user-service/ServiceReleaseGate');
  });

  test('a deploy that changes nothing a track runs does not wait (a new alarm, the same Deployment)', async () => {
    const decided = await decideEvent(update(properties('1.5.0', { Alarms: ['Extra'] }), properties('1.5.0')), clients({ now: STARTED }).gate);
    expect(decided.Data.Mode).toBe('skip');
    const checked = await checkEvent({ ...update(properties(), properties()), ...decided }, clients({ now: STARTED }).gate);
    expect(checked).toEqual({ IsComplete: true, Data: { Verdict: 'no track changed: nothing to wait for' } });
  });

  test('a change of the canary\'s weight gates the canary track alone', async () => {
    const canary = { Name: 'canary', Deployment: 'user-service-canary', Spec: '{"image":"1.5.0"}', Alarms: [CANARY_ERROR_RATE] };
    const now = properties('1.4.0', { Tracks: [track('1.4.0'), canary], CanaryWeight: '25' });
    const before = properties('1.4.0', { Tracks: [track('1.4.0'), canary], CanaryWeight: '10' });
    const decided = await decideEvent(update(now, before), clients({ now: STARTED }).gate);
    expect(decided.Data).toMatchObject({ Mode: 'gate', Tracks: 'canary' });
  });

  test('a new service is not gated: its first image is pushed after the deploy that adds it', async () => {
    const event: GateEvent = { ...update(properties(), properties()), RequestType: 'Create', PhysicalResourceId: undefined, OldResourceProperties: undefined };
    const decided = await decideEvent(event, clients({ now: STARTED }).gate);
    expect(decided.Data).toMatchObject({ Mode: 'skip', Verdict: 'user-service: first release, not gated (its image is pushed after this deploy)' });
  });

  test('a deletion does nothing', async () => {
    const event: GateEvent = { ...update(properties(), properties()), RequestType: 'Delete' };
    const world = { now: STARTED, kubernetesError: new Error('must not be called') };
    const decided = await decideEvent(event, clients(world).gate);
    expect(decided).toEqual({ PhysicalResourceId: event.PhysicalResourceId, Data: expect.objectContaining({ Mode: 'skip' }) });
    await expect(checkEvent({ ...event, ...decided }, clients(world).gate)).resolves.toEqual({ IsComplete: true, Data: { Verdict: 'deleted: nothing to check' } });
  });

  test.each(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'])('an update while the stack is %s is a rollback: report only', async status => {
    const decided = await decideEvent(update(properties('1.4.0'), properties('1.5.0')), clients({ now: STARTED, stackStatus: status }).gate);
    expect(decided.Data).toMatchObject({ Mode: 'rollback', Tracks: 'stable', Verdict: `rollback (${status}): reporting only` });
  });

  test('when the stack\'s status cannot be read, the gate reports only: it must never fail a rollback', async () => {
    const { gate, logged } = clients({ now: STARTED, stackStatus: new Error('Rate exceeded') });
    const decided = await decideEvent(update(properties('1.4.0'), properties('1.5.0')), gate);
    expect(decided.Data.Mode).toBe('rollback');
    expect(logged).toEqual(['could not read the stack\'s status (Rate exceeded): reporting only']);
  });
});

describe('isComplete: the rollout, then the bake', () => {
  test('a healthy rollout bakes: not complete until 300 s after the rollout finished (NewReplicaSetAvailable)', async () => {
    const event = await releaseEvent();
    const finished = Date.parse('2026-12-05T10:03:10Z');
    await expect(checkEvent(event, clients({ now: finished + 299_000 }).gate)).resolves.toEqual({ IsComplete: false });
    const done = await checkEvent(event, clients({ now: finished + 300_000 }).gate);
    expect(done).toEqual({ IsComplete: true, Data: { Verdict: 'user-service: stable rolled out; 2 alarms stayed out of ALARM for 300 s' } });
  });

  test('it reads only the service\'s namespace: the Deployment, its ReplicaSets and pods by its selector', async () => {
    const event = await releaseEvent();
    const { gate, asked } = clients({ now: STARTED + 10_000 });
    await checkEvent(event, gate);
    expect(asked.sort()).toEqual([
      '/api/v1/namespaces/codelearn/pods?labelSelector=app.kubernetes.io%2Fname%3Duser-service',
      '/apis/apps/v1/namespaces/codelearn/deployments/user-service',
      '/apis/apps/v1/namespaces/codelearn/replicasets?labelSelector=app.kubernetes.io%2Fname%3Duser-service',
    ]);
  });

  test('a rollout under way keeps the gate waiting, with why in its log', async () => {
    const event = await releaseEvent();
    const { gate, logged } = clients({ now: STARTED + 60_000, kubernetes: 'rolling' });
    await expect(checkEvent(event, gate)).resolves.toEqual({ IsComplete: false });
    expect(logged[0]).toBe('user-service (stable track): 1 of 3 replicas run the new release (pod user-service-5f4b9c7d88-h2m8c: ' +
      'condition target-health.elbv2.k8s.aws/user-service-8080 is False (Target registration is in progress))');
  });

  test('a Deployment the controller has not yet seen is waited for', async () => {
    const { gate, logged } = clients({ now: STARTED + 5_000, kubernetes: 'not-observed' });
    await expect(checkEvent(await releaseEvent(), gate)).resolves.toEqual({ IsComplete: false });
    expect(logged[0]).toBe('user-service (stable track): the Deployment controller has not yet seen generation 8');
  });

  test('CrashLoopBackOff fails the deploy with the pod, its restarts and its last exit, and publishes to the alarm topic', async () => {
    const { gate, notified } = clients({ now: STARTED + 180_000, kubernetes: 'crash-loop' });
    const message = 'user-service (stable track): its new pods cannot start: pod user-service-5f4b9c7d88-h2m8c, container app: CrashLoopBackOff ' +
      'after 4 restarts (last exit: Error, code 1): back-off 1m20s restarting failed container=app pod=user-service-5f4b9c7d88-h2m8c_codelearn' +
      '(6b1d2e0f-1c1a-4a7e-9f5e-2b9a0d6c1e33). CloudFormation rolls user-service back to its previous release.';
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow(message);
    expect(notified).toEqual([{ subject: 'Release of user-service refused', message }]);
  });

  test('a container that crashed once is given time: the kubelet restarts it', async () => {
    const { gate } = clients({ now: STARTED + 30_000, kubernetes: 'crash-loop-starting' });
    await expect(checkEvent(await releaseEvent(), gate)).resolves.toEqual({ IsComplete: false });
  });

  test('ImagePullBackOff fails the deploy at once, with the image', async () => {
    const { gate } = clients({ now: STARTED + 40_000, kubernetes: 'image-pull' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow('user-service (stable track): its new pods cannot start: pod user-service-5f4b9c7d88-h2m8c, ' +
      'container app: ImagePullBackOff: Back-off pulling image "111111111111.dkr.ecr.eu-west-1.amazonaws.com/codelearn/user-service:1.5.1"');
  });

  test('ProgressDeadlineExceeded fails the deploy with why the new pod is not running (its scheduling)', async () => {
    const { gate } = clients({ now: STARTED + 601_000, kubernetes: 'progress-deadline' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow('user-service (stable track): the rollout made no progress for 600 s (ProgressDeadlineExceeded): ' +
      'pod user-service-5f4b9c7d88-h2m8c: condition PodScheduled is False (0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: ' +
      '3 No preemption victims found for incoming pod.); last warning: FailedScheduling: 0/3 nodes are available');
  });

  test('pods that Kubernetes refuses to create (ReplicaFailure) fail the deploy with the API server\'s reason', async () => {
    const { gate } = clients({ now: STARTED + 20_000, kubernetes: 'replica-failure' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow('user-service (stable track): Kubernetes cannot create its pods (FailedCreate: ' +
      'pods "user-service-5f4b9c7d88-" is forbidden: pod rejected: RuntimeClass "gvisor" not found)');
  });

  test('a rollout still under way past the progress deadline and its grace fails, even if Kubernetes never says so', async () => {
    const { gate } = clients({ now: STARTED + 661_000, kubernetes: 'rolling' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow(/1 of 3 replicas run the new release .*: not done 660 s after the deploy applied it/);
  });

  test('an alarm in ALARM during the bake fails the deploy with the alarm and its datapoints', async () => {
    const { gate } = clients({ now: STARTED + 120_000, alarms: 'alarm' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow(`user-service: the alarm ${ERROR_RATE} is in ALARM during the bake ` +
      '(Threshold Crossed: 3 out of the last 3 datapoints [12.5 (05/12/26 10:06:00), 9.8 (05/12/26 10:05:00), 7.1 (05/12/26 10:04:00)] were greater than the threshold (5.0)');
  });

  test('an alarm that went to ALARM and back during the bake fails it too', async () => {
    const { gate } = clients({ now: STARTED + 400_000, history: 'went-to-alarm' });
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow(`user-service: the alarm ${ERROR_RATE} went to ALARM during the bake, at 2026-12-05T10:04:00.000Z`);
  });

  test('an alarm without data does not fail the release: no traffic is not a bad release; the verdict says so', async () => {
    const { gate } = clients({ now: STARTED + 600_000, alarms: 'insufficient-data' });
    await expect(checkEvent(await releaseEvent(), gate)).resolves.toEqual({
      IsComplete: true, Data: { Verdict: `user-service: stable rolled out; 2 alarms stayed out of ALARM; without data: ${LATENCY} for 300 s` },
    });
  });

  test('an alarm that does not exist fails the release: the gate would vouch for nothing', async () => {
    const event = await releaseEvent();
    const missing = { ...event, ResourceProperties: properties('1.5.0', { Alarms: ['Deleted-Alarm'] }) };
    await expect(checkEvent(missing, clients({ now: STARTED + 400_000 }).gate)).rejects.toThrow('user-service: the alarm Deleted-Alarm that the release is judged by does not exist');
  });

  test('development bakes nothing: the rollout alone completes the gate', async () => {
    const event = update(properties('1.5.0', { BakeSeconds: '0' }), properties('1.4.0', { BakeSeconds: '0' }));
    const decided = await decideEvent(event, clients({ now: STARTED }).gate);
    await expect(checkEvent({ ...event, ...decided }, clients({ now: STARTED + 70_000, alarms: 'alarm' }).gate))
      .resolves.toEqual({ IsComplete: true, Data: { Verdict: 'user-service: stable rolled out; no bake' } });
  });

  test('access denied by the Kubernetes API fails once the access entry had two minutes to apply; a passing error is tried again', async () => {
    const event = await releaseEvent();
    const early = clients({ now: STARTED + 20_000, kubernetesError: new KubernetesError(403, 'Forbidden') });
    await expect(checkEvent(event, early.gate)).resolves.toEqual({ IsComplete: false });
    const denied = clients({ now: STARTED + 130_000, kubernetesError: new KubernetesError(403, 'GET /apis/apps/v1/namespaces/codelearn/deployments/user-service: 403 Forbidden') });
    await expect(checkEvent(event, denied.gate)).rejects.toThrow('user-service: the gate cannot read the rollout from the Kubernetes API (GET /apis/apps/v1/namespaces/codelearn/deployments/user-service: 403 Forbidden)');
    const passing = clients({ now: STARTED + 20_000, kubernetesError: new Error('socket hang up') });
    await expect(checkEvent(event, passing.gate)).resolves.toEqual({ IsComplete: false });
  });

  test('a failed publication to the topic does not hide the verdict', async () => {
    const { gate, logged } = clients({ now: STARTED + 40_000, kubernetes: 'image-pull' });
    gate.notify = async () => {
      throw new Error('AuthorizationError');
    };
    await expect(checkEvent(await releaseEvent(), gate)).rejects.toThrow(/ImagePullBackOff/);
    expect(logged).toContain('could not publish to the alarm topic: AuthorizationError');
  });
});

describe('a poll that hangs on an API', () => {
  const hanging = (world: World) => {
    const { gate } = clients(world);
    gate.kubernetes = () => new Promise(() => undefined);
    return gate;
  };

  test('keeps a gate waiting: the function\'s timeout would fail the resource', async () => {
    await expect(checkWithin(await releaseEvent(), hanging({ now: STARTED + 10_000 }), 0.05)).resolves.toEqual({ IsComplete: false });
  });

  test('completes a rollback', async () => {
    const event = update(properties('1.4.0'), properties('1.5.0'));
    const rollback = { ...event, ...await decideEvent(event, clients({ now: STARTED, stackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS' }).gate) };
    await expect(checkWithin(rollback, hanging({ now: STARTED + 10_000 }), 0.05))
      .resolves.toEqual({ IsComplete: true, Data: { Verdict: 'user-service: rolled back; the gate\'s reads did not answer in 0.05 s' } });
  });
});

describe('isComplete during a rollback: it reports, and never fails', () => {
  async function rollbackEvent(): Promise<GateEvent> {
    const event = update(properties('1.4.0'), properties('1.5.0'));
    return { ...event, ...await decideEvent(event, clients({ now: STARTED, stackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS' }).gate) };
  }

  test.each(['crash-loop', 'image-pull', 'progress-deadline', 'replica-failure'])('%s: the rollback completes, with what the gate saw', async kubernetes => {
    const { gate, notified } = clients({ now: STARTED + 30_000, kubernetes });
    const checked = await checkEvent(await rollbackEvent(), gate);
    expect(checked.IsComplete).toBe(true);
    expect(checked.Data!.Verdict).toMatch(/^user-service: rolled back, but the previous release is not yet back everywhere: user-service \(stable track\)/);
    expect(notified).toEqual([]);
  });

  test('the previous release back on every track', async () => {
    await expect(checkEvent(await rollbackEvent(), clients({ now: STARTED + 30_000 }).gate))
      .resolves.toEqual({ IsComplete: true, Data: { Verdict: 'user-service: rolled back; the previous release runs on every track' } });
  });

  test(`a rollout under way is waited for, ${ROLLBACK_WAIT_SECONDS} s at most`, async () => {
    const event = await rollbackEvent();
    await expect(checkEvent(event, clients({ now: STARTED + 60_000, kubernetes: 'rolling' }).gate)).resolves.toEqual({ IsComplete: false });
    const late = await checkEvent(event, clients({ now: STARTED + ROLLBACK_WAIT_SECONDS * 1000, kubernetes: 'rolling' }).gate);
    expect(late.IsComplete).toBe(true);
  });

  test('an API that cannot be reached, even access denied, completes the rollback', async () => {
    const { gate } = clients({ now: STARTED + 30_000, kubernetesError: new KubernetesError(403, 'Forbidden') });
    await expect(checkEvent(await rollbackEvent(), gate))
      .resolves.toEqual({ IsComplete: true, Data: { Verdict: 'user-service: rolled back; the gate could not check the rollout (Forbidden)' } });
  });
});

describe('Custom::ReleasePromotion: a canary whose alarms fired is not promoted', () => {
  const promotion = (stable: string, canary: string, weight: string) => ({
    Service: 'user-service', StableImage: stable, CanaryImage: canary, CanaryWeight: weight, CanaryAlarms: canary ? [ERROR_RATE] : [], BakeSeconds: '300',
  });
  const promote = (now: object, before: object, world: Partial<World>) =>
    decideEvent(update(now, before, 'Custom::ReleasePromotion'), clients({ now: Date.parse('2026-12-05T10:06:00Z'), ...world }).gate);

  test('the stable track taking the canary\'s image, while its alarm is in ALARM, is refused before the stable track is touched', async () => {
    await expect(promote(promotion('repo:1.5.0', '', '0'), promotion('repo:1.4.0', 'repo:1.5.0', '10'), { alarms: 'alarm' })).rejects.toThrow(
      `user-service (canary track): the alarm ${ERROR_RATE} is in ALARM during the bake (Threshold Crossed: 3 out of the last 3 datapoints [12.5 ` +
      '(05/12/26 10:06:00), 9.8 (05/12/26 10:05:00), 7.1 (05/12/26 10:04:00)] were greater than the threshold (5.0) (minimum 3 datapoints for OK -> ALARM transition).). ' +
      'The promotion of the stable track to the canary\'s image repo:1.5.0 is refused, and the stable track is untouched.');
  });

  test('weight 100 is a promotion: refused if the canary\'s alarm went to ALARM within the bake time', async () => {
    await expect(promote(promotion('repo:1.4.0', 'repo:1.5.0', '100'), promotion('repo:1.4.0', 'repo:1.5.0', '50'), { history: 'went-to-alarm' }))
      .rejects.toThrow(`user-service (canary track): the alarm ${ERROR_RATE} went to ALARM during the bake, at 2026-12-05T10:04:00.000Z`);
  });

  test('a canary whose alarms stayed OK is promoted', async () => {
    const decided = await promote(promotion('repo:1.5.0', '', '0'), promotion('repo:1.4.0', 'repo:1.5.0', '10'), {});
    expect(decided.Data).toMatchObject({ Mode: 'skip', Verdict: 'promoted the stable track to the canary\'s image repo:1.5.0' });
  });

  test('removing a canary without taking its image is an abort, never refused', async () => {
    const decided = await promote(promotion('repo:1.4.0', '', '0'), promotion('repo:1.4.0', 'repo:1.5.0', '10'), { alarms: 'alarm' });
    expect(decided.Data.Verdict).toBe('not a promotion');
  });

  test('a promotion rolled back is not checked again', async () => {
    const decided = await promote(promotion('repo:1.4.0', 'repo:1.5.0', '10'), promotion('repo:1.5.0', '', '0'), { stackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', alarms: 'alarm' });
    expect(decided.Data.Mode).toBe('skip');
  });
});

describe('the EKS token', () => {
  test('Signature Version 4 query signing gives the signature of AWS\'s published example', () => {
    // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", Amazon S3 API Reference.
    const url = presign({
      method: 'GET',
      host: 'examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      query: {},
      region: 'us-east-1',
      service: 's3',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      date: new Date('2013-05-24T00:00:00Z'),
      expiresSeconds: 86400,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    expect(url).toMatch(/&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404$/);
  });

  test('is a presigned regional STS GetCallerIdentity that signs the cluster\'s name, base64url without padding', () => {
    const token = eksToken('platform-cluster', 'eu-west-1', { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session/token+=' },
      new Date('2026-12-05T10:00:00Z'));
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'Action': 'GetCallerIdentity',
      'Version': '2011-06-15',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Date': '20261205T100000Z',
      'X-Amz-Credential': 'ASIAEXAMPLE/20261205/eu-west-1/sts/aws4_request',
      'X-Amz-Security-Token': 'session/token+=',
    });
  });
});

describe('the Kubernetes client of the function', () => {
  let server: https.Server;
  let env: NodeJS.ProcessEnv;
  const seen: (string | undefined)[] = [];
  let strangerCa: string;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codelearn-gate-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', path.join(dir, 'key'), '-out', path.join(dir, 'crt')], { stdio: 'pipe' });
    const cert = fs.readFileSync(path.join(dir, 'crt'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', path.join(dir, 'other-key'), '-out', path.join(dir, 'other-crt')], { stdio: 'pipe' });
    strangerCa = fs.readFileSync(path.join(dir, 'other-crt')).toString('base64');
    server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key')), cert }, (request, response) => {
      seen.push(request.headers.authorization);
      if (request.url === '/apis/apps/v1/namespaces/codelearn/deployments/user-service') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(recorded('kubernetes-healthy-rollout').deployment));
      } else {
        response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: 'pods is forbidden: User "arn:aws:sts::111111111111:assumed-role/gate/fn" cannot list resource "pods" in API group "" in the namespace "kube-system"',
        }));
      }
    });
    await new Promise<void>(resolve => server.listen(0, 'localhost', resolve));
    env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      CLUSTER_NAME: 'platform-cluster',
      CLUSTER_ENDPOINT: `https://localhost:${(server.address() as AddressInfo).port}`,
      CLUSTER_CA: cert.toString('base64'),
    };
  });
  afterAll(() => server.close());

  test('reads over TLS verified against the cluster\'s certificate authority, with the EKS token', async () => {
    const deployment = await lambdaClients(env).kubernetes('/apis/apps/v1/namespaces/codelearn/deployments/user-service');
    expect(deployment.metadata.name).toBe('user-service');
    expect(seen.pop()).toMatch(/^Bearer k8s-aws-v1\./);
  });

  test('a refusal becomes a KubernetesError with the status and the API server\'s message', async () => {
    await expect(lambdaClients(env).kubernetes('/api/v1/namespaces/kube-system/pods')).rejects.toMatchObject({
      status: 403, message: expect.stringContaining('403 pods is forbidden: User'),
    });
  });

  test('refuses a server whose certificate the cluster\'s authority did not sign', async () => {
    const stranger = { ...env, CLUSTER_CA: strangerCa };
    await expect(lambdaClients(stranger).kubernetes('/apis/apps/v1/namespaces/codelearn/deployments/user-service')).rejects.toThrow(/self[- ]signed certificate/);
  });
});
