import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, NestedStack, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';

const OUT_ROOT = path.join(os.tmpdir(), 'cdk-codelearn-platform-tests');

/** How an app is configured: bare, or with the feature flags `cdk init` writes. */
export enum Flags {
  /** No feature flags: every flag at its default. */
  NONE = 'no flags',
  /** The flags that `cdk init app` writes into cdk.json (aws-cdk-lib's CURRENTLY_RECOMMENDED_FLAGS). */
  CDK_INIT = 'cdk init flags',
}

/** Options for `testApp`. */
export interface TestAppOptions {
  /**
   * Validate templates against the CloudFormation schemas and treat every finding
   * as an error. Costs about 1.5 s per synthesis, so only strict tests turn it on.
   */
  readonly strict?: boolean;

  /** The feature flags of the app. Default: none. */
  readonly flags?: Flags;
}

/**
 * An app for tests: its own output folder, no asset staging (the kubectl layer
 * alone is about 57 MB per synthesis), and CloudFormation schema validation only
 * when `strict` is set.
 */
export function testApp(options: TestAppOptions = {}): App {
  fs.mkdirSync(OUT_ROOT, { recursive: true });
  const strict = options.strict ?? false;
  return new App({
    outdir: fs.mkdtempSync(path.join(OUT_ROOT, 'app-')),
    builtinCloudFormationValidation: strict,
    context: {
      ...(options.flags === Flags.CDK_INIT ? CURRENTLY_RECOMMENDED_FLAGS : {}),
      'aws:cdk:disable-asset-staging': true,
      ...(strict ? {
        '@aws-cdk/core:validateAgainstDefaultRules': true,
        '@aws-cdk/core:strictCfnValidateErrors': true,
      } : {}),
    },
  });
}

/** A fixed account and region, for tests of environment-specific stacks. */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/** A stack in a fresh test app. */
export function testStack(props: StackProps & TestAppOptions = {}): Stack {
  const { strict, flags, ...stackProps } = props;
  return new Stack(testApp({ strict, flags }), 'Test', stackProps);
}

/**
 * The templates of `stack` and of its nested stacks (the platform puts each
 * service in one), synthesized: the root template first.
 */
export function allTemplates(stack: Stack): any[] {
  const assembly = (stack.node.root as App).synth();
  const nested = stack.node.findAll().filter(NestedStack.isNestedStack)
    .map(child => JSON.parse(fs.readFileSync(path.join(assembly.directory, child.templateFile), 'utf8')));
  return [assembly.getStackArtifact(stack.artifactId).template, ...nested];
}

/**
 * One `Template` with the resources of `stack` and of its nested stacks, for
 * counting and matching across them. Nested stacks reuse logical IDs (each
 * service's stack has its `ServiceRole...`), so theirs get a prefix: `Nested<n>`.
 */
export function mergedTemplate(stack: Stack): Template {
  const [root, ...nested] = allTemplates(stack);
  const resources = { ...root.Resources };
  nested.forEach((template, index) => {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      resources[`Nested${index + 1}${id}`] = resource;
    }
  });
  return Template.fromJSON({ ...root, Resources: resources }, { skipCyclicalDependenciesCheck: true });
}
