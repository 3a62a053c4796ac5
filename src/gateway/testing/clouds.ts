/**
 * Local stand-ins for the clouds, speaking their wire formats and checking what they receive:
 * Bedrock verifies each request's SigV4 signature against the test credentials (or its API key)
 * and answers in the binary event stream; Vertex AI has a token endpoint that mints access tokens
 * only for a JWT assertion signed by the test service account's key, and serves only those
 * tokens. Behind each, a Messages API stand-in (standin.ts) decides the answer, so tests script
 * them the same way (`inner.respond`, `inner.failNext`).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { request } from 'undici';
import { startStandin, type SeenRequest, type Standin } from './standin.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** A scripted cloud error, in the cloud's own shape. */
export interface CloudFailure {
  status: number;
  /** AWS error type (ThrottlingException, ...) or Google status (RESOURCE_EXHAUSTED, ...). */
  name: string;
  message: string;
}

export interface CloudStandin {
  url: string;
  /** Every request as it arrived, before any check. */
  seen: SeenRequest[];
  /** Requests refused for their credentials or signature, with why. */
  refused: string[];
  failNext: CloudFailure[];
  /** The Messages API stand-in that decides the answers. */
  inner: Standin;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: Error) => send(res, 500, { message: `stand-in failed: ${err.message}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Asks the inner Messages stand-in, as the cloud's own service would ask the model. */
function askInner(inner: Standin, path: string, body: unknown, betas: string[]) {
  return request(`${inner.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': 'inner',
      ...(betas.length ? { 'anthropic-beta': betas.join(',') } : {}),
    },
    body: JSON.stringify(body),
  });
}

// ---------------------------------------------------------------- Amazon Bedrock

