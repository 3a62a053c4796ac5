import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { delta } from './content.js';
import { PostgresStore, quoteIdent } from './postgres.js';
import { auditRecord } from './store.suite.js';
import type { AuditRecord, SweepCutoffs } from './types.js';

const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const prefix = `sluice_parts_${randomBytes(5).toString('hex')}`;
const TODAY = new Date('2026-12-06T09:30:00.000Z');

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const up = await admin(async () => true).catch(() => false);
if (!up && process.env.SLUICE_REQUIRE_POSTGRES !== '1')
  process.stderr.write(`\n!!! PostgreSQL not reachable: partition tests SKIPPED !!!\n\n`);

const schemas: string[] = [];
const stores: PostgresStore[] = [];
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  if (up)
    await admin(async (c) => c.query(`DROP SCHEMA IF EXISTS ${schemas.map(quoteIdent).join(', ')} CASCADE`));
});

/** A store on a schema of its own, migrated up to `until`. */
async function open(until = Infinity): Promise<{ store: PostgresStore; schema: string }> {
  const schema = `${prefix}_${schemas.length}`;
  schemas.push(schema);
  await admin((c) => c.query(`CREATE SCHEMA ${quoteIdent(schema)}`));
  const store = new PostgresStore({ connectionString: url, schema, clock: () => TODAY, daysAhead: 3 });
  stores.push(store);
  await store.migrate(until);
  return { store, schema };
}

/** The day partitions of a schema's audit_records, oldest first. */
const days = (schema: string): Promise<string[]> =>
  admin(async (c) => {
    const { rows } = await c.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [`${quoteIdent(schema)}.audit_records`],
    );
    return rows.map((r) => String(r.relname).replace('audit_records_', ''));
  });

const count = async (store: PostgresStore, org: string) => (await store.queryAudit({ org })).length;

const cutAt = (before: string, flaggedBefore = before): SweepCutoffs => ({
  before,
  contentBefore: before,
  flaggedBefore,
});

