import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { parseConfig } from './config.js';
import type { Store } from '../store/types.js';
import { authenticate, cachedAuthenticator, createKey, generateKey, hashKey, KEY_PREFIX } from './keys.js';
import { applyConfig } from './orgs.js';
import { starterConfigText } from './starter.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('keys', () => {
  it('generates sk-sluice- plus 40 base62 characters, deterministic for a given random source', () => {
    const fixed = (n: number) => Buffer.alloc(n, 7);
    assert.equal(generateKey(fixed), KEY_PREFIX + 'H'.repeat(40));
    const a = generateKey();
    assert.match(a, /^sk-sluice-[A-Za-z0-9]{40}$/);
    assert.notEqual(a, generateKey());
    assert.equal(hashKey('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });

  it('stores only the hash: the key authenticates until revoked, and no file holds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-keys-'));
    dirs.push(dir);
    const store = await openStore('sqlite:./s.db', dir);
    const config = parseConfig(starterConfigText(), 'sluice.yaml', { ANTHROPIC_API_KEY: 'sk-ant-x' });
    await applyConfig(store, config, new Date('2026-11-01T00:00:00Z'));
    await applyConfig(store, config, new Date('2026-11-05T00:00:00Z'));
    assert.equal((await store.getOrg('default'))?.createdAt, '2026-11-01T00:00:00.000Z', 'idempotent');

    const { key, record } = await createKey(
      store,
      { org: 'default', user: 'dev@acme.test', role: 'member' },
      new Date('2026-11-02T00:00:00Z'),
    );
    assert.equal(record.hash, hashKey(key));
    assert.equal(record.prefix, key.slice(0, 14));
    assert.deepEqual(await authenticate(store, key), record);
    assert.equal(await authenticate(store, key + 'x'), undefined);
    assert.equal(await authenticate(store, 'sk-ant-api03-whatever'), undefined);

    for (const name of await readdir(dir)) {
      const bytes = await readFile(join(dir, name));
      assert.ok(!bytes.includes(key), `${name} holds the key`);
    }
    assert.equal(await store.revokeKey(record.id, '2026-11-03T00:00:00.000Z'), true);
    assert.equal(await authenticate(store, key), undefined);
    await store.close();
  });

  it('the key cache stays bounded whatever clients present, and unknown keys never push known ones out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-keys-'));
    dirs.push(dir);
    const store = await openStore('sqlite:./s.db', dir);
    let lookups = 0;
    const counted = new Proxy(store, {
      get(target, p) {
        if (p === 'findKeyByHash')
          return (hash: string) => {
            lookups++;
            return target.findKeyByHash(hash);
          };
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as () => unknown).bind(target) : v;
      },
    }) as Store;
    const { key, record } = await createKey(
      store,
      { org: 'default', user: 'a@x.test', role: 'member' },
      new Date(),
    );
    let t = 1_000_000;
    const find = cachedAuthenticator(counted, 5_000, { maxKeys: 100, maxMisses: 10, now: () => t });
    assert.deepEqual(await find(key), record);
    assert.equal(lookups, 1);

    // Unauthenticated junk, each string unique and large: never looked up, never held.
    for (let i = 0; i < 12_000; i++) assert.equal(await find(`${'x'.repeat(8_192)}${i}`), undefined);
    assert.equal(lookups, 1);
    // Well-formed keys that do not exist: looked up, then held apart in a small bounded set.
    for (let i = 0; i < 2_000; i++) assert.equal(await find(generateKey()), undefined);
    assert.equal(lookups, 2_001);
    assert.deepEqual(await find(key), record);
    assert.equal(lookups, 2_001, 'the known key is still cached');
    assert.deepEqual(find.stats().keys, 1);
    assert.ok(find.stats().misses <= 10, `misses ${find.stats().misses}`);
    assert.ok(find.stats().bytes < 2_000, `bytes ${find.stats().bytes}`);

    // A repeated unknown key is answered from the misses; after the time to live, asked again.
    const unknown = generateKey();
    await find(unknown);
    await find(unknown);
    assert.equal(lookups, 2_002);
    t += 5_000;
    await find(key);
    assert.equal(lookups, 2_003, 'looked up again once its time to live is over');

    // Known keys are bounded by count and by bytes, least recently used first.
    const small = cachedAuthenticator(counted, 5_000, { maxKeys: 3, maxBytes: 100_000, now: () => t });
    const more = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        createKey(store, { org: 'default', user: `u${i}@x.test`, role: 'member' }, new Date()),
      ),
    );
    for (const m of more) await small(m.key);
    assert.equal(small.stats().keys, 3);
    const tiny = cachedAuthenticator(counted, 5_000, { maxBytes: 1_200, now: () => t });
    for (const m of more) await tiny(m.key);
    assert.ok(tiny.stats().bytes <= 1_200 && tiny.stats().keys >= 1, JSON.stringify(tiny.stats()));
    await store.close();
  });

  it('a key with an expiry authenticates before it and is refused from that instant on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-keys-'));
    dirs.push(dir);
    const store = await openStore('sqlite:./s.db', dir);
    const { key, record } = await createKey(
      store,
      {
        org: 'default',
        user: 'sandbox@acme.test',
        role: 'member',
        expiresAt: new Date('2026-11-02T01:00:00Z'),
      },
      new Date('2026-11-02T00:00:00Z'),
    );
    assert.equal(record.expiresAt, '2026-11-02T01:00:00.000Z');
    assert.deepEqual(await authenticate(store, key, new Date('2026-11-02T00:59:59.999Z')), record);
    assert.equal(await authenticate(store, key, new Date('2026-11-02T01:00:00Z')), undefined);
    assert.equal(await authenticate(store, key, new Date('2026-11-03T00:00:00Z')), undefined);
    await store.close();
  });

  it('the cached lookup (gateway, egress) refuses expired keys too, and names a revoked key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-keys-'));
    dirs.push(dir);
    const store = await openStore('sqlite:./s.db', dir);
    const at = Date.parse('2026-11-02T00:00:00Z');
    let t = at;
    const find = cachedAuthenticator(store, 5_000, { now: () => t });
    const short = await createKey(
      store,
      { org: 'default', user: 'sandbox@acme.test', role: 'member', expiresAt: new Date(at + 60_000) },
      new Date(at),
    );
    assert.deepEqual(await find(short.key), short.record);
    t = at + 60_000;
    assert.equal(await find(short.key), undefined, 'expired, although cached');
    assert.deepEqual(await find.lookup(short.key), { refused: 'expired', record: short.record });

    const gone = await createKey(
      store,
      { org: 'default', user: 'dev@acme.test', role: 'member' },
      new Date(at),
    );
    await store.revokeKey(gone.record.id, new Date(at + 1).toISOString());
    const found = await find.lookup(gone.key);
    assert.ok('record' in found && found.refused === 'revoked');
    assert.deepEqual([found.record.id, found.record.user], [gone.record.id, 'dev@acme.test']);
    assert.deepEqual(await find.lookup(generateKey()), { refused: 'unknown' });
    assert.deepEqual(await find.lookup('not-a-key'), { refused: 'unknown' });
    await store.close();
  });
});
