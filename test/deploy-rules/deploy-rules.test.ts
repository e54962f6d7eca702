import { CONFIGURATIONS, deploymentOf } from './configurations';
import { RULES } from './rules';

/**
 * Deploy rules: what AWS and Kubernetes enforce when the platform deploys and
 * runs, checked over every configuration the tests synthesize (root and nested
 * templates, and the Kubernetes objects inside them). Each rule cites its source
 * in ./rules; docs/architecture.md lists what they guarantee.
 */
describe.each(CONFIGURATIONS.map(configuration => [`${configuration.name} (${configuration.flags})`, configuration] as const))('%s', (_name, configuration) => {
  test.each(RULES.map(rule => [rule.id, rule] as const))('%s', (_id, rule) => {
    expect(rule.check(deploymentOf(configuration))).toEqual([]);
  });
});
