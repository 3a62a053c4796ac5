/**
 * The admin audit log: every administrative action (an org's policy created or changed, a key
 * created or revoked) as an entry chained to the one before by SHA-256, so an edited, removed or
 * reordered entry breaks the chain at that point. `verifyChain` finds the first entry that does
 * not fit. The chain alone cannot tell a rewrite by someone who can write the store (they can
 * recompute it): each append is therefore signed outside the store by the hook `onAdminLogAppend`
 * installs (admin-log-publish.ts), and `sluice admin-log verify` checks the log against those.
 */
import { createHash } from 'node:crypto';
import { GENESIS_HASH } from '../store/rows.js';
import type { AdminLogEntry, Store } from '../store/types.js';

/** What the first entry links to. */
export const GENESIS = GENESIS_HASH;

/** The hash of `entry` (every field but `hash`) chained to `prev`. */
export function entryHash(prev: string, e: Omit<AdminLogEntry, 'hash' | 'prevHash'>): string {
  const canonical = JSON.stringify([e.seq, e.time, e.actor, e.action, e.target, e.details]);
  return createHash('sha256').update(prev).update('\n').update(canonical).digest('hex');
}

export type ChainCheck = { ok: true; entries: number } | { ok: false; seq: number; reason: string };

/** Checks entries in `seq` order: numbering, links and hashes. */
export function verifyChain(entries: readonly AdminLogEntry[]): ChainCheck {
  let prev = GENESIS;
  let expected = 1;
  for (const e of entries) {
    if (e.seq !== expected)
      return {
        ok: false,
        seq: e.seq,
        reason: `expected entry ${expected} here: an entry was removed or reordered`,
      };
    if (e.prevHash !== prev)
      return { ok: false, seq: e.seq, reason: 'does not link to the entry before it: removed or reordered' };
    if (entryHash(prev, e) !== e.hash) return { ok: false, seq: e.seq, reason: 'its content was changed' };
    prev = e.hash;
    expected++;
  }
  return { ok: true, entries: entries.length };
}

/** What runs after each append; it reports its own failures and never throws (the action is done). */
export type AdminLogAppendHook = (entry: AdminLogEntry) => Promise<void>;

// Keyed by store, so that the process that opened a store decides how its appends are signed, and
// every caller of recordAdmin (CLI verbs, the admin API, config changes) is covered without a flag.
const appendHooks = new WeakMap<Store, AdminLogAppendHook>();

/** Runs `hook` after every entry recordAdmin appends to `store`; returns a function that removes it. */
export function onAdminLogAppend(store: Store, hook: AdminLogAppendHook): () => void {
  appendHooks.set(store, hook);
  return () => {
    if (appendHooks.get(store) === hook) appendHooks.delete(store);
  };
}

/** Appends one admin action to the store's chain, then runs the store's append hook (its checkpoint). */
export async function recordAdmin(
  store: Store,
  at: Date,
  actor: string,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<AdminLogEntry> {
  const entry = await store.appendAdminLog(
    { time: at.toISOString(), actor, action, target, details },
    entryHash,
  );
  await appendHooks.get(store)?.(entry);
  return entry;
}
