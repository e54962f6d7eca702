// `npx projen bench`: whole-process `cdk synth`-equivalent timings (median of
// several runs), resource counts and template sizes against CloudFormation's
// limits, and the Lambda-backed custom resources of each variant.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// CDK_VALIDATION=false skips aws-cdk-lib's built-in template validation, like `cdk synth --no-validation`.
const VALIDATION = process.env.CDK_VALIDATION !== 'false';
const VARIANTS = ['empty', 'platform', 'services-4', 'services-16', 'services-64'];
const RESOURCE_LIMIT = 500;
const TEMPLATE_LIMIT = 1024 * 1024;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rows = [];
for (const variant of VARIANTS) {
  const times = [];
  let template;
  for (let run = 0; run < RUNS; run++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'codelearn-bench-'));
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [path.join(__dirname, 'bench-app.js'), variant, outdir], { stdio: 'pipe', encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.status === 0) {
      template = fs.readFileSync(path.join(outdir, 'Bench.template.json'), 'utf8');
    }
    fs.rmSync(outdir, { recursive: true, force: true, maxRetries: 2 });
    if (result.status !== 0) {
      // The CDK refuses a stack over CloudFormation's resource limit: report it as a finding.
      const over = /Number of resources in stack '[^']*': (\d+) is greater than allowed maximum/.exec(result.stderr);
      if (!over) {
        console.error(result.stderr || result.stdout);
        process.exit(1);
      }
      rows.push({ variant, seconds: NaN, resources: Number(over[1]), bytes: NaN, customResources: NaN, lambdas: NaN, failed: true });
      break;
    }
    times.push(seconds);
  }
  if (rows.some(row => row.variant === variant)) {
    continue;
  }
  const resources = JSON.parse(template).Resources ?? {};
  const types = Object.values(resources).map(resource => resource.Type);
  rows.push({
    variant,
    seconds: median(times),
    resources: types.length,
    bytes: Buffer.byteLength(template),
    customResources: types.filter(type => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource').length,
    lambdas: types.filter(type => type === 'AWS::Lambda::Function').length,
  });
}

const empty = rows.find(row => row.variant === 'empty').seconds;
console.log(`Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
  `median of ${RUNS} runs each; built-in template validation ${VALIDATION ? 'on' : 'off'}\n`);
console.log('| variant | synth (s) | x empty | resources | of 500 | template (KB) | of 1 MB | custom resources | Lambda functions |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  if (row.failed) {
    console.log(`| ${row.variant} | synthesis refused: ${row.resources} resources, over CloudFormation's ${RESOURCE_LIMIT} | | | | | | | |`);
    continue;
  }
  console.log(`| ${row.variant} | ${row.seconds.toFixed(2)} | ${(row.seconds / empty).toFixed(2)} | ${row.resources} | ` +
    `${row.resources > RESOURCE_LIMIT ? 'OVER' : `${Math.round(100 * row.resources / RESOURCE_LIMIT)}%`} | ${(row.bytes / 1024).toFixed(0)} | ` +
    `${Math.round(100 * row.bytes / TEMPLATE_LIMIT)}% | ${row.customResources} | ${row.lambdas} |`);
}
