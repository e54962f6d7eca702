/**
 * What the release gate decides, from what the Kubernetes API and CloudWatch
 * answer: whether a track's rollout is done, still going, or has failed and why;
 * and whether the alarms stayed OK for the bake. No I/O here: the handler
 * reads, this module judges, and its tests feed it recorded answers.
 */

/** The parts of a Kubernetes object's metadata the gate reads. */
export interface ObjectMeta {
  readonly name: string;
  readonly generation?: number;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly creationTimestamp?: string;
}

export interface DeploymentCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
}

/** An apps/v1 Deployment, as `GET .../deployments/<name>` returns it. */
export interface Deployment {
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas?: number;
    readonly progressDeadlineSeconds?: number;
    readonly selector: { readonly matchLabels?: Record<string, string> };
  };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
    readonly conditions?: DeploymentCondition[];
  };
}

export interface ReplicaSet {
  readonly metadata: ObjectMeta;
}

export interface ContainerStatus {
  readonly name: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: {
    readonly waiting?: { readonly reason?: string; readonly message?: string };
    readonly terminated?: { readonly reason?: string; readonly exitCode?: number; readonly message?: string };
  };
  readonly lastState?: { readonly terminated?: { readonly reason?: string; readonly exitCode?: number } };
}

export interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface Pod {
  readonly metadata: ObjectMeta;
  readonly status?: {
    readonly phase?: string;
    readonly conditions?: PodCondition[];
    readonly initContainerStatuses?: ContainerStatus[];
    readonly containerStatuses?: ContainerStatus[];
  };
}

/** A core/v1 Event about a pod. */
export interface KubernetesEvent {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTimestamp?: string;
  readonly eventTime?: string;
  readonly count?: number;
}

/** What the gate saw of one track. */
export interface TrackObservation {
  /** The service's name, for messages. */
  readonly service: string;
  /** 'stable' or 'canary'. */
  readonly track: string;
  /** Undefined when the Deployment does not exist. */
  readonly deployment?: Deployment;
  readonly replicaSets: ReplicaSet[];
  readonly pods: Pod[];
  /** Warning events of the first pod that is not ready, when the gate asked for them. */
  readonly events?: KubernetesEvent[];
}

export type Rollout =
  | { readonly state: 'complete'; readonly completedAt?: number }
  | { readonly state: 'waiting'; readonly detail: string; readonly diagnosis?: string }
  | { readonly state: 'failed'; readonly reason: string };

const REVISION = 'deployment.kubernetes.io/revision';

/**
 * Waiting reasons that do not heal by waiting: the image cannot be pulled or
 * named. A crash loop fails once the container has restarted
 * `CRASH_LOOP_RESTARTS` times.
 */
const HOPELESS_WAITING = ['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'];
export const CRASH_LOOP_RESTARTS = 3;

/**
 * The rollout of one track, judged as `kubectl rollout status` judges it (the
 * controller has seen the newest spec; every replica runs it and is available;
 * no old replica is left), and failed early when a condition or a pod says it
 * cannot finish.
 */
