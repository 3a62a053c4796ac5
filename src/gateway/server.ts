/**
 * The gateway: an HTTP listener that finds each request's route (routes.ts) and runs its stages
 * (stages/) in order, then `record`. This file only composes them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { AdminApi } from '../control/admin-api.js';
import type { SluiceConfig } from '../control/config.js';
import { errors, SluiceError } from '../errors/catalog.js';
import { cachedAuthenticator, type KeyAuthenticator } from '../control/keys.js';
import { Limits } from '../control/limits.js';
import type { FinishedRequest, GatewayMetrics } from '../control/metrics.js';
import { unpricedWarnings } from '../control/prices.js';
import { ScanCache } from '../guard/cache.js';
import { prepareScan } from '../guard/scan.js';
import type { SignInService } from '../signin/service.js';
import type { AuditJournal } from '../store/journal.js';
import type { Store } from '../store/types.js';
import { BodyMemory } from './body.js';
import { newContext, overheadMs } from './context.js';
import { runStages, type Stage } from './pipeline.js';
import { routeFor, type StageName } from './routes.js';
import { account } from './stages/account.js';
import { health, hello, inferenceProfiles, notServed } from './stages/answered.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { admin, consoleRoute, telemetry } from './stages/control-routes.js';
import { managedSettings, scim, signin } from './stages/signin-routes.js';
import { bedrockClient, vertexClient } from './stages/client-format.js';
import { forward } from './stages/forward.js';
import { inspect } from './stages/inspect.js';
import { journal } from './stages/journal.js';
import { limit } from './stages/limit.js';
import { read } from './stages/read.js';
import { record } from './stages/record.js';
import { relay } from './stages/relay.js';
import { route } from './stages/route.js';
import { UpstreamPools } from './upstreams/adapter.js';
import { buildAdapters, type CloudCredentials } from './upstreams/index.js';
import { Console, consoleSessions } from '../web/console.js';
import type { Sessions } from '../web/session.js';

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

export interface GatewayOptions {
  config: SluiceConfig;
  store: Store;
  /** Every audit record passes through it on its way to the store (src/store/journal.ts). */
  journal: AuditJournal;
  logger?: GatewayLogger;
  /** Monotonic milliseconds, for latency and overhead. */
  now?: () => number;
  /** Wall clock for record times, budget periods and rate-limit minutes (tests move it). */
  clock?: () => Date;
  /** Where cloud upstreams get their credentials (default: each cloud's own default chain). */
  cloud?: CloudCredentials;
  /** Served at /metrics (admin token) and on `server.metricsListen`; fed once per request. */
  metrics?: GatewayMetrics;
  /** HTTPS instead of HTTP (the contents of `server.tls`'s files). */
  tls?: TlsFiles;
  /** Company sign-in (src/signin), when the config has a `signin:` section (not reloaded). */
  signin?: SignInService | null;
  /** Told of every finished request, after its record (alerts); must not throw or block. */
  onFinished?: (r: FinishedRequest, config: SluiceConfig) => void;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** The separate /metrics listener's URL (`server.metricsListen`), if there is one. */
  metricsUrl: string | null;
  /** The configuration new requests start under. */
  readonly config: SluiceConfig;
  /**
   * Builds everything `config` needs (throwing, with nothing changed, if it cannot); `commit` then
   * serves new requests under it, while requests in flight finish under the one they started with.
   * Listener settings (host, port, TLS on or off) stay; new TLS files are taken.
   */
  prepare(config: SluiceConfig, tls?: TlsFiles): { commit(): void };
  close(): Promise<void>;
}

const silent: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What outlives a reload: the caches, the memory bounds and the connection pools. */
interface Shared {
  store: Store;
  journal: AuditJournal;
  logger: GatewayLogger;
  now: () => number;
  clock: () => Date;
  cloud: CloudCredentials;
  pools: UpstreamPools;
  bodies: BodyMemory;
  scans: ScanCache;
  authenticate: Stage;
  keyLookup: KeyAuthenticator;
  consoleSessions: Sessions;
  metrics: GatewayMetrics | null;
  signin: SignInService | null;
}

/**
 * One configuration's stages: built at start and on every reload. Requests hold their generation
 * until they end; a replaced one is closed (its budget reservations handed back) once it is idle.
 */
