import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { pascalCase } from './names';
import { requireKubernetesName, requireOwnNamespace } from './validate';

/**
 * Kubernetes objects as plain typed values. Only the fields the platform writes
 * are typed; the tests validate every object against the Kubernetes schemas.
 */

/** The label of every node's capacity (`Cluster.CAPACITY_LABEL`), and the key of the spot nodes' taint. */
export const CAPACITY_KEY = 'codelearn.dev/capacity';

/** A Kubernetes object, ready for a manifest. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** An environment variable: a value, or a key of a ConfigMap in the pod's namespace. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly configMapKeyRef: { readonly name: string; readonly key: string } };
}

/** What a workload is made of. */
export interface WorkloadSpec {
  readonly name: string;
  readonly serviceAccountName: string;
  readonly namespace: string;
  readonly image: string;
  readonly port: number;
  readonly healthCheckPath: string;
  readonly env: EnvVar[];
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTarget: number;
  readonly memoryTarget?: number;
  readonly preStopSeconds: number;
  readonly spot: boolean;
  readonly spotTaintKey: string;
  /** The capacity labels a spot pod must run on, when the cluster's node scaling says so. */
  readonly requiredSpotCapacity?: string[];
  /** The target group the pods register in: none for a workload that only other pods call. */
  readonly targetGroupArn?: string;
  /** The Service's port for the load balancer's binding: none for a workload that only other pods call. */
  readonly servicePort?: number;
  /** Pods that run untrusted code, apart from every other workload. */
  readonly sandbox?: SandboxPlacement;
  /** The numeric user and group the containers run as. */
  readonly runAsUser: number;
  readonly runAsGroup: number;
}

/**
 * Where and how a sandbox's pods run: only on the nodes labelled and tainted
 * `nodeKey=nodeValue`, without a service-account token or the environment
 * variables of the namespace's Services, with a cap on local disk.
 */
export interface SandboxPlacement {
  readonly nodeKey: string;
  readonly nodeValue: string;
  /** The request and limit of local disk (the writable layer, logs and /tmp). */
  readonly ephemeralStorage: string;
  /** The size of the writable /tmp. */
  readonly tmpSize: string;
  readonly runtimeClassName?: string;
}

/** The labels that select a workload's pods. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}

function labels(name: string): Record<string, string> {
  return { ...selectorLabels(name), 'app.kubernetes.io/part-of': 'codelearn', 'app.kubernetes.io/managed-by': 'aws-cdk' };
}

/**
 * A namespace that enforces the restricted Pod Security Standard, and in which
 * the AWS Load Balancer Controller gives pods behind a TargetGroupBinding its
 * readiness gate: a new pod counts as ready only once the load balancer finds
 * it healthy, so a rolling update never retires old pods early.
 */
export function namespace(name: string, readinessGates = true): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        // Without target groups, a namespace leaves the controller's pod webhook out: it fails closed.
        ...(readinessGates ? { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } : {}),
        'app.kubernetes.io/part-of': 'codelearn',
      },
    },
  };
}

/**
 * The policy that denies every pod of `inNamespace` all traffic in and out, which
 * each workload's own policy then opens as it needs: a pod that no other policy
 * selects reaches nothing and is reached by nothing.
 */
export function defaultDeny(inNamespace: string): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: inNamespace, labels: { 'app.kubernetes.io/part-of': 'codelearn' } },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
}

export function configMap(name: string, inNamespace: string, data: Record<string, string>): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: inNamespace, labels: { 'app.kubernetes.io/part-of': 'codelearn' } },
    data,
  };
}

export function serviceAccount(spec: WorkloadSpec): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: spec.serviceAccountName, namespace: spec.namespace, labels: labels(spec.serviceAccountName) },
    // A sandbox's pods hold no credential to the Kubernetes API.
    ...(spec.sandbox ? { automountServiceAccountToken: false } : {}),
  };
}

