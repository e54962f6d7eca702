import { CustomResource, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct, Dependable, IDependable } from 'constructs';
import { DEADLINE_GRACE_SECONDS } from './handler';
import { ReleaseGates } from './index';
import { KubernetesObject } from '../k8s';

/** A service's track, as `ReleaseTrack` names it. */
export type Track = 'stable' | 'canary';

/** How long, at most, the alarms are baked: the gate's whole wait stays below CloudFormation's hour. */
export const MAX_BAKE = Duration.minutes(30);

/** What CloudFormation waits for beyond the gate's own deadline: the last polls, and the framework's answer. */
const SERVICE_TIMEOUT_MARGIN_SECONDS = 300;

export interface ServiceReleaseGateProps {
  readonly gates: ReleaseGates;
  readonly service: string;
  readonly namespace: string;
  readonly bakeTime: Duration;
  readonly progressDeadlineSeconds: number;
  readonly canaryWeight: number;
  readonly stableImage: string;
  readonly canaryImage?: string;
  readonly alarms: cloudwatch.IAlarm[];
}

/**
 * One service's release gate: a `Custom::ReleasePromotion` that the stable
 * track's manifest waits for, and a `Custom::ReleaseGate` that waits for every
 * track's manifest and for its target group to be attached (the pods' readiness
 * gates need the load balancer's health checks). Both are in the service's own
 * stack.
 */
export class ServiceReleaseGate extends Construct {
  /** The promotion check, before the stable track's manifest. */
  public readonly promotion: CustomResource;
  /** The gate, after every track's manifest. */
  public readonly gate: CustomResource;

  private readonly tracks: { name: Track; deployment: string; spec: KubernetesObject }[] = [];
  private readonly alarms = new Map<Track | 'service', cloudwatch.IAlarm[]>();

  constructor(scope: Construct, id: string, props: ServiceReleaseGateProps) {
    super(scope, id);
    this.alarms.set('service', [...props.alarms]);
    const names = (track: Track | 'service') => Lazy.list({ produce: () => (this.alarms.get(track) ?? []).map(alarm => alarm.alarmName) }, { omitEmpty: false });
    const bakeSeconds = String(props.bakeTime.toSeconds());
    this.promotion = new CustomResource(this, 'Promotion', {
      serviceToken: props.gates.serviceToken,
      resourceType: 'Custom::ReleasePromotion',
      serviceTimeout: Duration.minutes(5),
      properties: {
        Service: props.service,
        StableImage: props.stableImage,
        CanaryImage: props.canaryImage ?? '',
        CanaryWeight: String(props.canaryWeight),
        CanaryAlarms: names('canary'),
        BakeSeconds: bakeSeconds,
      },
    });
    const wait = props.progressDeadlineSeconds + DEADLINE_GRACE_SECONDS + props.bakeTime.toSeconds() + SERVICE_TIMEOUT_MARGIN_SECONDS;
    this.gate = new CustomResource(this, 'Gate', {
      serviceToken: props.gates.serviceToken,
      resourceType: 'Custom::ReleaseGate',
      serviceTimeout: Duration.seconds(wait),
      properties: {
        Service: props.service,
        Namespace: props.namespace,
        Tracks: Lazy.any({
          produce: () => this.tracks.map(track => ({
            Name: track.name,
            Deployment: track.deployment,
            Spec: Stack.of(this).toJsonString(track.spec),
            Alarms: names(track.name),
          })),
        }),
        CanaryWeight: String(props.canaryWeight),
        Alarms: names('service'),
        BakeSeconds: bakeSeconds,
        ProgressDeadlineSeconds: String(props.progressDeadlineSeconds),
      },
    });
    // Kubernetes knows the gate's role once its access entry exists.
    this.gate.node.addDependency(props.gates.accessEntry);
    props.gates.addNamespace(props.namespace);
  }

  /** Gates `track`, whose Deployment `spec` `manifest` applies, served by `targetGroup`. */
  public addTrack(name: Track, spec: KubernetesObject, manifest: eks.KubernetesManifest, targetGroup: elbv2.ApplicationTargetGroup): void {
    this.tracks.push({ name, deployment: (spec.metadata as { name: string }).name, spec });
    // The rollout it judges starts when the track's manifest is applied.
    this.gate.node.addDependency(manifest);
    // The pods are ready only once the load balancer health-checks them, so the gate waits
    // for the listener rule that attaches the group: in its own stack only, since an edge
    // in another stack already depends on this one (it forwards to the group).
    // Read when dependencies are resolved: the route is added after the service.
    const attachments: IDependable = {};
    const stack = Stack.of(this);
    Dependable.implement(attachments, {
      get dependencyRoots() {
        return Dependable.of(targetGroup.loadBalancerAttached).dependencyRoots.filter(root => Stack.of(root) === stack);
      },
    });
    // The listener rule, so that the pods can become ready.
    this.gate.node.addDependency(attachments);
    // A promotion is refused before the stable track changes.
    if (name === 'stable') manifest.node.addDependency(this.promotion);
  }

  /** Judges the releases of `track` by `alarms` too. */
  public addAlarms(track: Track, alarms: cloudwatch.IAlarm[]): void {
    this.alarms.set(track, [...this.alarms.get(track) ?? [], ...alarms]);
  }

}
