import { Stack } from 'aws-cdk-lib';
import { Deployment } from './deployment';
import { CodeLearnPlatform, ServiceDefinition } from '../../src';
import { Flags, testApp } from '../support/app';

/**
 * A service's nested stack must not change when other services are added,
 * removed or reordered: CloudFormation would update it, and a listener rule that
 * moves onto a priority another rule still holds fails with `PriorityInUse`.
 * Rule priorities, names and every other property of a service's resources must
 * come from the service alone.
 */
describe('each service\'s resources depend on that service alone', () => {
  // Without the gateway's calls: a call is part of both services' definitions, so
  // removing a callee rightly changes its caller's policy; this is about the rest.
  const services = CodeLearnPlatform.defaultServices().map(({ calls: _calls, ...service }) => service);
  const templatesOf = (list: ServiceDefinition[]): Map<string, any> => {
    const app = testApp({ flags: Flags.CDK_INIT });
    new CodeLearnPlatform(new Stack(app, 'CodeLearn'), 'Platform', { services: list });
    const deployment = Deployment.of('variant', app);
    return new Map(deployment.templates.filter(template => template.parent)
      .map(template => [/\/Services\/([^/]+)\/Stack$/.exec(template.path)![1], template.template]));
  };
  const original = templatesOf(services);

  test.each([
    ['removing a service', services.filter(service => service.name !== 'user-service')],
    ['adding a service before the others', [{ name: 'feed-service', path: '/api/feed/*' }, ...services]],
    ['reversing the order', [...services].reverse()],
  ])('%s', (_name, variant) => {
    const changed = templatesOf(variant);
    const kept = [...changed.keys()].filter(name => original.has(name));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    for (const name of kept) {
      expect({ name, template: changed.get(name) }).toEqual({ name, template: original.get(name) });
    }
  });
});
