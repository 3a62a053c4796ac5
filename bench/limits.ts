/**
 * What budgets and rate limits cost a request: the gateway's own time before the request leaves
 * for the upstream (`x-sluice-overhead-ms`: key check, body read, limit checks, guard), with an org
 * that has budgets (per user and per org, day and month) and rate limits (requests and tokens per
 * minute, never reached) against the same org with none, on SQLite and on PostgreSQL, side by side
 * in one run. The difference is the cost of the limit stage: with reservations
 * (src/control/limits.ts) a gateway takes a slice of each limit once and admits locally while it
 * lasts, so far from a limit the store is not on the request's path. (Within about eight requests'
 * cost of a limit, each check and charge takes one store statement; not measured here.) Charging
 * usage after the answer is off the request's path either way.
 *
 * Run: node --import tsx bench/limits.ts [--quick]   (PostgreSQL at 127.0.0.1:5432, database test;
 * set SLUICE_TEST_POSTGRES_URL to use another, or the PostgreSQL rows are skipped with a note)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { parseConfig } from '../src/control/config.js';
import { createKey } from '../src/control/keys.js';
import { startSluice } from '../src/compose/sluice.js';
import { startStandin } from '../src/gateway/testing/standin.js';
import { quoteIdent } from '../src/store/postgres.js';

const quick = process.argv.includes('--quick');
const REQUESTS = quick ? 300 : 3000;
const pgUrl = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sluice_bench_${randomBytes(4).toString('hex')}`;
const UP = 'sk-ant-bench-limits';
const LIMITED =
  '{ upstream: anthropic, budgets: { perUser: { daily: 1000000, monthly: 1000000 }, org: { daily: 1000000, monthly: 1000000 } }, rateLimits: { perUser: { requestsPerMinute: 100000000, tokensPerMinute: 100000000000 } } }';
const OPEN = '{ upstream: anthropic }';

async function pgReady(): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const quantile = (xs: number[], q: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;

const standin = await startStandin(UP);
setInterval(() => (standin.seen.length = 0), 200).unref();
const hasPg = await pgReady();
const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-limits-'));
const stores = hasPg
  ? [
      ['sqlite', 'sqlite:./bench.db'],
      ['postgres', `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`],
    ]
  : [['sqlite', 'sqlite:./bench.db']];
if (!hasPg) console.log(`PostgreSQL not reachable at ${new URL(pgUrl).host}: PostgreSQL rows skipped`);

const body = JSON.stringify({
  model: 'claude-test',
  max_tokens: 5,
  messages: [{ role: 'user', content: 'hi' }],
});
console.log(
  `${REQUESTS} requests per row (after ${REQUESTS / 10} to warm up), gateway overhead in ms (x-sluice-overhead-ms)`,
);
console.log('store     in flight  org          p50     p99    added p99 by limits');
for (const [name, storage] of stores as [string, string][]) {
  const config = parseConfig(
    `server: { host: 127.0.0.1, port: 0 }
storage: "${storage}"
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "${UP}" }
prices:
  claude-test: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 }
orgs:
  open: ${OPEN}
  limited: ${LIMITED}
`,
    'bench.yaml',
    {},
  );
  const { store, gateway, close } = await startSluice(config, {
    configDir: dir,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    actor: 'bench',
    pid: process.pid,
    isAlive: () => false,
  });
  const keys = {
    open: (await createKey(store, { org: 'open', user: 'b@open.test', role: 'member' }, new Date())).key,
    limited: (await createKey(store, { org: 'limited', user: 'b@limited.test', role: 'member' }, new Date()))
      .key,
  };
  for (const inFlight of [1, 16]) {
    const p99: Record<string, number> = {};
    const lines: string[] = [];
    // Interleaved rounds so both orgs see the same machine.
    const samples: Record<string, number[]> = { open: [], limited: [] };
    for (let round = 0; round < 4; round++)
      for (const org of ['open', 'limited'] as const) {
        const pool = new Pool(gateway.url, { connections: inFlight });
        let sent = 0;
        const n = round === 0 ? REQUESTS / 10 : REQUESTS / 3;
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (sent < n) {
              sent++;
              const res = await pool.request({
                method: 'POST',
                path: '/v1/messages',
                headers: { 'x-api-key': keys[org] },
                body,
              });
              await res.body.text();
              if (res.statusCode !== 200) throw new Error(`${org}: ${res.statusCode}`);
              if (round > 0) samples[org]!.push(Number(res.headers['x-sluice-overhead-ms']));
            }
          }),
        );
        await pool.close();
      }
    for (const org of ['open', 'limited'] as const) {
      const xs = samples[org]!;
      p99[org] = quantile(xs, 0.99);
      const added = p99.limited! - p99.open!;
      lines.push(
        `${name.padEnd(9)} ${String(inFlight).padStart(9)}  ${org.padEnd(10)} ${quantile(xs, 0.5).toFixed(3).padStart(7)} ${p99[org]!.toFixed(3).padStart(7)}` +
          (org === 'limited'
            ? `    ${added.toFixed(3)} (target <= 0.5: ${added <= 0.5 ? 'met' : 'NOT met'})`
            : ''),
      );
    }
    console.log(lines.join('\n'));
  }
  await close();
}
await standin.close();
await rm(dir, { recursive: true, force: true });
if (hasPg) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await c.end();
}
