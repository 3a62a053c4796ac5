/** Applying the declarative config to the store: idempotent, and what the YAML declares wins. */
import type { Store } from '../store/types.js';
import type { SluiceConfig } from './config.js';

export async function applyConfig(store: Store, config: SluiceConfig, now: Date): Promise<void> {
  for (const [id, org] of Object.entries(config.orgs)) {
    const existing = await store.getOrg(id);
    await store.upsertOrg({
      id,
      policy: { ...org },
      createdAt: existing?.createdAt ?? now.toISOString(),
    });
  }
}
