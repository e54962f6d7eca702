import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { karpenterErrors } from './karpenter-schema';

/**
 * Every Kubernetes object that the template applies through aws-eks-v2
 * manifests, with CloudFormation references replaced by placeholder text.
 */
export function kubernetesObjects(template: any): any[] {
  const objects: any[] = [];
  for (const resource of Object.values<any>(template.Resources)) {
    if (resource.Type !== 'Custom::AWSCDK-EKS-KubernetesResource') continue;
    objects.push(...JSON.parse(flatten(resource.Properties.Manifest)));
  }
  return objects;
}

function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) {
    const [delimiter, parts] = value['Fn::Join'];
    return parts.map((part: any) => (typeof part === 'string' ? part : 'cfn-reference')).join(delimiter);
  }
  return 'cfn-reference';
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/**
 * Validates `object` against its Kubernetes schema (kubernetes-models, offline).
 * The TargetGroupBinding custom resource has no published model: its required
 * fields are checked here instead; Karpenter's NodePool and EC2NodeClass against
 * their CRDs' schemas, transcribed in ./karpenter-schema.
 */
export function validateKubernetesObject(object: any): void {
  const key = `${object.apiVersion}/${object.kind}`;
  if (key === 'elbv2.k8s.aws/v1beta1/TargetGroupBinding') {
    const spec = object.spec ?? {};
    if (!spec.serviceRef?.name || !spec.serviceRef?.port || !spec.targetGroupARN || !['ip', 'instance'].includes(spec.targetType)) {
      throw new Error(`TargetGroupBinding ${object.metadata?.name} lacks serviceRef, targetGroupARN or targetType`);
    }
    return;
  }
  if (key === 'karpenter.sh/v1/NodePool' || key === 'karpenter.k8s.aws/v1/EC2NodeClass' || key === 'eks.amazonaws.com/v1/NodeClass') {
    const errors = karpenterErrors(object, value => value.includes('cfn-reference'));
    if (errors.length > 0) throw new Error(errors.join('\n'));
    return;
  }
  const Model = MODELS[key];
  if (!Model) {
    throw new Error(`no schema to validate ${key}: add its model to test/support/kubernetes.ts`);
  }
  new Model(object).validate();
}
