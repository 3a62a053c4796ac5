/**
 * A running Sluice from one configuration: store, audit journal, gateway, egress proxy, sweeper,
 * metrics and alerts; and its reload, when the configuration file changes or SIGHUP asks for it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { loadPolicy, managedSettingsFor } from '../audit/policy-file.js';
import type { SluiceConfig } from '../control/config.js';
import { Alerts } from '../control/alerts.js';
import { GatewayMetrics } from '../control/metrics.js';
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
import { reloader, watchConfig, type ReloadOutcome } from './reload.js';

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
  const running = { config };
  const records = await openRecords(running, deps, clock, metrics);
  const { store, alerts } = records;
  const tls = config.server.tls
    ? await readTls(config).catch(async (err: Error) => {
        await records.close();
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
  const closeRecords = async () => {
    await journal.close();
    await records.close();
  };
  const signin = config.signin
    ? await startSignIn(config, store, deps, clock).catch(async (err: Error) => {
        await closeRecords();
        throw err;
      })
    : null;
  const serving = await startListeners(config, deps, {
    ...records,
    journal,
    metrics,
    clock,
    tls,
    signin,
  }).catch(async (err: Error) => {
    await closeRecords();
    throw err;
  });
  const { gateway, egress, sweeper } = serving;
  const { reload, idle } = reloader({
    running,
    store,
    gateway,
    egress,
    metrics,
    logger,
    clock,
    actor: deps.actor,
    ...(deps.loadConfig ? { loadConfig: deps.loadConfig } : {}),
    readTls,
    orgsChanged: (c) => sweeper.restart(c),
    warn: (c) => warnOpenEgress(c, logger),
  });
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
      await idle();
      sweeper.stop();
      await egress?.close();
      await gateway.close();
      await alerts.close();
      await closeRecords();
    },
  };
}

/** The store (timed by the metrics), the admin log's signed checkpoints, and the alerts that read it. */
async function openRecords(
  running: { config: SluiceConfig },
  deps: SluiceDeps,
  clock: () => Date,
  metrics: GatewayMetrics,
): Promise<{ store: Store; alerts: Alerts; close: () => Promise<void> }> {
  const { config } = running;
  const opened = await openStore(config.storage, deps.configDir).catch((err: Error) => {
    throw new StoreOpenError(err.message, storeAdvice(config.storage, deps.configDir));
  });
  // Every part gets the timed store, so that the admin log's signing hook (keyed by store) holds.
  // Budget alerts read spend once the records behind it are in, under the configuration in force.
  const alertsOf: { alerts?: Alerts } = {};
  const store = metrics.timedStore(opened, {
    audits: (records) => alertsOf.alerts?.recorded(records, running.config),
  });
  // Before anything is appended: every admin log entry from here on is signed (docs/admin-log.md).
  const stopCheckpoints = await startCheckpoints(store, adminLogSettings(config.adminLog, deps.configDir), {
    now: clock,
    logger: deps.logger,
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  const close = async () => {
    await stopCheckpoints();
    await store.close();
  };
  await store.probeWrite(clock().toISOString()).catch(async (err: Error) => {
    await close();
    throw new StoreOpenError(`it does not take writes (${err.message}), so no request could be recorded`);
  });
  const alerts = new Alerts({
    store,
    logger: deps.logger,
    clock,
    onResult: (r) => metrics.alert(r),
    ...deps.alerts,
  });
  alertsOf.alerts = alerts;
  return { store, alerts, close };
}

interface ListenerParts {
  store: Store;
  journal: AuditJournal;
  metrics: GatewayMetrics;
  alerts: Alerts;
  clock: () => Date;
  tls: TlsFiles | undefined;
  signin: SignInService | null;
}

/** The gateway, the retention sweeper and the egress proxy; on failure, what started is stopped. */
async function startListeners(
  config: SluiceConfig,
  deps: SluiceDeps,
  parts: ListenerParts,
): Promise<{
  gateway: RunningGateway;
  egress: RunningEgress | null;
  sweeper: { restart: (c: SluiceConfig) => void; stop: () => void };
}> {
  const { store, clock } = parts;
  const { logger } = deps;
  const gateway = await startGateway({
    config,
    store,
    journal: parts.journal,
    logger,
    clock,
    metrics: parts.metrics,
    onFinished: (r, c) => parts.alerts.observe(r, c),
    ...(parts.tls ? { tls: parts.tls } : {}),
    signin: parts.signin,
    ...(deps.now ? { now: deps.now } : {}),
  }).catch((err: Error) => {
    throw ListenError.from(err, 'the gateway', config.server);
  });
  warnPlainListener(config, logger);
  const sweep = (c: SluiceConfig) =>
    startSweeper(store, c, clock, deps.sweepEveryMs ?? 3_600_000, (err) =>
      logger.error({ err: err.message }, 'retention sweep failed'),
    );
  let stopSweeper = sweep(config);
  const sweeper = {
    // A changed retention period applies from the next sweep, which runs now.
    restart: (c: SluiceConfig) => {
      stopSweeper();
      stopSweeper = sweep(c);
    },
    stop: () => stopSweeper(),
  };
  const egress = config.egress
    ? await startEgressProxy({ config, store, logger, journal: parts.journal }).catch(async (err: Error) => {
        sweeper.stop();
        await gateway.close();
        throw ListenError.from(err, 'the egress proxy', config.egress ?? { host: '', port: 0 });
      })
    : null;
  if (egress) warnOpenEgress(config, logger);
  return { gateway, egress, sweeper };
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
