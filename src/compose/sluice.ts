/**
 * A running Sluice from one configuration: store, audit journal, gateway, egress proxy, sweeper,
 * metrics and alerts; and its reload, when the configuration file changes or SIGHUP asks for it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { loadPolicy, managedSettingsFor } from '../audit/policy-file.js';
import type { SluiceConfig } from '../control/config.js';
import { Alerts } from '../control/alerts.js';
import { GatewayMetrics } from '../control/metrics.js';
import { recordReload, reloadable, reloadProblem } from '../control/reload.js';
import { adminLogSettings, startCheckpoints } from '../control/admin-log-publish.js';
import { applyConfig } from '../control/orgs.js';
import { startSweeper } from '../control/retention.js';
import { startEgressProxy, type RunningEgress } from '../egress/proxy.js';
import { startGateway, type GatewayLogger, type RunningGateway, type TlsFiles } from '../gateway/server.js';
import { SignInService } from '../signin/service.js';
import { loadSignInSecrets } from '../signin/secrets.js';
import { openStore } from '../store/index.js';
import { AuditJournal } from '../store/journal.js';
import type { Store } from '../store/types.js';

export interface SluiceDeps {
  /** The folder relative store paths are resolved against (the config file's). */
  configDir: string;
  logger: GatewayLogger;
  /** Who applies the configuration, for the admin log (`config:sluice.yaml`). */
  actor: string;
  clock?: () => Date;
  now?: () => number;
  /** How often the retention sweeper runs, ms. */
  sweepEveryMs?: number;
  /** This process's id and whether another still runs: the audit journal's slots. */
  pid: number;
  isAlive: (pid: number) => boolean;
  /** Reads and validates the configuration again (for reloads); without it, reload is refused. */
  loadConfig?: () => Promise<SluiceConfig>;
  /** Reload when this file changes (the configuration file); none when absent. */
  watchFile?: string;
  /** Alert webhooks' transport and backoff (tests); default: undici, from one second. */
  alerts?: Pick<ConstructorParameters<typeof Alerts>[0], 'post' | 'wait' | 'backoffMs'>;
  /** The environment secrets named in the config are read from (sign-in's client secret). */
  env?: Record<string, string | undefined>;
}

/** What a reload did: applied (with what changed), nothing to do, or refused (the running config stays). */
export type ReloadOutcome =
  | { result: 'applied'; changed: string[]; waitingForRestart: string[] }
  | { result: 'unchanged' }
  | { result: 'rejected'; problem: string };

