import { createHash, createHmac } from 'crypto';

/**
 * The bearer token that EKS accepts from an IAM principal, as `aws eks get-token`
 * and aws-iam-authenticator make it: a presigned STS GetCallerIdentity URL whose
 * signed headers name the cluster (`x-k8s-aws-id`), base64url-encoded without
 * padding behind `k8s-aws-v1.`. EKS calls STS with it to learn who is asking.
 */

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface PresignRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Headers to sign besides `host`, by lowercase name. */
  readonly headers?: Record<string, string>;
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  /** When the request is signed. */
  readonly date: Date;
  readonly expiresSeconds: number;
  /** The hex SHA-256 of the payload, or `UNSIGNED-PAYLOAD` (S3). */
  readonly payloadHash: string;
}

/** RFC 3986 encoding, as Signature Version 4 asks: everything but A-Z a-z 0-9 - _ . ~ */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** The URL of `request`, signed in its query string with Signature Version 4. */
export function presign(request: PresignRequest): string {
  const stamp = request.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = stamp.slice(0, 8);
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const headers: Record<string, string> = { host: request.host, ...request.headers };
  const signedHeaders = Object.keys(headers).map(name => name.toLowerCase()).sort().join(';');
  const query: Record<string, string> = {
    ...request.query,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${request.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': stamp,
    'X-Amz-Expires': String(request.expiresSeconds),
    'X-Amz-SignedHeaders': signedHeaders,
  };
  if (request.credentials.sessionToken) query['X-Amz-Security-Token'] = request.credentials.sessionToken;
  const canonicalQuery = Object.keys(query).sort().map(key => `${encode(key)}=${encode(query[key])}`).join('&');
  const canonicalHeaders = Object.keys(headers).map(name => [name.toLowerCase(), headers[name].trim()]).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}:${value}\n`).join('');
  const canonicalRequest = [request.method, request.path, canonicalQuery, canonicalHeaders, signedHeaders, request.payloadHash].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${request.credentials.secretAccessKey}`, day), request.region), request.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return `https://${request.host}${request.path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** The hostname of STS in `region` (regional endpoints, which EKS accepts). */
export function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** A token for `clusterName`, valid for the minute after `date`. */
export function eksToken(clusterName: string, region: string, credentials: Credentials, date: Date = new Date()): string {
  const url = presign({
    method: 'GET',
    host: stsHost(region),
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { 'x-k8s-aws-id': clusterName },
    region,
    service: 'sts',
    credentials,
    date,
    expiresSeconds: 60,
    payloadHash: sha256(''),
  });
  return `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`;
}
