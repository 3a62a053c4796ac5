/** A running Sluice from one configuration: store, audit journal, gateway, egress proxy and sweeper. */
import { resolve } from 'node:path';
import type { SluiceConfig } from '../control/config.js';
import { adminLogSettings, startCheckpoints } from '../control/admin-log-publish.js';
import { applyConfig } from '../control/orgs.js';
import { startSweeper } from '../control/retention.js';
import { startEgressProxy, type RunningEgress } from '../egress/proxy.js';
import { startGateway, type GatewayLogger, type RunningGateway } from '../gateway/server.js';
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
}

export interface RunningSluice {
  store: Store;
  gateway: RunningGateway;
  egress: RunningEgress | null;
  close(): Promise<void>;
}

/** Opens the store and starts every part the config asks for; throws StoreOpenError if the store cannot be opened. */
export async function startSluice(config: SluiceConfig, deps: SluiceDeps): Promise<RunningSluice> {
  const clock = deps.clock ?? (() => new Date());
  const { logger } = deps;
  const store = await openStore(config.storage, deps.configDir).catch((err: Error) => {
    throw new StoreOpenError(err.message);
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
  const gateway = await startGateway({
    config,
    store,
    journal,
    logger,
    clock,
    ...(deps.now ? { now: deps.now } : {}),
  }).catch(async (err: Error) => {
    await closeStore();
    throw ListenError.from(err, 'the gateway', config.server);
  });
  const stopSweeper = startSweeper(store, config, clock, deps.sweepEveryMs ?? 3_600_000, (err) =>
    logger.error({ err: err.message }, 'retention sweep failed'),
  );
  const egress = config.egress
    ? await startEgressProxy({ config, store, logger }).catch(async (err: Error) => {
        stopSweeper();
        await gateway.close();
        await closeStore();
        throw ListenError.from(err, 'the egress proxy', config.egress ?? { host: '', port: 0 });
      })
    : null;
  if (egress) warnOpenEgress(config, logger);
  return {
    store,
    gateway,
    egress,
    close: async () => {
      stopSweeper();
      await egress?.close();
      await gateway.close();
      await journal.close();
      await stopCheckpoints();
      await store.close();
    },
  };
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
  constructor(message: string) {
    super(`cannot open the store: ${message}`);
    this.name = 'StoreOpenError';
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
