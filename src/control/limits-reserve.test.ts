/**
 * How the limit stage stays off the store and still holds every limit across gateways: slices of
 * each limit reserved in the shared counter, spent locally, handed back when idle or at shutdown.
 * Two Limits objects on one real SQLite store stand for two gateways; a wrapper counts writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { IDLE_MS, Limits, type Admission } from './limits.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const T0 = Date.parse('2026-11-22T10:15:00.000Z');
const DAY = { user: 'dev@acme.test', period: 'day:2026-11-22' };
// $1 per request: 10 input tokens at 100,000 USD per million.
const USAGE = { inputTokens: 10, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };

async function setup(orgYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-reserve-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = parseConfig(
    `storage: sqlite:./s.db\nprices: { m: { input: 100000, output: 0, cacheWrite: 0, cacheRead: 0 } }\nupstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: ${orgYaml} }`,
    'sluice.yaml',
    {},
  );
  const store = await openStore(config.storage, dir);
  let open = true;
  cleanups.push(() => (open ? store.close() : Promise.resolve()));
  let calls = 0;
  let failBumps = 0;
  // The real store, with the calls of the limit stage counted (and bumps made to fail on demand).
  const counted: Store = Object.create(store, {
    ...Object.fromEntries(
      (['bumpCounter', 'addCounters', 'readCounters'] as const).map((name) => [
        name,
        {
          value: (...args: unknown[]) => {
            calls++;
            if (name === 'bumpCounter' && failBumps > 0) {
              failBumps--;
              return Promise.reject(new Error('store write refused'));
            }
            return (store[name] as (...a: unknown[]) => Promise<unknown>)(...args);
          },
        },
      ]),
    ),
  }) as Store;
  const org = config.orgs.acme!;
  let now = T0;
  const errors: string[] = [];
  const gateway = () => {
    const limits = new Limits(
      counted,
      config,
      (err) => errors.push(err.message),
      () => now,
    );
    cleanups.push(() => limits.close());
    return {
      limits,
      check: () =>
        limits.check('acme', org, 'dev@acme.test', 'm', new Date(now), { inputBytes: 0, maxTokens: 0 }),
      charge: () => limits.account('acme', org, 'dev@acme.test', 'm', USAGE, new Date(now)),
      /** Admission with a body whose worst case is exactly what USAGE costs ($1: 20 bytes, 10 tokens). */
      admit: () =>
        limits.check('acme', org, 'dev@acme.test', 'm', new Date(now), { inputBytes: 20, maxTokens: 0 }),
      settle: (a: Admission) => limits.account('acme', org, 'dev@acme.test', 'm', USAGE, new Date(now), a),
    };
  };
  const counter = async () => (await store.readCounters('acme', [DAY]))[0];
  return {
    gateway,
    counter,
    calls: () => calls,
    errors,
    failNextBumps: (n: number) => (failBumps = n),
    advance: (ms: number) => (now += ms),
    closeStore: async () => {
      open = false;
      await store.close();
    },
  };
}

