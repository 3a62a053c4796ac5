/** A running Sluice from one configuration: store, audit journal, gateway, egress proxy and sweeper. */
import { resolve } from 'node:path';
import { loadPolicy, managedSettingsFor } from '../audit/policy-file.js';
import type { SluiceConfig } from '../control/config.js';
import { adminLogSettings, startCheckpoints } from '../control/admin-log-publish.js';
import { applyConfig } from '../control/orgs.js';
import { startSweeper } from '../control/retention.js';
import { startEgressProxy, type RunningEgress } from '../egress/proxy.js';
import { startGateway, type GatewayLogger, type RunningGateway } from '../gateway/server.js';
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
  /** The environment secrets named in the config are read from (sign-in's client secret). */
  env?: Record<string, string | undefined>;
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
  const signin = config.signin
    ? await startSignIn(config, store, deps, clock).catch(async (err: Error) => {
        await journal.close();
        await stopCheckpoints();
        await store.close();
        throw err;
      })
    : null;
  const gateway = await startGateway({
    config,
    store,
    journal,
    logger,
    clock,
    signin,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const stopSweeper = startSweeper(store, config, clock, deps.sweepEveryMs ?? 3_600_000, (err) =>
    logger.error({ err: err.message }, 'retention sweep failed'),
  );
  const egress = config.egress ? await startEgressProxy({ config, store, logger }) : null;
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
  constructor(message: string) {
    super(`cannot open the store: ${message}`);
    this.name = 'StoreOpenError';
  }
}
