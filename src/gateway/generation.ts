/**
 * Configuration generations: every stage unit built from one configuration, and the set of
 * generations a reload leaves behind until their requests end.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AdminApi } from '../control/admin-api.js';
import type { SluiceConfig } from '../control/config.js';
import { errors } from '../errors/catalog.js';
import { cachedAuthenticator, type KeyAuthenticator } from '../control/keys.js';
import { Limits } from '../control/limits.js';
import type { GatewayMetrics } from '../control/metrics.js';
import { unpricedWarnings } from '../control/prices.js';
import { ScanCache } from '../guard/cache.js';
import type { SignInService } from '../signin/service.js';
import type { AuditJournal } from '../store/journal.js';
import type { Store } from '../store/types.js';
import { BodyMemory } from './body.js';
import { silent, type GatewayLogger } from './listener.js';
import type { Stage } from './pipeline.js';
import type { StageName } from './routes.js';
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

/** What outlives a reload: the caches, the memory bounds and the connection pools. */
export interface Shared {
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
export interface Generation {
  config: SluiceConfig;
  stages: Record<StageName, Stage>;
  record: Stage;
  inFlight: number;
  retired: boolean;
  close(): Promise<void>;
}

/** Every stage unit, built from one configuration and what the gateway shares across them. */
export function buildGeneration(config: SluiceConfig, sh: Shared): Generation {
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
      new Console({
        api: adminApi,
        config,
        store,
        clock,
        sessions: sh.consoleSessions,
        idp: sh.signin?.consoleSignIn() ?? null,
        ...(sh.signin ? { revokeSession: sh.signin.revokeSession.bind(sh.signin) } : {}),
      }),
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

/** The gateway's options that outlive a reload (server.ts's GatewayOptions adds the rest). */
export interface SharedOptions {
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
  /** Company sign-in (src/signin), when the config has a `signin:` section (not reloaded). */
  signin?: SignInService | null;
}

/** The parts every generation shares, from the gateway's options. */
export function sharedParts(options: SharedOptions): Shared {
  const clock = options.clock ?? (() => new Date());
  const keyLookup = cachedAuthenticator(options.store);
  const signin = options.signin ?? null;
  return {
    store: options.store,
    journal: options.journal,
    logger: options.logger ?? silent,
    now: options.now ?? (() => performance.now()),
    clock,
    cloud: options.cloud ?? {},
    pools: new UpstreamPools(),
    bodies: new BodyMemory(64 * 1024 * 1024),
    scans: new ScanCache(64 * 1024 * 1024),
    authenticate: authenticate(keyLookup.lookup, signin ? (token) => signin.verify(token) : null),
    keyLookup,
    consoleSessions: consoleSessions(clock),
    metrics: options.metrics ?? null,
    signin,
  };
}

/**
 * The configuration generations: the one new requests start under, and replaced ones that still
 * have requests in flight (each is closed once it is idle).
 */
export class Generations {
  current: Generation;
  private readonly retiring = new Set<Generation>();

  constructor(
    config: SluiceConfig,
    private readonly shared: Shared,
  ) {
    this.current = buildGeneration(config, shared);
  }

  /** The generation a request holds until `leave`, whatever is reloaded meanwhile. */
  enter(): Generation {
    const gen = this.current;
    gen.inFlight++;
    return gen;
  }

  leave(gen: Generation): void {
    gen.inFlight--;
    if (gen.retired && gen.inFlight === 0) this.retire(gen);
  }

  replace(next: Generation): void {
    const old = this.current;
    this.current = next;
    old.retired = true;
    if (old.inFlight === 0) this.retire(old);
    else this.retiring.add(old);
  }

  async close(): Promise<void> {
    await this.current.close();
    await Promise.all([...this.retiring].map((g) => g.close()));
  }

  private retire(gen: Generation): void {
    this.retiring.delete(gen);
    gen
      .close()
      .catch((err: Error) => this.shared.logger.error({ err: err.message }, 'limits not handed back'));
  }
}

export function warnFailOpen(config: SluiceConfig, logger: GatewayLogger): void {
  for (const [name, org] of Object.entries(config.orgs))
    if (org.guard.failOpen)
      logger.warn(
        { org: name },
        'guard fails open for this org: a request the guard cannot inspect in time is forwarded unscanned',
      );
}
