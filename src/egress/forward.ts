/** Plain HTTP forwarding: the client's request to the checked address, the answer back, bytes counted. */
import { request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { errors } from '../errors/catalog.js';
import { refuse } from './refusal.js';
import type { Transfer } from './tunnel.js';

export interface ForwardOptions {
  req: IncomingMessage;
  res: ServerResponse;
  /** The address that was checked: the request goes there and nowhere else. */
  address: string;
  port: number;
  path: string;
  hostHeader: string;
  idleTimeoutMs: number;
  /** Called once, when the exchange is over (answered, failed or abandoned). */
  onEnd(bytes: Transfer, error: string | null): void;
}

/** Headers meant for the proxy, not for the far side. */
const PROXY_ONLY = ['proxy-authorization', 'proxy-connection'];

export function forwardPlain(o: ForwardOptions): void {
  const { req, res } = o;
  const bytes: Transfer = { up: 0, down: 0 };
  let done = false;
  const end = (error: string | null) => {
    if (done) return;
    done = true;
    o.onEnd(bytes, error);
  };
  const headers: OutgoingHttpHeaders = { ...req.headers, host: o.hostHeader };
  for (const h of PROXY_ONLY) delete headers[h];
  const out = request({ host: o.address, port: o.port, method: req.method, path: o.path, headers });
  out.setTimeout(o.idleTimeoutMs, () => out.destroy(new Error('idle timeout')));
  out.on('response', (upstream) => {
    try {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    } catch (err) {
      // A head this server cannot repeat (an invalid header from the far side) ends the exchange.
      out.destroy(err as Error);
      return;
    }
    upstream.on('data', (c: Buffer) => (bytes.down += c.length));
    upstream.on('error', (err) => {
      res.destroy();
      end(err.message);
    });
    upstream.on('end', () => end(null));
    upstream.pipe(res);
  });
  out.on('error', (err) => {
    refuse(res, errors.egressUnreachable(o.hostHeader));
    end(err.message);
  });
  req.on('data', (c: Buffer) => (bytes.up += c.length));
  req.on('error', (err) => {
    out.destroy();
    end(err.message);
  });
  // A client that goes away before the answer is complete abandons the far request too.
  res.on('close', () => {
    if (res.writableFinished) return;
    out.destroy();
    end('client closed the connection');
  });
  req.pipe(out);
}
