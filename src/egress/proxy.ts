/**
 * The egress proxy: an HTTP forward proxy (CONNECT tunnels for TLS, plain HTTP forwarding) that
 * clients use through HTTPS_PROXY / HTTP_PROXY. Each request is read (request.ts), attributed by
 * its proxy credentials (a Sluice key as the password), decided by the key's org policy of the day
 * (decision.ts), carried (tunnel.ts, forward.ts) and recorded (record.ts). This file is the HTTP
 * listener and that composition; every listener's failure is answered and logged, never thrown.
 */
import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SluiceConfig } from '../control/config.js';
import { cachedAuthenticator } from '../control/keys.js';
import { errors, type SluiceError } from '../errors/catalog.js';
import type { Rule } from '../policy/rule.js';
import type { KeyRecord, Store } from '../store/types.js';
import { decideEgress, OrgPolicies, type Lookup } from './decision.js';
import { forwardPlain } from './forward.js';
import { EgressRecorder, type Attempt, type EgressJournal } from './record.js';
import { refuse } from './refusal.js';
import { parseProxyRequest, type ProxyTarget } from './request.js';
import { openTunnel, type Transfer } from './tunnel.js';

export interface EgressLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface EgressOptions {
  config: SluiceConfig;
  store: Store;
  logger?: EgressLogger;
  /** Monotonic milliseconds, for durations. */
  now?: () => number;
  /** Wall clock: record times, and the day each org's policy is evaluated at. */
  clock?: () => Date;
  /** A new egress record id. */
  newId?: () => string;
  /** Name resolution (the system resolver unless a test says otherwise). */
  lookup?: Lookup;
  /** The policy catalog org profiles are evaluated against (the shipped one by default). */
  policyCatalog?: readonly Rule[];
  /** Records held while the store refuses them before nothing more is let out (default 10,000). */
  recordBacklog?: number;
  /** How long to wait before writing them again (default 1 s). */
  recordRetryMs?: number;
  /** The audit journal records go through (`sluice serve` always has one; none: the store directly). */
  journal?: EgressJournal;
}

export interface RunningEgress {
  url: string;
  port: number;
  /** Decides new connections by `config`'s org rules from now on (a reload; the listener stays). */
  reload(config: SluiceConfig): void;
  /** Egress records the store refused that wait to be written again (while at the limit, nothing leaves). */
  recordsWaiting(): number;
  close(): Promise<void>;
}

type Settings = NonNullable<SluiceConfig['egress']>;
const DEFAULT_SETTINGS: Settings = {
  host: '127.0.0.1',
  port: 8788,
  idleTimeoutMs: 300_000,
  maxConnections: 256,
};
const silent: EgressLogger = { warn: () => undefined, error: () => undefined };
const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/** What every request of one proxy shares. */
interface Context {
  settings: Settings;
  logger: EgressLogger;
  now: () => number;
  clock: () => Date;
  lookup: Lookup;
  policies: OrgPolicies;
  findKey: (presented: string) => Promise<KeyRecord | undefined>;
  recorder: EgressRecorder;
  /** Keeps a socket the HTTP server no longer tracks (tunnels) until it closes. */
  track: (socket: Socket) => void;
  /** The connection came in over the connection cap: answer 503 and close it. */
  overCap: (socket: Socket) => boolean;
}

type Admission =
  | { refusal: SluiceError }
  | { target: ProxyTarget; address: string; onEnd: (bytes: Transfer, error: string | null) => void };

/** Parse, authenticate, decide: either a refusal to send, or where to go (already checked). */
async function admit(ctx: Context, req: IncomingMessage): Promise<Admission> {
  const started = ctx.now();
  const at = ctx.clock();
  const parsed = parseProxyRequest(req.method, req.url, req.headers);
  let key: KeyRecord | undefined;
  try {
    key = parsed.key ? await ctx.findKey(parsed.key) : undefined;
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message }, 'egress key lookup failed');
    return { refusal: errors.egressUnavailable('its store did not answer when checking your key') };
  }
  const attemptOf = (k: KeyRecord, host: string, port: number): Attempt => ({
    time: at.toISOString(),
    org: k.org,
    user: k.user,
    host,
    port,
    method: req.method ?? 'GET',
    started,
  });
  if (!parsed.ok) {
    if (key && parsed.attempted)
      ctx.recorder.denied(attemptOf(key, parsed.attempted.host, parsed.attempted.port), 'bad-request');
    return { refusal: parsed.error };
  }
  if (!key) return { refusal: errors.egressAuthRequired() };
  // Nothing leaves unrecorded: while neither the journal nor the store takes records, nothing goes.
  if (!ctx.recorder.accepting)
    return {
      refusal: errors.egressUnavailable('its store is not taking records, and nothing leaves unrecorded'),
    };
  const { host, port } = parsed.target;
  const attempt = attemptOf(key, host, port);
  const d = await decideEgress(ctx.policies.on(key.org, at), host, port, ctx.lookup);
  if (d.decision === 'deny' || !d.address) {
    ctx.recorder.denied(attempt, d.rule);
    return { refusal: errors.egressDenied(host, port, d.rule) };
  }
  // Begun (journaled) before the connection opens or the client hears it is allowed.
  return { target: parsed.target, address: d.address, onEnd: ctx.recorder.allowed(attempt, d.rule) };
}

