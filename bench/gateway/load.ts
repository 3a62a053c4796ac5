/**
 * The load generator of bench/gateway.ts: `concurrency` keep-alive connections (an undici Pool),
 * each sending the next request as soon as its previous answer has been read to the last byte. Each
 * of the `concurrency` workers is a session of its own (`x-claude-code-session-id`), so a gateway
 * sees what it sees in production: many conversations, each one request at a time.
 */
import { Pool } from 'undici';
import type { BodyMaker } from './body.js';

export interface Target {
  name: string;
  /** Base URL; requests go to `${url}/v1/messages`. */
  url: string;
  headers: Record<string, string>;
}

export interface Samples {
  /** Per request, ms from sending to the last byte of the answer. */
  total: number[];
  /** Per request, ms from sending to the first byte of the answer's body. */
  ttfb: number[];
  /** Wall-clock seconds the batch took. */
  seconds: number;
  requests: number;
}

export interface Client {
  target: Target;
  pool: Pool;
  close(): Promise<void>;
}

export function client(target: Target, concurrency: number): Client {
  const pool = new Pool(new URL(target.url).origin, {
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  return { target, pool, close: () => pool.close() };
}

/**
 * Sends `count` requests, numbered from `first` (the body's newest turn), `concurrency` at a time.
 * Throws on the first answer that is not a complete 200 (a streamed answer must end with
 * message_stop, a whole one must hold the stand-in's stop reason).
 */
export async function run(
  c: Client,
  body: BodyMaker,
  stream: boolean,
  first: number,
  count: number,
  concurrency: number,
): Promise<Samples> {
  const path = `${new URL(c.target.url).pathname.replace(/\/$/, '')}/v1/messages`;
  const headers = {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    ...c.target.headers,
  };
  const total: number[] = [];
  const ttfb: number[] = [];
  let next = 0;
  // Each worker is one Claude Code session (its requests one after another), as real load is.
  const worker = async (_v: unknown, w: number): Promise<void> => {
    const session = { ...headers, 'x-claude-code-session-id': `bench-session-${w}` };
    while (next < count) {
      const n = first + next++;
      const payload = body.make(n);
      const t0 = performance.now();
      const res = await c.pool.request({ method: 'POST', path, headers: session, body: payload });
      let t1 = 0;
      let tail = '';
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (!t1) t1 = performance.now();
        tail = (tail + chunk.toString('latin1')).slice(-512);
      }
      const t2 = performance.now();
      const ok =
        res.statusCode === 200 && (stream ? tail.includes('message_stop') : tail.includes('end_turn'));
      if (!ok) throw new Error(`${c.target.name}: HTTP ${res.statusCode}, answer ends: ${tail.slice(-300)}`);
      total.push(t2 - t0);
      ttfb.push((t1 || t2) - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { total, ttfb, seconds: (performance.now() - t0) / 1000, requests: count };
}

/** The `p` quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
}
