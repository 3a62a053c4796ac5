import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { recordAdmin, verifyChain } from '../control/admin-log.js';
import {
  COPIED_TABLES,
  copyStore,
  CopyInterruptedError,
  CopyRefusedError,
  countTables,
  NOT_COPIED_TABLES,
} from './copy.js';
import { PostgresStore, quoteIdent } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import { auditRecord } from './store.suite.js';
import type { Store } from './types.js';

const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const prefix = `sluice_copy_${randomBytes(5).toString('hex')}`;
const schemas: string[] = [];

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const up = await reachable();
if (!up) {
  const line = `PostgreSQL not reachable at ${new URL(url).host}: store copy tests against PostgreSQL SKIPPED`;
  if (process.env.SLUICE_REQUIRE_POSTGRES === '1') it('PostgreSQL is required here', () => assert.fail(line));
  else process.stderr.write(`\n!!! ${line} !!!\n\n`);
}
const skip = up ? false : 'PostgreSQL not reachable';

/** A migrated PostgreSQL store in a schema of its own. */
async function pgStore(): Promise<PostgresStore> {
  const schema = `${prefix}_${schemas.length}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  await client.end();
  schemas.push(schema);
  const store = new PostgresStore({ connectionString: url, schema });
  await store.migrate();
  return store;
}

let dir: string;
let files = 0;
async function sqliteStore(): Promise<SqliteStore> {
  const store = new SqliteStore(join(dir, `store-${files++}.db`));
  await store.migrate();
  return store;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-copy-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (!up) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  await client.end();
});

const RECORDS = 100_000;

/** A store with something in every table: 100,000 audit records, keys, counters, the admin log. */
async function fill(store: Store): Promise<void> {
  await store.upsertOrg({ id: 'acme', policy: { zdr: true }, createdAt: '2026-01-01T00:00:00.000Z' });
  await store.upsertOrg({ id: 'Beta', createdAt: '2026-01-02T00:00:00.000Z' });
  for (const [i, user] of ['dev@acme.test', 'Zoë@acme.test', 'ops@acme.test'].entries()) {
    await store.insertKey({
      id: `key_${i}${i === 1 ? 'B' : 'a'}`,
      org: 'acme',
      user,
      role: i === 2 ? 'admin' : 'member',
      hash: String(i).repeat(64),
      prefix: 'sk-sluice-ab',
      createdAt: `2026-11-0${i + 1}T00:00:00.000Z`,
      revokedAt: i === 0 ? '2026-11-05T00:00:00.000Z' : null,
      expiresAt: i === 1 ? '2027-01-01T00:00:00.000Z' : null,
    });
  }
  for (let i = 0; i < 5; i++)
    await recordAdmin(store, new Date(Date.UTC(2026, 10, 1, i)), 'cli:test', 'key.created', `key_${i}`, {
      n: i,
    });
  await store.addCounters(
    'acme',
    [
      { user: '', period: 'month:2026-11' },
      { user: 'dev@acme.test', period: 'day:2026-11-01' },
      { user: 'Zoë@acme.test', period: 'minute:2026-11-01T10:00' },
    ],
    { requests: 3, tokens: 1234, costUsd: 0.75 },
  );
  await store.addTelemetry('acme', 'dev@acme.test', [
    { sessionId: 's1', metric: 'lines', day: '2026-11-01', value: 12.5, cumulative: false },
    { sessionId: 'S2', metric: 'cost', day: '2026-11-02', value: 3, cumulative: true },
  ]);
  for (let i = 0; i < 50; i++)
    await store.insertEgress({
      id: `eg_${i}`,
      time: `2026-11-01T10:00:${String(i).padStart(2, '0')}.000Z`,
      org: 'acme',
      user: i % 2 ? 'dev@acme.test' : null,
      host: 'registry.npmjs.org',
      port: 443,
      method: 'CONNECT',
      decision: i % 3 ? 'allow' : 'deny',
      rule: 'preset:npm',
      bytesUp: i * 1000,
      bytesDown: 2 ** 40 + i,
      durationMs: i + 0.25,
      error: i % 7 ? null : 'refused',
    });
  const batch = [];
  for (let i = 0; i < RECORDS; i++) {
    // Mixed case ids: byte order and a locale's order differ, and the copy must not care.
    const id = `${i % 2 ? 'req' : 'REQ'}_${((i * 7919) % RECORDS).toString(36)}_${i}`;
    batch.push(
      auditRecord({
        id,
        time: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
        stream: i % 2 === 0,
        costUsd: i % 10 ? i / 1000 : null,
        guard: i % 97 ? { decision: 'none', rules: {} } : { decision: 'block', rules: { email: 1 } },
        requestContent: i % 5 ? null : `prompt ${i}`,
        upstreamsTried: i % 13 ? ['anthropic'] : ['bedrock', 'anthropic'],
      }),
    );
    if (batch.length === 5000) await store.insertAudits(batch.splice(0));
  }
}

/** Every copied table, every row, in key order, as plain values. */
async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const rows = store.tableRows();
  const out: Record<string, unknown[]> = {};
  for (const { table, key } of COPIED_TABLES)
    out[table] = JSON.parse(JSON.stringify(await rows.batch(table, key, undefined, 1_000_000))) as unknown[];
  return out;
}

describe('store copy', { skip }, () => {
  let source: SqliteStore;
  let expected: Record<string, unknown[]>;
  before(async () => {
    source = await sqliteStore();
    await fill(source);
    expected = await dump(source);
  });
  after(() => source.close());

  it('knows every table the schema makes', async () => {
    const store = await sqliteStore();
    const tables = await store.tableRows().tables();
    await store.close();
    const handled = [...COPIED_TABLES.map((t) => t.table), ...Object.keys(NOT_COPIED_TABLES)].sort();
    assert.deepEqual(tables.sort(), handled);
  });

  it(`moves ${RECORDS} audit records and everything else SQLite -> PostgreSQL -> SQLite, verified`, async () => {
    const middle = await pgStore();
    const back = await sqliteStore();
    try {
      const there = await copyStore(source, middle);
      assert.equal(there.find((t) => t.table === 'audit_records')?.copied, RECORDS);
      for (const c of await countTables(source, middle)) assert.equal(c.destination, c.source, c.table);
      assert.deepEqual(await dump(middle), expected);
      const log = await middle.listAdminLog();
      assert.deepEqual(verifyChain(log), { ok: true, entries: 5 });
      assert.equal(log.at(-1)?.hash, (await source.listAdminLog()).at(-1)?.hash);
      // The copied chain goes on: the next entry links to the copied head.
      await recordAdmin(middle, new Date(), 'cli:test', 'key.revoked', 'key_1');
      assert.deepEqual(verifyChain(await middle.listAdminLog()), { ok: true, entries: 6 });

      await copyStore(middle, back);
      for (const c of await countTables(middle, back)) assert.equal(c.destination, c.source, c.table);
      const returned = await dump(back);
      assert.deepEqual({ ...returned, admin_log: returned.admin_log?.slice(0, 5) }, expected);
      assert.equal((await back.queryAudit({ limit: 1 }))[0]?.stream !== undefined, true);
      assert.deepEqual(
        await back.queryAudit({ user: 'dev@acme.test', limit: 3 }),
        await source.queryAudit({ user: 'dev@acme.test', limit: 3 }),
      );
    } finally {
      await middle.close();
      await back.close();
    }
  });

  it('an interrupted copy continues where it stopped on the next run', async () => {
    const target = await pgStore();
    try {
      const stop = new AbortController();
      const first = copyStore(source, target, {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.table === 'audit_records' && p.done >= 30_000) stop.abort();
        },
      });
      await assert.rejects(first, (err: Error) => {
        assert.ok(err instanceof CopyInterruptedError);
        assert.equal(err.message, `interrupted while copying audit_records (30000 of ${RECORDS} rows)`);
        return true;
      });
      const seen: number[] = [];
      const second = await copyStore(source, target, {
        onProgress: (p) => p.table === 'audit_records' && seen.push(p.done),
      });
      const audit = second.find((t) => t.table === 'audit_records');
      assert.deepEqual(audit, {
        table: 'audit_records',
        source: RECORDS,
        copied: RECORDS - 30_000,
        resumedAt: 30_000,
      });
      assert.equal(seen[0], 30_000, 'the rerun starts at the rows already there');
      assert.equal(second.find((t) => t.table === 'admin_log')?.copied, 0);
      assert.deepEqual(await dump(target), expected);
      // A third run finds nothing to do.
      const third = await copyStore(source, target);
      assert.deepEqual(
        third.map((t) => t.copied),
        third.map(() => 0),
      );
    } finally {
      await target.close();
    }
  });

  it('refuses a destination that holds an admin log of its own', async () => {
    const target = await sqliteStore();
    try {
      await recordAdmin(target, new Date(), 'serve', 'org.created', 'acme');
      await assert.rejects(copyStore(source, target), {
        name: 'CopyRefusedError',
        message:
          "the destination's admin_log already holds rows that are not the source's (was sluice serve started on it?): copy into an empty store, such as a new database or schema",
      });
      assert.ok(CopyRefusedError);
    } finally {
      await target.close();
    }
  });
});
