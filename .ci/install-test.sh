#!/usr/bin/env bash
# The real install: the packed jsii JavaScript package, installed into a fresh app
# with only the declared peer dependencies, synthesizes the platform with no AWS
# credentials. A missing or wrong peer dependency fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball="$(ls "$PWD"/dist/js/cdk-codelearn-platform@*.jsii.tgz | head -n 1)"
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT

peers=$(node -e '
const p = require("./package.json");
console.log(Object.entries(p.peerDependencies).map(([name, range]) => `${name}@${range}`).join(" "));
')
cli=$(node -p 'require("./package.json").devDependencies["aws-cdk"]')

cd "$app"
npm init -y > /dev/null
npm install --no-audit --no-fund --strict-peer-deps "$tarball" $peers "aws-cdk@$cli" > install.log 2>&1 || { cat install.log; exit 1; }
cat > app.js <<'JS'
const { App, Stack } = require('aws-cdk-lib');
const { CodeLearnPlatform } = require('cdk-codelearn-platform');
const app = new App();
new CodeLearnPlatform(new Stack(app, 'CodeLearn'), 'Platform');
app.synth();
JS
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  AWS_EC2_METADATA_DISABLED=true npx cdk synth --quiet --app 'node app.js' --output cdk.out
test -s cdk.out/CodeLearn.template.json
echo "install test: the packed library synthesized $(node -p 'Object.keys(require("./cdk.out/CodeLearn.template.json").Resources).length') resources"
