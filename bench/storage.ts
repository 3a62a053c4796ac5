/**
 * What the store costs: bytes per stored session and per audit record, and query and sweep times
 * over millions of records, on SQLite and PostgreSQL.
 *
 * 1. A 200-turn Claude Code session (system prompt, tools, a 5–20 KB tool result per turn, the
 *    cache marker on the newest message, about 2.4 MB at the end) stored by delta as the record
 *    stage stores it (control/content.ts ContentChain): the bytes stored against the last request's
 *    size and against the sum of the turns, the delta's cost per turn, and reading the last turn back.
 * 2. N audit records (metadata only; default 10 million over 30 days, 10 orgs of 100 users, 3
 *    models) made in one INSERT … SELECT (a recursive CTE on SQLite, generate_series on
 *    PostgreSQL), indexes built after: storage per record, then the median time of the store calls
 *    behind `sluice logs` and `sluice usage` (and the admin API's records and usage), and the
 *    retention sweep of one day (every org), with the longest a concurrent audit insert waited.
 *
 * PostgreSQL needs the test server (SLUICE_TEST_POSTGRES_URL names another); each run uses a
 * schema of its own, dropped at the end. SQLite runs in a temporary folder.
 *
 * 3. PostgreSQL's retention sweep of one day at N records: the day's partition dropped whole
 *    (migration 14) against the rows deleted in batches from one table (the store before it), and
 *    the audit inserts' waits while each sweep runs against as long a time with no sweep.
 *
 * Run: node --import tsx bench/storage.ts [--records N] [--quick] [--only sqlite|postgres|postgres-sweep] [--queries]
 *   --quick    1 million records instead of 10 million
 *   --queries  also time the queries of part 2 on each layout of part 3
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ContentChain } from '../src/control/content.js';
import { PostgresStore, quoteIdent } from '../src/store/postgres.js';
import { guardRollupBackfill } from '../src/store/guard-rollups.js';
import { rollupBackfill } from '../src/store/rollups.js';
import { migrations } from '../src/store/schema.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { AuditRecord, Store } from '../src/store/types.js';
import { auditRecord } from './audit-record.js';
import { sourceText } from './guard/source-text.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const at = argv.indexOf('--records');
const N = at >= 0 ? Number(argv[at + 1]) : quick ? 1_000_000 : 10_000_000;
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const PG_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DAYS = 30;
const START = Date.UTC(2026, 9, 1);
const say = (line = ''): void => console.log(line);
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const mb = (x: number): string => `${(x / 1e6).toFixed(2)} MB`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timed(fn: () => Promise<unknown>, runs = 7): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const record = (over: Partial<AuditRecord>): AuditRecord =>
  auditRecord({ time: new Date(START).toISOString(), ...over });

// --- 1. A 200-turn session stored by delta ---------------------------------------------------------

const TOOLS = JSON.stringify(
  ['Read', 'Edit', 'Write', 'Bash', 'Grep', 'Glob', 'TodoWrite', 'WebFetch', 'Task'].map((name) => ({
    name,
    description: `${name}: ${sourceText(2500, name.length)}`,
    input_schema: { type: 'object', properties: { file_path: { type: 'string' } } },
  })),
);
const SYSTEM = JSON.stringify([{ type: 'text', text: sourceText(12_000, 7) }]);

function sessionTurns(turns: number): string[] {
  const messages: string[] = [];
  const out: string[] = [];
  for (let t = 1; t <= turns; t++) {
    const file = sourceText(5_000 + ((t * 7919) % 15_000), 1000 + t);
    const id = `toolu_${t}`;
    const call = JSON.stringify({
      role: 'assistant',
      content: [{ type: 'tool_use', id, name: 'Read', input: { file_path: `src/m${t}.ts` } }],
    });
    const result = (marked: boolean) =>
      JSON.stringify({
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: id,
            content: file,
            ...(marked ? { cache_control: { type: 'ephemeral' } } : {}),
          },
        ],
      });
    messages.push(call);
    out.push(
      `{"model":"claude-sonnet-4-5","max_tokens":32000,"stream":true,"system":${SYSTEM},"messages":[${[...messages, result(true)].join(',')}],"tools":${TOOLS}}`,
    );
    messages.push(result(false));
  }
  return out;
}

async function sessionBench(store: Store, bytesOnDisk: () => Promise<number>): Promise<void> {
  const turns = sessionTurns(200);
  const chain = new ContentChain(64 * 1024 * 1024);
  const last = Buffer.byteLength(turns.at(-1) as string);
  const sum = turns.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const before = await bytesOnDisk();
  let stored = 0;
  const cost: number[] = [];
  let lastId = '';
  for (const [i, text] of turns.entries()) {
    const id = `req_session_${String(i).padStart(3, '0')}`;
    // As the record stage gets it from the inspect stage: the redacted request's bytes.
    const bytes = Buffer.from(text, 'utf8');
    const t0 = performance.now();
    const d = chain.store('key\u0000sess', id, bytes, i);
    cost.push(performance.now() - t0);
    stored += Buffer.byteLength(d.content);
    await store.insertAudit(
      record({
        id,
        org: 'session',
        time: new Date(START + i * 1000).toISOString(),
        requestContent: d.content,
        requestBase: d.base,
      }),
    );
    lastId = id;
  }
  const read = await timed(async () => {
    const [r] = await store.queryAudit({ org: 'session', limit: 1 });
    if (r?.id !== lastId || r.requestContent !== turns.at(-1))
      throw new Error('the last turn did not read back whole');
  }, 5);
  const grew = (await bytesOnDisk()) - before;
  say(
    `  200-turn session: last request ${mb(last)}, all turns ${mb(sum)}; stored content ${mb(stored)} ` +
      `(${(stored / last).toFixed(2)}x the last request, ${((100 * stored) / sum).toFixed(2)}% of the turns), store grew ${mb(grew)}`,
  );
  say(
    `  delta per turn (record stage): turn 2 ${ms(cost[1] as number)}, turn 100 ${ms(cost[99] as number)}, ` +
      `turn 200 ${ms(cost[199] as number)}; reading turn 200 back whole: ${ms(read)} (median of 5)`,
  );
}

// --- 2. Millions of records --------------------------------------------------------------------------

/** The indexes migrations put on audit_records: dropped for the bulk insert, built after it. */
function auditIndexes(dialect: 'sqlite' | 'postgres'): string[] {
  const made = new Map<string, string>();
  for (const sql of migrations.flatMap((m) => m[dialect])) {
    const create = /^CREATE INDEX (\w+) ON audit_records/.exec(sql);
    if (create) made.set(create[1] as string, sql);
    const drop = /^DROP INDEX (\w+)/.exec(sql);
    if (drop) made.delete(drop[1] as string);
  }
  return [...made.values()];
}
const indexName = (sql: string) => (/^CREATE INDEX (\w+)/.exec(sql) as RegExpExecArray)[1] as string;

