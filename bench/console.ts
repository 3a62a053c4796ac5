/**
 * The console's data requests over a large audit log: each view (src/web/views.ts) and the store
 * calls behind the admin API routes the console's other pages read (records, usage, keys, admin
 * log), timed in process against a SQLite and a PostgreSQL store each holding N audit records of
 * one org spread over the last 30 days (one in 200 flagged by the guard, one in 50 a 429), written
 * through the store's own batch insert (rollups included), plus 10,000 egress records. The median
 * and p95 of 15 calls each.
 *
 * PostgreSQL needs the test server (SLUICE_TEST_POSTGRES_URL names another); the run uses a schema
 * of its own, dropped at the end. SQLite runs in a temporary folder.
 *
 * Run: node --import tsx bench/console.ts [records] [--quick] [--only sqlite|postgres]
 *   (default 1,000,000 records; --quick: 100,000)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/control/config.js';
import { openStore } from '../src/store/index.js';
import { PostgresStore, quoteIdent } from '../src/store/postgres.js';
import type { AuditRecord, EgressRecord, Store } from '../src/store/types.js';
import { recordDetail } from '../src/web/record.js';
import { usersView } from '../src/web/users.js';
import { budgetsView, egressView, flowsView, guardView, overview, requestsPage } from '../src/web/views.js';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const PG_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? (quick ? 100_000 : 1_000_000));
const NOW = new Date();
const SPAN = 30 * 86_400_000;
const USERS = Array.from({ length: 50 }, (_, i) => `user${i}@acme.test`);

function record(i: number): AuditRecord {
  return {
    id: `r${i.toString(36).padStart(8, '0')}`,
    time: new Date(NOW.getTime() - Math.floor((i / N) * SPAN)).toISOString(),
    org: 'acme',
    user: USERS[i % USERS.length] as string,
    keyId: null,
    sessionId: `s${i % 5000}`,
    method: 'POST',
    path: '/v1/messages',
    model: i % 10 ? 'claude-sonnet' : 'claude-opus',
    stream: true,
    status: i % 50 ? 200 : 429,
    errorType: null,
    upstream: 'anthropic',
    upstreamsTried: ['anthropic'],
    inputTokens: 1000,
    outputTokens: 200,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 5000,
    costUsd: 0.01,
    latencyMs: 900,
    overheadMs: 1,
    guard:
      i % 200 ? { decision: 'none', rules: {} } : { decision: 'redact', rules: { 'aws-access-key-id': 1 } },
    requestContent: null,
    responseContent: null,
  };
}

async function time(name: string, run: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] as number).toFixed(1);
  console.log(`| ${name.padEnd(44)} | ${at(0.5).padStart(8)} | ${at(0.95).padStart(8)} |`);
}

async function seed(store: Store, name: string): Promise<void> {
  const loadStart = performance.now();
  // 2,000 a batch: PostgreSQL takes at most 65,535 parameters a statement.
  for (let i = 0; i < N; i += 2_000)
    await store.insertAudits(Array.from({ length: Math.min(2_000, N - i) }, (_, j) => record(i + j)));
  for (let i = 0; i < 10_000; i++) {
    const e: EgressRecord = {
      id: `e${i}`,
      time: new Date(NOW.getTime() - i * 60_000).toISOString(),
      org: 'acme',
      user: USERS[i % USERS.length] as string,
      host: i % 20 ? 'api.anthropic.com' : `host${i % 300}.example.test`,
      port: 443,
      method: 'CONNECT',
      decision: i % 20 ? 'allow' : 'deny',
      rule: i % 20 ? 'preset:anthropic' : 'default-deny',
      bytesUp: 1,
      bytesDown: 1,
      durationMs: 1,
      error: null,
    };
    await store.insertEgress(e);
  }
  console.log(
    `\n${name}: ${N.toLocaleString('en')} audit records loaded in ${((performance.now() - loadStart) / 1000).toFixed(0)} s ` +
      `(the store's batch insert, rollups kept with each batch); ${load()}\n`,
  );
}

async function views(store: Store): Promise<void> {
  const config = parseConfig(
    'upstreams:\n  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: x }\n' +
      'orgs:\n  acme: { upstream: anthropic, budgets: { org: { daily: 100, monthly: 1000 }, perUser: { monthly: 50 } } }\n',
    'bench.yaml',
    {},
  );
  const since7d = new Date(NOW.getTime() - 7 * 86_400_000).toISOString();
  const since30d = new Date(NOW.getTime() - 30 * 86_400_000).toISOString();
  const first = await requestsPage(store, 'acme', { limit: 50 });
  console.log(`| ${'view'.padEnd(44)} | median ms | p95 ms |\n| ${'-'.repeat(44)} | -------: | -----: |`);
  await time('overview, day (24 hourly sums)', () => overview(store, 'acme', 'day', NOW));
  await time('overview, week', () => overview(store, 'acme', 'week', NOW));
  await time('overview, month', () => overview(store, 'acme', 'month', NOW));
  await time('usage: budgets', () => budgetsView(store, config, 'acme', NOW));
  await time('usage: by user, 30 days (admin API usage)', () =>
    store.usage({ org: 'acme', by: 'user', since: since30d }),
  );
  await time('usage: by model, 30 days (admin API usage)', () =>
    store.usage({ org: 'acme', by: 'model', since: since30d }),
  );
  await time('guard, 7 days', () => guardView(store, 'acme', since7d));
  await time('guard, 30 days', () => guardView(store, 'acme', since30d));
  await time('requests, first page of 50', () => requestsPage(store, 'acme', { limit: 50 }));
  await time('requests, next page (cursor)', () =>
    requestsPage(store, 'acme', { limit: 50, cursor: first.next as string }),
  );
  await time('requests, one user', () => requestsPage(store, 'acme', { limit: 50, user: 'user7@acme.test' }));
  await time('requests, model (1 in 10)', () =>
    requestsPage(store, 'acme', { limit: 50, model: 'claude-opus' }),
  );
  await time('requests, status 429 (1 in 50)', () => requestsPage(store, 'acme', { limit: 50, status: 429 }));
  await time('requests, decision redact (1 in 200)', () =>
    requestsPage(store, 'acme', { limit: 50, decision: 'redact' }),
  );
  await time('requests, decision error (none at all)', () =>
    requestsPage(store, 'acme', { limit: 50, decision: 'error' }),
  );
  await time('requests, user + model + status + 7 days', () =>
    requestsPage(store, 'acme', {
      limit: 50,
      user: 'user7@acme.test',
      model: 'claude-opus',
      status: 200,
      since: since7d,
    }),
  );
  await time('data flows', async () => flowsView(config, 'acme', NOW));
  await time('egress, 7 days', () => egressView(store, config, 'acme', since7d, NOW));
  await time('keys (admin API keys)', () => store.listKeys({ org: 'acme' }));
  await time('admin log (admin API admin-log)', () => store.listAdminLog());
  await time('users (50 users, last seen each)', () => usersView(store, config, 'acme', NOW));
  await time('one record with its request', () =>
    recordDetail(store, 'acme', first.records[0]?.id as string),
  );
  console.log(`\n${load()}`);
}

console.log(
  `console data requests: ${N.toLocaleString('en')} audit records; Node ${process.version}; ${load()}`,
);
if (only !== 'postgres') {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-console-'));
  try {
    const store = await openStore('sqlite:./bench.db', dir);
    await seed(store, 'SQLite');
    await views(store);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (only !== 'sqlite') {
  const schema = `sluice_bench_console_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  try {
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    await store.migrate();
    await seed(store, `PostgreSQL (${new URL(PG_URL).host}, schema ${schema})`);
    await admin.query(`SET search_path = ${quoteIdent(schema)}`);
    await admin.query('VACUUM ANALYZE');
    await views(store);
    await store.close();
  } finally {
    await admin.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    await admin.end();
  }
}
