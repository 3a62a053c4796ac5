import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { parseConfig } from './config.js';
import { authenticate, createKey, generateKey, hashKey, KEY_PREFIX } from './keys.js';
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
});
