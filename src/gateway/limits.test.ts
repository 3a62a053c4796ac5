import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKey } from '../control/keys.js';
import { startHarness, type Harness, type HarnessOptions } from './testing/harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A clock the test moves; starts at 2026-11-22T10:15:30Z. */
function movableClock() {
  let t = Date.parse('2026-11-22T10:15:30.000Z');
  return { now: () => new Date(t), set: (iso: string) => (t = Date.parse(iso)) };
}

// The stand-in reports 25 input, 6 output, 7 cache-write and 100 cache-read tokens per request.
// At 60,000 USD per million input tokens (and nothing for the rest) each request costs $1.50.
const PRICES = 'prices:\n  claude-test: { input: 60000, output: 0, cacheWrite: 0, cacheRead: 0 }';

async function setup(org: string, clock: ReturnType<typeof movableClock>, opts: HarnessOptions = {}) {
  const h = await startHarness(org, { topLevel: PRICES, clock: clock.now, ...opts });
  cleanups.push(() => h.close());
  return h;
}

async function send(h: Harness, key = h.key, model = 'claude-test', path = '/v1/messages') {
  const res = await fetch(`${h.gateway.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': key },
    body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { type: string; error?: { type: string; message: string } };
  return { status: res.status, body, headers: res.headers };
}

describe('budgets', () => {
  it('a user budget: just under passes, at the limit and over it are refused until the period resets', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 3, monthly: 100 } } }', clock);
    assert.equal((await send(h)).status, 200); // spent 0
    assert.equal((await send(h)).status, 200); // spent 1.50: just under
    const at = await send(h); // spent 3.00: at the limit
    assert.equal(at.status, 429);
    assert.equal(at.headers.get('x-should-retry'), 'false');
    assert.equal(at.headers.get('retry-after'), String(13 * 3600 + 44 * 60 + 30), 'seconds to UTC midnight');
    assert.deepEqual(at.body, {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message:
          'Sluice: the daily budget of dev@acme.test is used up ($3.00 of $3.00). It resets at 2026-11-23T00:00:00.000Z. Until then, ask your administrator to raise orgs.acme.budgets.perUser.daily.',
      },
    });
    assert.equal(h.standin.seen.length, 2, 'the refused request never reached the upstream');
    const records = await h.store.queryAudit({ org: 'acme' });
    assert.deepEqual(records.map((r) => [r.status, r.costUsd]).sort(), [
      [200, 1.5],
      [200, 1.5],
      [429, null],
    ]);
    clock.set('2026-11-23T00:00:00.000Z');
    assert.equal((await send(h)).status, 200, 'a new day, a new budget');
  });

  it('over the limit: an org budget shared by two users', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { org: { monthly: 2.9 } } }', clock);
    const { key: other } = await createKey(
      h.store,
      { org: 'acme', user: 'ops@acme.test', role: 'member' },
      new Date(),
    );
    assert.equal((await send(h)).status, 200); // org spent 0
    assert.equal((await send(h, other)).status, 200); // 1.50
    const over = await send(h); // 3.00 > 2.90
    assert.equal(over.status, 429);
    assert.match(
      over.body.error?.message ?? '',
      /the monthly budget of org "acme" is used up \(\$3\.00 of \$2\.90\)\. It resets at 2026-12-01T00:00:00\.000Z/,
    );
  });

  it('a model with no price is refused where budgets apply, or charged at the org rate', async () => {
    const clock = movableClock();
    const refused = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 3 } } }', clock);
    const r = await send(refused, refused.key, 'mystery-model');
    assert.equal(r.status, 400);
    assert.equal(
      r.body.error?.message,
      'Sluice: model "mystery-model" has no price, and org "acme" has budgets, so it cannot be charged. Use a priced model, or ask your administrator to add "mystery-model" under prices: or set orgs.acme.unpricedModel.',
    );
    const charged = await setup(
      '{ upstream: anthropic, budgets: { perUser: { daily: 3 } }, unpricedModel: { input: 40000, output: 0, cacheWrite: 0, cacheRead: 0 } }',
      clock,
    );
    assert.equal((await send(charged, charged.key, 'mystery-model')).status, 200);
    assert.equal((await charged.store.queryAudit({}))[0]?.costUsd, 1);
  });

  it('concurrent requests overshoot by at most what was in flight', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 3 } } }', clock);
    const first = await Promise.all(Array.from({ length: 5 }, () => send(h)));
    const passed = first.filter((r) => r.status === 200).length;
    assert.ok(passed >= 2, 'at least the requests under the limit pass');
    assert.equal((await send(h)).status, 429, 'once they are charged, the next is refused');
    const spent = (await h.store.queryAudit({})).reduce((n, r) => n + (r.costUsd ?? 0), 0);
    assert.ok(spent <= 3 + 1.5 * 5, `spent ${spent}`);
  });
});

describe('limits fail closed', () => {
  it('a store that does not answer refuses the request with 503 instead of waiving the budget', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 3 } } }', clock);
    assert.equal((await send(h)).status, 200); // the key is now cached
    await h.store.close();
    const r = await send(h);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, {
      type: 'error',
      error: {
        type: 'api_error',
        message:
          'Sluice could not check the limits of org "acme" (its store did not answer), so the request was not sent. Try again; if it persists, tell the gateway\'s administrator.',
      },
    });
    assert.equal(h.standin.seen.length, 1);
  });
});

describe('rate limits', () => {
  it('requests per minute: the next one over is refused with a retry-after to the next minute; count_tokens is not counted', async () => {
    const clock = movableClock();
    const h = await setup(
      '{ upstream: anthropic, rateLimits: { perUser: { requestsPerMinute: 2 } } }',
      clock,
    );
    assert.equal((await send(h)).status, 200);
    assert.equal((await send(h)).status, 200);
    const over = await send(h);
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('retry-after'), '30');
    assert.equal(over.headers.get('x-should-retry'), null, 'a client may retry once the minute is over');
    assert.equal(
      over.body.error?.message,
      'Sluice: dev@acme.test is over the limit of 2 requests per minute for org "acme". It resets at 2026-11-22T10:16:00.000Z; retry then.',
    );
    assert.equal((await send(h, h.key, 'claude-test', '/v1/messages/count_tokens')).status, 200);
    clock.set('2026-11-22T10:16:00.000Z');
    assert.equal((await send(h)).status, 200);
  });

  it('tokens per minute: input, cache writes and output count; refused once the minute has reached the limit', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, rateLimits: { perUser: { tokensPerMinute: 76 } } }', clock);
    assert.equal((await send(h)).status, 200); // 0 tokens so far
    assert.equal((await send(h)).status, 200); // 38: under
    const at = await send(h); // 76: at the limit
    assert.equal(at.status, 429);
    assert.match(at.body.error?.message ?? '', /over the limit of 76 tokens per minute/);
  });
});
