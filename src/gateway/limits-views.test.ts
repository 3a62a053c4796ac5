/**
 * How the limit stage stays off the store: views of shared counters kept current by this
 * gateway's charges, re-read when old or near a limit, and rate-limit leases. Two Limits objects
 * on one real SQLite store stand for two gateways; a counting wrapper shows when the store is read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig, type SluiceConfig } from '../control/config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Limits, MAX_STALE_MS, REFRESH_MS } from './limits.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const T0 = Date.parse('2026-11-22T10:15:00.000Z');
// $1 per request: 10 input tokens at 100,000 USD per million.
const USAGE = { inputTokens: 10, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };

async function setup(orgYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-views-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config: SluiceConfig = parseConfig(
    `storage: sqlite:./s.db\nprices: { m: { input: 100000, output: 0, cacheWrite: 0, cacheRead: 0 } }\nupstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: ${orgYaml} }`,
    'sluice.yaml',
    {},
  );
  const store = await openStore(config.storage, dir);
  let open = true;
  cleanups.push(() => (open ? store.close() : Promise.resolve()));
  let reads = 0;
  let writes = 0;
  let failWrites = 0;
  // The real store, with its reads and writes counted (and writes made to fail on demand).
  const counted: Store = Object.create(store, {
    checkCounters: {
      value: (...args: Parameters<Store['checkCounters']>) => {
        reads++;
        return store.checkCounters(...args);
      },
    },
    addCounters: {
      value: (...args: Parameters<Store['addCounters']>) => {
        writes++;
        if (failWrites > 0) {
          failWrites--;
          return Promise.reject(new Error('store write refused'));
        }
        return store.addCounters(...args);
      },
    },
  }) as Store;
  const org = config.orgs.acme!;
  const errors: string[] = [];
  const gateway = () => {
    const limits = new Limits(counted, config, (err) => errors.push(err.message));
    return {
      check: (at: number) => limits.check('acme', org, 'dev@acme.test', 'm', new Date(at)),
      charge: (at: number) => limits.account('acme', org, 'dev@acme.test', 'm', USAGE, new Date(at)),
      flush: () => limits.flush(),
      close: () => limits.close(),
    };
  };
  return {
    gateway,
    store,
    errors,
    reads: () => reads,
    writes: () => writes,
    failNextWrites: (n: number) => (failWrites = n),
    closeStore: async () => {
      open = false;
      await store.close();
    },
  };
}

/** Lets a background refresh (started without waiting) finish. */
const settle = () => new Promise((r) => setImmediate(r));

describe('limit checks off the store', () => {
  it('far from a limit, a check reads the store once, then answers from memory until the view is old', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 100 } } }');
    const a = s.gateway();
    await a.check(T0);
    assert.equal(s.reads(), 1);
    for (let i = 0; i < 10; i++) {
      await a.check(T0 + i);
      await a.charge(T0 + i);
    }
    assert.equal(s.reads(), 1, 'ten checks and charges later, still one read');
    await a.check(T0 + REFRESH_MS);
    assert.equal(s.reads(), 2, 'an old view is re-read, in the background');
  });

  it("another gateway's spend: seen after at most REFRESH_MS far from the limit, and at once near it", async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 10 } } }');
    const [a, b] = [s.gateway(), s.gateway()];
    await Promise.all([a.check(T0), b.check(T0)]);
    for (let i = 0; i < 4; i++) await a.charge(T0); // $4 spent, through A
    await b.check(T0 + 1); // B's view is fresh and says $0: no read
    const before = s.reads();
    await b.check(T0 + REFRESH_MS); // old: refreshed in the background
    await settle();
    assert.equal(s.reads(), before + 1);
    await a.check(T0 + REFRESH_MS); // A's view: 4 of 10, its own charges
    await a.charge(T0 + REFRESH_MS); // $5: half the limit
    const n = s.reads();
    await b.check(T0 + REFRESH_MS + 1); // B: its view says 4, under half: no read
    assert.equal(s.reads(), n);
    for (let i = 0; i < 5; i++) await a.charge(T0 + REFRESH_MS + 1); // $10: the limit, through A
    await b.check(T0 + 2 * REFRESH_MS); // B refreshes its $4 view in the background: now $10
    await settle();
    await assert.rejects(
      b.check(T0 + 2 * REFRESH_MS + 1),
      /the daily budget of dev@acme\.test is used up \(\$10\.00 of \$10\.00\)/,
    );
    // Near the limit every check reads: A (whose own view is exact) refuses too.
    await assert.rejects(a.check(T0 + 2 * REFRESH_MS + 2), /used up/);
  });

  it('with the store gone, checks fail closed once the views are MAX_STALE_MS old', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 100 } } }');
    const a = s.gateway();
    await a.check(T0);
    await s.closeStore();
    await a.check(T0 + 1); // a fresh view far from the limit decides alone
    await assert.rejects(a.check(T0 + MAX_STALE_MS + 1), /not open|closed/i);
  });

  it('requests per minute are leased in slices: two gateways admit exactly the limit, with fewer reads than requests', async () => {
    const s = await setup('{ upstream: a, rateLimits: { perUser: { requestsPerMinute: 40 } } }');
    const [a, b] = [s.gateway(), s.gateway()];
    let admitted = 0;
    const refused: string[] = [];
    for (let i = 0; i < 100; i++) {
      try {
        await (i % 3 ? a : b).check(T0 + i);
        admitted++;
      } catch (err) {
        refused.push((err as Error).message);
      }
    }
    assert.equal(admitted, 40);
    assert.match(refused[0] ?? '', /over the limit of 40 requests per minute/);
    assert.ok(s.reads() < 40, `${s.reads()} reads for 100 checks`);
    // The next minute starts afresh.
    await a.check(T0 + 60_000);
  });

  it('concurrent checks that each take a lease keep every slice: exactly the limit passes', async () => {
    const s = await setup('{ upstream: a, rateLimits: { perUser: { requestsPerMinute: 64 } } }');
    const a = s.gateway();
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => a.check(T0)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 64);
  });

  it('charges far from a limit are written in batches; near it, before account returns; a refused write is retried', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 100 } } }');
    const a = s.gateway();
    await a.check(T0);
    for (let i = 0; i < 30; i++) await a.charge(T0);
    assert.equal(s.writes(), 0, 'nothing written yet: the batch waits FLUSH_MS');
    await a.flush();
    assert.equal(s.writes(), 4, 'one write per counter (user and org, day and month) for 30 charges');
    const day = { user: 'dev@acme.test', period: 'day:2026-11-22' };
    const read = async () => (await s.store.checkCounters('acme', [day])).counters[0];
    assert.deepEqual([(await read())?.costUsd, (await read())?.requests], [30, 30]);

    s.failNextWrites(4);
    await a.charge(T0);
    await a.flush();
    assert.deepEqual(s.errors, Array(4).fill('store write refused'));
    assert.equal((await read())?.costUsd, 30, 'not written yet');
    await a.close(); // tries again, and this time the store takes it
    assert.equal((await read())?.costUsd, 31);

    const b = s.gateway();
    for (let i = 0; i < 20; i++) await b.charge(T0); // $51: past half the limit
    await b.check(T0);
    const before = s.writes();
    await b.charge(T0);
    assert.ok(s.writes() > before, 'near the limit, written before account returns');
  });
});
