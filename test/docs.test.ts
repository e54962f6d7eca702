import * as fs from 'fs';
import * as path from 'path';

/**
 * The jsii assembly that the compile writes: what Construct Hub and the other
 * languages' docs are made from. `npx projen docs:examples` compiles every example.
 */
const assembly = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.jsii'), 'utf8'));

describe('API documentation', () => {
  const classes = Object.values<any>(assembly.types).filter(type => type.kind === 'class');

  test('covers the parts of the platform', () => {
    expect(classes.map(type => type.name)).toEqual(expect.arrayContaining([
      'CodeLearnPlatform', 'Network', 'Cluster', 'Microservice', 'Database', 'Cache', 'Messaging', 'Storage', 'Edge', 'Observability',
    ]));
  });

  test('every public class has a summary and an example', () => {
    const missing = classes.filter(type => !type.docs?.summary || !type.docs?.example).map(type => type.name);
    expect(missing).toEqual([]);
  });

  test('every property of every struct is documented, and every optional one says its default', () => {
    const structs = Object.values<any>(assembly.types).filter(type => type.kind === 'interface' && type.datatype);
    expect(structs.map(type => type.name)).toEqual(expect.arrayContaining(['CodeLearnPlatformProps', 'MicroserviceOptions', 'DatabaseOptions']));
    const gaps = structs.flatMap(type => (type.properties ?? [])
      .filter((property: any) => !property.docs?.summary || (property.optional && !property.docs?.default))
      .map((property: any) => `${type.name}.${property.name}`));
    expect(gaps).toEqual([]);
  });
});