describe('limit reservations', () => {
  it('far from a limit, one reservation serves many requests without the store', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 1000 } } }');
    const a = s.gateway();
    await a.check();
    assert.equal(s.calls(), 1, 'one reservation');
    assert.equal(
      (await s.counter())?.costUsd,
      125,
      'an eighth of the budget, reserved in the shared counter',
    );
    for (let i = 0; i < 50; i++) {
      await a.check();
      await a.charge();
    }
    assert.equal(s.calls(), 1, 'fifty requests later, the store has not been asked again');
    await a.limits.close();
    assert.deepEqual(
      [(await s.counter())?.costUsd, (await s.counter())?.requests],
      [50, 50],
      'at shutdown the unused part goes back: the counter holds what was spent',
    );
  });

  it('two gateways, one at a time: exactly the budget passes, and the refusal names the spend', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 10 } } }');
    const gateways = [s.gateway(), s.gateway()];
    let passed = 0;
    let refusal = '';
    for (let i = 0; i < 30; i++) {
      const g = gateways[i % 2]!;
      try {
        await g.check();
        passed++;
        await g.charge();
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    assert.equal(passed, 10);
    assert.match(
      refusal,
      /the daily budget of dev@acme\.test is used up \(\$10\.00 of \$10\.00, spent or reserved by requests in flight\)/,
    );
    await Promise.all(gateways.map((g) => g.limits.close()));
    assert.equal((await s.counter())?.costUsd, 10);
  });

  it('two gateways at once: the overshoot is at most the requests in flight', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 10 } } }');
    const gateways = [s.gateway(), s.gateway()];
    // Rounds of 6 requests in flight (3 per gateway): all checked, then all charged.
    let spent = 0;
    for (let round = 0; round < 6; round++) {
      const checks = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => gateways[i % 2]!.check().then(() => gateways[i % 2]!)),
      );
      const admitted = checks.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
      if (spent >= 10) assert.equal(admitted.length, 0, 'nothing passes once the budget is spent');
      for (const g of admitted) await g.charge();
      spent += admitted.length;
    }
    assert.ok(spent >= 10 && spent <= 10 + 6, `spent ${spent}: the budget, plus at most one round in flight`);
    await Promise.all(gateways.map((g) => g.limits.close()));
    assert.equal((await s.counter())?.costUsd, spent, 'the counter holds exactly what was spent');
  });

  it('budgets with worst-case admission: two gateways at once never spend past the limit', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 10 } } }');
    const gateways = [s.gateway(), s.gateway()];
    let spent = 0;
    for (let round = 0; round < 8; round++) {
      const checks = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          gateways[i % 2]!.admit().then((a) => ({ g: gateways[i % 2]!, a })),
        ),
      );
      const admitted = checks.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
      for (const { g, a } of admitted) await g.settle(a);
      spent += admitted.length;
      assert.ok(spent <= 10, `spent ${spent} after round ${round}`);
    }
    // What a gateway held when the other refused comes back when idle: the whole budget is usable.
    s.advance(IDLE_MS);
    await Promise.all(gateways.map((g) => g.limits.handBackIdle(T0 + IDLE_MS * 2)));
    for (const g of gateways)
      for (;;) {
        const a = await g.admit().catch(() => null);
        if (!a) break;
        await g.settle(a);
        spent++;
      }
    assert.equal(spent, 10, 'the whole budget, and not a cent more');
    await Promise.all(gateways.map((g) => g.limits.close()));
    assert.equal((await s.counter())?.costUsd, 10, 'the counter holds exactly what was spent');
  });

  it('a gateway that crashes with requests in flight: what it reserved counts as spent, never more passes', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 10 } } }');
    const crashed = s.gateway();
    await Promise.all([crashed.admit(), crashed.admit(), crashed.admit()]); // in flight when it died
    const other = s.gateway();
    let spent = 0;
    for (;;) {
      const a = await other.admit().catch(() => null);
      if (!a) break;
      await other.settle(a);
      spent++;
    }
    assert.ok(spent <= 7, `the survivor spent ${spent} of the 7 the crashed gateway did not hold`);
    assert.ok(((await s.counter())?.costUsd ?? 0) <= 10, 'spend and reservations stay within the limit');
  });

  it('a request that never reaches the upstream returns its reservation', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 2 } } }');
    const g = s.gateway();
    const first = await g.admit();
    const second = await g.admit();
    await assert.rejects(
      g.admit(),
      /is used up \(\$2\.00 of \$2\.00, spent or reserved by requests in flight\)/,
    );
    g.limits.release(first);
    g.limits.release(first); // once only
    await g.settle(second);
    const third = await g.admit();
    await g.settle(third);
    await g.limits.close();
    assert.equal((await s.counter())?.costUsd, 2, 'two requests charged; the released one nothing');
  });

  it('requests per minute: two gateways admit exactly the limit, with far fewer store calls than requests', async () => {
    const s = await setup('{ upstream: a, rateLimits: { perUser: { requestsPerMinute: 40 } } }');
    const [a, b] = [s.gateway(), s.gateway()];
    let admitted = 0;
    let refusal = '';
    for (let i = 0; i < 100; i++) {
      try {
        await (i % 3 ? a : b).check();
        admitted++;
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    assert.equal(admitted, 40);
    assert.match(refusal, /over the limit of 40 requests per minute/);
    assert.ok(s.calls() < 40, `${s.calls()} store calls for 100 checks`);
    s.advance(60_000);
    await a.check(); // a new minute, a new counter
  });

  it('concurrent checks on one gateway never spend the same request twice', async () => {
    const s = await setup('{ upstream: a, rateLimits: { perUser: { requestsPerMinute: 64 } } }');
    const a = s.gateway();
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => a.check()));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 64);
  });

  it('a reservation unused for IDLE_MS is handed back, so another gateway can use it', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 80 } } }');
    const [a, b] = [s.gateway(), s.gateway()];
    await a.check(); // A reserves an eighth, $10, and its request never comes
    const spendUntilRefused = async () => {
      let n = 0;
      for (;;) {
        try {
          await b.check();
        } catch (err) {
          assert.match((err as Error).message, /used up/);
          return n;
        }
        await b.charge();
        n++;
      }
    };
    // B is admitted while the counter (A's $10 included) is under $80; its last request may cross it.
    const first = await spendUntilRefused();
    assert.ok(first === 70 || first === 71, `B spent ${first}`);
    await a.limits.handBackIdle(T0 + IDLE_MS - 1);
    assert.equal((await s.counter())?.costUsd, first + 10, 'not idle long enough: still held');
    await a.limits.handBackIdle(T0 + IDLE_MS);
    assert.equal((await s.counter())?.costUsd, first, "A's unused $10 is back");
    s.advance(1_000); // B remembers its refusal for a second
    const second = await spendUntilRefused();
    assert.ok(first + second >= 80 && first + second <= 81, `B spent ${first} + ${second}`);
  });

  it('with the store gone, a reservation already held still admits up to itself; then checks fail', async () => {
    const s = await setup('{ upstream: a, rateLimits: { perUser: { requestsPerMinute: 80 } } }');
    const a = s.gateway();
    await a.check(); // reserves 10, takes 1
    await s.closeStore();
    for (let i = 0; i < 9; i++) await a.check();
    await assert.rejects(a.check(), /not open|closed/i);
  });

  it('a cost beyond the reservation that the store refuses is kept and written with the next batch', async () => {
    const s = await setup('{ upstream: a, budgets: { perUser: { daily: 4 } } }');
    const a = s.gateway();
    await a.check(); // reserves $0.50
    s.failNextBumps(1);
    await a.charge(); // $1: $0.50 from the reservation, $0.50 beyond it, refused by the store
    assert.deepEqual(s.errors, ['store write refused']);
    assert.equal((await s.counter())?.costUsd, 0.5);
    await a.limits.flush();
    assert.equal((await s.counter())?.costUsd, 1, 'written with the batch: nothing lost');
  });
});
