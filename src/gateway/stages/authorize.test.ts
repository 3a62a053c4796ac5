import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { testConfig, testContext, testKey } from '../testing/context.js';
import { authorize } from './authorize.js';

describe('stage authorize', () => {
  it("sets the key's org", () => {
    const ctx = testContext();
    ctx.key = testKey;
    authorize(ctx);
    assert.equal(ctx.org, ctx.config.orgs.acme);
  });

  it('refuses a key whose org is not configured, prototype names included', () => {
    for (const org of ['gone', 'constructor', '__proto__', 'toString']) {
      const ctx = testContext();
      ctx.key = { ...testKey, org };
      assert.throws(
        () => authorize(ctx),
        (e: SluiceError) => e.code === 'bad_key',
        org,
      );
      assert.equal(ctx.org, null);
    }
  });

  it('refuses routes that keep content upstream under zero data retention, and only then', () => {
    const zdr = testConfig('{ upstream: anthropic, zdr: true }');
    const ctx = testContext({ method: 'GET', url: '/v1/files', config: zdr });
    ctx.key = testKey;
    assert.throws(
      () => authorize(ctx),
      (e: SluiceError) =>
        e.code === 'zdr_forbidden' &&
        e.status === 403 &&
        e.message.startsWith(
          `The organization's policy (zero data retention for org "acme") does not allow /v1/files`,
        ),
    );
    const plain = testContext({ method: 'GET', url: '/v1/files' });
    plain.key = testKey;
    authorize(plain);
    assert.ok(plain.org);
  });

  it("puts the key's groups' guard actions and content logging in place of the org's", () => {
    const config = testConfig(
      '{ upstream: anthropic, groups: { contractors: { guard: { secrets: block } }, auditors: { contentLogging: none }, research: { contentLogging: full } } }',
    );
    const ctx = testContext({ config });
    ctx.key = { ...testKey, groups: ['research', 'contractors', 'auditors'] };
    authorize(ctx);
    assert.deepEqual(
      [ctx.org?.guard.secrets, ctx.org?.guard.pii, ctx.org?.contentLogging],
      ['block', 'log', 'none'],
    );
    assert.deepEqual(ctx.record.groups, ['research', 'contractors', 'auditors']);
  });
});
