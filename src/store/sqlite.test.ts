import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from './index.js';
import { defineStoreSuite } from './store.suite.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'sluice-store-'));
  dirs.push(d);
  return d;
};

defineStoreSuite('SQLite', async () =>
  openStore(`sqlite:${join(await tempDir(), 'nested', 'sluice.db')}`, process.cwd()),
);

describe('openStore', () => {
  it('creates the SQLite file (and its folder) relative to the given directory, in WAL mode', async () => {
    const dir = await tempDir();
    const store = await openStore('sqlite:./data/s.db', dir);
    await store.ping();
    assert.equal(store.kind, 'sqlite');
    assert.ok((await stat(join(dir, 'data', 's.db'))).isFile());
    assert.ok((await stat(join(dir, 'data', 's.db-wal'))).isFile(), 'WAL file exists');
    await store.close();
  });

  it('refuses an unknown storage scheme, naming only the scheme', async () => {
    await assert.rejects(openStore('mysql://user:secret@db/x', process.cwd()), {
      message: 'storage: expected sqlite:PATH or postgres://…, got "mysql:…"',
    });
  });
});
