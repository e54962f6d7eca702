#!/usr/bin/env bash
# The real install, as a user does it: an app made by `cdk init app --language
# typescript` (with the feature flags it writes into cdk.json), the packed jsii
# JavaScript package installed with the README's command, and every whole program
# of the README pasted over its entry point and synthesized with `npx cdk synth`,
# with no AWS credentials. A missing peer dependency, a flag the library does not
# survive or a README program that no longer compiles fails it.
#
# Usage: install-test.sh oldest|newest
#   oldest  the lowest version of every peer dependency that the peer ranges allow,
#           in an app made by this repository's CDK CLI;
#   newest  the README's install command as written (the newest versions the
#           registry offers today within the ranges), in an app made by the newest
#           CDK CLI, whose cdk.json carries the newest feature flags.
set -euo pipefail
mode="${1:-newest}"
[[ "$mode" == oldest || "$mode" == newest ]] || { echo "usage: $0 oldest|newest" >&2; exit 2; }
repo="$(cd "$(dirname "$0")/.." && pwd)"
tarball="$(ls "$repo"/dist/js/cdk-codelearn-platform@*.jsii.tgz | head -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
app="$work/codelearn-app"
mkdir -p "$app"

cd "$app"
if [[ "$mode" == oldest ]]; then
  cdk=("$repo/node_modules/.bin/cdk")
else
  cdk=(npx --yes aws-cdk@latest)
fi
"${cdk[@]}" init app --language typescript --generate-only > "$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
npm install --no-audit --no-fund > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

# The README's install command, as written, with the tarball built above.
install="$(awk '/^npm install "\$CODELEARN_TARBALL"/ { line = $0; while (line ~ /\\$/) { sub(/\\$/, "", line); getline more; line = line more } print line; exit }' "$repo/README.md")"
if [[ -z "$install" ]]; then
  echo "README.md has no 'npm install \"\$CODELEARN_TARBALL\" …' command." >&2
  exit 1
fi
if [[ "$mode" == oldest ]]; then
  # pkg@^1.2.3 becomes pkg@1.2.3: the lowest version the range allows.
  install="$(sed -E 's/@\^([0-9])/@\1/g' <<< "$install")"
fi
echo "$ $install"
CODELEARN_TARBALL="$tarball" bash -c "$install --no-audit --no-fund" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

# What was installed is what this run claims to test: each peer dependency at the
# lowest version its range allows, or at the newest the registry offers within it.
node -e '
const { execFileSync } = require("child_process");
const [mode, repo] = process.argv.slice(1);
const peers = require(`${repo}/package.json`).peerDependencies;
const rows = [];
let wrong = 0;
for (const [name, range] of Object.entries(peers)) {
  const installed = require(require.resolve(`${name}/package.json`, { paths: [process.cwd()] })).version;
  let expected = range.replace(/^\^/, "");
  if (mode === "newest") {
    const versions = [JSON.parse(execFileSync("npm", ["view", `${name}@${range}`, "version", "--json"], { encoding: "utf8" }))].flat();
    // npm lists the matching versions in publish order, not in version order.
    const key = (v) => v.split(/[.-]/).slice(0, 3).map(Number);
    const newer = (a, b) => { const [x, y] = [key(a), key(b)]; for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i]; return false; };
    expected = versions.filter((v) => !v.includes("-")).reduce((a, b) => (newer(b, a) ? b : a));
  }
  if (installed !== expected) wrong++;
  rows.push(`${name}@${installed}${installed === expected ? "" : ` (expected ${expected})`}`);
}
const cli = execFileSync("npx", ["cdk", "--version"], { encoding: "utf8" }).trim().split(" ")[0];
console.log(`${mode}: ${rows.join(", ")}; aws-cdk CLI ${cli}`);
if (wrong) process.exit(1);
' "$mode" "$repo"

# Every whole program of the README (a TypeScript block that makes an App).
node -e '
const fs = require("fs");
const readme = fs.readFileSync(process.argv[1], "utf8");
const programs = [...readme.matchAll(/```ts nofixture\n([\s\S]*?)```/g)].map(m => m[1]).filter(code => code.includes("new App("));
fs.mkdirSync(process.argv[2], { recursive: true });
programs.forEach((code, i) => fs.writeFileSync(`${process.argv[2]}/${i + 1}.ts`, code));
console.log(`${programs.length} README programs`);
' "$repo/README.md" "$work/programs"

entry="bin/codelearn-app.ts"
for program in $(ls "$work/programs" | sort -n); do
  cp "$work/programs/$program" "$entry"
  rm -rf cdk.out
  started=$SECONDS
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
    AWS_EC2_METADATA_DISABLED=true npx cdk synth --quiet > "$work/synth.log" 2>&1 || { echo "README program $program:"; cat "$entry"; cat "$work/synth.log"; exit 1; }
  templates=$(ls cdk.out/*.template.json | wc -l)
  resources=$(node -e 'const fs = require("fs"); let n = 0; for (const f of fs.readdirSync("cdk.out").filter(f => f.endsWith(".template.json"))) n += Object.keys(JSON.parse(fs.readFileSync("cdk.out/" + f)).Resources || {}).length; console.log(n)')
  echo "README program $program: $templates template(s), $resources resources ($((SECONDS - started)) s)"
done
