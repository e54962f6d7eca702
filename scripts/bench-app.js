// One synthesis in its own process: `node scripts/bench-app.js <variant> <outdir>`.
// Variants: empty, platform, services-<n>. Uses the compiled library in lib/.
const { App, Stack } = require('aws-cdk-lib');
const { CodeLearnPlatform } = require('../lib');

const [variant, outdir] = process.argv.slice(2);
const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'us-east-1' } });
if (variant === 'platform') {
  new CodeLearnPlatform(stack, 'Platform');
} else if (variant.startsWith('services-')) {
  const count = Number(variant.slice('services-'.length));
  const services = [{ name: 'api-gateway' }];
  for (let i = 1; i < count; i++) {
    services.push({ name: `service-${i}`, path: `/api/s${i}/*` });
  }
  new CodeLearnPlatform(stack, 'Platform', { services });
}
app.synth();
