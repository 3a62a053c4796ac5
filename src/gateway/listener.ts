/**
 * The gateway's HTTP(S) listener: the limits of `server:` (header and request time, connections),
 * and the answer to a request the HTTP parser refused or that did not arrive in time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SluiceConfig } from '../control/config.js';
import { errors } from '../errors/catalog.js';

export interface GatewayLogger {
  debug?(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** PEM certificate chain and private key of an HTTPS listener. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export const silent: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The HTTP or HTTPS server with the listener limits of `server:` (headers, request time, connections). */
export function listener(
  options: { tls?: TlsFiles; logger?: GatewayLogger },
  limits: SluiceConfig['server'],
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const server: Server = options.tls
    ? (createHttpsServer(
        { ...serverOptions, cert: options.tls.cert, key: options.tls.key },
        onRequest,
      ) as unknown as Server)
    : createServer(serverOptions, onRequest);
  server.keepAliveTimeout = 65_000;
  server.maxConnections = limits.maxConnections;
  server.on('drop', dropped(options.logger ?? silent, limits.maxConnections));
  return server;
}

/** Logs connections closed for being over the cap, at most once a second. */
function dropped(logger: GatewayLogger, cap: number): () => void {
  let count = 0;
  let last = 0;
  return () => {
    count++;
    const t = Date.now();
    if (t - last < 1_000) return;
    last = t;
    logger.warn({ dropped: count, maxConnections: cap }, 'connections over server.maxConnections closed');
    count = 0;
  };
}

/** A request the HTTP parser refused, or one that did not arrive in time: a catalog error, then close. */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Socket,
  requestTimeoutMs: number,
): void {
  if (!socket.writable) return void socket.destroy();
  const e =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? errors.requestTimeout(requestTimeoutMs) : errors.badHttp();
  const body = e.body();
  const head = Object.entries({
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...e.responseHeaders(),
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${e.status} ${e.status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n${head}\r\n${body}`,
  );
}