interface Generation {
  config: SluiceConfig;
  stages: Record<StageName, Stage>;
  record: Stage;
  inFlight: number;
  retired: boolean;
  close(): Promise<void>;
}

/** Every stage unit, built from one configuration and what the gateway shares across them. */
function buildGeneration(config: SluiceConfig, sh: Shared): Generation {
  const { store, logger, now, clock, journal: j } = sh;
  const limits = new Limits(
    store,
    config,
    (err) => logger.error({ err: err.message }, 'usage counters not written'),
    () => clock().getTime(),
  );
  for (const line of unpricedWarnings(config.orgs, limits.prices)) logger.warn({}, line);
  const adapters = buildAdapters(config, sh.cloud);
  const logError = logger.error.bind(logger);
  // A key revoked through the admin API (or the console) leaves this gateway's key cache at once.
  // A sign-in session it ends is refused here at once (on other gateways within the session cache).
  const adminApi = new AdminApi(
    config,
    store,
    clock,
    (hash) => sh.keyLookup.forget(hash),
    (id) => sh.signin?.ended(id),
  );
  const onLimitError = (err: Error) =>
    logger.error({ err: err.message }, 'limits not checked or not charged');
  const stages: Record<StageName, Stage> = {
    authenticate: sh.authenticate,
    authorize,
    bedrockClient,
    vertexClient,
    read: read(sh.bodies),
    route: route(adapters),
    limit: limit(limits, clock, onLimitError),
    // Findings by content, shared by every conversation: a resent history is never scanned twice.
    journal: journal(j),
    inspect: inspect({ cache: sh.scans, now: Date.now, warn: logger.warn.bind(logger) }),
    forward: forward(sh.pools, now),
    relay: relay({ now, logger }),
    account: account(limits, clock, onLimitError),
    notServed,
    health: health(store, j, now),
    hello: hello(now),
    inferenceProfiles: inferenceProfiles(now),
    telemetry: telemetry({ store, clock, now, logError }),
    admin: admin(adminApi, { store, clock, now, logError }),
    metrics: metricsRoute(config, sh.metrics, now),
    signin: signin(sh.signin, now),
    managedSettings: managedSettings(sh.signin, now),
    scim: scim(sh.signin, now),
    // Sessions live in the gateway, not the generation: a reload keeps everyone signed in.
    console: consoleRoute(
      new Console({ api: adminApi, config, store, clock, sessions: sh.consoleSessions }),
      {
        store,
        clock,
        now,
        logError,
      },
    ),
  };
  return {
    config,
    stages,
    record: record({ journal: j, now, logger }),
    inFlight: 0,
    retired: false,
    close: () => limits.close(),
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `GET /metrics`: the Prometheus text format, for a config admin token. */
function metricsRoute(config: SluiceConfig, metrics: GatewayMetrics | null, now: () => number): Stage {
  const tokens = config.admin.tokens.map(digest);
  return async (ctx) => {
    if (!metrics) throw errors.notFound(ctx.req.method ?? 'GET', ctx.path);
    const token = /^Bearer\s+(.+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1]?.trim();
    if (!token)
      throw errors.adminUnauthenticated(
        '/metrics needs Authorization: Bearer <an admin token from admin.tokens in sluice.yaml>.',
      );
    const d = digest(token);
    if (!tokens.some((t) => timingSafeEqual(t, d)))
      throw errors.adminUnauthenticated('This token is not one of admin.tokens in sluice.yaml.');
    const { contentType, body } = await metrics.scrape();
    ctx.res.writeHead(200, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-sluice-overhead-ms': (now() - ctx.started).toFixed(2),
    });
    ctx.res.end(body);
  };
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
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, requestTimeoutMs: number): void {
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

/** Runs `stages` as one, noting the catalog code a request ends with (for the metrics). */
function coded(stages: readonly Stage[], codes: WeakMap<object, string>): Stage {
  return async (ctx) => {
    try {
      for (const stage of stages) await stage(ctx);
    } catch (err) {
      if (err instanceof SluiceError) codes.set(ctx, err.code);
      throw err;
    }
  };
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? silent;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? (() => new Date());
  const metrics = options.metrics ?? null;
  const pools = new UpstreamPools();
  const keyLookup = cachedAuthenticator(options.store);
  const shared: Shared = {
    store: options.store,
    journal: options.journal,
    logger,
    now,
    clock,
    cloud: options.cloud ?? {},
    pools,
    bodies: new BodyMemory(64 * 1024 * 1024),
    scans: new ScanCache(64 * 1024 * 1024),
    authenticate: authenticate(
      keyLookup.lookup,
      options.signin ? (token) => options.signin!.verify(token) : null,
    ),
    keyLookup,
    consoleSessions: consoleSessions(clock),
    metrics,
    signin: options.signin ?? null,
  };
  let current = buildGeneration(options.config, shared);
  const retiring = new Set<Generation>();
  const retire = (g: Generation) => {
    retiring.delete(g);
    g.close().catch((err: Error) => logger.error({ err: err.message }, 'limits not handed back'));
  };
  warnFailOpen(options.config, logger);
  const codes = new WeakMap<object, string>();
  const observe = metrics || options.onFinished;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    // The request holds the configuration it arrived under until it ends, whatever is reloaded.
    const gen = current;
    gen.inFlight++;
    try {
      const route = routeFor(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/');
      const ctx = newContext(req, res, route, gen.config, started, clock());
      const stages = route.stages.map((s) => gen.stages[s]);
      await runStages(
        ctx,
        observe ? [coded(stages, codes)] : stages,
        route.recorded ? gen.record : null,
        logger,
        now,
      );
      if (observe) {
        const ended = now();
        const finished: FinishedRequest = {
          route: route.name,
          status: ctx.record.status || res.statusCode,
          errorCode: codes.get(ctx) ?? null,
          record: ctx.record,
          latencySeconds: (ended - started) / 1000,
          overheadSeconds: overheadMs(ctx, ended) / 1000,
        };
        // The answer is out: what counts or alerts on it must not touch the request.
        try {
          metrics?.observe(finished);
          options.onFinished?.(finished, gen.config);
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'request not counted');
        }
      }
    } finally {
      gen.inFlight--;
      if (gen.retired && gen.inFlight === 0) retire(gen);
    }
  }

  const limits = options.config.server;
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: Error) => logger.error({ err: err.name }, 'unhandled'));
  };
  const server: Server = options.tls
    ? (createHttpsServer(
        { ...serverOptions, cert: options.tls.cert, key: options.tls.key },
        onRequest,
      ) as unknown as Server)
    : createServer(serverOptions, onRequest);
  server.keepAliveTimeout = 65_000;
  server.maxConnections = limits.maxConnections;
  server.on('drop', dropped(logger, limits.maxConnections));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, current.config.server.requestTimeoutMs),
  );
  prepareScan();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(limits.port, limits.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const metricsServer =
    metrics && limits.metricsListen ? await listenMetrics(limits.metricsListen, metrics, logger) : null;
  return {
    url: `${options.tls ? 'https' : 'http'}://${limits.host}:${port}`,
    port,
    metricsUrl: metricsServer ? metricsServer.url : null,
    get config() {
      return current.config;
    },
    prepare(config, tls) {
      // A certificate that does not match its key, or is not PEM, fails here, before anything changes.
      if (tls) createSecureContext(tls);
      const next = buildGeneration(config, shared);
      return {
        commit() {
          const old = current;
          current = next;
          old.retired = true;
          if (old.inFlight === 0) retire(old);
          else retiring.add(old);
          if (tls && options.tls)
            (server as unknown as { setSecureContext(o: TlsFiles): void }).setSecureContext(tls);
          // Limits a live listener takes at once; host, port and TLS on or off wait for a restart.
          server.maxConnections = config.server.maxConnections;
          server.headersTimeout = config.server.headersTimeoutMs;
          server.requestTimeout = config.server.requestTimeoutMs;
          warnFailOpen(config, logger);
        },
      };
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await metricsServer?.close();
      await current.close();
      await Promise.all([...retiring].map((g) => g.close()));
      await pools.close();
    },
  };
}

function warnFailOpen(config: SluiceConfig, logger: GatewayLogger): void {
  for (const [name, org] of Object.entries(config.orgs))
    if (org.guard.failOpen)
      logger.warn(
        { org: name },
        'guard fails open for this org: a request the guard cannot inspect in time is forwarded unscanned',
      );
}

/**
 * `server.metricsListen`: /metrics alone, without a token, on a loopback address (a Prometheus on
 * the same host scrapes it; the schema accepts loopback addresses only).
 */
async function listenMetrics(
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