/**
 * Every object of one workload track but its TargetGroupBinding, in the order
 * kubectl applies them. The binding is a manifest of its own, applied before
 * these (the Load Balancer Controller injects a pod's readiness gate only when
 * the binding exists as the pod is created), because kubectl's prune does not
 * delete custom resources and a binding's target group is immutable.
 */
export function workload(spec: WorkloadSpec): KubernetesObject[] {
  return [service(spec), deployment(spec), horizontalPodAutoscaler(spec), podDisruptionBudget(spec)];
}

/**
 * The name of the TargetGroupBinding of workload `name` whose target group
 * listens on `port`. A change of port replaces the target group, and the
 * controller's webhook refuses to point a binding at another one
 * (`spec.targetGroupARN` is immutable): the new group gets a new binding.
 */
export function bindingName(name: string, port: number): string {
  return `${name}-${port}`;
}

/** How long a Deployment's rollout may go without progress before Kubernetes reports ProgressDeadlineExceeded. */
export const PROGRESS_DEADLINE_SECONDS = 600;

/**
 * A Deployment that never drops below its ready capacity: rolling updates with
 * maxUnavailable 0, startup, readiness and liveness probes, a preStop pause that
 * outlasts the load balancer's deregistration, zone spread, and a restricted
 * security context with a read-only root filesystem.
 */
export function deployment(spec: WorkloadSpec): KubernetesObject {
  // Readiness asks the service (and so its dependencies) whether it can serve; the
  // startup and liveness probes only ask whether the process listens, so that an
  // outage of the database or cache takes pods out of the load balancer but never
  // restarts them.
  const listening = (periodSeconds: number, failureThreshold: number) => ({
    tcpSocket: { port: 'http' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const ready = {
    httpGet: { path: spec.healthCheckPath, port: 'http' },
    periodSeconds: 5,
    timeoutSeconds: 2,
    failureThreshold: 3,
  };
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selectorLabels(spec.name) },
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace: spec.namespace, labels: labels(spec.name) },
    spec: {
      // No replica count: the HorizontalPodAutoscaler owns it, so a deploy never resets it.
      revisionHistoryLimit: 5,
      minReadySeconds: 5,
      // Said, though it is Kubernetes' default: the release gate waits as long, and no longer.
      progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      selector: { matchLabels: selectorLabels(spec.name) },
      template: {
        metadata: {
          labels: labels(spec.name),
          // /tmp holds nothing worth keeping: the Cluster Autoscaler may drain the node.
          annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes': 'tmp' },
        },
        spec: {
          serviceAccountName: spec.serviceAccountName,
          terminationGracePeriodSeconds: spec.preStopSeconds + 30,
          // A numeric user: the kubelet refuses runAsNonRoot for an image whose user is root or a name.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: spec.runAsUser,
            runAsGroup: spec.runAsGroup,
            fsGroup: spec.runAsGroup,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')],
          ...(spec.spot ? {
            tolerations: [{ key: spec.spotTaintKey, operator: 'Equal', value: 'spot', effect: 'NoSchedule' }],
            affinity: {
              nodeAffinity: {
                ...(spec.requiredSpotCapacity ? {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: spec.spotTaintKey, operator: 'In', values: spec.requiredSpotCapacity }] }],
                  },
                } : {}),
                preferredDuringSchedulingIgnoredDuringExecution: [{
                  weight: 100,
                  preference: { matchExpressions: [{ key: spec.spotTaintKey, operator: 'In', values: ['spot'] }] },
                }],
              },
            },
          } : {}),
          ...(spec.sandbox ? {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            nodeSelector: { [spec.sandbox.nodeKey]: spec.sandbox.nodeValue },
            tolerations: [{ key: spec.sandbox.nodeKey, operator: 'Equal', value: spec.sandbox.nodeValue, effect: 'NoSchedule' }],
            ...(spec.sandbox.runtimeClassName ? { runtimeClassName: spec.sandbox.runtimeClassName } : {}),
          } : {}),
          containers: [{
            name: spec.name,
            image: spec.image,
            ports: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
            env: spec.env,
            resources: {
              requests: { cpu: spec.cpuRequest, memory: spec.memoryRequest, ...localDisk(spec) },
              limits: { cpu: spec.cpuLimit, memory: spec.memoryLimit, ...localDisk(spec) },
            },
            startupProbe: listening(5, 30),
            readinessProbe: ready,
            livenessProbe: listening(10, 3),
            lifecycle: { preStop: { sleep: { seconds: spec.preStopSeconds } } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: spec.runAsUser,
              runAsGroup: spec.runAsGroup,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: spec.sandbox?.tmpSize ?? '256Mi' } }],
        },
      },
    },
  };
}

