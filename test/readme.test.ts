import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import * as ts from 'typescript';
import * as library from '../src';

/**
 * Every whole program of the README (a TypeScript block that makes an `App`) runs
 * as a user's `bin/app.ts` would: with the feature flags `cdk init` writes, against
 * the library's sources, and synthesizes, the platform's cdk-nag packs included.
 * CI runs the same programs in a real `cdk init` app with the packed library
 * (.ci/install-test.sh).
 */
function readmePrograms(): { title: string; code: string }[] {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts nofixture\n([\s\S]*?)```/g)]
    .map(match => match[1])
    .filter(code => code.includes('new App('))
    .map((code, index) => ({ title: `${index + 1}: ${[...code.matchAll(/new Stack\(app, '([^']+)'/g)].map(match => match[1]).join(' + ')}`, code }));
}

/** Runs `code` as a CommonJS module, and returns the apps it made. */
function run(code: string): cdk.App[] {
  const apps: cdk.App[] = [];
  const root = path.join(os.tmpdir(), 'cdk-codelearn-platform-tests');
  fs.mkdirSync(root, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(root, 'readme-'));
  // The app the program makes, with the context a `cdk init` app has, and no auto-synthesis.
  class UserApp extends cdk.App {
    constructor(props: cdk.AppProps = {}) {
      super({
        ...props,
        outdir,
        autoSynth: false,
        context: { ...CURRENTLY_RECOMMENDED_FLAGS, 'aws:cdk:disable-asset-staging': true, ...props.context },
      });
      apps.push(this);
    }
  }
  const modules: Record<string, unknown> = {
    'aws-cdk-lib': { ...cdk, App: UserApp },
    'cdk-codelearn-platform': library,
  };
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (name: string) => modules[name] ?? require(name);
  new Function('require', 'exports', js)(load, {});
  return apps;
}

describe('the README\'s programs', () => {
  const programs = readmePrograms();

  test('are the whole platform and its scenarios', () => {
    expect(programs.map(program => program.title)).toEqual([
      '1: CodeLearn', '2: CodeLearn', '3: CodeLearnDev', '4: CodeLearn', '5: CodeLearn', '6: CodeLearnGlobal + CodeLearn', '7: CodeLearn', '8: CodeLearnData', '9: CodeLearnKarpenter',
      '10: CodeLearnAutoMode',
    ]);
  });

  test.each(programs.map(program => [program.title, program.code]))('%s synthesizes with the flags of cdk init', (_title, code) => {
    const apps = run(code);
    expect(apps).toHaveLength(1);
    const assembly = apps[0].synth();
    expect(assembly.stacks.length).toBeGreaterThan(0);
    for (const stack of assembly.stacks) {
      expect(Object.keys(stack.template.Resources ?? {}).length).toBeGreaterThan(0);
    }
    const warnings = assembly.stacks.flatMap(stack => stack.messages).filter(message => message.level === 'warning')
      .map(message => String(message.entry.data).replace(/ \[ack: .*$/, ''));
    // The only warnings are the ones the README explains: an environment-agnostic
    // stack's CloudFront IP rules, and the development profile's trade-offs.
    const explained = /^(The stack is environment-agnostic: the rate limit and IP reputation rules|The development profile trades|The cluster runs one small|The database runs in one|The broker runs)/;
    expect(warnings.filter(warning => !explained.test(warning))).toEqual([]);
  });

  test('the Kafka scenario spans the three zones it promises, a broker in each', () => {
    const kafka = programs.find(program => program.code.includes('MessageBroker.kafka()'))!;
    const [stack] = run(kafka.code)[0].synth().stacks;
    const resources = Object.values(stack.template.Resources) as any[];
    const zones = new Set(resources.filter(resource => resource.Type === 'AWS::EC2::Subnet').map(subnet => JSON.stringify(subnet.Properties.AvailabilityZoneId ?? subnet.Properties.AvailabilityZone)));
    expect(zones.size).toBe(3);
    expect(resources.find(resource => resource.Type === 'AWS::MSK::Cluster').Properties.NumberOfBrokerNodes).toBe(3);
  });
});
