import * as https from 'https';
import { AlarmHistoryItem, AlarmState, bakeOf, Deployment, firstUnready, KubernetesEvent, Pod, podsOfNewReplicaSet, ReplicaSet, Rollout, rolloutOf, TrackObservation } from './decide';
import { eksToken } from './eks-token';

/**
 * The release gate's two handlers for the custom-resource provider framework:
 * `onEvent` decides what a deploy asks the gate to check; `isComplete`, polled
 * until it answers or the total timeout comes, checks it. A `Custom::ReleaseGate`
 * follows a service's manifests and waits for the rollout of each changed track
 * and for its alarms to stay OK for the bake; a `Custom::ReleasePromotion` comes
 * before the stable track's manifest and refuses a promotion of a canary whose
 * alarms fired. Failing fails the deploy, and CloudFormation rolls the service's
 * manifests back. During a rollback the gate reports and never fails; on
 * deletion it does nothing.
 */

/** One Deployment of a service, as the resource's properties give it (CloudFormation passes every value as a string). */
export interface TrackProperties {
  /** 'stable' or 'canary'. */
  readonly Name: string;
  readonly Deployment: string;
  /** The Deployment as the manifest applies it: a change means a new release of the track. */
  readonly Spec: string;
  readonly Alarms?: string[];
}

export interface ReleaseGateProperties {
  readonly Service: string;
  readonly Namespace: string;
  readonly Tracks: TrackProperties[];
  /** The canary's share of requests, '0' without one. */
  readonly CanaryWeight?: string;
  /** Alarms of the whole service, judged whatever track changes. */
  readonly Alarms?: string[];
  readonly BakeSeconds: string;
  readonly ProgressDeadlineSeconds: string;
}

export interface PromotionProperties {
  readonly Service: string;
  readonly StableImage: string;
  /** Empty without a canary. */
  readonly CanaryImage?: string;
  readonly CanaryWeight?: string;
  readonly CanaryAlarms?: string[];
  readonly BakeSeconds: string;
}

export interface GateEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: any;
  readonly OldResourceProperties?: any;
  /** What `onEvent` returned, in the framework's call of `isComplete`. */
  readonly Data?: GateData;
}

/** What `onEvent` decides, carried to every `isComplete` call (and returned to CloudFormation as attributes). */
export interface GateData {
  /** `gate`: check and fail; `rollback`: check and report only; `skip`: nothing to check. */
  readonly Mode: 'gate' | 'rollback' | 'skip';
  /** When the check began, in milliseconds since the epoch (as a string). */
  readonly StartedAt: string;
  /** The tracks whose rollout is waited for, comma-separated. */
  readonly Tracks: string;
  /** Seconds of bake after the rollout: 0 on a first release, a rollback, or a change of nothing but alarms. */
  readonly Bake: string;
  readonly Verdict?: string;
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: { readonly Verdict: string };
}

/** What the gate reads and where it reports: the handler's only I/O, which tests replace with recorded answers. */
export interface GateClients {
  /** GET on the cluster's API server; throws a `KubernetesError` on a status that is not 2xx. */
  kubernetes(path: string): Promise<any>;
  /** DescribeAlarms (metric alarms) for `names`. */
  alarms(names: string[]): Promise<AlarmState[]>;
  /** DescribeAlarmHistory, state updates of `name` since `since`. */
  alarmHistory(name: string, since: Date): Promise<AlarmHistoryItem[]>;
  /** The status of the stack `stackId` (DescribeStacks). */
  stackStatus(stackId: string): Promise<string>;
  /** Publishes a failure to the platform's alarm topic, if it has one. */
  notify(subject: string, message: string): Promise<void>;
  log(message: string): void;
  now(): number;
}

export class KubernetesError extends Error {
  constructor(readonly status: number, text: string) {
    super(text);
  }
}

/** How long after the progress deadline the gate waits for the Deployment controller to say it is exceeded. */
export const DEADLINE_GRACE_SECONDS = 60;

/** How long a refusal by the Kubernetes API is taken for an access entry still applying. */
export const ACCESS_GRACE_SECONDS = 120;

/** The most a poll may take: the functions' timeout is a minute, and a function that times out fails the resource (a rollback too). */
export const POLL_SECONDS = 40;

