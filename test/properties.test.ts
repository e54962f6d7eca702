import { App } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { CodeLearnPlatform, CodeLearnPlatformProps, PlatformProfile } from '../src';
import { TEST_ENV, testStack } from './support/app';
import { complianceFindings } from './support/nag';

/**
 * Any combination of these props either synthesizes into a platform the four
 * packs find clean (and, in strict runs, that the CloudFormation schemas accept),
 * or fails with our own error naming the offending property: never a crash from
 * deep inside aws-cdk-lib.
 */
/** Mostly a valid value, sometimes a wrong one, sometimes left out. */
function field<T>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { arbitrary: valid, weight: 6 },
    { arbitrary: wrong, weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 3 },
  );
}

const props: fc.Arbitrary<CodeLearnPlatformProps> = fc.record({
  profile: fc.constantFrom(PlatformProfile.PRODUCTION, PlatformProfile.DEVELOPMENT),
  network: fc.record({
    cidr: field(fc.constantFrom('10.0.0.0/16', '10.20.0.0/18', '172.16.0.0/20', '192.168.0.0/16'),
      fc.tuple(fc.nat(300), fc.nat(300), fc.integer({ min: 8, max: 28 })).map(([a, b, p]) => `${a}.${b}.0.0/${p}`)),
    maxAzs: field(fc.integer({ min: 2, max: 3 }), fc.integer({ min: -1, max: 1 })),
  }),
  cluster: fc.record({
    nodes: field(
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }))
        .map(([min, extra, up]) => ({ minSize: min, maxSize: min + extra + up, desiredSize: min + extra })),
      fc.record({
        minSize: fc.integer({ min: -1, max: 12 }), maxSize: fc.integer({ min: 0, max: 12 }), desiredSize: fc.integer({ min: 0, max: 12 }),
      })),
    spot: field(fc.boolean(), fc.constant(false)),
  }),
  database: fc.record({
    readReplicas: field(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 6, max: 9 })),
    allocatedStorage: field(fc.integer({ min: 20, max: 300 }), fc.integer({ min: 0, max: 19 })),
    multiAz: field(fc.boolean(), fc.boolean()),
    proxy: field(fc.boolean(), fc.boolean()),
  }),
  cache: fc.record({
    shards: field(fc.integer({ min: 1, max: 3 }), fc.constant(0)),
    replicasPerShard: field(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 6, max: 9 })),
  }),
  services: field(
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 100 }), fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }))
      .map(([extra, cpuTarget, weight]) => [
        { name: 'api-gateway', cpuTarget },
        ...['feed', 'search'].slice(0, extra).map(name => ({ name, path: `/api/${name}/*`, canary: weight === undefined ? undefined : { weight } })),
      ]),
    fc.constantFrom([{ name: 'Bad_Name' }], [{ name: 'a' }, { name: 'b' }], [{ name: 'a', cpuTarget: 0 }], [{ name: 'a', canary: { weight: 120 } }])),
  edge: fc.record({ rateLimit: field(fc.integer({ min: 10, max: 5000 }), fc.integer({ min: 0, max: 9 })) }),
});

/** Our errors name the property in backticks, or speak of node scaling's CPU target. */
const OUR_ERROR = /`[A-Za-z][\w.\-[\]]*`|^The CPU target of node scaling/;

let synthesized = 0;

function check(input: CodeLearnPlatformProps, strict: boolean): void {
  const stack = testStack({ env: TEST_ENV, strict });
  try {
    new CodeLearnPlatform(stack, 'Platform', { ...input, complianceChecks: false });
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    // A ValidationError of ours, not a crash (a TypeError, say) on the way.
    expect((error as Error).name).toBe('ValidationError');
    expect((error as Error).message).toMatch(OUR_ERROR);
    return;
  }
  synthesized++;
  expect(complianceFindings(stack)).toEqual([]);
  if (strict) {
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  }
}

describe('properties of the platform\'s props', () => {
  test('any combination synthesizes clean or fails with an error that names the property', () => {
    fc.assert(fc.property(props, input => check(input, false)), { numRuns: 40, seed: 42 });
    // The generator must reach the synthesis, not only the errors.
    expect(synthesized).toBeGreaterThanOrEqual(10);
  }, 300_000);

  test('combinations that synthesize pass the strict CloudFormation schema validation', () => {
    fc.assert(fc.property(props, input => check(input, true)), { numRuns: 8, seed: 7 });
  }, 300_000);
});
