import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * A folder with the JavaScript of a function the library writes itself (the
 * modules `files` of `directory`) and nothing else, so that its asset changes
 * only when the handler does. The package has them compiled beside their
 * sources; an app that runs the library from its TypeScript sources (this
 * repository's tests and examples, through ts-jest or ts-node) has TypeScript,
 * which transpiles them. The folder is named `<name>-<hash of the content>`.
 */
export function handlerAsset(directory: string, files: string[], name: string): string {
  const contents = files.map(file => {
    const compiled = path.join(directory, `${file}.js`);
    return [`${file}.js`, fs.existsSync(compiled) ? fs.readFileSync(compiled, 'utf8') : transpile(path.join(directory, `${file}.ts`))];
  });
  const hash = createHash('sha256');
  for (const [file, content] of contents) hash.update(file).update('\0').update(content).update('\0');
  const folder = path.join(os.tmpdir(), `${name}-${hash.digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(folder)) {
    // Written aside and renamed, so that parallel synths never see half a folder.
    const staging = fs.mkdtempSync(`${folder}-`);
    for (const [file, content] of contents) fs.writeFileSync(path.join(staging, file), content);
    try {
      fs.renameSync(staging, folder);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  return folder;
}

function transpile(file: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const ts = require('typescript');
  return ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false },
  }).outputText;
}