/** `work`, or `late()` when it takes more than `seconds`. */
async function within<T>(seconds: number, work: Promise<T>, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, seconds * 1000);
  });
  // What the work says after the race is lost is dropped, not left unhandled.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a rollback waits for the previous release to be back before it reports and lets CloudFormation go on. */
export const ROLLBACK_WAIT_SECONDS = 300;

export async function decideEvent(event: GateEvent, clients: GateClients): Promise<{ PhysicalResourceId: string; Data: GateData }> {
  const props = event.ResourceProperties;
  const physicalId = event.PhysicalResourceId ?? `${props.Namespace ?? 'promotion'}/${props.Service}/${event.LogicalResourceId}`;
  const data = (mode: GateData['Mode'], tracks: string[], bake: number, verdict?: string): GateData =>
    ({ Mode: mode, StartedAt: String(clients.now()), Tracks: tracks.join(','), Bake: String(bake), ...verdict ? { Verdict: verdict } : {} });
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: physicalId, Data: data('skip', [], 0, 'deleted: nothing to check') };
  }
  if (event.RequestType === 'Update') {
    let status: string;
    try {
      status = await within(15, clients.stackStatus(event.StackId), () => {
        throw new Error('DescribeStacks did not answer in 15 s');
      });
    } catch (error) {
      // Unsure whether this is a rollback: a gate that fails a rollback leaves the stack in UPDATE_ROLLBACK_FAILED.
      clients.log(`could not read the stack's status (${message(error)}): reporting only`);
      status = 'UNKNOWN_ROLLBACK_POSSIBLE';
    }
    if (status.includes('ROLLBACK')) {
      const tracks = event.ResourceType === 'Custom::ReleaseGate' ? (props as ReleaseGateProperties).Tracks.map(track => track.Name) : [];
      return { PhysicalResourceId: physicalId, Data: data(tracks.length > 0 ? 'rollback' : 'skip', tracks, 0, `rollback (${status}): reporting only`) };
    }
  }
  if (event.ResourceType === 'Custom::ReleasePromotion') {
    const verdict = await checkPromotion(event, clients);
    return { PhysicalResourceId: physicalId, Data: data('skip', [], 0, verdict) };
  }
  const gate = props as ReleaseGateProperties;
  if (event.RequestType === 'Create') {
    // A new service: its repository is new too, and its first image is pushed after
    // the deploy. There is no release to roll back to, and no traffic to judge by.
    return { PhysicalResourceId: physicalId, Data: data('skip', [], 0, `${gate.Service}: first release, not gated (its image is pushed after this deploy)`) };
  }
  const before = event.OldResourceProperties as ReleaseGateProperties;
  const changed = gate.Tracks.filter(track => {
    const old = before.Tracks?.find(candidate => candidate.Name === track.Name);
    return !old || old.Spec !== track.Spec || (track.Name === 'canary' && String(before.CanaryWeight ?? '0') !== String(gate.CanaryWeight ?? '0'));
  }).map(track => track.Name);
  if (changed.length === 0) {
    return { PhysicalResourceId: physicalId, Data: data('skip', [], 0, 'no track changed: nothing to wait for') };
  }
  return { PhysicalResourceId: physicalId, Data: data('gate', changed, Number(gate.BakeSeconds)) };
}

/**
 * Refuses a promotion whose canary's alarms are in ALARM or went there within the
 * bake time before it: a promotion is an update that gives the stable track the
 * canary's image, or the canary all the requests. Removing a canary without
 * taking its image is an abort, and is never refused.
 */
