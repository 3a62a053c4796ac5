/**
 * Retention: deletes each org's audit records (and their content) past its retentionDays; records
 * of blocked requests (flagged) keep their metadata for flaggedRetentionDays. Usage counters of
 * minutes and days long past go too.
 */
import type { SluiceConfig } from './config.js';
import type { Store } from '../store/types.js';

const DAY = 86_400_000;

export async function sweepOnce(store: Store, config: SluiceConfig, now: Date): Promise<number> {
  let deleted = 0;
  for (const [id, org] of Object.entries(config.orgs)) {
    const cutoff = new Date(now.getTime() - org.retentionDays * DAY).toISOString();
    const flaggedBefore = new Date(now.getTime() - org.flaggedRetentionDays * DAY).toISOString();
    deleted += (await store.sweep(id, { before: cutoff, contentBefore: cutoff, flaggedBefore }))
      .recordsDeleted;
  }
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