/** A sandbox's cap on local disk, as a request and a limit. */
function localDisk(spec: WorkloadSpec): Record<string, string> {
  return spec.sandbox ? { 'ephemeral-storage': spec.sandbox.ephemeralStorage } : {};
}

export function service(spec: WorkloadSpec): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace: spec.namespace, labels: labels(spec.name) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec.name),
      // The container's own port first, for calls from other services; port 80 for the load balancer's
      // binding. The VPC CNI admits a call to a Service's ClusterIP only on the first Service port whose
      // target is the policy's port, and the EKS guide asks that this port be the container's.
      ports: [
        { name: 'direct', port: spec.port, targetPort: spec.port, protocol: 'TCP' },
        ...(spec.servicePort !== undefined ? [{ name: 'http', port: spec.servicePort, targetPort: 'http', protocol: 'TCP' }] : []),
      ],
    },
  };
}

export function horizontalPodAutoscaler(spec: WorkloadSpec): KubernetesObject {
  const utilization = (resource: string, averageUtilization: number) => ({
    type: 'Resource',
    resource: { name: resource, target: { type: 'Utilization', averageUtilization } },
  });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: spec.name, namespace: spec.namespace, labels: labels(spec.name) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name },
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      metrics: [
        utilization('cpu', spec.cpuTarget),
        ...(spec.memoryTarget !== undefined ? [utilization('memory', spec.memoryTarget)] : []),
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  };
}

export function podDisruptionBudget(spec: WorkloadSpec): KubernetesObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: spec.name, namespace: spec.namespace, labels: labels(spec.name) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(spec.name) } },
  };
}

/** Registers the Service's pods, by IP, in a target group that CDK owns. */
export function targetGroupBinding(spec: WorkloadSpec): KubernetesObject {
  if (spec.targetGroupArn === undefined || spec.servicePort === undefined) {
    throw new Error(`${spec.name} has no target group to bind.`);
  }
  return {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: { name: bindingName(spec.name, spec.port), namespace: spec.namespace, labels: labels(spec.name) },
    spec: {
      serviceRef: { name: spec.name, port: spec.servicePort },
      targetGroupARN: spec.targetGroupArn,
      targetType: 'ip',
    },
  };
}

/**
 * The Namespace object `name` of `cluster`, in `scope` as `Namespace<Name>`,
 * made on the first call and found in `namespaces` after. `readinessGates`
 * labels it for the Load Balancer Controller's readiness gates (for workloads
 * behind target groups).
 */
export function namespaceOnce(scope: Construct, cluster: eks.ICluster, namespaces: Map<string, eks.KubernetesManifest>,
  name: string, created?: (manifest: eks.KubernetesManifest) => void, readinessGates = true): eks.KubernetesManifest {
  requireKubernetesName('namespace', name);
  requireOwnNamespace('namespace', name);
  let manifest = namespaces.get(name);
  if (!manifest) {
    manifest = new eks.KubernetesManifest(scope, `Namespace${pascalCase(name)}`, {
      cluster,
      manifest: [namespace(name, readinessGates)],
      overwrite: true,
    });
    created?.(manifest);
    namespaces.set(name, manifest);
  }
  return manifest;
}

