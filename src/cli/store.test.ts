import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { recordAdmin } from '../control/admin-log.js';
import { openStore } from '../store/index.js';
import { quoteIdent } from '../store/postgres.js';
import { auditRecord } from '../store/store.suite.js';
import { previousStoreWarning, redactUrl } from './store.js';

const main = resolve('src/cli/main.ts');
const pgUrl = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sluice_clicopy_${randomBytes(5).toString('hex')}`;
let dir: string;

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
const up = await reachable();
if (!up) process.stderr.write(`\n!!! PostgreSQL not reachable: sluice store copy CLI tests SKIPPED !!!\n\n`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (!up) return;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await client.end();
});

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    env: { ...process.env, CI: 'true' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const schemaUrl = () => `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

describe('sluice store copy', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  before(async () => {
    const store = await openStore('sqlite:old.db', dir);
    await store.insertAudits([auditRecord({ id: 'req_1' }), auditRecord({ id: 'req_2' })]);
    await recordAdmin(store, new Date('2026-11-01T00:00:00Z'), 'cli:test', 'org.created', 'acme');
    await store.close();
  });

  it('copies, verifies, and prints a JSON report; a rerun copies nothing', () => {
    const r = sluice('store', 'copy', '--from', 'sqlite:old.db', '--to', schemaUrl(), '--format', 'json');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const report = JSON.parse(r.out) as {
      ok: boolean;
      tables: { table: string; source: number; destination: number; copied: number }[];
      adminLog: { entries: number; chain: string; sameHead: boolean };
    };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.tables.find((t) => t.table === 'audit_records'),
      { table: 'audit_records', source: 2, copied: 2, resumedAt: 0, destination: 2 },
    );
    assert.deepEqual(
      { ...report.adminLog, head: undefined },
      {
        entries: 1,
        head: undefined,
        chain: 'intact',
        sameHead: true,
      },
    );
    const again = sluice('store', 'copy', '--from', 'sqlite:old.db', '--to', schemaUrl());
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /^audit_records\s+2\s+2\s+0\s+2$/m);
    assert.match(again.out, /admin log: 1 entries, chain intact, head [0-9a-f]{16}… \(same as the source\)/);
    assert.match(again.out, /^verified: /m);
  });

  it('exits 2 naming the table when the destination holds rows of its own', async () => {
    const other = await openStore('sqlite:other.db', dir);
    await recordAdmin(other, new Date(), 'serve', 'org.created', 'beta');
    await other.close();
    const r = sluice('store', 'copy', '--from', 'sqlite:old.db', '--to', 'sqlite:other.db');
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      "sluice: the destination's admin_log already holds rows that are not the source's (was sluice serve started on it?): copy into an empty store, such as a new database or schema\n",
    );
  });

  it('exits 2 for a source that does not exist, without making it', () => {
    const r = sluice('store', 'copy', '--from', 'sqlite:missing.db', '--to', 'sqlite:x.db');
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `sluice: --from: cannot open sqlite:missing.db: no SQLite database at ${join(dir, 'missing.db')}\n`,
    );
  });
});

describe('serve: the store moved without its records', () => {
  it('warns once when the store is empty and the default SQLite file holds records', async () => {
    const config = await mkdtemp(join(tmpdir(), 'sluice-prev-'));
    try {
      const old = await openStore('sqlite:./.sluice/sluice.db', config);
      await old.insertAudits([auditRecord({ id: 'req_1' })]);
      const fresh = await openStore('sqlite:./new.db', config);
      const line = await previousStoreWarning(fresh, 'sqlite:./new.db', config);
      assert.equal(
        line,
        `warning: this store is empty, but ${join(config, '.sluice/sluice.db')} holds 0 keys and 1 records; to move them: stop serve, then sluice store copy --from sqlite:${join(config, '.sluice/sluice.db')} --to <storage URL> into a new, empty store (docs/operations.md#moving-a-store)`,
      );
      assert.equal(await previousStoreWarning(old, 'sqlite:./.sluice/sluice.db', config), undefined);
      await fresh.insertAudits([auditRecord({ id: 'req_2' })]);
      assert.equal(await previousStoreWarning(fresh, 'sqlite:./new.db', config), undefined);
      await old.close();
      await fresh.close();
    } finally {
      await rm(config, { recursive: true, force: true });
    }
  });

  it('redacts a password in a printed URL', () => {
    assert.equal(redactUrl('postgres://sluice:s3cret@db/x'), 'postgres://sluice:***@db/x');
    assert.equal(redactUrl('sqlite:./a.db'), 'sqlite:./a.db');
  });
});
