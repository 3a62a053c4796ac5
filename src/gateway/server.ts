/**
 * The gateway: an HTTP listener that finds each request's route (routes.ts) and runs its stages
 * (stages/) in order, then `record`. This file only composes them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AdminApi } from '../control/admin-api.js';
import type { SluiceConfig } from '../control/config.js';
import { errors } from '../errors/catalog.js';
import { cachedAuthenticator } from '../control/keys.js';
import { Limits } from '../control/limits.js';
import { ScanCache } from '../guard/cache.js';
import { prepareScan } from '../guard/scan.js';
import type { AuditJournal } from '../store/journal.js';
import type { Store } from '../store/types.js';
import { BodyMemory } from './body.js';
import { newContext } from './context.js';
import { runStages, type Stage } from './pipeline.js';
import { routeFor, type StageName } from './routes.js';
import { account } from './stages/account.js';
import { health, hello, inferenceProfiles, notServed } from './stages/answered.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { admin, consoleRoute, telemetry } from './stages/control-routes.js';
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
import { Console } from '../web/console.js';

export interface GatewayLogger {
  debug?(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
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
}

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

const silent: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Every stage unit, built once from the gateway's dependencies. */
function buildStages(
  o: Required<Omit<GatewayOptions, 'logger' | 'cloud'>> & { logger: GatewayLogger; cloud: CloudCredentials },
) {
  const { store, logger, now, clock, journal: j } = o;
  const limits = new Limits(
    store,
    o.config,
    (err) => logger.error({ err: err.message }, 'usage counters not written'),
    () => clock().getTime(),
  );
  const pools = new UpstreamPools();
  const adapters = buildAdapters(o.config, o.cloud);
  const logError = logger.error.bind(logger);
  const keyLookup = cachedAuthenticator(store);
  const adminApi = new AdminApi(o.config, store, clock, (hash) => keyLookup.forget(hash));
  const onLimitError = (err: Error) =>
    logger.error({ err: err.message }, 'limits not checked or not charged');
  const stages: Record<StageName, Stage> = {
    authenticate: authenticate(keyLookup),
    authorize,
    bedrockClient,
    vertexClient,
    read: read(new BodyMemory(64 * 1024 * 1024)),
    route: route(adapters),
    limit: limit(limits, clock, onLimitError),
    // Findings by content, shared by every conversation: a resent history is never scanned twice.
    journal: journal(j),
    inspect: inspect({
      cache: new ScanCache(64 * 1024 * 1024),
      now: Date.now,
      warn: logger.warn.bind(logger),
    }),
    forward: forward(pools, now),
    relay: relay({ now, logger }),
    account: account(limits, clock, onLimitError),
    notServed,
    health: health(store, j, now),
    hello: hello(now),
    inferenceProfiles: inferenceProfiles(now),
    telemetry: telemetry({ store, clock, now, logError }),
    admin: admin(adminApi, { store, clock, now, logError }),
    console: consoleRoute(new Console({ api: adminApi, config: o.config, store, clock }), {
      store,
      clock,
      now,
      logError,
    }),
  };
  const close = async () => {
    await pools.close();
    await limits.close();
  };
  return { stages, record: record({ journal: j, now, logger }), close };
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

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? silent;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? (() => new Date());
  const built = buildStages({
    config,
    store: options.store,
    journal: options.journal,
    logger,
    now,
    clock,
    cloud: options.cloud ?? {},
  });
  for (const [name, org] of Object.entries(config.orgs))
    if (org.guard.failOpen)
      logger.warn(
        { org: name },
        'guard fails open for this org: a request the guard cannot inspect in time is forwarded unscanned',
      );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const route = routeFor(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/');
    const ctx = newContext(req, res, route, config, started, clock());
    const stages = route.stages.map((s) => built.stages[s]);
    await runStages(ctx, stages, route.recorded ? built.record : null, logger, now);
  }

  const limits = config.server;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      handle(req, res).catch((err: Error) => logger.error({ err: err.name }, 'unhandled'));
    },
  );
  server.keepAliveTimeout = 65_000;
  server.maxConnections = limits.maxConnections;
  server.on('drop', dropped(logger, limits.maxConnections));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, limits.requestTimeoutMs),
  );
  prepareScan();
  await new Promise<void>((resolve) => server.listen(config.server.port, config.server.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.server.host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await built.close();
    },
  };
}
