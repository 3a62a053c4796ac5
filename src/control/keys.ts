/** Gateway keys: generated once, shown once, stored only as a SHA-256 hash. */
import { createHash, randomBytes } from 'node:crypto';
import type { KeyRecord, Role, Store } from '../store/types.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const KEY_PREFIX = 'sk-sluice-';

/** A new key: `sk-sluice-` and 40 base62 characters (about 238 bits) from `random`. */
export function generateKey(random: (n: number) => Buffer = randomBytes): string {
  let out = '';
  while (out.length < 40) {
    for (const byte of random(48)) {
      // Rejection sampling keeps every character equally likely (248 = 4 * 62).
      if (byte < 248 && out.length < 40) out += ALPHABET[byte % 62];
    }
  }
  return KEY_PREFIX + out;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface NewKey {
  org: string;
  user: string;
  role: Role;
  /** When the key stops working on its own (absent: never). */
  expiresAt?: Date;
}

/** Creates and stores a key; the returned `key` is the only time the full value exists. */
export async function createKey(
  store: Store,
  who: NewKey,
  now: Date,
  random: (n: number) => Buffer = randomBytes,
): Promise<{ key: string; record: KeyRecord }> {
  const key = generateKey(random);
  const record: KeyRecord = {
    id: `key_${random(8).toString('hex')}`,
    org: who.org,
    user: who.user,
    role: who.role,
    hash: hashKey(key),
    prefix: key.slice(0, KEY_PREFIX.length + 4),
    createdAt: now.toISOString(),
    revokedAt: null,
    expiresAt: who.expiresAt?.toISOString() ?? null,
  };
  await store.insertKey(record);
  return { key, record };
}

/** The live key record for a presented key, or undefined (unknown, revoked, or expired at `now`). */
export async function authenticate(
  store: Store,
  presented: string,
  now: Date = new Date(),
): Promise<KeyRecord | undefined> {
  if (!presented.startsWith(KEY_PREFIX)) return undefined;
  const record = await store.findKeyByHash(hashKey(presented));
  if (!record || record.revokedAt !== null) return undefined;
  // ISO-8601 UTC text compares in time order.
  return record.expiresAt === null || record.expiresAt > now.toISOString() ? record : undefined;
}

/**
 * `authenticate` with a short-lived cache in front, for the request paths (gateway and egress proxy):
 * a key is looked up at most once per `ttlMs`, which also bounds how long a revoked key keeps
 * working on this process.
 */
export function cachedAuthenticator(
  store: Store,
  ttlMs = 5_000,
): (presented: string) => Promise<KeyRecord | undefined> {
  const cache = new Map<string, { key: KeyRecord | undefined; until: number }>();
  return async (presented) => {
    const t = Date.now();
    const cached = cache.get(presented);
    if (cached && cached.until > t) return cached.key;
    const key = await authenticate(store, presented);
    cache.set(presented, { key, until: t + ttlMs });
    if (cache.size > 10_000) cache.clear();
    return key;
  };
}