const COLUMNS = `id, time, org, user_email, key_id, session_id, method, path, model, stream, status, error_type,
  upstream, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd,
  latency_ms, overhead_ms, guard, request_content, response_content, flagged, upstreams_tried`;

/** One row per n: 10 orgs, 100 users each, sessions of 40 requests, 1 in 1000 blocked (flagged). */
const sqliteGenerate = `WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < @count - 1)
  INSERT INTO audit_records (${COLUMNS})
  SELECT printf('req_%032x', n), strftime('%Y-%m-%dT%H:%M:%fZ', @start + n * @step, 'unixepoch'),
    'org' || (n % 10), 'u' || ((n / 10) % 100) || '@org' || (n % 10) || '.test', 'key_' || ((n / 10) % 100),
    printf('%08x-0000-4000-8000-%012x', n / 400, n / 400), 'POST', '/v1/messages',
    CASE n % 3 WHEN 0 THEN 'claude-sonnet-4-5' WHEN 1 THEN 'claude-opus-4-1' ELSE 'claude-haiku-4-5' END,
    1, CASE WHEN n % 200 = 0 THEN 429 ELSE 200 END, CASE WHEN n % 200 = 0 THEN 'rate_limit_error' END,
    'anthropic', 1000 + n % 5000, 100 + n % 900, n % 7 * 100, 30000 + n % 20000, (n % 1000) / 50000.0,
    1000 + n % 4000, 0.3 + (n % 10) / 10.0,
    CASE WHEN n % 1000 = 0 THEN '{"decision":"block","rules":{"aws-access-key":1}}' ELSE '{"decision":"none","rules":{}}' END,
    NULL, NULL, CASE WHEN n % 1000 = 0 THEN 1 ELSE 0 END, '["anthropic"]'
  FROM s`;