export interface AwsTestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Test credentials in the shape of real ones (never valid anywhere). */
export function awsTestCredentials(): AwsTestCredentials {
  return {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
}

/** Why a SigV4-signed request is refused, or null when its signature is right. */
async function sigv4Problem(
  req: IncomingMessage,
  body: Buffer,
  creds: AwsTestCredentials,
  region: string,
): Promise<string | null> {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'no SigV4 authorization';
  const [, keyId, , signedRegion, service, signedHeaders, signature] = m;
  if (keyId !== creds.accessKeyId) return 'unknown access key';
  if (signedRegion !== region || service !== 'bedrock') return `signed for ${signedRegion}/${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!at) return 'no x-amz-date';
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(';')) headers[name] = String(req.headers[name] ?? '');
  const [path, query = ''] = (req.url ?? '/').split('?');
  const signer = new SignatureV4({
    service: 'bedrock',
    region,
    credentials: creds,
    sha256: Hash.bind(null, 'sha256'),
  });
  const expected = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: String(req.headers.host ?? '').split(':')[0] ?? '',
      path: path ?? '/',
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body,
    },
    { signingDate: new Date(`${at[1]}-${at[2]}-${at[3]}T${at[4]}:${at[5]}:${at[6]}Z`) },
  );
  const want = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  return want === signature ? null : 'signature does not match';
}

/** An Anthropic Messages event stream (SSE text) as Bedrock event-stream chunks, event by event. */
function framesOf(sse: string, metrics: object): Buffer[] {
  const frames: Buffer[] = [];
  for (const block of sse.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    if (!data) continue;
    const event = JSON.parse(data) as { type: string };
    if (event.type === 'ping') continue; // Bedrock's stream carries none
    const json =
      event.type === 'message_stop' ? { ...event, 'amazon-bedrock-invocationMetrics': metrics } : event;
    frames.push(
      Buffer.from(
        codec.encode({
          headers: {
            ':event-type': { type: 'string', value: 'chunk' },
            ':content-type': { type: 'string', value: 'application/json' },
            ':message-type': { type: 'string', value: 'event' },
          },
          body: fromUtf8(JSON.stringify({ bytes: Buffer.from(JSON.stringify(json)).toString('base64') })),
        }),
      ),
    );
  }
  return frames;
}

export interface BedrockStandinOptions {
  region: string;
  credentials: AwsTestCredentials;
  /** A Bedrock API key accepted as a bearer token instead of a signature. */
  apiKey?: string;
}

/** Bedrock Runtime: InvokeModel, InvokeModelWithResponseStream and CountTokens. */
export async function startBedrockStandin(o: BedrockStandinOptions): Promise<CloudStandin> {
  const inner = await startStandin('inner');
  const seen: SeenRequest[] = [];
  const refused: string[] = [];
  const failNext: CloudFailure[] = [];
  const awsError = (res: ServerResponse, status: number, name: string, message: string) =>
    send(
      res,
      status,
      { message },
      { 'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
    );
  const server = await listen(async (req, res) => {
    const body = await readAll(req);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const bearer = o.apiKey !== undefined && req.headers.authorization === `Bearer ${o.apiKey}`;
    const problem = bearer ? null : await sigv4Problem(req, body, o.credentials, o.region);
    if (problem) {
      refused.push(problem);
      return awsError(
        res,
        403,
        'InvalidSignatureException',
        `The request signature we calculated does not match the signature you provided (${problem}).`,
      );
    }
    const fail = failNext.shift();
    if (fail) return awsError(res, fail.status, fail.name, fail.message);
    const m = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(req.url ?? '');
    if (!m) return awsError(res, 404, 'UnknownOperationException', 'unknown operation');
    const model = decodeURIComponent(m[1] as string);
    const op = m[2] as string;
    let payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (op === 'count-tokens') {
      const inside =
        (payload.input as { invokeModel?: { body?: string } } | undefined)?.invokeModel?.body ?? '';
      payload = JSON.parse(Buffer.from(inside, 'base64').toString('utf8')) as Record<string, unknown>;
    }
    if (payload.anthropic_version !== 'bedrock-2023-05-31')
      return awsError(res, 400, 'ValidationException', 'required key [anthropic_version] not found');
    for (const extraneous of ['model', 'stream'])
      if (extraneous in payload)
        return awsError(res, 400, 'ValidationException', `extraneous key [${extraneous}] is not permitted`);
    const { anthropic_version: _v, anthropic_beta: betas, ...rest } = payload;
    const stream = op === 'invoke-with-response-stream';
    const path = op === 'count-tokens' ? '/v1/messages/count_tokens' : '/v1/messages';
    const answer = await askInner(
      inner,
      path,
      { model, ...rest, ...(stream ? { stream: true } : {}) },
      (betas as string[]) ?? [],
    );
    const text = await answer.body.text();
    if (op === 'count-tokens')
      return send(res, 200, { inputTokens: (JSON.parse(text) as { input_tokens: number }).input_tokens });
    if (!stream || answer.statusCode >= 400) return send(res, answer.statusCode, JSON.parse(text));
    res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': 'bedrock-standin',
    });
    for (const frame of framesOf(text, { inputTokenCount: 25, outputTokenCount: 6 })) res.write(frame);
    res.end();
  });
  return {
    url: server.url,
    seen,
    refused,
    failNext,
    inner,
    close: async () => {
      await server.close();
      await inner.close();
    },
  };
}

// ---------------------------------------------------------------- Google Vertex AI

export interface ServiceAccount {
  /** The key file's content, as Google issues it, naming `tokenUri` as its token endpoint. */
  keyFile: Record<string, string>;
  publicKeyPem: string;
}

/** A fresh service account with an RSA key, whose key file names `tokenUri`. */
export function testServiceAccount(tokenUri: string, project = 'sluice-test'): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyFile: {
      type: 'service_account',
      project_id: project,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: `sluice@${project}.iam.gserviceaccount.com`,
      client_id: '1',
      token_uri: tokenUri,
    },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Why a JWT bearer assertion is refused, or null when the service account signed it for this use. */
function assertionProblem(assertion: string, account: ServiceAccount): string | null {
  const [head = '', claims = '', sig = ''] = assertion.split('.');
  const ok = verify(
    'RSA-SHA256',
    Buffer.from(`${head}.${claims}`),
    createPublicKey(account.publicKeyPem),
    Buffer.from(sig, 'base64url'),
  );
  if (!ok) return 'invalid JWT signature';
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (c.iss !== account.keyFile.client_email) return 'wrong issuer';
  if (c.aud !== 'https://oauth2.googleapis.com/token') return 'wrong audience';
  if (
    !String(c.scope ?? '')
      .split(' ')
      .includes('https://www.googleapis.com/auth/cloud-platform')
  )
    return 'no cloud-platform scope';
  if (typeof c.exp !== 'number' || c.exp * 1000 < Date.now()) return 'expired assertion';
  return null;
}

export interface VertexStandin extends CloudStandin {
  /** The service account whose key file the gateway is given (its token endpoint is this stand-in). */
  account: ServiceAccount;
  /** Access tokens minted so far. */
  minted: string[];
}

/** Vertex AI's rawPredict / streamRawPredict / count-tokens for one project and region, and a token endpoint. */
export async function startVertexStandin(o: { project: string; region: string }): Promise<VertexStandin> {
  const inner = await startStandin('inner');
  const seen: SeenRequest[] = [];
  const refused: string[] = [];
  const failNext: CloudFailure[] = [];
  const minted: string[] = [];
  const state: { account?: ServiceAccount } = {};
  const googleError = (res: ServerResponse, code: number, status: string, message: string) =>
    send(res, code, { error: { code, message, status } });
  const server = await listen(async (req, res) => {
    const body = await readAll(req);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (req.url === '/token') {
      const form = new URLSearchParams(body.toString('utf8'));
      const problem =
        form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer'
          ? 'wrong grant type'
          : assertionProblem(form.get('assertion') ?? '', state.account as ServiceAccount);
      if (problem) {
        refused.push(problem);
        return send(res, 400, { error: 'invalid_grant', error_description: problem });
      }
      const token = `ya29.standin-${randomBytes(16).toString('hex')}`;
      minted.push(token);
      return send(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !minted.includes(token)) {
      refused.push('access token not minted here');
      return googleError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      );
    }
    const fail = failNext.shift();
    if (fail) return googleError(res, fail.status, fail.name, fail.message);
    const m =
      /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/.exec(
        req.url ?? '',
      );
    if (!m || m[1] !== o.project || m[2] !== o.region)
      return googleError(res, 404, 'NOT_FOUND', `no such resource: ${req.url}`);
    const payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (payload.anthropic_version !== 'vertex-2023-10-16')
      return googleError(res, 400, 'INVALID_ARGUMENT', 'anthropic_version: vertex-2023-10-16 is required');
    const counting = m[3] === 'count-tokens';
    if (!counting && 'model' in payload)
      return googleError(res, 400, 'INVALID_ARGUMENT', 'model: Extra inputs are not permitted');
    const { anthropic_version: _v, ...rest } = payload;
    const betas = String(req.headers['anthropic-beta'] ?? '')
      .split(',')
      .filter(Boolean);
    const path = counting ? '/v1/messages/count_tokens' : '/v1/messages';
    const answer = await askInner(
      inner,
      path,
      counting ? rest : { model: decodeURIComponent(m[3] as string), ...rest },
      betas,
    );
    res.writeHead(answer.statusCode, {
      'content-type': String(answer.headers['content-type'] ?? 'application/json'),
    });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  });
  state.account = testServiceAccount(`${server.url}/token`, o.project);
  return {
    url: server.url,
    seen,
    refused,
    failNext,
    inner,
    account: state.account,
    minted,
    close: async () => {
      await server.close();
      await inner.close();
    },
  };
}

// ---------------------------------------------------------------- Microsoft Foundry

/** Foundry's Anthropic endpoint (`/anthropic/v1/messages`): the Messages stand-in under its prefix, with its key or an Entra ID token. */
export function startFoundryStandin(o: { apiKey: string; entraToken?: string }): Promise<Standin> {
  return startStandin(o.apiKey, { prefix: '/anthropic', ...(o.entraToken ? { bearer: o.entraToken } : {}) });
}
