import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrations } from './schema.js';
import { PostgresStore, quoteIdent } from './postgres.js';
import { backfillRecords, defineStoreSuite, everyRollup } from './store.suite.js';

const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sluice_test_${randomBytes(6).toString('hex')}`;

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
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
if (!up) {
  const line = `PostgreSQL not reachable at ${new URL(url).host}: PostgreSQL store suite SKIPPED`;
  if (process.env.SLUICE_REQUIRE_POSTGRES === '1') {
    it('PostgreSQL is required here (SLUICE_REQUIRE_POSTGRES=1)', () => assert.fail(line));
  } else {
    process.stderr.write(`\n!!! ${line} !!!\n\n`);
  }
}

after(async () => {
  if (!up) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const name of [schema, ...created]) {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
  }
  await client.end();
});

let n = 0;
const created: string[] = [];
defineStoreSuite(
  'PostgreSQL',
  async () => {
    // Each suite run gets its own schema inside the run's schema namespace.
    const own = `${schema}_${n++}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(own)}`);
    await client.end();
    created.push(own);
    const store = new PostgresStore({ connectionString: url, schema: own });
    await store.migrate();
    return store;
  },
  up ? false : 'PostgreSQL not reachable',
);

describe('PostgreSQL migrations', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  let a: PostgresStore;
  let b: PostgresStore;
  before(() => {
    a = new PostgresStore({ connectionString: url, schema });
    b = new PostgresStore({ connectionString: url, schema });
  });
  after(async () => {
    await a.close();
    await b.close();
  });
  it('two processes migrating at once end with one schema (advisory lock)', async () => {
    await Promise.all([a.migrate(), b.migrate()]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT version FROM ${quoteIdent(schema)}.sluice_migrations ORDER BY version`,
    );
    await client.end();
    assert.deepEqual(
      rows.map((r) => Number(r.version)),
      migrations.map((m) => m.version),
    );
  });
});

describe('migration 13 on PostgreSQL', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  it('sums the records stored before it into the rollups, as the writes would have', async () => {
    const own = `${schema}_m13`;
    created.push(own);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${quoteIdent(own)}`);
      const store = new PostgresStore({ connectionString: url, schema: own });
      await store.migrate();
      await store.insertAudits(backfillRecords());
      const written = await everyRollup(store);
      // Back to the schema before migration 13, records kept.
      await client.query(`SET search_path = ${quoteIdent(own)}`);
      await client.query('DROP TABLE audit_rollups, audit_rollup_hours, audit_guard_rollups');
      await client.query('DROP INDEX audit_guarded');
      await client.query('DELETE FROM sluice_migrations WHERE version = 13');
      await store.migrate();
      assert.ok(written.length > 10);
      assert.deepEqual(await everyRollup(store), written);
      await store.close();
    } finally {
      await client.end();
    }
  });
});
