/**
 * The egress proxy: an HTTP forward proxy (CONNECT tunnels for TLS, plain HTTP forwarding) that
 * clients use through HTTPS_PROXY / HTTP_PROXY. Each connection is attributed by its proxy
 * credentials (`Proxy-Authorization: Basic`, any user name, a Sluice key as the password), decided
 * by the key's org policy (`egress.allow` / `egress.deny`), and recorded: time, org, user, host,
 * port, decision, rule, bytes each way, duration. Names are resolved once here and the connection
 * goes to the address that was checked, so a name that resolves to a private, loopback or
 * link-local address is refused unless that host is written out in an allow rule (no DNS
 * rebinding through the proxy).
 */
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type AddressInfo, type Socket } from 'node:net';
import type { SluiceConfig } from '../control/config.js';
import { cachedAuthenticator } from '../control/keys.js';
import { errors, type SluiceError } from '../errors/catalog.js';
import type { EgressRecord, KeyRecord, Store } from '../store/types.js';
import { orgEgress } from './flows.js';
import { EgressPolicy, isPrivateAddress, type Decision } from './policy.js';

export interface EgressLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface RunningEgress {
  url: string;
  port: number;
  close(): Promise<void>;
}

const silent: EgressLogger = { warn: () => undefined, error: () => undefined };

/** The key in `Proxy-Authorization: Basic base64(user:key)`, if any. */
function proxyKey(req: IncomingMessage): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers['proxy-authorization'] ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decodeURIComponent(decoded.slice(colon + 1));
}

