import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyLookup } from '../../control/keys.js';
import type { SluiceError } from '../../errors/catalog.js';
import { testContext, testKey } from '../testing/context.js';
import { authenticate } from './authenticate.js';

const revoked = { ...testKey, id: 'key_old', revokedAt: '2026-11-30T09:00:00.000Z' };
const expired = { ...testKey, id: 'key_short', expiresAt: '2026-11-30T10:00:00.000Z' };
const stage = authenticate(async (presented): Promise<KeyLookup> => {
  if (presented === 'sk-sluice-good') return { live: testKey };
  if (presented === 'sk-sluice-revoked') return { refused: 'revoked', record: revoked };
  if (presented === 'sk-sluice-expired') return { refused: 'expired', record: expired };
  return { refused: 'unknown' };
});

describe('stage authenticate', () => {
  it('refuses a request without a key, naming the variables to set', async () => {
    await assert.rejects(Promise.resolve(stage(testContext())), (e: SluiceError) => {
      assert.equal(e.code, 'missing_key');
      assert.equal(e.status, 401);
      assert.match(e.message, /ANTHROPIC_API_KEY .* ANTHROPIC_AUTH_TOKEN/);
      return true;
    });
  });

  it('refuses an unknown key, telling the client not to retry', async () => {
    const ctx = testContext({ headers: { 'x-api-key': 'sk-sluice-nope' } });
    await assert.rejects(Promise.resolve(stage(ctx)), (e: SluiceError) => {
      assert.equal(e.code, 'bad_key');
      assert.equal(e.responseHeaders()['x-should-retry'], 'false');
      return true;
    });
    assert.equal(ctx.key, null);
    assert.deepEqual([ctx.record.org, ctx.record.user, ctx.record.keyId], [null, null, null]);
  });

  it('refuses a revoked or expired key, recording whose it was', async () => {
    for (const [presented, record, message] of [
      [
        'sk-sluice-revoked',
        revoked,
        'This Sluice key was revoked (at 2026-11-30T09:00:00.000Z). Ask your administrator for a new one (`sluice keys create`).',
      ],
      [
        'sk-sluice-expired',
        expired,
        'This Sluice key expired at 2026-11-30T10:00:00.000Z. Ask your administrator for a new one (`sluice keys create`).',
      ],
    ] as const) {
      const ctx = testContext({ headers: { 'x-api-key': presented } });
      await assert.rejects(Promise.resolve(stage(ctx)), (e: SluiceError) => {
        assert.deepEqual([e.status, e.code, e.message], [401, 'bad_key', message]);
        assert.equal(e.responseHeaders()['x-should-retry'], 'false');
        return true;
      });
      assert.equal(ctx.key, null, 'not authenticated');
      assert.deepEqual(
        [ctx.record.org, ctx.record.user, ctx.record.keyId],
        ['acme', 'dev@acme.test', record.id],
      );
    }
  });

  it('takes x-api-key or a bearer token, and names the key on the record', async () => {
    for (const headers of [{ 'x-api-key': 'sk-sluice-good' }, { authorization: 'Bearer sk-sluice-good' }]) {
      const ctx = testContext({ headers });
      await stage(ctx);
      assert.equal(ctx.key, testKey);
      assert.deepEqual(
        [ctx.record.org, ctx.record.user, ctx.record.keyId],
        ['acme', 'dev@acme.test', 'key_test'],
      );
    }
  });

  it('takes a Sluice-issued access token: the context carries the person, the record names them', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXYifQ.c2ln';
    const who = {
      sessionId: 'ses_1',
      subject: 'dev',
      email: 'dev@example.com',
      name: 'Dev',
      groups: ['engineers'],
      org: 'acme',
      role: 'member' as const,
      expiresAt: 1_900_000_000,
    };
    const signedIn = authenticate(
      async () => ({ refused: 'unknown' as const }),
      async (token) => (token === jwt ? { ok: true, who } : { ok: false, reason: 'revoked' }),
    );
    const ctx = testContext({ headers: { authorization: `Bearer ${jwt}` } });
    await signedIn(ctx);
    assert.deepEqual(ctx.identity, who);
    assert.deepEqual([ctx.key?.org, ctx.key?.user, ctx.key?.role], ['acme', 'dev@example.com', 'member']);
    assert.deepEqual(ctx.key?.groups, ['engineers'], "the IdP's groups, for group budgets and models");
    assert.deepEqual(
      [ctx.record.org, ctx.record.user, ctx.record.keyId],
      ['acme', 'dev@example.com', 'ses_1'],
    );
    const ended = testContext({ headers: { authorization: `Bearer ${jwt}x` } });
    await assert.rejects(Promise.resolve(signedIn(ended)), (e: SluiceError) => {
      assert.deepEqual(
        [e.code, e.status, e.responseHeaders()['x-should-retry']],
        ['signin_ended', 401, 'false'],
      );
      return true;
    });
  });
});
