import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createKey } from '../control/keys.js';
import { groupCounter } from '../control/limits.js';
import { startHarness, type Harness } from './testing/harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const org =
  '{ upstream: anthropic, groups: { contractors: { models: [claude-haiku-4-5], budgets: { daily: 0.5 } }, eng: {} } }';

async function setup(): Promise<{
  h: Harness;
  sdk: Anthropic;
  plain: Anthropic;
}> {
  const h = await startHarness(org, { clock: () => new Date('2026-11-02T10:00:00.000Z') });
  cleanups.push(() => h.close());
  const { key } = await createKey(
    h.store,
    { org: 'acme', user: 'temp@acme.test', role: 'member', groups: ['contractors', 'eng'] },
    new Date(),
  );
  return {
    h,
    sdk: new Anthropic({ baseURL: h.gateway.url, apiKey: key, maxRetries: 0 }),
    plain: new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 }),
  };
}

const ask = (sdk: Anthropic, model: string) =>
  sdk.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

describe('groups: models and budgets per group, named on the audit record', () => {
  it("a group's model list narrows the org's; other users are not affected", async () => {
    const { h, sdk, plain } = await setup();
    await assert.rejects(ask(sdk, 'claude-sonnet-4-5'), (err: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(err.status, 429);
      assert.equal(err.headers?.get('x-sluice-error'), 'model_not_allowed');
      assert.equal(
        (err.error as { error: { message: string } }).error.message,
        'Sluice: group "contractors" of org "acme" does not allow model "claude-sonnet-4-5" (its model policy, orgs.acme.groups.contractors.models, lists claude-haiku-4-5). Pick one of those with /model or --model, or ask your administrator to add this one.',
      );
      return true;
    });
    await ask(sdk, 'claude-haiku-4-5');
    await ask(plain, 'claude-sonnet-4-5');
    const records = await h.store.queryAudit({ org: 'acme' });
    const mine = records.filter((r) => r.user === 'temp@acme.test').sort((a, b) => a.status - b.status);
    assert.deepEqual(
      mine.map((r) => [r.status, r.groups]),
      [
        [200, ['contractors', 'eng']],
        [429, ['contractors', 'eng']],
      ],
    );
    assert.equal(records.find((r) => r.user === 'dev@acme.test')?.groups, undefined);
  });

  it("a group's budget is charged by each of its members' requests", async () => {
    const { h, sdk } = await setup();
    const { key } = await createKey(
      h.store,
      { org: 'acme', user: 'temp2@acme.test', role: 'member', groups: ['contractors'] },
      new Date(),
    );
    await ask(sdk, 'claude-haiku-4-5');
    await ask(new Anthropic({ baseURL: h.gateway.url, apiKey: key, maxRetries: 0 }), 'claude-haiku-4-5');
    const store = h.store;
    const cost = (await store.queryAudit({ org: 'acme' })).reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
    // Closing the gateway writes the charges still queued and hands back what was reserved.
    await h.gateway.close();
    // Closed already: the harness's own close goes on with the journal, stand-in and store.
    h.gateway.close = () => Promise.resolve();
    const [day] = await store.readCounters('acme', [
      { user: groupCounter('contractors'), period: 'day:2026-11-02' },
    ]);
    assert.equal(day?.requests, 2);
    assert.ok(cost > 0 && Math.abs((day?.costUsd ?? 0) - cost) < 1e-12, `${day?.costUsd} vs ${cost}`);
  });

  it('refuses once the group has spent its budget, naming the group setting to raise', async () => {
    const { h, sdk, plain } = await setup();
    await h.store.addCounters('acme', [{ user: groupCounter('contractors'), period: 'day:2026-11-02' }], {
      requests: 1,
      tokens: 0,
      costUsd: 0.5,
    });
    await assert.rejects(ask(sdk, 'claude-haiku-4-5'), (err: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(err.status, 429);
      assert.equal(err.headers?.get('x-sluice-error'), 'budget_exceeded');
      assert.match(
        (err.error as { error: { message: string } }).error.message,
        /^Sluice: the daily budget of group "contractors" is used up \(\$0\.50 of \$0\.50, spent or reserved by requests in flight\)\. It resets at 2026-11-03T00:00:00\.000Z\. Until then, ask your administrator to raise orgs\.acme\.groups\.contractors\.budgets\.daily\.$/,
      );
      return true;
    });
    // Someone outside the group is not held by its budget.
    await ask(plain, 'claude-haiku-4-5');
  });
});
