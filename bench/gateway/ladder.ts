/**
 * The pass-through (pass-through.ts) with the steps a gateway must add to it, one level at a time,
 * each level all the steps before it and one more, none of Sluice's framework around them: how
 * much of Sluice's cost per request the steps themselves make, and how much the rest (keys, policy,
 * stages, records) does. Run by bench/gateway/one.ts as `--route ladder:N`:
 *
 *   0  the pass-through: the request's body streamed to the upstream
 *   1  the body read whole first (as Sluice's read stage does) and forwarded from one buffer
 *   2  the body read as a Messages request, resumed from the conversation's previous body
 *   3  a cancel per request (Sluice's, an EventEmitter undici takes as its signal), fired when the
 *      client goes
 *   4  the answer's usage read as it passes (the relay's SSE usage reader)
 *   5  a request id sent upstream and Sluice's two answer headers (id, overhead)
 *
 * Run as a process of its own: `ladder.ts UPSTREAM_URL LEVEL`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { BodyMemory, readMessagesBody } from '../../src/gateway/body.js';
import { Cancel } from '../../src/gateway/context.js';
import { SseUsageReader } from '../../src/gateway/usage.js';
import { HOP } from './pass-through.js';

async function wholeBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks, size);
}

function handler(pool: Pool, level: number): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const memory = new BodyMemory(256 * 1024 * 1024);
  return async (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    const body = level >= 1 ? await wholeBody(req) : req;
    if (level >= 2) {
      const conversation = String(req.headers['x-claude-code-session-id']);
      memory.set(conversation, readMessagesBody(body as Buffer, true, memory.get(conversation)).resume);
    }
    const abort = level >= 3 ? new Cancel() : null;
    if (abort) res.once('close', () => res.writableFinished || abort.abort());
    const id = level >= 5 ? `req_${randomUUID().replace(/-/g, '')}` : '';
    if (id) headers['x-sluice-request-id'] = id;
    const up = await pool.request({
      method: 'POST',
      path: req.url ?? '/',
      headers,
      body,
      ...(abort ? { signal: abort } : {}),
    });
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    if (id) Object.assign(out, { 'x-sluice-overhead-ms': (0).toFixed(2), 'x-sluice-request-id': id });
    res.writeHead(up.statusCode, out);
    const usage = level >= 4 ? new SseUsageReader() : null;
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      usage?.push(chunk);
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  };
}

const [upstream, level] = process.argv.slice(2);
if (upstream && level) {
  const pool = new Pool(upstream, { connections: 128 });
  const handle = handler(pool, Number(level));
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () =>
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`),
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      server.closeAllConnections();
      server.close(() => void pool.close().then(() => process.exit(0)));
    });
}