export async function startEgressProxy(options: {
  config: SluiceConfig;
  store: Store;
  logger?: EgressLogger;
}): Promise<RunningEgress> {
  const { config, store } = options;
  const logger = options.logger ?? silent;
  const settings = config.egress ?? { host: '127.0.0.1', port: 8788, idleTimeoutMs: 300_000 };
  const today = new Date().toISOString().slice(0, 10);
  const policies = new Map(
    Object.entries(config.orgs).map(([name, org]) => {
      const { allow, deny } = orgEgress(org, today);
      return [name, new EgressPolicy(allow, deny)];
    }),
  );
  const findKey = cachedAuthenticator(store);
  const open = new Set<Socket>();

  async function who(req: IncomingMessage): Promise<KeyRecord | undefined> {
    const presented = proxyKey(req);
    return presented ? findKey(presented) : undefined;
  }

  /** The policy decision, then the address to connect to (resolved once, checked for private ranges). */
  async function decide(
    key: KeyRecord,
    host: string,
    port: number,
  ): Promise<Decision & { address?: string }> {
    const policy = policies.get(key.org);
    if (!policy) return { decision: 'deny', rule: 'unknown-org', explicit: false };
    const d = policy.decide(host, port);
    if (d.decision === 'deny') return d;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return { decision: 'deny', rule: 'dns-failure', explicit: false };
    }
    if (!d.explicit && addresses.some(isPrivateAddress))
      return { decision: 'deny', rule: 'private-address', explicit: false };
    return { ...d, address: addresses[0] as string };
  }

  function record(r: Omit<EgressRecord, 'id'>): void {
    store
      .insertEgress({ id: `egr_${randomUUID().replace(/-/g, '')}`, ...r })
      .catch((err: Error) => logger.error({ err: err.message }, 'egress record not written'));
  }

  const REASONS: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    407: 'Proxy Authentication Required',
    502: 'Bad Gateway',
  };

  /** A catalog error on a plain response or, for CONNECT, written on the raw socket. */
  function refuse(to: Socket | ServerResponse, e: SluiceError) {
    const body = e.body();
    if ('writeHead' in to) {
      to.writeHead(e.status, { 'content-type': 'application/json', ...e.responseHeaders() });
      to.end(body);
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
    to.end(`HTTP/1.1 ${e.status} ${REASONS[e.status] ?? ''}\r\n${head}\r\n${body}`);
  }

  /** Records a denied attempt and answers 403 naming the rule. */
  function refuseDenied(
    to: Socket | ServerResponse,
    base: Pick<EgressRecord, 'time' | 'org' | 'user' | 'host' | 'port' | 'method'>,
    rule: string,
    started: number,
  ): void {
    record({
      ...base,
      decision: 'deny',
      rule,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: performance.now() - started,
      error: null,
    });
    refuse(to, errors.egressDenied(base.host, base.port, rule));
  }

  /** Records an allowed connection or request once it has ended. */
  function recordAllowed(
    base: Pick<EgressRecord, 'time' | 'org' | 'user' | 'host' | 'port' | 'method'>,
    rule: string,
    bytesUp: number,
    bytesDown: number,
    started: number,
    error: string | null,
  ): void {
    record({
      ...base,
      decision: 'allow',
      rule,
      bytesUp,
      bytesDown,
      durationMs: performance.now() - started,
      error,
    });
  }

  const idle = settings.idleTimeoutMs;
  const server = createServer(
    {
      // A client that never finishes its request head is dropped after the idle timeout (or 10 s).
      headersTimeout: Math.min(10_000, idle),
      requestTimeout: idle,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(idle / 4))),
    },
    async (req, res) => {
      // Plain HTTP forwarding: the request line carries an absolute URL.
      const started = performance.now();
      const time = new Date().toISOString();
      let url: URL;
      try {
        url = new URL(req.url ?? '');
        if (url.protocol !== 'http:') throw new Error('not http');
      } catch {
        return refuse(
          res,
          errors.egressBadRequest('expected an absolute http:// URL (use CONNECT for https).'),
        );
      }
      const port = Number(url.port || 80);
      const key = await who(req).catch(() => undefined);
      if (!key) return refuse(res, errors.egressAuthRequired());
      const d = await decide(key, url.hostname, port);
      const base = {
        time,
        org: key.org,
        user: key.user,
        host: url.hostname,
        port,
        method: req.method ?? 'GET',
      };
      if (d.decision === 'deny' || !d.address) return refuseDenied(res, base, d.rule, started);
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      delete headers['proxy-connection'];
      let up = 0;
      let down = 0;
      const out = httpRequest(
        {
          host: d.address,
          port,
          method: req.method,
          path: url.pathname + url.search,
          headers: { ...headers, host: url.host },
        },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.on('data', (c: Buffer) => (down += c.length));
          upstream.pipe(res);
          upstream.on('end', () => allowed(null));
        },
      );
      const allowed = (error: string | null) => recordAllowed(base, d.rule, up, down, started, error);
      out.on('error', (err) => {
        allowed(err.message);
        if (!res.headersSent) refuse(res, errors.egressUnreachable(url.host));
        else res.destroy();
      });
      req.on('data', (c: Buffer) => (up += c.length));
      req.pipe(out);
    },
  );

  server.on('connect', async (req: IncomingMessage, client: Socket, head: Buffer) => {
    const started = performance.now();
    const time = new Date().toISOString();
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
    if (!m) return client.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    const host = (m[1] as string).replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    const key = await who(req).catch(() => undefined);
    if (!key) return refuse(client, errors.egressAuthRequired());
    const d = await decide(key, host, port);
    const base = { time, org: key.org, user: key.user, host, port, method: 'CONNECT' };
    if (d.decision === 'deny' || !d.address) return refuseDenied(client, base, d.rule, started);
    const target = connect({ host: d.address, port });
    open.add(target);
    let up = head.length;
    let down = 0;
    let error: string | null = null;
    let done = false;
    let connected = false;
    const finish = () => {
      if (done) return;
      done = true;
      client.destroy();
      target.destroy();
      open.delete(target);
      recordAllowed(base, d.rule, up, down, started, error);
    };
    target.setTimeout(settings.idleTimeoutMs, finish);
    client.setTimeout(settings.idleTimeoutMs, finish);
    target.on('error', (err) => {
      error = err.message;
      if (!connected) refuse(client, errors.egressUnreachable(`${host}:${port}`));
      finish();
    });
    // When one side closes cleanly, the other still gets what is buffered for it (the pipe ends it)
    // before the tunnel is torn down; after an error, it is torn down at once.
    const drainThenFinish = (other: Socket) => (hadError: boolean) => {
      if (hadError || other.destroyed || other.writableFinished) return finish();
      other.once('finish', finish);
      if (!other.writableEnded) other.end();
    };
    client.on('close', drainThenFinish(target));
    target.on('close', drainThenFinish(client));
    target.on('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) target.write(head);
      client.on('data', (c: Buffer) => (up += c.length));
      target.on('data', (c: Buffer) => (down += c.length));
      client.pipe(target);
      target.pipe(client);
    });
  });

  // A malformed request line gets a 400, a client that never finishes its request head a 408; never a crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve) => server.listen(settings.port, settings.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${settings.host}:${port}`,
    port,
    close: async () => {
      for (const s of open) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
