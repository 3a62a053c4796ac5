/** `server.metricsListen`: a listener of its own that serves /metrics alone. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayMetrics } from '../control/metrics.js';
import type { GatewayLogger } from './listener.js';

/**
 * `server.metricsListen`: /metrics alone, without a token, on a loopback address (a Prometheus on
 * the same host scrapes it; the schema accepts loopback addresses only).
 */
export async function listenMetrics(
  address: string,
  metrics: GatewayMetrics,
  logger: GatewayLogger,
): Promise<{ url: string; close(): Promise<void> }> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics' || !['GET', 'HEAD'].includes(req.method ?? '')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: Error) => {
        logger.error({ err: err.message }, 'metrics not collected');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
