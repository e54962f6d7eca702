// One synthesis: `node scripts/bench-app.js <variant> [outdir]`, or as the app of
// `cdk synth` (which passes the output folder in CDK_OUTDIR). Variants: empty,
// platform, services-<n>. Uses the compiled library in lib/. The stack is
// environment-agnostic, like the examples, so `cdk synth` needs no credentials.
const { App, CfnWaitConditionHandle, Stack } = require('aws-cdk-lib');
const { CodeLearnPlatform, DataAccess } = require('../lib');

const [variant, outdir] = process.argv.slice(2);
const app = new App(outdir ? { outdir } : {});
const stack = new Stack(app, 'Bench');
if (variant === 'platform') {
  new CodeLearnPlatform(stack, 'Platform');
} else if (variant.startsWith('services-')) {
  const count = Number(variant.slice('services-'.length));
  const services = [{ name: 'api-gateway', access: [DataAccess.CACHE] }];
  for (let i = 1; i < count; i++) {
    services.push({
      name: `service-${i}`,
      path: `/api/s${i}/*`,
      access: [DataAccess.DATABASE, DataAccess.CACHE, DataAccess.MESSAGING, DataAccess.UPLOADS],
    });
  }
  new CodeLearnPlatform(stack, 'Platform', { services });
} else if (variant === 'empty') {
  // The smallest stack CloudFormation accepts (and aws-cdk-lib's template validation
  // passes): one resource that does nothing.
  new CfnWaitConditionHandle(stack, 'Nothing');
} else {
  throw new Error(`unknown variant '${variant}': empty, platform or services-<n>`);
}
app.synth();