export function rolloutOf(observation: TrackObservation): Rollout {
  const { deployment } = observation;
  const name = `${observation.service} (${observation.track} track)`;
  if (!deployment) {
    return { state: 'waiting', detail: `${name}: its Deployment does not exist yet` };
  }
  const status = deployment.status ?? {};
  const conditions = status.conditions ?? [];
  const newPods = podsOfNewReplicaSet(deployment, observation.replicaSets, observation.pods);
  const failure = conditions.find(condition => condition.type === 'ReplicaFailure' && condition.status === 'True');
  if (failure) {
    return { state: 'failed', reason: `${name}: Kubernetes cannot create its pods (${failure.reason ?? 'ReplicaFailure'}: ${failure.message ?? 'no message'})` };
  }
  const hopeless = hopelessPod(newPods);
  if (hopeless) {
    return { state: 'failed', reason: `${name}: its new pods cannot start: ${hopeless}` };
  }
  const progressing = conditions.find(condition => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const seconds = deployment.spec.progressDeadlineSeconds ?? 600;
    return {
      state: 'failed',
      reason: `${name}: the rollout made no progress for ${seconds} s (ProgressDeadlineExceeded): ${diagnose(newPods, observation.events) ?? 'no pod of the new release says why'}`,
    };
  }
  const generation = deployment.metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { state: 'waiting', detail: `${name}: the Deployment controller has not yet seen generation ${generation}` };
  }
  const wanted = deployment.spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const waiting = (detail: string): Rollout => ({ state: 'waiting', detail: `${name}: ${detail}`, diagnosis: diagnose(newPods, observation.events) });
  if (updated < wanted) return waiting(`${updated} of ${wanted} replicas run the new release`);
  if (total > updated) return waiting(`${total - updated} old replicas are still terminating`);
  if (available < updated) return waiting(`${available} of ${updated} new replicas are available`);
  const completed = progressing?.reason === 'NewReplicaSetAvailable' ? Date.parse(progressing.lastUpdateTime ?? progressing.lastTransitionTime ?? '') : NaN;
  return { state: 'complete', completedAt: Number.isNaN(completed) ? undefined : completed };
}

/** The pods of the Deployment's newest ReplicaSet (its revision), by their pod-template-hash. */
export function podsOfNewReplicaSet(deployment: Deployment, replicaSets: ReplicaSet[], pods: Pod[]): Pod[] {
  const revision = deployment.metadata.annotations?.[REVISION];
  const newest = replicaSets.find(set => revision !== undefined && set.metadata.annotations?.[REVISION] === revision);
  const hash = newest?.metadata.labels?.['pod-template-hash'];
  if (!hash) return [];
  return pods.filter(pod => pod.metadata.labels?.['pod-template-hash'] === hash);
}

function containers(pod: Pod): ContainerStatus[] {
  return [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []];
}

/** The first pod whose container cannot start however long the gate waits, described. */
function hopelessPod(pods: Pod[]): string | undefined {
  for (const pod of pods) {
    for (const container of containers(pod)) {
      const waiting = container.state?.waiting;
      const restarts = container.restartCount ?? 0;
      if (waiting?.reason && (HOPELESS_WAITING.includes(waiting.reason) || (waiting.reason === 'CrashLoopBackOff' && restarts >= CRASH_LOOP_RESTARTS))) {
        return describeContainer(pod, container);
      }
    }
  }
  return undefined;
}

function describeContainer(pod: Pod, container: ContainerStatus): string {
  const waiting = container.state?.waiting;
  const restarts = container.restartCount ?? 0;
  const last = container.lastState?.terminated;
  const parts = [`pod ${pod.metadata.name}, container ${container.name}: ${waiting?.reason ?? 'not ready'}`];
  if (restarts > 0) parts.push(` after ${restarts} restart${restarts === 1 ? '' : 's'}`);
  if (last) parts.push(` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode ?? '?'})`);
  if (waiting?.message) parts.push(`: ${waiting.message}`);
  return parts.join('');
}

/**
 * Why the first pod of the new release that is not ready is not: a container's
 * waiting reason, a condition that is false (unschedulable, a readiness gate of
 * the load balancer), or its latest warning event.
 */
export function diagnose(pods: Pod[], events: KubernetesEvent[] = []): string | undefined {
  const pod = firstUnready(pods);
  if (!pod) return undefined;
  const container = containers(pod).find(status => status.state?.waiting?.reason || !status.ready);
  if (container?.state?.waiting?.reason) return describeContainer(pod, container);
  const warning = [...events].filter(event => event.type === 'Warning')
    .sort((a, b) => Date.parse(b.lastTimestamp ?? b.eventTime ?? '') - Date.parse(a.lastTimestamp ?? a.eventTime ?? ''))[0];
  const failing = (pod.status?.conditions ?? []).find(condition => condition.status !== 'True' && condition.type !== 'Ready' && condition.type !== 'ContainersReady');
  if (failing) {
    const said = failing.message ?? failing.reason ?? 'False';
    return `pod ${pod.metadata.name}: condition ${failing.type} is ${failing.status} (${said})${warning ? `; last warning: ${warning.reason}: ${warning.message}` : ''}`;
  }
  if (warning) return `pod ${pod.metadata.name}: ${warning.reason}: ${warning.message}`;
  if (container) return `pod ${pod.metadata.name}, container ${container.name}: not ready`;
  return `pod ${pod.metadata.name}: ${pod.status?.phase ?? 'Pending'}, not ready`;
}