const pgGenerate = `INSERT INTO audit_records (${COLUMNS})
  SELECT 'req_' || lpad(to_hex(n), 32, '0'),
    to_char(to_timestamp($2::float8 + n * $3::float8) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'org' || (n % 10), 'u' || ((n / 10) % 100) || '@org' || (n % 10) || '.test', 'key_' || ((n / 10) % 100),
    lpad(to_hex(n / 400), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n / 400), 12, '0'), 'POST', '/v1/messages',
    CASE n % 3 WHEN 0 THEN 'claude-sonnet-4-5' WHEN 1 THEN 'claude-opus-4-1' ELSE 'claude-haiku-4-5' END,
    true, CASE WHEN n % 200 = 0 THEN 429 ELSE 200 END, CASE WHEN n % 200 = 0 THEN 'rate_limit_error' END,
    'anthropic', 1000 + n % 5000, 100 + n % 900, n % 7 * 100, 30000 + n % 20000, (n % 1000) / 50000.0,
    1000 + n % 4000, 0.3 + (n % 10) / 10.0,
    CASE WHEN n % 1000 = 0 THEN '{"decision":"block","rules":{"aws-access-key":1}}' ELSE '{"decision":"none","rules":{}}' END,
    NULL, NULL, n % 1000 = 0, '["anthropic"]'
  FROM generate_series(0, $1::bigint - 1) AS n`;

const iso = (t: number) => new Date(t).toISOString();
const NOW = START + DAYS * 86_400_000;