describe('PostgreSQL audit records by day', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  it('migrate makes the partitions of today and the days ahead', async () => {
    const { schema } = await open();
    assert.deepEqual(await days(schema), ['20261206', '20261207', '20261208', '20261209']);
  });

  it('an insert for a day with no partition makes it, alone, in a batch and from two stores at once', async () => {
    const { store, schema } = await open();
    const other = new PostgresStore({ connectionString: url, schema, clock: () => TODAY });
    stores.push(other);
    await store.insertAudit(auditRecord({ id: 'old-1', org: 'late', time: '2026-12-05T23:59:59.999Z' }));
    await store.insertAudits([
      auditRecord({ id: 'old-2', org: 'late', time: '2026-11-20T10:00:00.000Z' }),
      auditRecord({ id: 'old-3', org: 'late', time: '2026-11-21T10:00:00.000Z' }),
      auditRecord({ id: 'now-1', org: 'late', time: '2026-12-06T10:00:00.000Z' }),
    ]);
    // Twenty inserts for one missing day from two pools: every one lands, one partition is made.
    await Promise.all(
      Array.from({ length: 20 }, (_v, i) =>
        (i % 2 ? store : other).insertAudit(
          auditRecord({
            id: `race-${i}`,
            org: 'race',
            time: `2026-10-01T00:00:${String(i).padStart(2, '0')}.000Z`,
          }),
        ),
      ),
    );
    assert.equal(await count(store, 'late'), 4);
    assert.equal(await count(store, 'race'), 20);
    assert.deepEqual(await days(schema), [
      '20261001',
      '20261120',
      '20261121',
      '20261205',
      '20261206',
      '20261207',
      '20261208',
      '20261209',
    ]);
  });

  it('a replayed record is stored once, whether its day was there before or made by the replay', async () => {
    const { store, schema } = await open();
    const ahead = auditRecord({ id: 'replay-ahead', org: 'replay', time: '2026-12-07T08:00:00.000Z' });
    const missing = auditRecord({ id: 'replay-missing', org: 'replay', time: '2026-11-30T08:00:00.000Z' });
    assert.ok(
      !(await days(schema)).includes('20261130'),
      'the day of the second record has no partition yet',
    );
    await store.insertAudits([ahead, missing]);
    await store.insertAudits([ahead, missing]);
    // Stored live, then offered again by the journal after a crash.
    const live = auditRecord({ id: 'replay-live', org: 'replay', time: '2026-11-29T08:00:00.000Z' });
    await store.insertAudit(live);
    await store.insertAudits([live, missing]);
    assert.deepEqual(
      (await store.queryAudit({ org: 'replay' })).map((r) => r.id),
      ['replay-ahead', 'replay-missing', 'replay-live'],
    );
    await assert.rejects(store.insertAudit(live), /duplicate key value violates unique constraint/);
  });

  it('retention drops whole days, deletes row by row only in the boundary day, and keeps chains whole', async () => {
    const { store, schema } = await open();
    const t = (day: number, hour: number) =>
      `2026-11-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
    const records: AuditRecord[] = [];
    for (const day of [1, 2, 3, 4])
      for (const hour of [1, 13])
        records.push(auditRecord({ id: `r-${day}-${hour}`, org: 'ret', time: t(day, hour) }));
    // A conversation whose chain crosses the cutoff: its first turn on a day dropped whole.
    const turns = ['A'.repeat(5000), `${'A'.repeat(5000)}B`, `${'A'.repeat(5000)}BC`];
    const chain = turns.map((text, i) => {
      const d = i ? delta(Buffer.from(turns[i - 1] as string), Buffer.from(text)) : null;
      return auditRecord({
        id: `chain-${i}`,
        org: 'ret',
        time: [t(2, 20), t(3, 14), t(4, 2)][i],
        requestContent: d ? text.slice(d.head, text.length - d.tail) : text,
        requestBase: d ? { id: `chain-${i - 1}`, ...d } : null,
      });
    });
    const unowned = auditRecord({
      id: 'anon',
      org: null,
      user: null,
      keyId: null,
      status: 401,
      time: t(2, 5),
    });
    await store.insertAudits([...records, ...chain, unowned]);
    const cuts = new Map([
      ['ret', cutAt(t(3, 12))],
      [null, cutAt(t(3, 12))],
    ]);
    const result = await store.sweepAll(cuts);
    assert.deepEqual(result, { recordsDeleted: 2 + 4 + 1, contentCleared: 0, daysDropped: 2 });
    assert.ok(!(await days(schema)).some((d) => d === '20261101' || d === '20261102'));
    assert.ok((await days(schema)).includes('20261103'), 'the boundary day stays');
    const left = await store.queryAudit({ org: 'ret' });
    assert.deepEqual(
      left.map((r) => r.id),
      ['r-4-13', 'chain-2', 'r-4-1', 'chain-1', 'r-3-13'],
    );
    assert.deepEqual(
      left.filter((r) => r.id.startsWith('chain')).map((r) => r.requestContent),
      [turns[2], turns[1]],
      'records whose base was dropped read back whole',
    );
    assert.deepEqual(await store.sweepAll(cuts), { recordsDeleted: 0, contentCleared: 0, daysDropped: 0 });
  });

  it('a day keeps its partition while it holds a record to keep; the rest of it goes row by row', async () => {
    const { store, schema } = await open();
    await store.insertAudits([
      auditRecord({ id: 'k-a', org: 'a', time: '2026-11-01T01:00:00.000Z' }),
      auditRecord({ id: 'k-b', org: 'unnamed', time: '2026-11-01T02:00:00.000Z' }),
      auditRecord({ id: 'k-c', org: 'a', time: '2026-11-02T01:00:00.000Z' }),
      auditRecord({
        id: 'k-flag',
        org: 'a',
        time: '2026-11-02T02:00:00.000Z',
        guard: { decision: 'block', rules: { 'github-pat': 1 } },
      }),
      auditRecord({ id: 'k-d', org: 'a', time: '2026-11-03T01:00:00.000Z' }),
    ]);
    const result = await store.sweepAll(
      new Map([['a', cutAt('2026-11-05T00:00:00.000Z', '2026-01-01T00:00:00.000Z')]]),
    );
    // The flagged record keeps its metadata past retention, not its content.
    assert.deepEqual(result, { recordsDeleted: 3, contentCleared: 1, daysDropped: 1 });
    const have = await days(schema);
    assert.ok(have.includes('20261101'), 'a day holding records of an org the sweep does not name stays');
    assert.ok(have.includes('20261102'), 'a day holding a flagged record within its retention stays');
    assert.ok(!have.includes('20261103'));
    assert.deepEqual(
      (await store.queryAudit({})).map((r) => [r.id, r.requestContent]),
      [
        ['k-flag', null],
        ['k-b', 'hello'],
      ],
    );
  });

  it('two gateways sweeping at once drop each day once, and both sweeps succeed', async () => {
    const { store, schema } = await open();
    const other = new PostgresStore({ connectionString: url, schema, clock: () => TODAY, daysAhead: 3 });
    stores.push(other);
    await store.insertAudits(
      Array.from({ length: 30 }, (_v, i) =>
        auditRecord({
          id: `two-${i}`,
          org: 'two',
          time: `2026-11-${String(1 + (i % 3)).padStart(2, '0')}T05:00:00.000Z`,
        }),
      ),
    );
    const cuts = new Map([['two', cutAt('2026-11-04T00:00:00.000Z')]]);
    const [a, b] = await Promise.all([store.sweepAll(cuts), other.sweepAll(cuts)]);
    assert.equal((a.daysDropped ?? 0) + (b.daysDropped ?? 0), 3);
    assert.equal(a.recordsDeleted + b.recordsDeleted, 30);
    assert.deepEqual(await days(schema), ['20261206', '20261207', '20261208', '20261209']);
  });

  it('migration 14 moves every record of an unpartitioned table into day partitions', async () => {
    const { store, schema } = await open(13);
    const kind = (): Promise<string> =>
      admin(async (c) => {
        const { rows } = await c.query(`SELECT relkind FROM pg_class WHERE oid = $1::regclass`, [
          `${quoteIdent(schema)}.audit_records`,
        ]);
        return String(rows[0].relkind);
      });
    assert.equal(await kind(), 'r');
    const base = 'x'.repeat(6000);
    const next = `${base}y`;
    const d = delta(Buffer.from(base), Buffer.from(next));
    const records = [
      ...Array.from({ length: 300 }, (_v, i) =>
        auditRecord({
          id: `m-${i}`,
          org: `o${i % 3}`,
          time: new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString(),
        }),
      ),
      auditRecord({ id: 'm-base', org: 'o0', time: '2026-11-02T00:00:00.000Z', requestContent: base }),
      auditRecord({
        id: 'm-delta',
        org: 'o0',
        time: '2026-11-03T00:00:00.000Z',
        requestContent: next.slice(d.head, next.length - d.tail),
        requestBase: { id: 'm-base', ...d },
      }),
    ];
    for (const r of records) await store.insertAudit(r);
    const before = await store.queryAudit({ limit: 1000 });
    await store.migrate();
    assert.equal(await kind(), 'p');
    const after = await store.queryAudit({ limit: 1000 });
    assert.equal(after.length, records.length);
    assert.deepEqual(after, before);
    assert.equal(after.find((r) => r.id === 'm-delta')?.requestContent, next);
    // 300 hours from Nov 1: Nov 1 to 13, and today and the days ahead.
    assert.equal((await days(schema)).filter((x) => x < '20261206').length, 13);
    assert.ok((await days(schema)).includes('20261209'));
  });
});