/** The first pod that is not ready, if any. */
export function firstUnready(pods: Pod[]): Pod | undefined {
  return pods.find(pod => !(pod.status?.conditions ?? []).some(condition => condition.type === 'Ready' && condition.status === 'True'));
}

/** A metric alarm as DescribeAlarms returns it. */
export interface AlarmState {
  readonly AlarmName: string;
  readonly StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | string;
  readonly StateReason?: string;
}

/** An entry of DescribeAlarmHistory (HistoryItemType StateUpdate). */
export interface AlarmHistoryItem {
  readonly AlarmName: string;
  readonly Timestamp: string | Date;
  readonly HistorySummary?: string;
  readonly HistoryData?: string;
}

export type Bake =
  | { readonly state: 'ok'; readonly detail: string }
  | { readonly state: 'baking'; readonly detail: string }
  | { readonly state: 'failed'; readonly reason: string };

/**
 * Whether `names` stayed out of ALARM from `since` until now, and whether the
 * bake is over (`until`). An alarm without data (INSUFFICIENT_DATA) does not
 * fail a release: no traffic is not a bad release; it is reported. An alarm
 * that does not exist fails it: the gate would otherwise vouch for nothing.
 */
export function bakeOf(service: string, names: string[], alarms: AlarmState[], history: AlarmHistoryItem[], now: number, until: number): Bake {
  const missing = names.filter(name => !alarms.some(alarm => alarm.AlarmName === name));
  if (missing.length > 0) {
    return { state: 'failed', reason: `${service}: the alarm${missing.length === 1 ? '' : 's'} ${missing.join(', ')} that the release is judged by do${missing.length === 1 ? 'es' : ''} not exist` };
  }
  const firing = alarms.find(alarm => alarm.StateValue === 'ALARM');
  if (firing) {
    return { state: 'failed', reason: `${service}: the alarm ${firing.AlarmName} is in ALARM during the bake (${firing.StateReason ?? 'no reason given'})` };
  }
  const fired = history.find(item => wentToAlarm(item));
  if (fired) {
    return { state: 'failed', reason: `${service}: the alarm ${fired.AlarmName} went to ALARM during the bake, at ${new Date(fired.Timestamp).toISOString()} (${fired.HistorySummary ?? 'state update'})` };
  }
  const silent = alarms.filter(alarm => alarm.StateValue === 'INSUFFICIENT_DATA').map(alarm => alarm.AlarmName);
  const note = silent.length > 0 ? `; without data: ${silent.join(', ')}` : '';
  if (now < until) {
    return { state: 'baking', detail: `${service}: ${names.length} alarms OK, ${Math.ceil((until - now) / 1000)} s of bake left${note}` };
  }
  return { state: 'ok', detail: `${names.length} alarm${names.length === 1 ? '' : 's'} stayed out of ALARM${note}` };
}

/** Whether a StateUpdate history item is a change to ALARM. */
export function wentToAlarm(item: AlarmHistoryItem): boolean {
  try {
    const data = JSON.parse(item.HistoryData ?? '{}');
    if (data?.newState?.stateValue) return data.newState.stateValue === 'ALARM';
  } catch {
    // Fall back on the summary, "Alarm updated from OK to ALARM".
  }
  return /\bto ALARM\b/.test(item.HistorySummary ?? '');
}
