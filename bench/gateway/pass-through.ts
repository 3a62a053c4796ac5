/**
 * Route (b) of bench/gateway.ts: the floor of what any proxy costs. A node:http server that forwards
 * each request's method, path, headers and body to the upstream over an undici Pool and streams the
 * answer back, doing nothing else (no parsing, no auth, no records).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/** Hop-by-hop and framing headers a proxy must not pass on as they are. */
export const HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

export interface PassThrough {
  url: string;
  close(): Promise<void>;
}

export async function startPassThrough(upstream: string): Promise<PassThrough> {
  const pool = new Pool(upstream, { connections: 128 });
  const server = createServer((req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    pool
      .request({
        method: (req.method ?? 'GET') as 'POST',
        path: req.url ?? '/',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? null : (req as IncomingMessage),
      })
      .then(async (up) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
        res.writeHead(up.statusCode, out);
        for await (const chunk of up.body as AsyncIterable<Buffer>)
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        res.end();
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

// Run as a process of its own (bench/gateway/servers.ts): `pass-through.ts UPSTREAM_URL`.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '')) && process.argv[2]) {
  const running = await startPassThrough(process.argv[2]);
  console.log(`listening on ${running.url}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => void running.close().then(() => process.exit(0)));
}
