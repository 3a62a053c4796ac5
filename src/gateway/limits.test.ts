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
// At 250,000 USD per million output tokens (and nothing for the rest) each request costs $1.50;
// with max_tokens 10 its worst case, which admission reserves, is $2.50.
const PRICES = 'prices:\n  claude-test: { input: 0, output: 250000, cacheWrite: 0, cacheRead: 0 }';

async function setup(org: string, clock: ReturnType<typeof movableClock>, opts: HarnessOptions = {}) {
  const h = await startHarness(org, { topLevel: PRICES, clock: clock.now, ...opts });
  cleanups.push(() => h.close());
  return h;
}

async function send(h: Harness, key = h.key, model = 'claude-test', path = '/v1/messages') {
  const res = await fetch(`${h.gateway.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': key },
    body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { type: string; error?: { type: string; message: string } };
  return { status: res.status, body, headers: res.headers };
}

describe('budgets', () => {
  it('a user budget: a request is admitted only while its worst case fits, until the period resets', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 4, monthly: 100 } } }', clock);
    assert.equal((await send(h)).status, 200); // spent 0; $2.50 reserved, $1.50 charged
    assert.equal((await send(h)).status, 200); // $2.50 left: the worst case just fits
    const over = await send(h); // $1.00 left, the request could cost $2.50
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('x-should-retry'), 'false');
    assert.equal(
      over.headers.get('retry-after'),
      String(13 * 3600 + 44 * 60 + 30),
      'seconds to UTC midnight',
    );
    assert.deepEqual(over.body, {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message:
          'Sluice: the daily budget of dev@acme.test has $1.00 left of $4.00 (spent or reserved by requests in flight), and this request could cost up to $2.50. Wait for requests in flight to finish, or lower max_tokens. It resets at 2026-11-23T00:00:00.000Z. Until then, ask your administrator to raise orgs.acme.budgets.perUser.daily.',
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

  it('an org budget shared by two users', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { org: { monthly: 4 } } }', clock);
    const { key: other } = await createKey(
      h.store,
      { org: 'acme', user: 'ops@acme.test', role: 'member' },
      new Date(),
    );
    assert.equal((await send(h)).status, 200); // org spent 0
    assert.equal((await send(h, other)).status, 200); // 1.50 spent, 2.50 left
    const over = await send(h); // 3.00 spent, 1.00 left
    assert.equal(over.status, 429);
    assert.match(
      over.body.error?.message ?? '',
      /the monthly budget of org "acme" has \$1\.00 left of \$4\.00 .* could cost up to \$2\.50\. .*It resets at 2026-12-01T00:00:00\.000Z/,
    );
  });

  it('a model with no known price is charged at the dearest of its family, noted on its record', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 3 } } }', clock);
    assert.equal((await send(h, h.key, 'claude-opus-9-1')).status, 200, 'never refused');
    const [record] = await h.store.queryAudit({});
    // 25 x 15 + 6 x 75 + 7 x 18.75 + 100 x 1.5 per million: the dearest opus rates.
    assert.ok(Math.abs((record?.costUsd ?? 0) - (25 * 15 + 6 * 75 + 7 * 18.75 + 100 * 1.5) / 1e6) < 1e-12);
    assert.match(
      record?.priceNote ?? '',
      /^model "claude-opus-9-1" has no known price: charged at the dearest opus price/,
    );
    assert.equal((await send(h)).status, 200);
    // Both records carry the same time (the clock did not move): pick the priced one by its model.
    const priced = (await h.store.queryAudit({})).find((r) => r.model !== 'claude-opus-9-1');
    assert.equal(priced?.priceNote, null, 'a priced model has no note');
  });

  it('an unknown model is refused where the org chose refuse, or charged at the org rate', async () => {
    const clock = movableClock();
    const refused = await setup(
      '{ upstream: anthropic, budgets: { perUser: { daily: 3 } }, unpricedModel: refuse }',
      clock,
    );
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

  it('concurrent requests never spend past the budget: each reserves its worst case first', async () => {
    const clock = movableClock();
    const h = await setup('{ upstream: anthropic, budgets: { perUser: { daily: 6 } } }', clock);
    const first = await Promise.all(Array.from({ length: 8 }, () => send(h)));
    const passed = first.filter((r) => r.status === 200).length;
    assert.ok(passed >= 2 && passed <= 4, `${passed} admitted: two $2.50 worst cases fit in $6 at once`);
    const spent = (await h.store.queryAudit({})).reduce((n, r) => n + (r.costUsd ?? 0), 0);
    assert.ok(spent <= 6, `spent ${spent}`);
  });
});
