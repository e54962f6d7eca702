// `npx projen bench`: the wall time of `cdk synth` (the CLI, asset staging on, the
// output folder kept between runs as when a user synthesizes again), as the median
// of BENCH_RUNS runs per variant after one warm-up; the synthesis of the app alone
// (one Node process, no CLI) for comparison; and, per variant, the templates
// against CloudFormation's limits, the Lambda-backed custom resources and the assets.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'empty,platform,services-4,services-16,services-64').split(',');
const MAX_RESOURCES = 500;
const MAX_TEMPLATE_BYTES = 1_000_000;
const CDK = require.resolve('aws-cdk/bin/cdk');
const APP = path.join(__dirname, 'bench-app.js');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: 'pipe', encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    console.error(result.stderr || result.stdout);
    process.exit(1);
  }
  return seconds;
}

/** The size of a file or folder, in bytes. */
function sizeOf(file) {
  const stat = fs.statSync(file);
  return stat.isDirectory() ? fs.readdirSync(file).reduce((sum, child) => sum + sizeOf(path.join(file, child)), 0) : stat.size;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codelearn-bench-'));
const rows = [];
for (const variant of VARIANTS) {
  const outdir = path.join(root, variant);
  // No notices and no telemetry: both reach the network, which would time the network.
  const cli = [CDK, 'synth', '--quiet', '--no-notices', '--no-telemetry', '--app', `node ${APP} ${variant}`, '--output', outdir];
  timed(cli); // warm-up: the first synthesis also stages the assets
  const cliTimes = [];
  const appTimes = [];
  for (let run = 0; run < RUNS; run++) {
    cliTimes.push(timed(cli));
    const appOut = path.join(root, `${variant}-app-${run}`);
    appTimes.push(timed([APP, variant, appOut]));
    fs.rmSync(appOut, { recursive: true, force: true });
  }
  const templates = fs.readdirSync(outdir).filter(file => file.endsWith('.template.json'));
  const parsed = templates.map(file => ({ file, text: fs.readFileSync(path.join(outdir, file), 'utf8') }))
    .map(({ file, text }) => ({ nested: file.endsWith('.nested.template.json'), bytes: Buffer.byteLength(text), resources: Object.values(JSON.parse(text).Resources ?? {}) }));
  const main = parsed.find(template => !template.nested);
  const nested = parsed.filter(template => template.nested);
  const types = parsed.flatMap(template => template.resources.map(resource => resource.Type));
  const assets = fs.readdirSync(outdir).filter(file => file.startsWith('asset.')).map(file => sizeOf(path.join(outdir, file)));
  rows.push({
    variant,
    cli: median(cliTimes),
    app: median(appTimes),
    resources: main.resources.length,
    bytes: main.bytes,
    nested: nested.length,
    largestNested: Math.max(0, ...nested.map(template => template.resources.length)),
    total: types.length,
    customResources: types.filter(type => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource').length,
    lambdas: types.filter(type => type === 'AWS::Lambda::Function').length,
    assets: assets.length,
    largestAsset: Math.max(0, ...assets),
  });
}
fs.rmSync(root, { recursive: true, force: true });

const empty = rows.find(row => row.variant === 'empty');
const mb = bytes => (bytes / 2 ** 20).toFixed(1);
console.log(`Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
  `median of ${RUNS} runs each after a warm-up; aws-cdk-lib's built-in template validation as configured (on by default)\n`);
console.log('| variant | `cdk synth` (s) | x empty | app alone (s) | x empty | resources | of 500 | template (KB) | of 1 MB | nested stacks | largest nested | all resources | custom resources | Lambda functions | assets | largest asset (MB) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(`| ${row.variant} | ${row.cli.toFixed(2)} | ${(row.cli / empty.cli).toFixed(2)} | ${row.app.toFixed(2)} | ${(row.app / empty.app).toFixed(2)} | ` +
    `${row.resources} | ${Math.round(100 * row.resources / MAX_RESOURCES)}% | ${(row.bytes / 1024).toFixed(0)} | ${Math.round(100 * row.bytes / MAX_TEMPLATE_BYTES)}% | ` +
    `${row.nested} | ${row.largestNested} | ${row.total} | ${row.customResources} | ${row.lambdas} | ${row.assets} | ${mb(row.largestAsset)} |`);
}