async function queries(store: Store): Promise<void> {
  const month = iso(NOW - 30 * 86_400_000);
  // As `--since 30d` gives it mid-day: a partial day read from the records, 29 whole ones from rollups.
  const midMonth = iso(NOW - 30 * 86_400_000 + 13.5 * 3_600_000);
  const day = iso(NOW - 86_400_000);
  const [page] = (await store.queryAudit({ org: 'org3', limit: 100 })).slice(-1);
  const before = { time: page?.time ?? iso(NOW), id: page?.id ?? '' };
  const rows: [string, () => Promise<unknown>][] = [
    ['logs --org (newest 100)', () => store.queryAudit({ org: 'org3', limit: 100 })],
    ['logs --org --since 1d', () => store.queryAudit({ org: 'org3', since: day, limit: 100 })],
    ['logs (every org, newest 100)', () => store.queryAudit({ limit: 100 })],
    [
      'records as a member (org + user)',
      () => store.queryAudit({ org: 'org3', user: 'u7@org3.test', limit: 100 }),
    ],
    ['usage --org --by user (30d)', () => store.usage({ org: 'org3', since: month, by: 'user' })],
    ['usage --org --by model (30d)', () => store.usage({ org: 'org3', since: month, by: 'model' })],
    ['usage --org --since 1d', () => store.usage({ org: 'org3', since: day, by: 'user' })],
    [
      'usage as a member (org + user, 30d)',
      () => store.usage({ org: 'org3', user: 'u7@org3.test', since: month, by: 'model' }),
    ],
    ['usage --by org (every org, 30d)', () => store.usage({ since: month, by: 'org' })],
    // Made as the generators name them; on PostgreSQL with day partitions this looks in every day.
    ['logs show (one record by id)', () => store.getAudit(`req_${(N >> 1).toString(16).padStart(32, '0')}`)],
    [
      'usage --org --by user (30d from mid-day)',
      () => store.usage({ org: 'org3', since: midMonth, by: 'user' }),
    ],
    ['usage --by org (every org, from mid-day)', () => store.usage({ since: midMonth, by: 'org' })],
    // By hour is the store's alone (no CLI flag or API parameter asks for it yet).
    ['usage by hour (every org, from mid-day)', () => store.usage({ since: midMonth, by: 'hour' })],
    [
      'usage by hour (one org, from mid-day)',
      () => store.usage({ org: 'org3', since: midMonth, by: 'hour' }),
    ],
    // Whole days by org from either table: the daily one (what usage --by org read before) or the hourly one.
    [
      'rollups: every org, 30 days, daily table',
      () => store.rollups({ fromDay: month.slice(0, 10), by: ['org'] }),
    ],
    [
      'rollups: every org, 30 days, hourly table',
      () => store.rollups({ fromHour: month.slice(0, 13), by: ['org'] }),
    ],
    ['logs --org, next page (keyset)', () => store.queryAudit({ org: 'org3', before, limit: 100 })],
    [
      'logs --org, model (1 in 3)',
      () => store.queryAudit({ org: 'org3', model: 'claude-opus-4-1', limit: 100 }),
    ],
    [
      'logs --org, status 429 (1 in 20 of org0)',
      () => store.queryAudit({ org: 'org0', status: 429, limit: 100 }),
    ],
    [
      'logs --org, block (1 in 100 of org0)',
      () => store.queryAudit({ org: 'org0', decision: 'block', limit: 100 }),
    ],
    [
      'rollups: org by day and decision (30d)',
      () => store.rollups({ org: 'org3', fromDay: month.slice(0, 10), by: ['day', 'decision'] }),
    ],
  ];
  for (const [name, fn] of rows) say(`  ${name.padEnd(42)} median ${ms(await timed(fn))}`);
  say(
    `  load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

/** Sweeps the oldest day of every org while audit inserts go on; the longest one waited. */
async function sweepDay(store: Store): Promise<void> {
  const cut = iso(START + 86_400_000);
  let stop = false;
  const waits: number[] = [];
  const writer = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await store.insertAudit(record({ org: 'live', time: iso(NOW) }));
      waits.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const t0 = performance.now();
  let deleted = 0;
  for (let o = 0; o < 10; o++)
    deleted += (await store.sweep(`org${o}`, { before: cut, contentBefore: cut, flaggedBefore: iso(START) }))
      .recordsDeleted;
  const took = performance.now() - t0;
  stop = true;
  await writer;
  say(
    `  retention sweep of one day (10 orgs): ${deleted} records in ${ms(took)}; ` +
      `${waits.length} audit inserts meanwhile, longest wait ${ms(Math.max(...waits))}, median ${ms(median(waits))}`,
  );
}

async function sqliteBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-storage-'));
  try {
    const file = join(dir, 'sluice.db');
    const store = new SqliteStore(file);
    await store.migrate();
    const size = async () =>
      (await stat(file)).size +
      (await stat(`${file}-wal`).then(
        (s) => s.size,
        () => 0,
      ));
    say(`SQLite (${file})`);
    await sessionBench(store, size);
    await store.close();

    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`DELETE FROM audit_records`);
    db.exec('VACUUM');
    const indexes = auditIndexes('sqlite');
    for (const sql of indexes) db.exec(`DROP INDEX ${indexName(sql)}`);
    const empty = (await stat(file)).size;
    let t0 = performance.now();
    db.prepare(sqliteGenerate).run({ count: N, start: START / 1000, step: (DAYS * 86_400) / N });
    const insertMs = performance.now() - t0;
    t0 = performance.now();
    for (const sql of indexes) db.exec(sql);
    const indexMs = performance.now() - t0;
    t0 = performance.now();
    db.exec('DELETE FROM audit_rollups');
    db.exec('DELETE FROM audit_rollup_hours');
    db.exec('DELETE FROM audit_guard_rollups');
    for (const sql of [...rollupBackfill('sqlite'), ...guardRollupBackfill('sqlite')]) db.exec(sql);
    const rollupMs = performance.now() - t0;
    const rollups = (db.prepare('SELECT COUNT(*) AS n FROM audit_rollups').get() as { n: number }).n;
    db.exec('ANALYZE');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = (await stat(file)).size - empty;
    say(
      `  ${N.toLocaleString('en')} records made in ${(insertMs / 1000).toFixed(0)} s, indexed in ${(indexMs / 1000).toFixed(0)} s, ` +
        `summed into ${rollups.toLocaleString('en')} rollup rows in ${(rollupMs / 1000).toFixed(0)} s (migration 13's backfill); ` +
        `file ${mb(bytes)}: ${(bytes / N).toFixed(0)} bytes per record, indexes and rollups included`,
    );
    const again = new SqliteStore(file);
    await again.migrate();
    await queries(again);
    await sweepDay(again);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A size function summed over audit_records and its day partitions (the parent alone holds nothing). */
const partitionsSum = (fn: string) =>
  `(SELECT COALESCE(SUM(${fn}(relid)), 0) FROM pg_partition_tree('audit_records'))`;

async function postgresBench(): Promise<void> {
  const schema = `sluice_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  try {
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    await store.migrate();
    await admin.query(`SET search_path = ${quoteIdent(schema)}`);
    const size = async () =>
      Number((await admin.query(`SELECT ${partitionsSum('pg_total_relation_size')} AS b`)).rows[0].b);
    say(`PostgreSQL (${new URL(PG_URL).host}, schema ${schema})`);
    await sessionBench(store, size);
    await admin.query('TRUNCATE audit_records');
    await benchDays(admin);
    const indexes = auditIndexes('postgres');
    for (const sql of indexes) await admin.query(`DROP INDEX ${indexName(sql)}`);
    let t0 = performance.now();
    await admin.query(pgGenerate, [N, START / 1000, (DAYS * 86_400) / N]);
    const insertMs = performance.now() - t0;
    t0 = performance.now();
    for (const sql of indexes) await admin.query(sql);
    const indexMs = performance.now() - t0;
    t0 = performance.now();
    await admin.query('TRUNCATE audit_rollups, audit_rollup_hours, audit_guard_rollups');
    for (const sql of [...rollupBackfill('postgres'), ...guardRollupBackfill('postgres')])
      await admin.query(sql);
    const rollupMs = performance.now() - t0;
    const rollups = Number((await admin.query('SELECT COUNT(*) AS n FROM audit_rollups')).rows[0].n);
    await admin.query('VACUUM ANALYZE audit_records');
    await admin.query('VACUUM ANALYZE audit_rollups');
    const bytes = await size();
    const table = Number((await admin.query(`SELECT ${partitionsSum('pg_relation_size')} AS b`)).rows[0].b);
    say(
      `  ${N.toLocaleString('en')} records made in ${(insertMs / 1000).toFixed(0)} s, indexed in ${(indexMs / 1000).toFixed(0)} s, ` +
        `summed into ${rollups.toLocaleString('en')} rollup rows in ${(rollupMs / 1000).toFixed(0)} s; ${mb(bytes)} with indexes: ${(bytes / N).toFixed(0)} bytes per record (${(table / N).toFixed(0)} of them the table's)`,
    );
    await queries(store);
    await sweepDay(store);
    await store.close();
  } finally {
    await admin.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    await admin.end();
  }
}

// --- 3. PostgreSQL's retention sweep: a day dropped whole against row by row ------------------------

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** One audit insert after another (2 ms apart, as a busy gateway's record stage) until `done` settles. */
async function insertWaits(store: Store, done: Promise<unknown>): Promise<number[]> {
  let stop = false;
  void done.finally(() => (stop = true));
  const waits: number[] = [];
  while (!stop) {
    const t0 = performance.now();
    await store.insertAudit(record({ org: 'live', time: iso(NOW) }));
    waits.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  return waits;
}

const waitLine = (w: number[]) =>
  `${w.length} inserts, p50 ${ms(quantile(w, 0.5))}, p99 ${ms(quantile(w, 0.99))}, max ${ms(Math.max(...w))}`;

/** The day partitions (migration 14) of the generated records' days, which the bulk insert does not make. */
async function benchDays(admin: pg.Client): Promise<void> {
  await admin.query(
    `SELECT sluice_audit_day(d::date) FROM generate_series($1::date, $2::date, '1 day') AS d`,
    [iso(START).slice(0, 10), iso(NOW).slice(0, 10)],
  );
}

/** N records in a schema of their own, partitioned by day (migration 14) or not (migrations to 13). */
async function pgLayout(admin: pg.Client, schema: string, partitioned: boolean): Promise<PostgresStore> {
  await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  const store = new PostgresStore({ connectionString: PG_URL, schema, clock: () => new Date(NOW) });
  await store.migrate(partitioned ? Infinity : 13);
  await admin.query(`SET search_path = ${quoteIdent(schema)}`);
  if (partitioned) await benchDays(admin);
  const indexes = auditIndexes('postgres');
  for (const sql of indexes) await admin.query(`DROP INDEX ${indexName(sql)}`);
  const t0 = performance.now();
  await admin.query(pgGenerate, [N, START / 1000, (DAYS * 86_400) / N]);
  for (const sql of indexes) await admin.query(sql);
  await admin.query('VACUUM ANALYZE audit_records');
  say(
    `  ${partitioned ? 'partitioned by day' : 'one table (before migration 14)'}: ${N.toLocaleString('en')} records made and indexed in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  return store;
}

/**
 * The oldest day of every org (flagged records' retention ended too, so the day holds nothing to
 * keep) swept from each layout while audit inserts go on; then as many seconds of inserts with no
 * sweep, the baseline their waits compare with.
 */
async function postgresSweepBench(): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const cut = iso(START + 86_400_000);
  const cuts = new Map<string | null, { before: string; contentBefore: string; flaggedBefore: string }>(
    [...Array.from({ length: 10 }, (_v, o) => `org${o}`), null].map((o) => [
      o,
      { before: cut, contentBefore: cut, flaggedBefore: cut },
    ]),
  );
  say(
    `PostgreSQL retention sweep of one day (${new URL(PG_URL).host}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows: string[][] = [];
  for (const partitioned of [true, false]) {
    const schema = `sluice_bench_sweep_${randomBytes(4).toString('hex')}`;
    try {
      const store = await pgLayout(admin, schema, partitioned);
      if (argv.includes('--queries')) await queries(store);
      const sweep = partitioned
        ? store.sweepAll(cuts)
        : (async () => {
            let recordsDeleted = 0;
            for (const [org, c] of cuts) recordsDeleted += (await store.sweep(org, c)).recordsDeleted;
            return { recordsDeleted };
          })();
      const t0 = performance.now();
      const [during, result] = await Promise.all([insertWaits(store, sweep), sweep]);
      const took = performance.now() - t0;
      const quiet = await insertWaits(store, new Promise((r) => setTimeout(r, Math.max(10_000, took))));
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      rows.push([
        partitioned ? 'day dropped whole' : 'row by row (before)',
        `${result.recordsDeleted}`,
        ms(took),
        waitLine(during),
        waitLine(quiet),
        load,
      ]);
      say(`  ${rows.at(-1)?.join(' | ')}`);
      if (!partitioned) {
        // Upgrading this table: migration 14 copies every record into day partitions.
        const m0 = performance.now();
        await store.migrate();
        const kept = Number((await admin.query('SELECT count(*) AS n FROM audit_records')).rows[0].n);
        say(
          `  migration 14 on the one table: ${kept.toLocaleString('en')} records moved into day partitions in ${((performance.now() - m0) / 1000).toFixed(0)} s`,
        );
      }
      await store.close();
    } finally {
      await admin.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    }
  }
  const [drop, byRow] = rows.map((r) => Number.parseFloat(r[2] as string));
  say(`  sweep time, dropped whole : row by row = 1 : ${((byRow as number) / (drop as number)).toFixed(0)}`);
  await admin.end();
}

say(
  `store cost: ${N.toLocaleString('en')} audit records over ${DAYS} days; Node ${process.version}; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
if (!only || only === 'sqlite') await sqliteBench();
if (!only || only === 'postgres') await postgresBench();
if (!only || only === 'postgres' || only === 'postgres-sweep') await postgresSweepBench();
