import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';

/** A PostgreSQL name that needs no quoting and keeps its case: lowercase letters, digits and '_', 63 at most. */
export const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Where and as whom to connect. */
export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /**
   * The certificate authorities to verify the server with (TLS is then required
   * and the host name checked), or `false` for a plain connection (tests only).
   */
  readonly tls: { readonly ca: string } | false;
  /** Milliseconds before the connection attempt fails. */
  readonly timeoutMs?: number;
}

/**
 * A minimal PostgreSQL client (protocol 3.0): TLS, SCRAM-SHA-256, MD5 or
 * cleartext authentication, and simple queries. Enough to run a few statements
 * of administration at deploy time without shipping a driver.
 */
export class PostgresClient {
  /** Connects, negotiates TLS and authenticates. */
  public static async connect(options: PostgresConnection): Promise<PostgresClient> {
    const socket = await open(options);
    const client = new PostgresClient(socket);
    try {
      await client.startup(options);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return client;
  }

  private buffer = Buffer.alloc(0);
  private waiting?: () => void;
  private failure?: Error;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, Buffer.from(chunk)]);
      this.wake();
    });
    socket.on('error', error => {
      this.failure = error;
      this.wake();
    });
    socket.on('close', () => {
      this.failure ??= new Error('the server closed the connection');
      this.wake();
    });
  }

  /** Runs `sql` (one or more statements) and fails with the server's message on an error. */
  public async query(sql: string): Promise<void> {
    this.send('Q', Buffer.from(`${sql}\0`, 'utf8'));
    let error: string | undefined;
    for (;;) {
      const message = await this.next();
      if (message.type === 'E') error ??= errorText(message.body);
      if (message.type === 'Z') break;
    }
    if (error) throw new Error(error);
  }

  /** Says goodbye and closes the connection. */
  public end(): void {
    this.send('X', Buffer.alloc(0));
    this.socket.end();
  }

  private async startup(options: PostgresConnection): Promise<void> {
    const parameters = Buffer.from(`user\0${options.user}\0database\0${options.database}\0\0`, 'utf8');
    const header = Buffer.alloc(8);
    header.writeInt32BE(8 + parameters.length, 0);
    header.writeInt32BE(196608, 4);
    this.socket.write(Buffer.concat([header, parameters]));
    let scram: Scram | undefined;
    for (;;) {
      const message = await this.next();
      if (message.type === 'E') throw new Error(errorText(message.body));
      if (message.type === 'Z') return;
      if (message.type !== 'R') continue;
      const code = message.body.readInt32BE(0);
      if (code === 0) continue;
      if (code === 3) {
        this.send('p', Buffer.from(`${options.password}\0`, 'utf8'));
      } else if (code === 5) {
        const inner = createHash('md5').update(options.password + options.user).digest('hex');
        const outer = createHash('md5').update(inner).update(message.body.subarray(4, 8)).digest('hex');
        this.send('p', Buffer.from(`md5${outer}\0`, 'utf8'));
      } else if (code === 10) {
        const mechanisms = message.body.subarray(4).toString('utf8').split('\0');
        if (!mechanisms.includes('SCRAM-SHA-256')) throw new Error(`the server offers no supported SASL mechanism (${mechanisms.join(', ')})`);
        scram = new Scram(options.password);
        const first = Buffer.from(scram.clientFirst(), 'utf8');
        const length = Buffer.alloc(4);
        length.writeInt32BE(first.length, 0);
        this.send('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0', 'utf8'), length, first]));
      } else if (code === 11 && scram) {
        this.send('p', Buffer.from(scram.clientFinal(message.body.subarray(4).toString('utf8')), 'utf8'));
      } else if (code === 12 && scram) {
        scram.verifyServerFinal(message.body.subarray(4).toString('utf8'));
      } else {
        throw new Error(`unsupported authentication request ${code}`);
      }
    }
  }

  private send(type: string, body: Buffer): void {
    const header = Buffer.alloc(5);
    header.write(type, 0, 'ascii');
    header.writeInt32BE(body.length + 4, 1);
    this.socket.write(Buffer.concat([header, body]));
  }

  /** The next whole message from the server. */
  private async next(): Promise<{ type: string; body: Buffer }> {
    for (;;) {
      if (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length >= length + 1) {
          const type = this.buffer.toString('ascii', 0, 1);
          const body = this.buffer.subarray(5, length + 1);
          this.buffer = this.buffer.subarray(length + 1);
          return { type, body };
        }
      }
      if (this.failure) throw this.failure;
      await new Promise<void>(resolve => this.waiting = resolve);
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

/** SCRAM-SHA-256 (RFC 7677) as PostgreSQL speaks it: no channel binding, the user name left empty. */
class Scram {
  private readonly nonce = randomBytes(18).toString('base64');
  private readonly clientFirstBare = `n=,r=${this.nonce}`;
  private expectedServerSignature?: Buffer;

  constructor(private readonly password: string) {}

  public clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  public clientFinal(serverFirst: string): string {
    const fields = Object.fromEntries(serverFirst.split(',').map(field => [field[0], field.slice(2)]));
    if (!fields.r?.startsWith(this.nonce) || !fields.s || !fields.i) throw new Error('malformed SCRAM server-first message');
    const salted = pbkdf2Sync(this.password, Buffer.from(fields.s, 'base64'), Number(fields.i), 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${fields.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    // eslint-disable-next-line no-bitwise -- SCRAM's ClientProof is ClientKey XOR ClientSignature (RFC 5802).
    const proof = Buffer.from(clientKey.map((byte, index) => byte ^ signature[index]));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  public verifyServerFinal(serverFinal: string): void {
    const signature = /(?:^|,)v=([^,]+)/.exec(serverFinal)?.[1];
    if (!signature || !this.expectedServerSignature || !Buffer.from(signature, 'base64').equals(this.expectedServerSignature)) {
      throw new Error('the server did not prove it knows the password (SCRAM signature mismatch)');
    }
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** The severity, code and message of an ErrorResponse. */
function errorText(body: Buffer): string {
  const fields: { [code: string]: string } = {};
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset]);
    const end = body.indexOf(0, offset + 1);
    fields[code] = body.toString('utf8', offset + 1, end);
    offset = end + 1;
  }
  return `${fields.S ?? 'ERROR'} ${fields.C ?? ''}: ${fields.M ?? 'unknown error'}`.replace(/ :/, ':');
}

/** A TCP connection, upgraded to TLS (verified) when asked. */
function open(options: PostgresConnection): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${options.host}:${options.port} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    const done = (error?: Error, value?: net.Socket) => {
      clearTimeout(timer);
      if (error) reject(error); else resolve(value!);
    };
    const socket = net.connect(options.port, options.host);
    socket.once('error', error => done(error));
    socket.once('connect', () => {
      if (!options.tls) {
        done(undefined, socket);
        return;
      }
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      socket.write(request);
      socket.once('data', answer => {
        if (answer.toString('ascii', 0, 1) !== 'S') {
          done(new Error(`${options.host} refused TLS`));
          return;
        }
        // SNI names hosts only (RFC 6066); an address is still checked against the certificate.
        const servername = net.isIP(options.host) ? undefined : options.host;
        const secure = tls.connect({ socket, servername, host: options.host, ca: (options.tls as { ca: string }).ca });
        secure.once('secureConnect', () => done(undefined, secure));
        secure.once('error', error => done(error));
      });
    });
  });
}
