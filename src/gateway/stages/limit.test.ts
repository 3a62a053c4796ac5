import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Limits } from '../../control/limits.js';
import type { SluiceError } from '../../errors/catalog.js';
import { openStore } from '../../store/index.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { limit } from './limit.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-limit-'));
after(() => rm(dir, { recursive: true, force: true }));
const at = new Date('2026-06-01T12:00:00.000Z');

async function setup(org: string) {
  const store = await openStore(`sqlite:${join(dir, `${Math.random()}.db`)}`, dir);
  const config = testConfig(org);
  const errors: Error[] = [];
  const limits = new Limits(store, config, undefined, () => at.getTime());
  const stage = limit(
    limits,
    () => at,
    (e) => errors.push(e),
  );
  return { store, config, stage, errors, limits };
}

describe('stage limit', () => {
  it('refuses once the per-user daily budget is used, naming the limit and when it resets', async () => {
    const { store, config, stage, limits } = await setup(
      '{ upstream: anthropic, budgets: { perUser: { daily: 1 } } }',
    );
    await store.addCounters('acme', [{ user: 'dev@acme.test', period: 'day:2026-06-01' }], {
      requests: 1,
      tokens: 0,
      costUsd: 1.5,
    });
    const ctx = authorizedContext({ config });
    ctx.record.model = 'claude-sonnet-4-5';
    await assert.rejects(Promise.resolve(stage(ctx)), (e: SluiceError) => {
      assert.equal(e.code, 'budget_exceeded');
      assert.equal(e.headers['x-should-retry'], 'false');
      assert.match(
        e.message,
        /the daily budget of dev@acme\.test is used up \(\$1\.50 of \$1\.00, spent or reserved by requests in flight\)\. It resets at 2026-06-02T00:00:00\.000Z/,
      );
      return true;
    });
    await limits.close();
    await store.close();
  });

  it('fails closed when the store cannot be asked', async () => {
    const { store, config, stage, errors, limits } = await setup(
      '{ upstream: anthropic, rateLimits: { perUser: { requestsPerMinute: 5 } } }',
    );
    await limits.close();
    await store.close();
    const ctx = authorizedContext({ config });
    await assert.rejects(
      Promise.resolve(stage(ctx)),
      (e: SluiceError) => e.code === 'limits_unavailable' && e.status === 503,
    );
    assert.equal(errors.length, 1);
  });

  it('lets a request through while the limits have room', async () => {
    const { store, config, stage, limits } = await setup(
      '{ upstream: anthropic, rateLimits: { perUser: { requestsPerMinute: 5 } } }',
    );
    await stage(authorizedContext({ config }));
    await limits.close();
    await store.close();
  });
});
