import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { postgresUp, TEST_POSTGRES_URL } from '../store/testing/postgres.js';
import { openStore } from '../store/index.js';
import type { AuditRecord, Store } from '../store/types.js';
import { Alerts } from './alerts.js';
import { parseConfig } from './config.js';

const pgUrl = TEST_POSTGRES_URL;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const pgUp = await postgresUp('alerts across gateways on PostgreSQL');

/** Two stores on one database: what two gateways sharing it hold. */
const backends: { name: string; skip: string | false; open(): Promise<[Store, Store]> }[] = [
  {
    name: 'SQLite',
    skip: false,
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-alerts-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const a = await openStore('sqlite:./s.db', dir);
      const b = await openStore('sqlite:./s.db', dir);
      cleanups.push(
        () => a.close(),
        () => b.close(),
      );
      return [a, b];
    },
  },
  {
    name: 'PostgreSQL',
    skip: pgUp ? false : 'PostgreSQL not reachable',
    async open() {
      const schema = `sluice_alerts_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      cleanups.push(async () => {
        await client.query(`DROP SCHEMA "${schema}" CASCADE`);
        await client.end();
      });
      const url = `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const a = await openStore(url, process.cwd());
      const b = await openStore(url, process.cwd());
      cleanups.push(
        () => a.close(),
        () => b.close(),
      );
      return [a, b];
    },
  },
];

const config = parseConfig(
  `upstreams: { main: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs: { acme: { upstream: main, budgets: { perUser: { daily: 1 }, org: { monthly: 10 } } } }
alerts:
  - { url: "http://hooks.test/a", on: [budget:50, budget:80, budget:100] }
`,
  'sluice.yaml',
  {},
);

function record(n: number, costUsd: number): AuditRecord {
  return {
    id: `req_${n.toString().padStart(32, '0')}`,
    time: new Date().toISOString(),
    org: 'acme',
    user: 'dev@acme.test',
    keyId: 'key_1',
    sessionId: null,
    method: 'POST',
    path: '/v1/messages',
    model: 'claude-test',
    stream: false,
    status: 200,
    errorType: null,
    upstream: 'main',
    upstreamsTried: ['main'],
    inputTokens: 1,
    outputTokens: 1,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd,
    latencyMs: 1,
    overheadMs: 1,
    guard: { decision: 'none', rules: {} },
    requestContent: null,
    responseContent: null,
  };
}

for (const backend of backends)
  describe(`budget alerts across gateways (${backend.name})`, { skip: backend.skip }, () => {
    it('two gateways seeing the same spend at once: each threshold is sent once', async () => {
      const [storeA, storeB] = await backend.open();
      const sent: { gateway: string; body: Record<string, unknown> }[] = [];
      const gateway = (name: string, store: Store) =>
        new Alerts({
          store,
          logger: { warn: () => undefined, error: (f, m) => assert.fail(`${m} ${JSON.stringify(f)}`) },
          post: async (_url, _headers, body) => {
            sent.push({ gateway: name, body: JSON.parse(body) as Record<string, unknown> });
            return 200;
          },
        });
      const a = gateway('a', storeA);
      const b = gateway('b', storeB);
      cleanups.push(
        () => a.close(),
        () => b.close(),
      );

      const first = [record(1, 0.3), record(2, 0.3)];
      await storeA.insertAudits(first);
      a.recorded(first, config);
      b.recorded(first, config);
      await Promise.all([a.settled(), b.settled()]);
      assert.deepEqual(
        sent.map((s) => s.body.event),
        ['budget:50'],
      );

      const second = [record(3, 0.5)];
      await storeB.insertAudits(second);
      b.recorded(second, config);
      a.recorded(second, config);
      await Promise.all([a.settled(), b.settled()]);
      // $1.10 of $1.00 a day: 80 and 100 crossed at once. One gateway alone sends only 100; two
      // racing may split the claims (one sends 80, the other 100). Never twice, never 100 missing.
      // The org's monthly $10 is at 11 %, under every threshold.
      const events = sent.map(
        (s) => `${String(s.body.event)} ${String(s.body.scope)} ${String(s.body.span)}`,
      );
      assert.equal(new Set(events).size, events.length, `sent twice: ${events.join(', ')}`);
      assert.equal(events[0], 'budget:50 perUser daily');
      assert.ok(events.includes('budget:100 perUser daily'), events.join(', '));
      assert.ok(
        events.every((e) => /^budget:(50|80|100) perUser daily$/.test(e)),
        events.join(', '),
      );

      // A gateway alone: the highest threshold only.
      const [storeC] = await backend.open();
      sent.length = 0;
      const c = gateway('c', storeC);
      cleanups.push(() => c.close());
      const third = [record(4, 1.2)];
      await storeC.insertAudits(third);
      c.recorded(third, config);
      await c.settled();
      assert.deepEqual(
        sent.map((s) => s.body.event),
        ['budget:100'],
      );
    });
  });
