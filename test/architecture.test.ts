import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', 'src');
const TIERS = ['network', 'compute', 'data', 'edge', 'observability'];

/** Every file under `dir`. */
function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap(entry => entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)]);
}

/** Every TypeScript file under src/, relative to it. */
function sources(): string[] {
  return files(SRC).filter(file => file.endsWith('.ts')).map(file => path.relative(SRC, file));
}

/** The folder under src/ of each of the file's relative imports (`.` for the root), with whether it imports types only. */
function importsOf(file: string): { from: string; typeOnly: boolean; what: string }[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/^import (type )?([^;]*?) from '(\.[^']*)';/gm)].map(([, typeOnly, what, specifier]) => {
    const target = path.relative(SRC, path.resolve(path.join(SRC, path.dirname(file)), specifier));
    return { from: target.split(path.sep)[0], typeOnly: typeOnly !== undefined, what: what.trim() };
  });
}

/** The tier (or `private`, or `.`) a file of src/ belongs to. */
function folderOf(file: string): string {
  return file.includes(path.sep) ? file.split(path.sep)[0] : '.';
}

describe('the seams between the tiers (docs/architecture.md, "Rules")', () => {
  test('finds the tiers and their files', () => {
    const folders = new Set(sources().map(folderOf));
    for (const tier of [...TIERS, 'private']) expect(folders).toContain(tier);
  });

  test('private/ imports no tier: helpers know no part', () => {
    const found = sources().filter(file => folderOf(file) === 'private')
      .flatMap(file => importsOf(file).filter(({ from }) => TIERS.includes(from)).map(({ from }) => `${file} → ${from}`));
    expect(found).toEqual([]);
  });

  test('no tier, and nothing in private/, imports the platform or its service units', () => {
    const found = sources().filter(file => folderOf(file) !== '.')
      .flatMap(file => importsOf(file).filter(({ from }) => /^(platform|platform-services)$/.test(from)).map(({ from }) => `${file} → ${from}`));
    expect(found).toEqual([]);
  });

  test('network, data and edge import no other tier; compute takes from edge only the type of a route', () => {
    const found = sources().filter(file => ['network', 'data', 'edge', 'compute'].includes(folderOf(file)))
      .flatMap(file => importsOf(file)
        .filter(({ from }) => TIERS.includes(from) && from !== folderOf(file))
        .filter(({ from, typeOnly, what }) => !(folderOf(file) === 'compute' && from === 'edge' && typeOnly && what === '{ EdgeRoute }'))
        .map(({ from }) => `${file} → ${from}`));
    expect(found).toEqual([]);
  });

  test('no code decides where a resource goes by the layout of the stacks: the caller gives the scope', () => {
    // Naming after the root stack (the cache's user IDs) reads the layout; placing by
    // comparing one part's stack with another's (a nested stack of mine?) does not belong in a part.
    const found = sources().filter(file => /nestedStackParent\s*[!=]==|[!=]==\s*[\w.()]*nestedStackParent/.test(fs.readFileSync(path.join(SRC, file), 'utf8')));
    expect(found).toEqual([]);
  });

  test('the platform and its service units test no broker engine: the broker answers for itself', () => {
    const found = ['platform.ts', 'platform-services.ts']
      .filter(file => /MessageBrokerEngine|\.engine\b|rabbitMqBroker|kafkaCluster/.test(fs.readFileSync(path.join(SRC, file), 'utf8')));
    expect(found).toEqual([]);
  });

  test('no file imports itself through others, type-only imports included: no import circle', () => {
    // The file each relative import (or re-export) of `file` names, relative to src/.
    const targets = (file: string): string[] => {
      const text = fs.readFileSync(path.join(SRC, file), 'utf8');
      return [...text.matchAll(/^(?:import|export)[^;]*? from '(\.[^']*)';/gm)].map(([, specifier]) => {
        const target = path.relative(SRC, path.resolve(path.join(SRC, path.dirname(file)), specifier));
        return fs.existsSync(path.join(SRC, `${target}.ts`)) ? `${target}.ts` : path.join(target, 'index.ts');
      });
    };
    const circles: string[] = [];
    const done = new Set<string>();
    const visit = (file: string, trail: string[]): void => {
      if (trail.includes(file)) {
        circles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
        return;
      }
      if (done.has(file)) return;
      for (const target of targets(file)) visit(target, [...trail, file]);
      done.add(file);
    };
    sources().forEach(file => visit(file, []));
    expect(circles).toEqual([]);
    // It sees what it checks: the strategies reach the target they bind to through the factory.
    expect(targets(path.join('compute', 'node-scaling.ts'))).toContain(path.join('compute', 'node-scaling-target.ts'));
  });

  test('each node scaling strategy is a file of its own that knows the cluster only through INodeScalingTarget', () => {
    for (const strategy of ['cluster-autoscaler.ts', 'cpu-target-tracking.ts']) {
      const text = fs.readFileSync(path.join(SRC, 'compute', strategy), 'utf8');
      expect([strategy, /from '\.\/cluster'|from '\.\/node-scaling'/.test(text)]).toEqual([strategy, false]);
      expect(text).toMatch(/implements INodeScaling\b/);
    }
  });

  describe('the data stores are siblings', () => {
    const text = sources().map(file => ({ file, text: fs.readFileSync(path.join(SRC, file), 'utf8') }));

    test('every public grant returns an iam.Grant', () => {
      const grants = text.flatMap(({ file, text: source }) => [...source.matchAll(/^ {2}public (grant\w*)\([^)]*\): ([\w.]+)/gm)]
        .map(([, name, type]) => ({ site: `${file} ${name}`, type })));
      expect(grants.length).toBeGreaterThanOrEqual(10);
      expect(grants.filter(grant => grant.type !== 'iam.Grant').map(grant => grant.site)).toEqual([]);
    });

    // Log groups take the values CloudWatch Logs allows; buckets, backups and snapshots take any span.
    test('instance types are ec2.InstanceType; log group retention is logs.RetentionDays, every other retention a Duration', () => {
      const props = text.flatMap(({ file, text: source }) => [...source.matchAll(/^ {2}readonly (\w*(?:instanceType|nodeType|Retention)\w*)\?: ([\w.]+);/gim)]
        .map(([, name, type]) => ({ site: `${file} ${name}: ${type}`, name, type })));
      expect(props.length).toBeGreaterThanOrEqual(12);
      const expected = (name: string) => /instanceType|nodeType/i.test(name) ? 'ec2.InstanceType'
        : /^(log|flowLog)Retention$/.test(name) ? 'logs.RetentionDays' : 'Duration';
      expect(props.filter(prop => prop.type !== expected(prop.name)).map(prop => prop.site)).toEqual([]);
    });
  });
});
