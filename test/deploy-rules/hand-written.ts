import { CfnResource, Stack } from 'aws-cdk-lib';
import { Deployment } from './deployment';
import { testApp } from '../support/app';

/** The deployment of a stack `name` of hand-written resources, for a rule's test that it can fail. */
export function handWritten(name: string, build: (stack: Stack) => void): Deployment {
  const app = testApp();
  build(new Stack(app, name));
  return Deployment.of('hand-written', app);
}

/** An aws-eks-v2 manifest of `objects`, as the deployment reads one. */
export function manifest(stack: Stack, id: string, objects: object[]): CfnResource {
  return new CfnResource(stack, id, { type: 'Custom::AWSCDK-EKS-KubernetesResource', properties: { Manifest: JSON.stringify(objects) } });
}
