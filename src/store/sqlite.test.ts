import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from './index.js';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite.js';
import { backfillRecords, defineStoreSuite, everyRollup } from './store.suite.js';

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

describe('migration 13 on SQLite', () => {
  it('sums the records stored before it into the rollups, as the writes would have', async () => {
    const file = join(await tempDir(), 'm13.db');
    const store = new SqliteStore(file);
    await store.migrate();
    await store.insertAudits(backfillRecords());
    const written = await everyRollup(store);
    await store.close();
    // Back to the schema before migration 13, records kept.
    const db = new Database(file);
    db.exec(
      'DROP TABLE audit_rollups; DROP TABLE audit_rollup_hours; DROP TABLE audit_guard_rollups; DROP INDEX audit_guarded; DELETE FROM sluice_migrations WHERE version = 13',
    );
    db.close();
    const again = new SqliteStore(file);
    await again.migrate();
    assert.ok(written.length > 10);
    assert.deepEqual(await everyRollup(again), written);
    await again.close();
  });
});