export interface RunningSluice {
  store: Store;
  gateway: RunningGateway;
  egress: RunningEgress | null;
  metrics: GatewayMetrics;
  alerts: Alerts;
  /**
   * Reads the configuration again and applies it atomically: new requests start under it, requests
   * in flight finish under theirs. Reloads run one at a time; `why` goes in the log line.
   */
  reload(why: string): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

/** Opens the store and starts every part the config asks for; throws StoreOpenError if the store cannot be opened. */
export async function startSluice(config: SluiceConfig, deps: SluiceDeps): Promise<RunningSluice> {
  const clock = deps.clock ?? (() => new Date());
  const { logger } = deps;
  const metrics = new GatewayMetrics();
  const opened = await openStore(config.storage, deps.configDir).catch((err: Error) => {
    throw new StoreOpenError(err.message, storeAdvice(config.storage, deps.configDir));
  });
  // Every part gets the timed store, so that the admin log's signing hook (keyed by store) holds.
  // Budget alerts read spend once the records behind it are in (`running` is set below).
  let running = config;
  const alertsOf: { alerts?: Alerts } = {};
  const store = metrics.timedStore(opened, {
    audits: (records) => alertsOf.alerts?.recorded(records, running),
  });
  // Before anything is appended: every admin log entry from here on is signed (docs/admin-log.md).
  const stopCheckpoints = await startCheckpoints(store, adminLogSettings(config.adminLog, deps.configDir), {
    now: clock,
    logger,
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  await store.probeWrite(clock().toISOString()).catch(async (err: Error) => {
    await store.close();
    throw new StoreOpenError(`it does not take writes (${err.message}), so no request could be recorded`);
  });
  const tls = config.server.tls
    ? await readTls(config).catch(async (err: Error) => {
        await stopCheckpoints();
        await store.close();
        throw new TlsError(err.message);
      })
    : undefined;
  await applyConfig(store, config, clock(), deps.actor);
  const journal = await AuditJournal.open({
    dir: resolve(deps.configDir, config.journal.dir),
    store,
    pid: deps.pid,
    isAlive: deps.isAlive,
    fsyncEveryMs: config.journal.fsyncEveryMs,
    maxBacklogBytes: config.journal.maxBacklogBytes,
    onError: (err, what) => logger.error({ err: err.message }, what),
  });
  const closeStore = async () => {
    await journal.close();
    await stopCheckpoints();
    await store.close();
  };
  const alerts = new Alerts({
    store,
    logger,
    clock,
    onResult: (r) => metrics.alert(r),
    ...deps.alerts,
  });
  alertsOf.alerts = alerts;
  const signin = config.signin
    ? await startSignIn(config, store, deps, clock).catch(async (err: Error) => {
        await closeStore();
        throw err;
      })
    : null;
  const gateway = await startGateway({
    config,
    store,
    journal,
    logger,
    clock,
    metrics,
    onFinished: (r, c) => alerts.observe(r, c),
    ...(tls ? { tls } : {}),
    signin,
    ...(deps.now ? { now: deps.now } : {}),
  }).catch(async (err: Error) => {
    await closeStore();
    throw ListenError.from(err, 'the gateway', config.server);
  });
  warnPlainListener(config, logger);
  const sweep = (c: SluiceConfig) =>
    startSweeper(store, c, clock, deps.sweepEveryMs ?? 3_600_000, (err) =>
      logger.error({ err: err.message }, 'retention sweep failed'),
    );
  let stopSweeper = sweep(config);
  const egress = config.egress
    ? await startEgressProxy({ config, store, logger, journal }).catch(async (err: Error) => {
        stopSweeper();
        await gateway.close();
        await closeStore();
        throw ListenError.from(err, 'the egress proxy', config.egress ?? { host: '', port: 0 });
      })
    : null;
  if (egress) warnOpenEgress(config, logger);

  async function reloadOnce(why: string): Promise<ReloadOutcome> {
    const rejected = (problem: string): ReloadOutcome => {
      metrics.reload('rejected');
      logger.error({ reload: why }, `configuration not reloaded (${why}), the running one stays: ${problem}`);
      return { result: 'rejected', problem };
    };
    if (!deps.loadConfig) return rejected('this process was started without a configuration file');
    let next: SluiceConfig;
    let files: TlsFiles | undefined;
    let commit: () => void;
    try {
      next = await deps.loadConfig();
    } catch (err) {
      return rejected(reloadProblem(err));
    }
    const { config: effective } = reloadable(running, next);
    try {
      files = effective.server.tls ? await readTls(effective) : undefined;
      commit = gateway.prepare(effective, files).commit;
    } catch (err) {
      return rejected(`server.tls: ${(err as Error).message}`);
    }
    if (
      !files &&
      JSON.stringify(effective) === JSON.stringify(running) &&
      JSON.stringify(next) === JSON.stringify(running)
    ) {
      metrics.reload('unchanged');
      return { result: 'unchanged' };
    }
    // The admin log first: a change that cannot be logged is not made.
    let logged;
    try {
      logged = await recordReload(store, clock(), deps.actor, running, next, effective);
    } catch (err) {
      return rejected(`the admin log could not be written (${(err as Error).message})`);
    }
    commit();
    egress?.reload(effective);
    // Retention follows the orgs: a changed period applies from the next sweep, which runs now.
    if (JSON.stringify(effective.orgs) !== JSON.stringify(running.orgs)) {
      stopSweeper();
      stopSweeper = sweep(effective);
    }
    running = effective;
    metrics.reload('applied');
    const changed = logged.changed.map((c) => c.path);
    const waitingForRestart = logged.waiting.map((c) => c.path);
    logger.info({ reload: why, changed, waitingForRestart }, 'configuration reloaded');
    for (const path of waitingForRestart)
      logger.warn({ setting: path }, `${path} changed in the file; it takes effect at the next restart`);
    warnOpenEgress(effective, logger);
    return { result: 'applied', changed, waitingForRestart };
  }

  // One reload at a time; a request that comes while one runs waits for it, then runs its own.
  let queue: Promise<unknown> = Promise.resolve();
  const reload = (why: string): Promise<ReloadOutcome> => {
    // Never rejects: a signal handler or the file watch has no one to hand an error to.
    const run = queue
      .then(() => reloadOnce(why))
      .catch((err: Error): ReloadOutcome => {
        logger.error({ reload: why, err: err.message }, 'configuration reload failed');
        return { result: 'rejected', problem: err.message };
      });
    queue = run;
    return run;
  };
  const stopWatch = deps.watchFile
    ? watchConfig(deps.watchFile, () => void reload('file changed'), logger)
    : () => undefined;

  return {
    store,
    gateway,
    egress,
    metrics,
    alerts,
    reload,
    close: async () => {
      stopWatch();
      await queue;
      stopSweeper();
      await egress?.close();
      await gateway.close();
      await alerts.close();
      await journal.close();
      await stopCheckpoints();
      await store.close();
    },
  };
}

/** Reads `server.tls`'s certificate chain and key (PEM). */
async function readTls(config: SluiceConfig): Promise<TlsFiles> {
  const tls = config.server.tls;
  if (!tls) throw new Error('server.tls is not set');
  const read = (file: string, what: string) =>
    readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the ${what} ${file}: ${err.code ?? err.message}`);
    });
  const files = { cert: await read(tls.cert, 'certificate'), key: await read(tls.key, 'key') };
  try {
    createSecureContext(files);
  } catch (err) {
    throw new Error(
      `${tls.cert} and ${tls.key} are not a PEM certificate and its key (${(err as Error).message})`,
      { cause: err },
    );
  }
  return files;
}

/**
 * Calls `changed` when `file` is written or replaced. The folder is watched, not the file: editors
 * and config managers replace a file by renaming another over it. Bursts of events come as one.
 */
function watchConfig(file: string, changed: () => void, logger: GatewayLogger): () => void {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(resolve(file)), { persistent: false }, (_event, f) => {
      if (f !== null && f !== name) return;
      clearTimeout(timer);
      timer = setTimeout(changed, 200);
      timer.unref();
    });
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'the configuration file is not watched; reload with SIGHUP');
    return () => undefined;
  }
  watcher.on('error', (err) =>
    logger.warn({ err: err.message }, 'the configuration file is no longer watched'),
  );
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/** Plain HTTP beyond the machine carries every prompt and key in the clear: say so at start. */
function warnPlainListener(config: SluiceConfig, logger: GatewayLogger): void {
  const host = config.server.host;
  if (config.server.tls || isLoopback(host)) return;
  logger.warn(
    { host },
    `the gateway listens on ${host} without TLS: prompts and Sluice keys cross the network in the clear; set server.tls (docs/operations.md) or put a TLS terminator in front`,
  );
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Company sign-in: its secrets and the managed settings each rule serves, read once at start. */
async function startSignIn(
  config: SluiceConfig,
  store: Store,
  deps: SluiceDeps,
  clock: () => Date,
): Promise<SignInService> {
  const cfg = config.signin!;
  const secrets = await loadSignInSecrets(cfg, deps.configDir, deps.env ?? {});
  const settings = [];
  for (const rule of cfg.managedSettings) {
    const policy = await loadPolicy(resolve(deps.configDir, rule.policy));
    settings.push({
      ...(rule.groups ? { groups: rule.groups } : {}),
      ...(rule.org ? { org: rule.org } : {}),
      settings: managedSettingsFor(policy).settings,
    });
  }
  return new SignInService({
    config: cfg,
    store,
    ...secrets,
    settings,
    clock,
    logError: deps.logger.error.bind(deps.logger),
  });
}

/** An org the egress proxy lets reach every host deserves a word at start-up. */
function warnOpenEgress(config: SluiceConfig, logger: GatewayLogger): void {
  for (const [name, org] of Object.entries(config.orgs))
    if (!org.profile && !org.egress?.allow)
      logger.warn(
        { org: name },
        `org "${name}" has neither a profile nor egress.allow: its clients may reach every host through the egress proxy (recorded, not refused)`,
      );
}

/** The configured store could not be opened (bad URL, unreachable server, unwritable file). */
export class StoreOpenError extends Error {
  constructor(message: string, advice?: string) {
    super(`cannot open the store: ${message}${advice ? `; ${advice}` : ''}`);
    this.name = 'StoreOpenError';
  }
}

/** What to check when the store named by `storage` cannot be opened (no password is ever shown). */
function storeAdvice(storage: string, configDir: string): string {
  if (!storage.startsWith('sqlite:'))
    return 'check that the PostgreSQL server named by storage: is up and lets this user create tables and write';
  const path = storage.slice('sqlite:'.length);
  const file = path === ':memory:' ? path : resolve(configDir, path);
  return `the user running sluice must be able to create and write ${file} and its folder (storage: in the configuration)`;
}

/** `server.tls` names files that cannot be read. */
export class TlsError extends Error {
  constructor(message: string) {
    super(`server.tls: ${message}`);
    this.name = 'TlsError';
  }
}

/** A listener could not bind its address (the port is in use, or needs privileges). */
export class ListenError extends Error {
  constructor(
    readonly what: 'the gateway' | 'the egress proxy',
    readonly address: string,
    readonly reason: 'in use' | 'denied',
  ) {
    super(
      `${what} cannot listen on ${address}: ${reason === 'in use' ? 'the port is in use' : 'permission denied'}`,
    );
    this.name = 'ListenError';
  }

  /** `err` as a ListenError when it is a bind failure, else `err` unchanged. */
  static from(err: Error, what: ListenError['what'], at: { host: string; port: number }): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') return err;
    return new ListenError(what, `${at.host}:${at.port}`, code === 'EADDRINUSE' ? 'in use' : 'denied');
  }
}
