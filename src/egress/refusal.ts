/** Catalog errors as the proxy's clients read them: on a plain response, or on a CONNECT's raw socket. */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SluiceError } from '../errors/catalog.js';

/**
 * Answers with `e` and, for a raw socket (or when `close` is set), closes the connection after it.
 * A response whose head has already gone cannot carry an error: it is cut off instead.
 */
export function refuse(to: Socket | ServerResponse, e: SluiceError, close = false): void {
  const body = e.body();
  if ('writeHead' in to) {
    if (to.headersSent) {
      to.destroy();
      return;
    }
    to.writeHead(e.status, {
      'content-type': 'application/json',
      ...(close ? { connection: 'close' } : {}),
      ...e.responseHeaders(),
    });
    to.end(body);
    return;
  }
  if (!to.writable) {
    to.destroy();
    return;
  }
  const all = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...e.responseHeaders(),
  };
  const head = Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  to.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\n${head}\r\n${body}`);
}
