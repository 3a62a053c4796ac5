/**
 * Reloading a running Sluice: read the configuration again, check it, log it in the admin log, then
 * apply it atomically. Reloads run one at a time; the configuration file is watched when asked.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { SluiceConfig } from '../control/config.js';
import type { GatewayMetrics } from '../control/metrics.js';
import { recordReload, reloadable, reloadProblem } from '../control/reload.js';
import type { RunningEgress } from '../egress/proxy.js';
import type { GatewayLogger, RunningGateway, TlsFiles } from '../gateway/server.js';
import type { Store } from '../store/types.js';

/** What a reload did: applied (with what changed), nothing to do, or refused (the running config stays). */
export type ReloadOutcome =
  | { result: 'applied'; changed: string[]; waitingForRestart: string[] }
  | { result: 'unchanged' }
  | { result: 'rejected'; problem: string };

/** The parts a reload reads and changes. `running` is the configuration in force, kept current here. */
export interface Reloadable {
  running: { config: SluiceConfig };
  store: Store;
  gateway: RunningGateway;
  egress: RunningEgress | null;
  metrics: GatewayMetrics;
  logger: GatewayLogger;
  clock: () => Date;
  /** Who applies the configuration, for the admin log. */
  actor: string;
  /** Reads and validates the configuration again; without it, reload is refused. */
  loadConfig?: () => Promise<SluiceConfig>;
  readTls: (config: SluiceConfig) => Promise<TlsFiles>;
  /** Retention follows the orgs: called when they changed, after the new config is in force. */
  orgsChanged: (config: SluiceConfig) => void;
  /** Start-up warnings that a new configuration deserves again. */
  warn: (config: SluiceConfig) => void;
}

/**
 * A reload function that never rejects (a signal handler or the file watch has no one to hand an
 * error to) and runs one reload at a time: one asked for while another runs waits, then runs its own.
 * `idle()` settles when no reload runs.
 */
export function reloader(parts: Reloadable): {
  reload: (why: string) => Promise<ReloadOutcome>;
  idle: () => Promise<unknown>;
} {
  let queue: Promise<unknown> = Promise.resolve();
  const reload = (why: string): Promise<ReloadOutcome> => {
    const run = queue
      .then(() => reloadOnce(parts, why))
      .catch((err: Error): ReloadOutcome => {
        parts.logger.error({ reload: why, err: err.message }, 'configuration reload failed');
        return { result: 'rejected', problem: err.message };
      });
    queue = run;
    return run;
  };
  return { reload, idle: () => queue };
}

async function reloadOnce(parts: Reloadable, why: string): Promise<ReloadOutcome> {
  const { metrics, logger, running } = parts;
  const rejected = (problem: string): ReloadOutcome => {
    metrics.reload('rejected');
    logger.error({ reload: why }, `configuration not reloaded (${why}), the running one stays: ${problem}`);
    return { result: 'rejected', problem };
  };
  if (!parts.loadConfig) return rejected('this process was started without a configuration file');
  let next: SluiceConfig;
  try {
    next = await parts.loadConfig();
  } catch (err) {
    return rejected(reloadProblem(err));
  }
  const { config: effective } = reloadable(running.config, next);
  let files: TlsFiles | undefined;
  let commit: () => void;
  try {
    files = effective.server.tls ? await parts.readTls(effective) : undefined;
    commit = parts.gateway.prepare(effective, files).commit;
  } catch (err) {
    return rejected(`server.tls: ${(err as Error).message}`);
  }
  const same = (c: SluiceConfig) => JSON.stringify(c) === JSON.stringify(running.config);
  if (!files && same(effective) && same(next)) {
    metrics.reload('unchanged');
    return { result: 'unchanged' };
  }
  // The admin log first: a change that cannot be logged is not made.
  let logged;
  try {
    logged = await recordReload(parts.store, parts.clock(), parts.actor, running.config, next, effective);
  } catch (err) {
    return rejected(`the admin log could not be written (${(err as Error).message})`);
  }
  commit();
  parts.egress?.reload(effective);
  const orgsChanged = JSON.stringify(effective.orgs) !== JSON.stringify(running.config.orgs);
  running.config = effective;
  if (orgsChanged) parts.orgsChanged(effective);
  metrics.reload('applied');
  const changed = logged.changed.map((c) => c.path);
  const waitingForRestart = logged.waiting.map((c) => c.path);
  logger.info({ reload: why, changed, waitingForRestart }, 'configuration reloaded');
  for (const path of waitingForRestart)
    logger.warn({ setting: path }, `${path} changed in the file; it takes effect at the next restart`);
  parts.warn(effective);
  return { result: 'applied', changed, waitingForRestart };
}

/**
 * Calls `changed` when `file` is written or replaced. The folder is watched, not the file: editors
 * and config managers replace a file by renaming another over it. Bursts of events come as one.
 */
export function watchConfig(file: string, changed: () => void, logger: GatewayLogger): () => void {
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
