/**
 * What every upstream adapter does: name the model the way its cloud does, turn a request in the
 * Messages API's terms into its cloud's request (URL, headers, body, signature), and turn the
 * cloud's answer back into the Messages API's wire format for the relay.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import type { UpstreamAnswer } from '../context.js';
import type { Provider } from './models.js';

/** The operations of the Messages API a route stands for. */
export type Operation = 'messages' | 'count_tokens' | 'models';

/** A request in the Messages API's terms, whatever format the client spoke. */
export interface ModelCall {
  operation: Operation;
  /** The Messages API path and query the request stands for (`/v1/messages?beta=true`). */
  path: string;
  /** The headers to pass on: the client's, with `anthropic-beta` holding every beta it asked for. */
  headers: IncomingHttpHeaders;
  /** The Messages body as it is to be sent (the guard's redacted copy where it redacts). */
  body: Buffer | null;
  stream: boolean;
  /** The model the body names, as the client asked for it (null for the models list). */
  model: string | null;
  /** The upstream's own id for the model (null for the models list). */
  modelId: string | null;
}

/** A request ready to send to the adapter's origin. */
export interface PreparedRequest {
  method: 'GET' | 'POST';
  /** Path and query on the origin. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | string | null;
}

/** The cloud's answer as it arrived: status line, headers, and the body still to read. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: AsyncIterable<Buffer> & { dump?: () => Promise<void> };
}

export interface UpstreamAdapter {
  /** Its name under `upstreams`. */
  readonly name: string;
  readonly provider: Provider;
  /** Scheme, host and port requests go to, and the host for messages. */
  readonly origin: string;
  readonly host: string;
  readonly timeoutMs: number;
  /** Where its model table is configured, for the error that names it. */
  readonly modelTable: string;
  /** The cloud's id for `model`, or undefined when neither its table nor the defaults have one. */
  modelId(model: string): string | undefined;
  /** An answer the adapter gives itself, for an operation its cloud does not have (or null). */
  local?(call: ModelCall): UpstreamAnswer | null;
  /** The cloud's request for `call`, signed; throws the catalog's `cloud_credentials` when it cannot sign. */
  prepare(call: ModelCall): Promise<PreparedRequest>;
  /** The cloud's answer in the Messages API's format; throws a catalog error for a cloud error. */
  answer(raw: RawAnswer, call: ModelCall): Promise<UpstreamAnswer>;
}

/** Request headers never forwarded: hop-by-hop, framing, and the client's own credentials. */
const DROP = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'x-api-key',
  'authorization',
  'accept-encoding',
]);

/** The client's headers less DROP (and AWS SDK request headers, which name the client's own signing). */
export function passedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROP.has(name) || name.startsWith('x-amz-') || name.startsWith('amz-sdk-'))
      continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // Identity encoding lets the relay read usage from the bytes it passes on.
  out['accept-encoding'] = 'identity';
  return out;
}

/** The betas a request asks for (`anthropic-beta`, comma-separated), in order, once each. */
export function betasOf(headers: IncomingHttpHeaders): string[] {
  const raw = headers['anthropic-beta'];
  const list = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',');
  return [...new Set(list.map((b) => b.trim()).filter(Boolean))];
}

/** A copy of the answer's headers without undefined values. */
export function answerHeaders(headers: Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

/** The first bytes of an answer's body (an error body), bounded; the rest is discarded. */
export async function readSmall(body: AsyncIterable<Buffer>, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** A whole JSON answer the adapter made or rewrote. */
export function jsonAnswer(
  adapter: Pick<UpstreamAdapter, 'name' | 'host'>,
  status: number,
  value: unknown,
  headers: Record<string, string | string[]> = {},
): UpstreamAnswer {
  const text = Buffer.from(JSON.stringify(value));
  return {
    name: adapter.name,
    host: adapter.host,
    status,
    headers: { ...headers, 'content-type': 'application/json' },
    body: (async function* () {
      yield text;
    })(),
    sse: false,
  };
}

/** One connection pool per upstream origin, kept for the gateway's life. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  for(adapter: Pick<UpstreamAdapter, 'origin' | 'timeoutMs'>): Pool {
    const key = `${adapter.origin} ${adapter.timeoutMs}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(adapter.origin, {
        connections: 128,
        headersTimeout: adapter.timeoutMs,
        bodyTimeout: adapter.timeoutMs,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
