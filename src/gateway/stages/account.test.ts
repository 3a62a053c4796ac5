import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Limits } from '../../control/limits.js';
import { openStore } from '../../store/index.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { account } from './account.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-account-'));
const store = await openStore(`sqlite:${join(dir, 'a.db')}`, dir);
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
const at = new Date('2026-06-01T12:00:00.000Z');

describe('stage account', () => {
  it('puts the cost at the configured price on the record and charges the budget counters', async () => {
    const config = testConfig('{ upstream: anthropic, budgets: { org: { daily: 100 } } }');
    config.prices = { 'claude-test': { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 } };
    const limits = new Limits(store, config, undefined, () => at.getTime());
    const ctx = authorizedContext({ config });
    ctx.record.model = 'claude-test';
    Object.assign(ctx.usage, {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
    });
    await account(limits, () => at, assert.fail)(ctx);
    assert.equal(ctx.record.costUsd, 4.5);
    await limits.close();
    const [org] = await store.readCounters('acme', [{ user: '', period: 'day:2026-06-01' }]);
    assert.equal(org?.costUsd, 4.5);
  });

  it('charges a model with no known price at the dearest Claude price, with a note', async () => {
    const config = testConfig();
    const limits = new Limits(store, config, undefined, () => at.getTime());
    const ctx = authorizedContext({ config });
    ctx.record.model = 'no-such-model';
    ctx.usage.outputTokens = 1_000_000;
    await account(limits, () => at, assert.fail)(ctx);
    assert.equal(ctx.record.costUsd, 75);
    assert.match(
      ctx.record.priceNote ?? '',
      /^model "no-such-model" has no known price: charged at the dearest Claude price/,
    );
    await limits.close();
  });
});
