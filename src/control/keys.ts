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
  /** The groups of the org the user belongs to (`orgs.<org>.groups`). */
  groups?: readonly string[];
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
    ...(who.groups?.length ? { groups: [...new Set(who.groups)] } : {}),
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

/** What a key looks like: anything else is never looked up, and never cached. */
const KEY_SHAPE = new RegExp(`^${KEY_PREFIX}[A-Za-z0-9]{40}$`);

export interface KeyCacheLimits {
  /** Known keys kept at most (least recently used go first). */
  maxKeys?: number;
  /** Estimated bytes the known keys may hold. */
  maxBytes?: number;
  /** Well-formed keys found unknown or revoked, kept apart so they never push known keys out. */
  maxMisses?: number;
  /** Milliseconds, for the time to live (Date.now unless a test moves it). */
  now?: () => number;
}

/** Why a presented key is refused, with the record when the key is known (revoked or expired). */
export type KeyLookup =
  { live: KeyRecord } | { refused: 'unknown' } | { refused: 'revoked' | 'expired'; record: KeyRecord };

export interface KeyAuthenticator {
  /** The live key record, or undefined (unknown, revoked or expired). */
  (presented: string): Promise<KeyRecord | undefined>;
  /** The same lookup, saying why a key is refused and whose it was. */
  lookup(presented: string): Promise<KeyLookup>;
  /** What the cache holds now. */
  stats(): { keys: number; misses: number; bytes: number };
  /** Drops the key of `hash` from the cache: a revocation on this process takes effect at once. */
  forget(hash: string): void;
}

/** What one cached key record is assumed to cost beyond its text (Map slot, object). */
const ENTRY_OVERHEAD = 160;

/** Least-recently-used maps from key hash to record (known keys) and to expiry (misses). */
class KeyCache {
  private readonly known = new Map<string, { key: KeyRecord; until: number; bytes: number }>();
  private readonly misses = new Map<string, number>();
  private held = 0;

  constructor(private readonly limits: Required<Omit<KeyCacheLimits, 'now'>>) {}

  /** The cached answer for `hash` at `t`: a record, null for a known miss, undefined if not cached. */
  get(hash: string, t: number): KeyRecord | null | undefined {
    const hit = this.known.get(hash);
    if (hit && hit.until > t) {
      this.known.delete(hash);
      this.known.set(hash, hit);
      return hit.key;
    }
    const miss = this.misses.get(hash);
    return miss !== undefined && miss > t ? null : undefined;
  }

  set(hash: string, key: KeyRecord | undefined, until: number): void {
    this.drop(hash);
    if (!key) {
      this.misses.set(hash, until);
      if (this.misses.size > this.limits.maxMisses) this.misses.delete(this.misses.keys().next().value!);
      return;
    }
    const bytes = ENTRY_OVERHEAD + 2 * (hash.length + JSON.stringify(key).length);
    this.known.set(hash, { key, until, bytes });
    this.held += bytes;
    while (this.known.size > this.limits.maxKeys || this.held > this.limits.maxBytes)
      this.drop(this.known.keys().next().value!);
  }

  forget(hash: string): void {
    this.drop(hash);
  }

  private drop(hash: string): void {
    this.misses.delete(hash);
    const old = this.known.get(hash);
    if (!old) return;
    this.known.delete(hash);
    this.held -= old.bytes;
  }

  stats() {
    return { keys: this.known.size, misses: this.misses.size, bytes: this.held };
  }
}

/**
 * `authenticate` with a short-lived cache in front, for the request paths (gateway and egress proxy):
 * a key is looked up at most once per `ttlMs`, which also bounds how long a revoked key keeps
 * working on this process. Memory is bounded whatever clients present: a string that is not
 * shaped like a key is refused without a lookup and never cached; known keys and misses are held
 * by hash in two bounded maps, so unknown keys cannot push known ones out.
 */
export function cachedAuthenticator(
  store: Store,
  ttlMs = 5_000,
  limits: KeyCacheLimits = {},
): KeyAuthenticator {
  const now = limits.now ?? Date.now;
  const cache = new KeyCache({
    maxKeys: limits.maxKeys ?? 10_000,
    maxBytes: limits.maxBytes ?? 8 * 1024 * 1024,
    maxMisses: limits.maxMisses ?? 1_000,
  });
  // Revoked keys are cached as records (there are only as many as the store holds), so that a
  // refusal can name whose key it was; expiry is checked at each use.
  const lookup = async (presented: string): Promise<KeyLookup> => {
    if (!KEY_SHAPE.test(presented)) return { refused: 'unknown' };
    const hash = hashKey(presented);
    const t = now();
    let record = cache.get(hash, t);
    if (record === undefined) {
      record = (await store.findKeyByHash(hash)) ?? null;
      cache.set(hash, record ?? undefined, t + ttlMs);
    }
    if (!record) return { refused: 'unknown' };
    if (record.revokedAt !== null) return { refused: 'revoked', record };
    if (record.expiresAt !== null && record.expiresAt <= new Date(t).toISOString())
      return { refused: 'expired', record };
    return { live: record };
  };
  const find = async (presented: string) => {
    const found = await lookup(presented);
    return 'live' in found ? found.live : undefined;
  };
  return Object.assign(find, {
    lookup,
    stats: () => cache.stats(),
    forget: (hash: string) => cache.forget(hash),
  });
}
