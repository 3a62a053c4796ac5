/**
 * PostgreSQL backends killed under load (pg_terminate_backend from a second connection) while the
 * real `sluice serve` records into it: every answer is a success or a catalog error, the gateway
 * serves on, and every request has exactly one record once the journal has drained.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ask,
  catalogShaped,
  createKeys,
  drive,
  pgSchema,
  records,
  serve,
  skipLoudly,
  until,
  writeConfig,
  type Seen,
} from './harness.js';
import { startFaultyUpstream } from './upstream.js';

const REQUESTS = 600;
const CONCURRENCY = 16;
/** A round of kills after every this many answers. */
const KILL_EVERY = 40;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('faults: PostgreSQL', () => {
  it(`backends killed every ${KILL_EVERY} answers of ${REQUESTS}: no record lost, none twice`, async (t) => {
    const pg = await pgSchema();
    if (!pg)
      return skipLoudly(t, 'PostgreSQL not reachable at 127.0.0.1:5432 (db test)', 'SLUICE_REQUIRE_POSTGRES');
    cleanups.push(() => pg.drop());
    const dir = await mkdtemp(join(tmpdir(), 'sluice-faults-pg-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const up = await startFaultyUpstream();
    cleanups.push(() => up.close());
    await writeConfig(dir, {
      storage: pg.url,
      upstreams: { faulty: { url: up.url } },
      orgs: { acme: { upstream: 'faulty' } },
    });
    const [key] = (await createKeys(pg.url, dir, [['acme', 'dev@acme.test']])) as [string];
    const gw = await serve(dir);
    cleanups.push(() => gw.stop());

    const saw: Seen[] = [];
    let killed = 0;
    let killing = Promise.resolve();
    const killBackends = async () => {
      const r = await pg.client.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [pg.app],
      );
      killed += r.rows.filter((x) => x.ok).length;
    };
    await drive(REQUESTS, CONCURRENCY, async (i) => {
      saw.push(await ask(gw.url, key, { stream: i % 2 === 0, text: `request ${i}` }));
      if (saw.length % KILL_EVERY === 0) killing = killing.then(killBackends);
    });
    await killing;
    assert.ok(killed >= REQUESTS / KILL_EVERY / 2, `backends killed: ${killed}`);

    const odd = saw.filter((s) => !catalogShaped(s));
    assert.deepEqual(odd, [], 'every answer is a success or a catalog error');
    const byCode: Record<string, number> = {};
    for (const s of saw) byCode[s.code ?? String(s.status)] = (byCode[s.code ?? String(s.status)] ?? 0) + 1;
    process.stderr.write(
      `faults: PostgreSQL: ${killed} backends killed; answers ${JSON.stringify(byCode)}\n`,
    );
    // Still serving.
    const next = await ask(gw.url, key);
    saw.push(next);
    assert.equal(next.status, 200);
    const ids = saw.map((s) => s.id as string);
    assert.equal(new Set(ids).size, ids.length);
    const all = await until(`records of all ${ids.length} requests in PostgreSQL`, async () => {
      const got = await records(pg.url, dir);
      return ids.every((id) => got.has(id)) && got;
    });
    assert.equal(all.size, ids.length, 'no record twice, none without a request');
    assert.deepEqual(
      saw.filter((s) => all.get(s.id as string)?.status !== s.status).map((s) => s.id),
      [],
      'each record has the status its client saw',
    );
    assert.deepEqual(
      up.requestIds.filter((id) => !all.has(id)),
      [],
    );
    assert.doesNotMatch(gw.stderr(), /audit record lost|unhandled rejection|uncaught exception/);
  });
});
