import { awscdk, javascript, JsonFile, release } from 'projen';

const cdkVersion = '2.276.0';
const constructsVersion = '10.5.1';
const cdkNagVersion = '3.0.2';
const kubectlLayerVersion = '2.0.1';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-codelearn-platform',
  description:
    'AWS CDK constructs for a production web platform on Amazon EKS: VPC, EKS, microservices behind ALB, WAF and CloudFront, RDS PostgreSQL, ElastiCache Redis, S3, Amazon MQ or MSK, CloudWatch and X-Ray, clean under cdk-nag.',
  keywords: ['awscdk', 'cdk', 'aws-cdk', 'eks', 'kubernetes', 'platform', 'vpc', 'rds', 'elasticache', 'cloudfront', 'waf', 'cdk-nag'],
  author: 'CodeLearn Platform Contributors',
  authorAddress: 'maintainers@codelearn.dev',
  repositoryUrl: 'https://github.com/codelearn/cdk-codelearn-platform.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  sampleCode: false,

  cdkVersion,
  cdkVersionPinning: false,
  constructsVersion,
  jsiiVersion: '~6.0.0',

  // Peer dependencies: jsii modules the library uses at runtime, shared with the
  // user's app. cdk-nag runs the compliance packs (ComplianceChecks); the kubectl
  // layer matches the cluster's Kubernetes version (1.36).
  peerDeps: [`cdk-nag@^${cdkNagVersion}`, `@aws-cdk/lambda-layer-kubectl-v36@^${kubectlLayerVersion}`],
  // kubernetes-models 4.5 validates Kubernetes objects against their schemas in
  // the tests (5.x needs Node 22).
  // fast-check 3 (CommonJS; 4 is ESM only) generates platform props for property tests.
  devDeps: ['aws-cdk@^2.1148.0', 'kubernetes-models@~4.5.1', 'fast-check@^3.23.0', '@aws-cdk/cloudformation-diff@^2.187.5'],

  // Publishing names for every jsii language: jsii checks the API for each of them.
  publishToPypi: {
    distName: 'cdk-codelearn-platform',
    module: 'cdk_codelearn_platform',
  },
  publishToMaven: {
    javaPackage: 'dev.codelearn.cdk.platform',
    mavenGroupId: 'dev.codelearn',
    mavenArtifactId: 'cdk-codelearn-platform',
  },
  publishToNuget: {
    dotNetNamespace: 'CodeLearn.Cdk.Platform',
    packageId: 'CodeLearn.Cdk.Platform',
  },
  publishToGo: {
    moduleName: 'github.com/codelearn/cdk-codelearn-platform-go',
  },

  // CI is .ci/run; no hosted workflows. Releases are cut by hand with
  // `npx projen release`: it bumps the version from the conventional commits since
  // the last tag, prepends them to CHANGELOG.md and tags the commit (pushing is left
  // to the maintainer).
  github: false,
  release: true,
  releaseTrigger: release.ReleaseTrigger.manual({ changelog: true, changelogPath: 'CHANGELOG.md', gitPushCommand: '' }),

  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    // The coverage summary only; the per-file table is in coverage/lcov-report.
    coverageText: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      coverageReporters: ['text-summary', 'lcov'],
      setupFilesAfterEnv: ['<rootDir>/test/support/quiet-reports.ts'],
    },
  },
  eslintOptions: {
    commandOptions: { fix: false },
    dirs: ['src'],
    devdirs: ['test', 'examples', 'projenrc', '.projenrc.ts'],
  },
  gitignore: ['cdk.out', '/examples/cdk.out', '/dist-bindings/', '.jsii.tabl.json'],
});

for (const pattern of ['/examples/', '/docs/', '/.ci/', '/scripts/', '/cdk.json', '/tsconfig.dev.json', '/dist-bindings/', 'cdk.out']) {
  project.addPackageIgnore(pattern);
}

// One type-check over everything that is not the jsii compile: tests, examples and
// the projen config. ts-jest transpiles test files without checking types, so this
// is what keeps examples and tests honest.
new JsonFile(project, 'tsconfig.dev.json', {
  obj: {
    extends: './tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '.', isolatedModules: true },
    include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', '.projenrc.ts'],
    exclude: ['node_modules'],
  },
});
// ESLint's project service finds each file's nearest tsconfig: examples need their own.
new JsonFile(project, 'examples/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  },
});
const typecheck = project.addTask('typecheck', {
  description: 'Type-check tests, examples and .projenrc.ts',
  exec: 'tsc -p tsconfig.dev.json',
});
// The tests read the jsii assembly (.jsii) that the compile writes (about 10 s), so
// `npx projen test` works on a fresh clone: type-check, compile, jest, eslint.
project.testTask.prependSpawn(project.compileTask);
project.testTask.prependSpawn(typecheck);

// Lint reports and never rewrites (eslintOptions.commandOptions.fix is false), so
// `npx projen test` leaves the tree as it found it; `npx projen eslint --fix` fixes.

// projen takes every @aws-cdk/* package for a CDK v1 module and warns; the kubectl
// layer (@aws-cdk/lambda-layer-kubectl-v36) is a CDK v2 package, aws-cdk-lib's own
// peer. That one warning is dropped; a real CDK v1 dependency still warns.
const warn = project.logger.warn.bind(project.logger);
project.logger.warn = (...text: any[]) => {
  if (!/Found CDK v1 deps in your project.*\[@aws-cdk\/lambda-layer-kubectl-v\d+\]\./.test(text.join(' '))) warn(...text);
};

// The example platform: synthesized with the CDK CLI (app and output in cdk.json),
// offline, with no AWS account.
project.addTask('synth:example', {
  description: 'Synthesize the example platform in examples/ (no AWS account needed)',
  exec: 'cdk synth --quiet',
});

// Every @example of the API and every TypeScript snippet of the README compiles, in
// the context of rosetta/default.ts-fixture, and uses only what jsii can translate
// to Python, Java, .NET and Go. Runs after the compile, before the tests. The
// fixture and the translations (.jsii.tabl.json) ship in the package: Construct
// Hub compiles the examples with the package's own fixtures.
const docExamples = project.addTask('docs:examples', {
  description: 'Compile every @example and README snippet with jsii-rosetta in strict mode',
  exec: 'jsii-rosetta extract --strict .jsii',
});
project.postCompileTask.spawn(docExamples);

// Benchmarks print figures; they are not tests and do not run in CI.
project.addTask('bench', {
  description: 'Time whole-process synthesis (median of BENCH_RUNS, default 5) and size the templates, per variant',
  steps: [{ spawn: 'compile' }, { exec: 'node scripts/bench.js' }],
});

// Packaging: JavaScript is packaged for real; the other bindings are generated as
// code only, because PyPI, Maven, NuGet and the Go toolchain are not reachable here.
const bindings = project.addTask('package:bindings', {
  description: 'Generate Python, Java, .NET and Go bindings as code only (no toolchains needed)',
  exec: 'jsii-pacmak --code-only --target python --target java --target dotnet --target go --outdir dist-bindings',
});
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.reset();
packageAll.spawn(project.tasks.tryFind('package:js')!);
packageAll.spawn(bindings);

project.synth();
