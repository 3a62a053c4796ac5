import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configDir, CredentialStore } from './credentials.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-creds-'));
after(() => rm(dir, { recursive: true, force: true }));

const endpoints = { base: 'https://gw.test', deviceAuthorization: 'x', token: 'https://gw.test/oauth/token' };

describe('the sign-in credentials file', () => {
  it('lives under the user config dir', () => {
    assert.equal(configDir({ SLUICE_CONFIG_DIR: '/s' }), '/s');
    assert.equal(configDir({ XDG_CONFIG_HOME: '/x', HOME: '/h' }, 'linux'), '/x/sluice');
    assert.equal(configDir({ HOME: '/h' }, 'linux'), '/h/.config/sluice');
    assert.equal(configDir({ APPDATA: 'C:\\A', HOME: '/h' }, 'win32'), join('C:\\A', 'sluice'));
  });

  it('is written 0600 in a 0700 folder, one entry per gateway, the last one current', async () => {
    const store = new CredentialStore(join(dir, 'a', 'sluice'));
    await store.save(endpoints, { accessToken: 'at', expiresAt: 5, refreshToken: 'rt' });
    await store.save({ ...endpoints, base: 'https://other.test' }, { accessToken: 'at2', expiresAt: 6 });
    assert.equal((await stat(store.file)).mode & 0o777, 0o600);
    assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
    const read = await store.read();
    assert.equal(read.current, 'https://other.test');
    assert.deepEqual(read.gateways['https://gw.test'], {
      accessToken: 'at',
      expiresAt: 5,
      refreshToken: 'rt',
      tokenEndpoint: 'https://gw.test/oauth/token',
    });
    await store.update('https://other.test', null);
    assert.deepEqual(Object.keys((await store.read()).gateways), ['https://gw.test']);
    assert.equal((await store.read()).current, 'https://other.test', 'still named in messages');
  });

  it('runs one refresh at a time, and takes over a lock its holder left behind', async () => {
    const store = new CredentialStore(join(dir, 'b'));
    const deps = { now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = store.locked(async () => {
      order.push('first in');
      entered();
      await held;
      order.push('first out');
    }, deps);
    await inside;
    // The second finds the lock held and waits (its sleep is called) without entering.
    let waited!: () => void;
    const triedOnce = new Promise<void>((r) => (waited = r));
    const second = store.locked(async () => void order.push('second'), {
      now: Date.now,
      sleep: async (ms) => {
        waited();
        await deps.sleep(ms);
      },
    });
    await triedOnce;
    assert.deepEqual(order, ['first in']);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second']);

    await writeFile(`${store.file}.lock`, '99999');
    const late = { now: () => Date.now() + 60_000, sleep: deps.sleep };
    assert.equal(await store.locked(async () => 'taken over', late), 'taken over');
    await assert.rejects(readFile(`${store.file}.lock`), { code: 'ENOENT' });
  });
});