async function checkPromotion(event: GateEvent, clients: GateClients): Promise<string> {
  const now = event.ResourceProperties as PromotionProperties;
  const before = event.OldResourceProperties as PromotionProperties | undefined;
  if (event.RequestType !== 'Update' || !before?.CanaryImage) return 'no canary to promote';
  const takesImage = now.StableImage === before.CanaryImage && now.StableImage !== before.StableImage;
  const takesAll = Number(now.CanaryWeight ?? '0') === 100 && Number(before.CanaryWeight ?? '0') < 100;
  if (!takesImage && !takesAll) return 'not a promotion';
  const names = before.CanaryAlarms ?? [];
  const bakeMs = Number(before.BakeSeconds) * 1000;
  const since = new Date(clients.now() - bakeMs);
  const alarms = await clients.alarms(names);
  const history = bakeMs > 0 ? (await Promise.all(names.map(name => clients.alarmHistory(name, since)))).flat() : [];
  const bake = bakeOf(`${now.Service} (canary track)`, names, alarms, history, clients.now(), 0);
  const what = takesImage ? `the stable track to the canary's image ${before.CanaryImage}` : 'the canary to 100% of the requests';
  if (bake.state === 'failed') {
    const reason = `${bake.reason}. The promotion of ${what} is refused, and the stable track is untouched. ` +
      'Fix the canary (or remove it to abort) and deploy again.';
    await report(clients, now.Service, reason);
    throw new Error(reason);
  }
  clients.log(`${now.Service}: promotion of ${what}: the canary's ${names.length} alarms stayed out of ALARM`);
  return `promoted ${what}`;
}

export async function checkEvent(event: GateEvent, clients: GateClients): Promise<IsCompleteResult> {
  const data = event.Data;
  if (!data || data.Mode === 'skip') {
    return { IsComplete: true, Data: { Verdict: data?.Verdict ?? 'nothing to check' } };
  }
  const props = event.ResourceProperties as ReleaseGateProperties;
  const started = Number(data.StartedAt);
  const tracks = props.Tracks.filter(track => data.Tracks.split(',').includes(track.Name));
  if (data.Mode === 'rollback') {
    // Never fails: a gate that fails a rollback leaves the stack in UPDATE_ROLLBACK_FAILED.
    try {
      const rollouts = await Promise.all(tracks.map(track => observe(props, track, clients).then(rolloutOf)));
      const pending = rollouts.filter(rollout => rollout.state !== 'complete');
      if (pending.length === 0) return done(clients, `${props.Service}: rolled back; the previous release runs on every track`);
      if (clients.now() < started + ROLLBACK_WAIT_SECONDS * 1000 && !pending.some(rollout => rollout.state === 'failed')) {
        clients.log(pending.map(describe).join('; '));
        return { IsComplete: false };
      }
      return done(clients, `${props.Service}: rolled back, but the previous release is not yet back everywhere: ${pending.map(describe).join('; ')}`);
    } catch (error) {
      return done(clients, `${props.Service}: rolled back; the gate could not check the rollout (${message(error)})`);
    }
  }

  const deadlineSeconds = Number(props.ProgressDeadlineSeconds);
  const rolloutDeadline = started + (deadlineSeconds + DEADLINE_GRACE_SECONDS) * 1000;
  let rollouts: Rollout[];
  try {
    rollouts = await Promise.all(tracks.map(track => observe(props, track, clients).then(rolloutOf)));
  } catch (error) {
    // Access denied does not heal once the access entry has had time to apply; anything
    // else (a throttle, a timeout) may, until the deadline.
    const denied = error instanceof KubernetesError && (error.status === 401 || error.status === 403);
    if ((denied && clients.now() > started + ACCESS_GRACE_SECONDS * 1000) || clients.now() > rolloutDeadline) {
      return fail(clients, props.Service, `${props.Service}: the gate cannot read the rollout from the Kubernetes API (${message(error)})`);
    }
    clients.log(`${props.Service}: reading the rollout failed, trying again: ${message(error)}`);
    return { IsComplete: false };
  }
  const failed = rollouts.find((rollout): rollout is Extract<Rollout, { state: 'failed' }> => rollout.state === 'failed');
  if (failed) return fail(clients, props.Service, failed.reason);
  const waiting = rollouts.filter((rollout): rollout is Extract<Rollout, { state: 'waiting' }> => rollout.state === 'waiting');
  if (waiting.length > 0) {
    if (clients.now() > rolloutDeadline) {
      return fail(clients, props.Service, `${waiting.map(describe).join('; ')}: not done ${deadlineSeconds + DEADLINE_GRACE_SECONDS} s after the deploy applied it`);
    }
    clients.log(waiting.map(describe).join('; '));
    return { IsComplete: false };
  }

  const rolledOut = Math.max(started, ...rollouts.map(rollout => (rollout.state === 'complete' && rollout.completedAt) || 0));
  const bakeSeconds = Number(data.Bake);
  const rolled = `${props.Service}: ${tracks.map(track => track.Name).join(' and ')} rolled out`;
  const names = [...new Set([...tracks.flatMap(track => track.Alarms ?? []), ...props.Alarms ?? []])];
  if (bakeSeconds <= 0) return done(clients, `${rolled}; no bake`);
  if (names.length === 0) return done(clients, `${rolled}; no alarms to bake`);
  const bakeEnd = rolledOut + bakeSeconds * 1000;
  let alarms: AlarmState[];
  let history: AlarmHistoryItem[];
  try {
    alarms = await clients.alarms(names);
    history = (await Promise.all(names.map(name => clients.alarmHistory(name, new Date(rolledOut))))).flat();
  } catch (error) {
    if (clients.now() > bakeEnd + DEADLINE_GRACE_SECONDS * 1000) {
      return fail(clients, props.Service, `${props.Service}: the gate cannot read the alarms (${message(error)})`);
    }
    clients.log(`${props.Service}: reading the alarms failed, trying again: ${message(error)}`);
    return { IsComplete: false };
  }
  const bake = bakeOf(props.Service, names, alarms, history, clients.now(), bakeEnd);
  if (bake.state === 'failed') return fail(clients, props.Service, bake.reason);
  if (bake.state === 'baking') {
    clients.log(bake.detail);
    return { IsComplete: false };
  }
  return done(clients, `${rolled}; ${bake.detail} for ${bakeSeconds} s`);
}