/** CONNECT host:port: a tunnel to the checked address. */
async function onConnect(ctx: Context, req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
  ctx.track(client);
  client.on('error', () => undefined);
  if (ctx.overCap(client)) return refuse(client, errors.egressBusy(ctx.settings.maxConnections));
  const a = await admit(ctx, req);
  if ('refusal' in a) return refuse(client, a.refusal);
  const { host, port } = a.target;
  openTunnel({
    client,
    head,
    address: a.address,
    port,
    target: `${host}:${port}`,
    idleTimeoutMs: ctx.settings.idleTimeoutMs,
    track: ctx.track,
    onEnd: a.onEnd,
  });
}

/** A plain HTTP request with an absolute URL: forwarded to the checked address. */
async function onRequest(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (ctx.overCap(req.socket)) return refuse(res, errors.egressBusy(ctx.settings.maxConnections), true);
  const a = await admit(ctx, req);
  if ('refusal' in a) return refuse(res, a.refusal);
  if (a.target.kind !== 'forward') {
    a.onEnd({ up: 0, down: 0 }, 'refused: use CONNECT for tunnels');
    return refuse(res, errors.egressBadRequest('use CONNECT for tunnels.'));
  }
  forwardPlain({
    req,
    res,
    address: a.address,
    port: a.target.port,
    path: a.target.path,
    hostHeader: a.target.hostHeader,
    idleTimeoutMs: ctx.settings.idleTimeoutMs,
    onEnd: a.onEnd,
  });
}

/** The last word on a request whose handling failed: logged, answered 503 if possible, never thrown. */
function fault(ctx: Context, to: Socket | ServerResponse, err: unknown): void {
  ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'egress request failed');
  try {
    refuse(to, errors.egressUnavailable('it failed inside the proxy'), true);
  } catch {
    to.destroy();
  }
}

/**
 * Serves at most `cap` connections at a time. The next ones (up to an eighth as many more, at
 * least 8) are answered 503 egress_busy at their first request and closed; past that, new
 * connections are closed at once, so a flood cannot hold more than that many sockets.
 */
function limitConnections(server: Server, cap: number): (socket: Socket) => boolean {
  let active = 0;
  const over = new WeakSet<Socket>();
  server.maxConnections = cap + Math.max(8, Math.ceil(cap / 8));
  server.on('connection', (socket: Socket) => {
    if (active >= cap) {
      over.add(socket);
      return;
    }
    active++;
    socket.once('close', () => active--);
  });
  return (socket) => over.has(socket);
}

/** A request head that is not HTTP gets a 400, one that never finishes a 408; never a crash. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return void socket.end('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n');
  refuse(socket, errors.egressBadRequest('the request is not valid HTTP.'));
}

function listen(server: Server, settings: Settings): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startEgressProxy(options: EgressOptions): Promise<RunningEgress> {
  const { config, store } = options;
  const settings = config.egress ?? DEFAULT_SETTINGS;
  const logger = options.logger ?? silent;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? (() => `egr_${randomUUID().replace(/-/g, '')}`);
  const open = new Set<Socket>();
  const idle = settings.idleTimeoutMs;
  const server = createServer({
    // A client that never finishes its request head is dropped after the idle timeout (or 10 s).
    headersTimeout: Math.min(10_000, idle),
    requestTimeout: idle,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(idle / 4))),
  });
  const ctx: Context = {
    settings,
    logger,
    now,
    clock,
    lookup: options.lookup ?? systemLookup,
    policies: new OrgPolicies(config, options.policyCatalog),
    findKey: cachedAuthenticator(store, 5_000, { now: () => clock().getTime() }),
    recorder: new EgressRecorder(
      store,
      {
        now,
        newId,
        ...(options.recordBacklog ? { maxBacklog: options.recordBacklog } : {}),
        ...(options.recordRetryMs ? { retryMs: options.recordRetryMs } : {}),
        ...(options.journal ? { journal: options.journal } : {}),
      },
      (err, what) => logger.error({ err: err.message }, what),
    ),
    track: (socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    },
    overCap: limitConnections(server, settings.maxConnections),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onRequest(ctx, req, res).catch((err: unknown) => fault(ctx, res, err));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    onConnect(ctx, req, client, head).catch((err: unknown) => fault(ctx, client, err));
  });
  server.on('clientError', answerClientError);
  await listen(server, settings);
  server.on('error', (err) => logger.error({ err: err.message }, 'egress listener error'));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${settings.host}:${port}`,
    port,
    reload: (next) => {
      ctx.policies = new OrgPolicies(next, options.policyCatalog);
    },
    recordsWaiting: () => ctx.recorder.waiting,
    close: async () => {
      for (const s of open) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      // Each closed connection's record, before the journal and the store close behind this.
      const unfinished = await ctx.recorder.ended(5_000);
      if (unfinished)
        logger.error(
          { connections: unfinished },
          'egress connections did not end at shutdown; the journal stores them as interrupted at the next start',
        );
      await ctx.recorder.flush();
      if (ctx.recorder.waiting)
        logger.error({ records: ctx.recorder.waiting }, 'egress records not written: the store refused them');
    },
  };
}
