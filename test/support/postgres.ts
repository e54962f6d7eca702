import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A PostgreSQL server on loopback, for the tests of the database users function. */
export interface LocalPostgres {
  readonly port: number;
  readonly password: string;
  /** The server's certificate (CN and SAN localhost), to verify TLS with. */
  readonly certificate: string;
  stop(): void;
}

/** The directory of `initdb` and `pg_ctl`: on the PATH, or where Debian's packages put them. */
export function postgresBinaries(): string | undefined {
  const candidates = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    ...(fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort().reverse().map(version => `/usr/lib/postgresql/${version}/bin`) : []),
  ];
  return candidates.find(dir => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
}

/**
 * Starts a throwaway server with SCRAM-SHA-256 passwords and TLS. PostgreSQL
 * refuses to run as root, so as root it runs as `nobody`.
 */
export function startPostgres(bin: string): LocalPostgres {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codelearn-pg-'));
  const data = path.join(dir, 'data');
  const password = 'test-password-1';
  const port = 20000 + Math.floor(Math.random() * 20000);
  const asServer = (command: string, args: string[]) => process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'nobody', '--', command, ...args], { stdio: 'pipe' })
    : execFileSync(command, args, { stdio: 'pipe' });
  fs.writeFileSync(path.join(dir, 'password'), password);
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['-R', 'nobody', dir]);
  }
  asServer(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'scram-sha-256', '--pwfile', path.join(dir, 'password')]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(data, 'server.key'), '-out', path.join(data, 'server.crt')], { stdio: 'pipe' });
  fs.chmodSync(path.join(data, 'server.key'), 0o600);
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['nobody', path.join(data, 'server.key'), path.join(data, 'server.crt')]);
  }
  fs.appendFileSync(path.join(data, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nssl = on\n`);
  asServer(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(dir, 'log'), 'start']);
  return {
    port,
    password,
    certificate: fs.readFileSync(path.join(data, 'server.crt'), 'utf8'),
    stop: () => {
      asServer(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