function describe(rollout: Rollout): string {
  if (rollout.state === 'waiting') return rollout.diagnosis ? `${rollout.detail} (${rollout.diagnosis})` : rollout.detail;
  if (rollout.state === 'failed') return rollout.reason;
  return 'complete';
}

function done(clients: GateClients, verdict: string): IsCompleteResult {
  clients.log(verdict);
  return { IsComplete: true, Data: { Verdict: verdict.slice(0, 1000) } };
}

/** Reports `reason` and throws it: the framework fails the resource with it, and CloudFormation rolls back. */
async function fail(clients: GateClients, service: string, reason: string): Promise<never> {
  const full = `${reason}. CloudFormation rolls ${service} back to its previous release.`;
  await report(clients, service, full);
  throw new Error(full);
}

async function report(clients: GateClients, service: string, reason: string): Promise<void> {
  clients.log(`FAILED: ${reason}`);
  try {
    await clients.notify(`Release of ${service} refused`.slice(0, 99), reason);
  } catch (error) {
    clients.log(`could not publish to the alarm topic: ${message(error)}`);
  }
}

/** What the API server says of one track: its Deployment, ReplicaSets and pods, and the warnings of its first pod that is not ready. */
async function observe(props: ReleaseGateProperties, track: TrackProperties, clients: GateClients): Promise<TrackObservation> {
  const ns = encodeURIComponent(props.Namespace);
  const base = { service: props.Service, track: track.Name, replicaSets: [], pods: [] };
  let deployment: Deployment;
  try {
    deployment = await clients.kubernetes(`/apis/apps/v1/namespaces/${ns}/deployments/${encodeURIComponent(track.Deployment)}`);
  } catch (error) {
    if (error instanceof KubernetesError && error.status === 404) return base;
    throw error;
  }
  const selector = encodeURIComponent(Object.entries(deployment.spec.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(','));
  const [replicaSets, pods] = await Promise.all([
    clients.kubernetes(`/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=${selector}`).then(list => list.items as ReplicaSet[]),
    clients.kubernetes(`/api/v1/namespaces/${ns}/pods?labelSelector=${selector}`).then(list => list.items as Pod[]),
  ]);
  const unready = firstUnready(podsOfNewReplicaSet(deployment, replicaSets, pods));
  const events: KubernetesEvent[] = unready
    ? (await clients.kubernetes(`/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${unready.metadata.name},type=Warning`)}`)).items
    : [];
  return { ...base, deployment, replicaSets, pods, events };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The clients of the Lambda function: the cluster's API server over its private endpoint, and the AWS SDK of the Node.js runtime. */
export function lambdaClients(env: NodeJS.ProcessEnv = process.env): GateClients {
  // The AWS SDK for JavaScript v3 comes with the Lambda Node.js runtime; each client is loaded when first used.
  const options = { maxAttempts: 5, requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } };
  const sdk = (name: string) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`@aws-sdk/client-${name}`);
  };
  let cloudwatchClient: any;
  const cloudwatch = () => {
    const module = sdk('cloudwatch');
    cloudwatchClient ??= new module.CloudWatchClient(options);
    return { module, client: cloudwatchClient };
  };
  const region = env.AWS_REGION!;
  const endpoint = new URL(env.CLUSTER_ENDPOINT!);
  const ca = Buffer.from(env.CLUSTER_CA!, 'base64').toString('utf8');
  return {
    kubernetes: path => new Promise((resolve, reject) => {
      const token = eksToken(env.CLUSTER_NAME!, region, {
        accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!, sessionToken: env.AWS_SESSION_TOKEN,
      });
      const request = https.request({
        host: endpoint.hostname,
        port: endpoint.port || 443,
        path,
        method: 'GET',
        ca,
        timeout: 10_000,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      }, response => {
        const chunks: Buffer[] = [];
        response.on('data', chunk => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 500;
          if (status >= 200 && status < 300) {
            resolve(JSON.parse(body));
          } else {
            let said = body.slice(0, 300);
            try {
              said = JSON.parse(body).message ?? said;
            } catch {
              // Not a Kubernetes Status: keep the start of the body.
            }
            reject(new KubernetesError(status, `GET ${path.split('?')[0]}: ${status} ${said}`));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error(`GET ${path.split('?')[0]}: timed out`)));
      request.on('error', reject);
      request.end();
    }),
    alarms: async names => {
      const { module, client: cw } = cloudwatch();
      const found: AlarmState[] = [];
      for (let i = 0; i < names.length; i += 100) {
        // Metric alarms only: describing composite alarms needs the permission on every alarm ('*').
        const answer = await cw.send(new module.DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['MetricAlarm'] }));
        found.push(...answer.MetricAlarms ?? []);
      }
      return found;
    },
    alarmHistory: async (name, since) => {
      const { module, client: cw } = cloudwatch();
      const items: AlarmHistoryItem[] = [];
      let token: string | undefined;
      do {
        const answer = await cw.send(new module.DescribeAlarmHistoryCommand({
          AlarmName: name, HistoryItemType: 'StateUpdate', StartDate: since, EndDate: new Date(), AlarmTypes: ['MetricAlarm'], NextToken: token,
        }));
        items.push(...answer.AlarmHistoryItems ?? []);
        token = answer.NextToken;
      } while (token);
      return items;
    },
    stackStatus: async stackId => {
      const cloudformation = sdk('cloudformation');
      const answer = await new cloudformation.CloudFormationClient(options).send(new cloudformation.DescribeStacksCommand({ StackName: stackId }));
      return answer.Stacks[0].StackStatus;
    },
    notify: async (subject, text) => {
      if (!env.ALARM_TOPIC_ARN) return;
      const sns = sdk('sns');
      await new sns.SNSClient(options).send(new sns.PublishCommand({ TopicArn: env.ALARM_TOPIC_ARN, Subject: subject, Message: text }));
    },
    log: text => console.log(text),
    now: () => Date.now(),
  };
}

/** The provider framework's onEvent handler. */
export async function onEvent(event: GateEvent): Promise<{ PhysicalResourceId: string; Data: GateData }> {
  return decideEvent(event, lambdaClients());
}

/** The provider framework's isComplete handler. */
export async function isComplete(event: GateEvent): Promise<IsCompleteResult> {
  return checkWithin(event, lambdaClients(), POLL_SECONDS);
}

/**
 * `checkEvent`, answered within `seconds`: a poll that hangs on an API keeps the
 * gate waiting (to its own deadline), and completes a rollback.
 */
export async function checkWithin(event: GateEvent, clients: GateClients, seconds: number): Promise<IsCompleteResult> {
  return within(seconds, checkEvent(event, clients), () => {
    if (event.Data?.Mode === 'rollback') {
      return done(clients, `${event.ResourceProperties.Service}: rolled back; the gate's reads did not answer in ${seconds} s`);
    }
    clients.log(`${event.ResourceProperties.Service}: this poll's reads did not answer in ${seconds} s; trying again`);
    return { IsComplete: false };
  });
}
