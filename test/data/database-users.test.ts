import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureUsers, nothingToMake, userStatements } from '../../src/private/database-users/handler';
import { handlerDirectory } from '../../src/private/database-users/index';
import { PostgresClient, PostgresConnection } from '../../src/private/database-users/postgres';
import { LocalPostgres, postgresBinaries, startPostgres } from '../support/postgres';

/**
 * The function that makes the services' database users, against a real
 * PostgreSQL server on loopback (SCRAM-SHA-256 and TLS, as RDS). CI installs the
 * server; a machine without one skips these tests, CI never does.
 */
const bin = postgresBinaries();
if (!bin && process.env.CI) {
  throw new Error('PostgreSQL is not installed: CI must install it (.ci/run) so that the database users function is tested against a server.');
}
const describeWithServer = bin ? describe : describe.skip;

describeWithServer('the database users function, against PostgreSQL', () => {
  let server: LocalPostgres;
  let admin: PostgresConnection;

  beforeAll(async () => {
    server = startPostgres(bin!);
    admin = { host: 'localhost', port: server.port, database: 'postgres', user: 'postgres', password: server.password, tls: { ca: server.certificate } };
    // As on RDS: the rds_iam role exists, the master user is no superuser (it may
    // create roles) and owns the platform's database.
    const client = await PostgresClient.connect(admin);
    await client.query('CREATE ROLE rds_iam;');
    await client.query(`CREATE ROLE codelearn_admin LOGIN CREATEROLE PASSWORD '${server.password}';`);
    await client.query('CREATE DATABASE codelearn OWNER codelearn_admin;');
    client.end();
  }, 60_000);

  afterAll(() => server?.stop());

  test('makes each user with IAM sign-in, CONNECT and a schema of its own, and again without error', async () => {
    const codelearn = { ...admin, database: 'codelearn', user: 'codelearn_admin' };
    await ensureUsers(codelearn, ['user_service', 'post_service']);
    await ensureUsers(codelearn, ['user_service', 'post_service', 'group_service']);
    const client = await PostgresClient.connect(codelearn);
    // Each check fails the query (division by zero) when its condition does not hold.
    for (const user of ['user_service', 'post_service', 'group_service']) {
      await client.query(`SELECT 1 / (SELECT count(*) FROM pg_roles WHERE rolname = '${user}' AND rolcanlogin)::int;`);
      await client.query(`SELECT 1 / (CASE WHEN pg_has_role('${user}', 'rds_iam', 'MEMBER') THEN 1 ELSE 0 END);`);
      await client.query(`SELECT 1 / (CASE WHEN has_database_privilege('${user}', 'codelearn', 'CONNECT') THEN 1 ELSE 0 END);`);
      await client.query(`SELECT 1 / (SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = '${user}' AND r.rolname = '${user}')::int;`);
    }
    // The master user is left a member of nothing: through a service's user it would be
    // a member of rds_iam, and RDS would refuse its password from then on.
    await client.query(`SELECT 1 / (CASE WHEN (SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
      WHERE r.rolname = 'codelearn_admin') = 0 THEN 1 ELSE 0 END);`);
    client.end();
  }, 60_000);

  test('the JavaScript the function runs, alone in its asset folder, makes a user too', async () => {
    const directory = handlerDirectory();
    expect(fs.readdirSync(directory).sort()).toEqual(['handler.js', 'postgres.js']);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const asset = require(path.join(directory, 'handler.js'));
    expect(typeof asset.handler).toBe('function');
    const codelearn = { ...admin, database: 'codelearn', user: 'codelearn_admin' };
    await asset.ensureUsers(codelearn, ['asset_user']);
    const client = await PostgresClient.connect(codelearn);
    await client.query('SELECT 1 / (CASE WHEN pg_has_role(\'asset_user\', \'rds_iam\', \'MEMBER\') THEN 1 ELSE 0 END);');
    client.end();
  }, 60_000);

  test('verifies the server\'s certificate against the authorities it is given, and its name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codelearn-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', path.join(dir, 'key'), '-out', path.join(dir, 'crt')], { stdio: 'pipe' });
    const stranger = fs.readFileSync(path.join(dir, 'crt'), 'utf8');
    await expect(PostgresClient.connect({ ...admin, tls: { ca: stranger } })).rejects.toThrow(/self-signed certificate/);
    await expect(PostgresClient.connect({ ...admin, host: '127.0.0.1' })).rejects.toThrow(/Hostname\/IP does not match certificate's altnames/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fails with the server\'s words on a wrong password and on a failing statement', async () => {
    await expect(PostgresClient.connect({ ...admin, password: 'wrong' })).rejects.toThrow(/FATAL 28P01: password authentication failed for user "postgres"/);
    const client = await PostgresClient.connect(admin);
    await expect(client.query('SELECT * FROM no_such_table;')).rejects.toThrow(/ERROR 42P01: relation "no_such_table" does not exist/);
    // The connection stays usable after an error.
    await client.query('SELECT 1;');
    client.end();
  });
});

describe('the database users function\'s statements', () => {
  test('create the user only when it is missing, grant rds_iam, CONNECT and its own schema', () => {
    expect(userStatements('user_service', 'codelearn')).toBe([
      'DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \'user_service\') THEN CREATE ROLE "user_service" LOGIN; END IF; END $$;',
      'GRANT rds_iam TO "user_service";',
      'GRANT CONNECT ON DATABASE "codelearn" TO "user_service";',
      'GRANT "user_service" TO CURRENT_USER;',
      'CREATE SCHEMA IF NOT EXISTS "user_service" AUTHORIZATION "user_service";',
      'REVOKE "user_service" FROM CURRENT_USER;',
    ].join('\n'));
  });

  test('an update that asks for no new user, as the rollback of a failed update does, connects to nothing', () => {
    const properties = { SecretArn: 'arn:secret', Host: 'writer', Port: '5432', Database: 'codelearn', Users: ['post_service', 'user_service'] };
    const rollback = { RequestType: 'Update' as const, ResourceProperties: { ...properties, Users: ['user_service'] }, OldResourceProperties: properties };
    expect(nothingToMake(rollback)).toBe(true);
    expect(nothingToMake({ ...rollback, ResourceProperties: { ...properties, Users: ['feed_service', 'user_service'] } })).toBe(false);
    expect(nothingToMake({ ...rollback, ResourceProperties: { ...rollback.ResourceProperties, Host: 'restored-writer' } })).toBe(false);
    expect(nothingToMake({ ...rollback, RequestType: 'Create', OldResourceProperties: undefined })).toBe(false);
  });

  test('refuse a name that is not a plain identifier', () => {
    expect(() => userStatements('x"; DROP TABLE y; --', 'codelearn')).toThrow('user \'x"; DROP TABLE y; --\' is not a plain PostgreSQL identifier');
  });
});
