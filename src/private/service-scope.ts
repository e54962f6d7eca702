import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { pascalCase } from './names';
import type { Microservice } from '../compute/microservice';

/**
 * Where `owner` (the edge, the observability) puts a resource that belongs to one
 * service, such as its listener rule or its alarms, and under which ID.
 *
 * In the service's scope when the service lives in a nested stack of the owner's
 * stack, as in the platform: the resource then deploys with the service, and the
 * owner's stack does not grow with the number of services. Otherwise in the
 * owner's scope, named after the service: a service in a stack of its own then
 * never refers back to the owner's stack, which refers to it.
 */
export function serviceScope(owner: Construct, service: Microservice, id: string): { scope: Construct; id: string } {
  const nestedInOwner = Stack.of(service).nestedStackParent === Stack.of(owner);
  return nestedInOwner ? { scope: service, id } : { scope: owner, id: `${pascalCase(service.serviceName)}${id}` };
}
