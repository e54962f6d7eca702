import * as https from 'https';
import { PLAIN_IDENTIFIER, PostgresClient, PostgresConnection } from './postgres';

/**
 * The custom resource that creates the database users services sign in as with
 * IAM (`CREATE ROLE ... LOGIN; GRANT rds_iam`), each with a schema of its own,
 * idempotently, on every create and update. It runs inside the VPC as the master
 * user. Users are never dropped: their data outlives a service's removal.
 */

/** The properties CloudFormation passes. */
export interface DatabaseUsersProperties {
  readonly SecretArn: string;
  readonly Host: string;
  readonly Port: string;
  readonly Database: string;
  readonly Users: string[];
}

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: DatabaseUsersProperties;
  readonly OldResourceProperties?: DatabaseUsersProperties;
}

/**
 * Whether an update asks for nothing the last run did not make: the same database,
 * and no user that was not made already. Users are never dropped, so there is
 * nothing to do, and not connecting keeps the rollback of a failed stack update
 * from failing in turn when the writer cannot be reached.
 */
export function nothingToMake(event: Pick<CustomResourceEvent, 'RequestType' | 'ResourceProperties' | 'OldResourceProperties'>): boolean {
  const now = event.ResourceProperties;
  const before = event.OldResourceProperties;
  if (event.RequestType !== 'Update' || !before) return false;
  const same = (['SecretArn', 'Host', 'Port', 'Database'] as const).every(key => String(now[key]) === String(before[key]));
  return same && now.Users.every(user => before.Users.includes(user));
}


/** The statements that make `user` exist with IAM sign-in and a schema of its own, whatever exists already. */
export function userStatements(user: string, database: string): string {
  for (const [name, value] of [['user', user], ['database', database]]) {
    if (!PLAIN_IDENTIFIER.test(value)) throw new Error(`${name} '${value}' is not a plain PostgreSQL identifier`);
  }
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${user}') THEN CREATE ROLE "${user}" LOGIN; END IF; END $$;`,
    `GRANT rds_iam TO "${user}";`,
    `GRANT CONNECT ON DATABASE "${database}" TO "${user}";`,
    // The master user must be a member to create a schema owned by the service's user,
    // and must not stay one: through it the master user would be a member of rds_iam,
    // and RDS then accepts only IAM sign-in for it (no password: rotation and this
    // function would fail). The statements run as one transaction (one simple query).
    `GRANT "${user}" TO CURRENT_USER;`,
    `CREATE SCHEMA IF NOT EXISTS "${user}" AUTHORIZATION "${user}";`,
    `REVOKE "${user}" FROM CURRENT_USER;`,
  ].join('\n');
}

/** Connects as the master user and makes every user exist. */
export async function ensureUsers(connection: PostgresConnection, users: string[]): Promise<void> {
  const client = await PostgresClient.connect(connection);
  try {
    for (const user of users) {
      await client.query(userStatements(user, connection.database));
    }
  } finally {
    client.end();
  }
}

/** What the Lambda runtime passes besides the event. */
interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** How long before the function's timeout it gives up and answers FAILED, so that CloudFormation never waits for an answer that never comes. */
const ANSWER_MARGIN_MS = 20_000;

/** The Lambda entry point: a custom resource handler that answers CloudFormation itself. */
export async function handler(event: CustomResourceEvent, context?: LambdaContext): Promise<void> {
  const physicalResourceId = event.PhysicalResourceId ?? `${event.ResourceProperties.Database}-iam-users`;
  const deadline = Date.now() + (context ? context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS : 280_000);
  try {
    if (event.RequestType !== 'Delete' && !nothingToMake(event)) {
      await beforeDeadline(deadline, withRetries(deadline, async () => {
        // Read on every attempt: a rotation may change the password under us.
        const { username, password } = await masterCredentials(event.ResourceProperties.SecretArn);
        await ensureUsers({
          host: event.ResourceProperties.Host,
          port: Number(event.ResourceProperties.Port),
          database: event.ResourceProperties.Database,
          user: username,
          password,
          tls: { ca: await rdsCertificates() },
          timeoutMs: 30_000,
        }, event.ResourceProperties.Users);
      }));
    }
    await respond(event, 'SUCCESS', physicalResourceId);
  } catch (error) {
    await respond(event, 'FAILED', physicalResourceId, String(error instanceof Error ? error.message : error).slice(0, 1000));
  }
}

/** Retries `action` (the writer may still be starting) while there is time for another attempt. */
async function withRetries(deadline: number, action: () => Promise<void>, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const pause = 5_000 * attempt;
      if (attempt >= attempts || Date.now() + pause + 30_000 > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, pause));
    }
  }
}

/** `work`, or an error when the deadline comes first. */
async function beforeDeadline<T>(deadline: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('gave up before the function\'s timeout: the writer or Secrets Manager did not answer in time')),
      Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The master user's name and password, from the secret attached to the instance. */
async function masterCredentials(secretArn: string): Promise<{ username: string; password: string }> {
  // The AWS SDK for JavaScript v3 comes with the Lambda Node.js runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } });
  const secret = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }));
  return JSON.parse(secret.SecretString);
}

/** The certificate authorities of RDS in this region, from AWS's published trust store. */
function rdsCertificates(): Promise<string> {
  const region = process.env.AWS_REGION;
  return request('GET', `https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`);
}

async function respond(event: CustomResourceEvent, status: 'SUCCESS' | 'FAILED', physicalResourceId: string, reason?: string): Promise<void> {
  await request('PUT', event.ResponseURL, JSON.stringify({
    Status: status,
    Reason: reason ?? 'done',
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  }));
}

function request(method: string, url: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': '', 'content-length': Buffer.byteLength(body) },
      timeout: 30_000,
    }, response => {
      const chunks: Buffer[] = [];
      response.on('data', chunk => chunks.push(chunk));
      response.on('end', () => (response.statusCode ?? 500) < 300
        ? resolve(Buffer.concat(chunks).toString('utf8'))
        : reject(new Error(`${method} ${new URL(url).host} answered ${response.statusCode}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${new URL(url).host} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
