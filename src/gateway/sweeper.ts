/** Retention: deletes each org's audit records (and their content) past its retentionDays. */
import type { SluiceConfig } from '../control/config.js';
import type { Store } from '../store/types.js';

const DAY = 86_400_000;

export async function sweepOnce(store: Store, config: SluiceConfig, now: Date): Promise<number> {
  let deleted = 0;
  for (const [id, org] of Object.entries(config.orgs)) {
    const cutoff = new Date(now.getTime() - org.retentionDays * DAY).toISOString();
    deleted += (await store.sweep(id, cutoff, cutoff)).recordsDeleted;
  }
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
