/**
 * Stage forward: the request to the org's upstream, with the upstream's credentials in place of the
 * client's, until the upstream's status line and headers arrive. The body is forwarded as it is in
 * the context (the client's bytes, or the guard's redacted copy).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, errors as undiciErrors } from 'undici';
import type { UpstreamConfig } from '../../control/config.js';
import { errors } from '../../errors/catalog.js';
import { ClientClosed, type Stage } from '../pipeline.js';

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

/** The headers sent upstream: the client's, less DROP, plus the upstream's key. */
export function upstreamHeaders(headers: IncomingHttpHeaders, up: UpstreamConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  out['x-api-key'] = up.apiKey;
  // Identity encoding lets the relay read usage from the bytes it passes on.
  out['accept-encoding'] = 'identity';
  return out;
}

/** One connection pool per upstream origin, kept for the gateway's life. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  for(up: UpstreamConfig): Pool {
    let pool = this.pools.get(up.baseUrl);
    if (!pool) {
      pool = new Pool(new URL(up.baseUrl).origin, {
        connections: 128,
        headersTimeout: up.timeoutMs,
        bodyTimeout: up.timeoutMs,
      });
      this.pools.set(up.baseUrl, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

export function forward(pools: UpstreamPools, now: () => number): Stage {
  return async (ctx) => {
    const name = ctx.org?.upstream ?? '';
    const up = ctx.config.upstreams[name] as UpstreamConfig;
    const base = new URL(up.baseUrl);
    ctx.record.upstream = name;
    // The client going away cancels the upstream request, before or after its answer began.
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) ctx.abort.abort();
    });
    ctx.upstreamSentAt = now();
    let answer;
    try {
      answer = await pools.for(up).request({
        method: ctx.req.method as 'POST' | 'GET',
        path: base.pathname.replace(/\/$/, '') + (ctx.req.url ?? '/'),
        // The record's id travels with the request, so an upstream's logs can be matched to it.
        headers: { ...upstreamHeaders(ctx.req.headers, up), 'x-sluice-request-id': ctx.id },
        body: ctx.body,
        signal: ctx.abort.signal,
      });
    } catch (err) {
      if (ctx.abort.signal.aborted) throw new ClientClosed();
      if (err instanceof undiciErrors.HeadersTimeoutError) throw errors.upstreamTimeout(name, base.host);
      throw errors.upstreamUnreachable(name, base.host);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined) headers[k] = v;
    ctx.upstream = {
      name,
      host: base.host,
      status: answer.statusCode,
      headers,
      body: answer.body,
      sse: String(answer.headers['content-type'] ?? '').includes('text/event-stream'),
      secrets: [up.apiKey],
    };
  };
}
