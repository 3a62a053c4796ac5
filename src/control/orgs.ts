/**
 * Applying the declarative config to the store: idempotent, and what the YAML declares wins. Each
 * org created, and each policy setting changed (ZDR, content logging, retention, guard actions,
 * budgets, ...), is an admin action in the chained admin log.
 */
import type { Store } from '../store/types.js';
import { recordAdmin } from './admin-log.js';
import type { SluiceConfig } from './config.js';

export async function applyConfig(
  store: Store,
  config: SluiceConfig,
  now: Date,
  actor = 'config',
): Promise<void> {
  // Gateways starting together on one database would otherwise both log "org.created".
  await store.exclusive('apply-config', () => apply(store, config, now, actor));
}

async function apply(store: Store, config: SluiceConfig, now: Date, actor: string): Promise<void> {
  for (const [id, org] of Object.entries(config.orgs)) {
    const existing = await store.getOrg(id);
    const policy: Record<string, unknown> = { ...org };
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of new Set([...Object.keys(policy), ...Object.keys(existing?.policy ?? {})])) {
      const from = existing?.policy?.[field];
      const to = policy[field];
      if (JSON.stringify(from) !== JSON.stringify(to))
        changed[field] = { from: from ?? null, to: to ?? null };
    }
    if (existing && !Object.keys(changed).length) continue;
    await store.upsertOrg({ id, policy, createdAt: existing?.createdAt ?? now.toISOString() });
    if (existing) await recordAdmin(store, now, actor, 'org.policy.changed', id, { changed });
    else await recordAdmin(store, now, actor, 'org.created', id, { policy });
  }
}
