/**
 * Retention: deletes each org's audit records (and their content) past its retentionDays; records
 * of blocked requests (flagged) keep their metadata for flaggedRetentionDays; records of no org
 * follow the longest of them. On PostgreSQL a day whose records are all past retention is dropped
 * whole. Usage counters of minutes and days long past go too.
 */
import type { SluiceConfig } from './config.js';
import type { Store, SweepCutoffs } from '../store/types.js';

const DAY = 86_400_000;

/**
 * Each org's cutoffs at `now`, and those of records of no org (requests refused before a key named
 * one): the longest retention of any org, so none of them outlives what every org keeps.
 */
export function sweepCutoffs(config: SluiceConfig, now: Date): Map<string | null, SweepCutoffs> {
  const at = (days: number) => new Date(now.getTime() - days * DAY).toISOString();
  const cuts = new Map<string | null, SweepCutoffs>();
  const orgs = Object.entries(config.orgs);
  for (const [id, org] of orgs) {
    const before = at(org.retentionDays);
    cuts.set(id, { before, contentBefore: before, flaggedBefore: at(org.flaggedRetentionDays) });
  }
  if (orgs.length) {
    const before = at(Math.max(...orgs.map(([, o]) => o.retentionDays)));
    const flaggedBefore = at(Math.max(...orgs.map(([, o]) => o.flaggedRetentionDays)));
    cuts.set(null, { before, contentBefore: before, flaggedBefore });
  }
  return cuts;
}

export async function sweepOnce(store: Store, config: SluiceConfig, now: Date): Promise<number> {
  const deleted = (await store.sweepAll(sweepCutoffs(config, now))).recordsDeleted;
  await store.sweepCounters(
    new Date(now.getTime() - 3_600_000).toISOString().slice(0, 16),
    new Date(now.getTime() - 40 * DAY).toISOString().slice(0, 10),
  );
  return deleted;
}

/** Sweeps now and then every `intervalMs`; returns a stop function. */
export function startSweeper(
  store: Store,
  config: SluiceConfig,
  clock: () => Date = () => new Date(),
  intervalMs = 3_600_000,
  onError: (err: Error) => void = () => undefined,
): () => void {
  const run = () => void sweepOnce(store, config, clock()).catch(onError);
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
