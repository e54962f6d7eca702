import { NestedStack, Stack } from 'aws-cdk-lib';
import { CodeLearnPlatform, DataAccess, ServiceDefinition } from '../src';
import { allTemplates, TEST_ENV, testApp } from './support/app';

/** CloudFormation's limits on one template. */
const MAX_RESOURCES = 500;
const MAX_OUTPUTS = 200;
const MAX_TEMPLATE_BYTES = 1_000_000;

describe('scale', () => {
  test('64 services fit: one nested stack each, every template within CloudFormation\'s limits', () => {
    const services = (count: number): ServiceDefinition[] => [
      { name: 'api-gateway', access: [DataAccess.CACHE] },
      ...Array.from({ length: count - 1 }, (_, index) => ({
        name: `service-${index + 1}`, path: `/api/s${index + 1}/*`, access: [DataAccess.DATABASE, DataAccess.CACHE, DataAccess.MESSAGING, DataAccess.UPLOADS],
      })),
    ];
    const synthesize = (count: number) => {
      // As `cdk synth` writes templates: with each resource's path in its metadata,
      // which CloudFormation counts against the 1 MB too.
      const app = testApp();
      app.node.setContext('aws:cdk:enable-path-metadata', true);
      const stack = new Stack(app, 'Test', { env: TEST_ENV });
      const platform = new CodeLearnPlatform(stack, 'Platform', { services: services(count) });
      return { platform, templates: allTemplates(stack) };
    };
    const { platform, templates: [root, ...nested] } = synthesize(64);

    expect(nested).toHaveLength(64);
    expect(Object.values(platform.services).every(service => NestedStack.isNestedStack(service.node.scope))).toBe(true);
    const sizes = [root, ...nested].map(template => ({
      resources: Object.keys(template.Resources).length,
      outputs: Object.keys(template.Outputs ?? {}).length,
      // As the CDK writes it (indented by one space), which is what CloudFormation reads.
      bytes: Buffer.byteLength(JSON.stringify(template, undefined, 1)),
    }));
    for (const size of sizes) {
      expect(size.resources).toBeLessThanOrEqual(MAX_RESOURCES);
      expect(size.outputs).toBeLessThanOrEqual(MAX_OUTPUTS);
      expect(size.bytes).toBeLessThan(MAX_TEMPLATE_BYTES);
    }
    // The platform's own stack grows by three resources a service: its repository, its
    // stack, and its cache user (the cache's user group, in this stack, lists it).
    const [oneServiceRoot] = synthesize(2).templates;
    expect(sizes[0].resources - Object.keys(oneServiceRoot.Resources).length).toBe(3 * 62);
    // A service's stack holds the same thirteen resources whatever the number of services
    // (its restarts alarm among them: restarts are alarmed per Deployment; and its release
    // gate and promotion check).
    expect(new Set(sizes.slice(1).map(size => size.resources))).toEqual(new Set([13]));
    // The platform's template stays well within the 1 MB at 64 services.
    expect(sizes[0].bytes).toBeLessThan(0.9 * MAX_TEMPLATE_BYTES);
  });
});
