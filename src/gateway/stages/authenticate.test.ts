import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { testContext, testKey } from '../testing/context.js';
import { authenticate } from './authenticate.js';

const keys = new Map([['sk-sluice-good', testKey]]);
const stage = authenticate(async (presented) => keys.get(presented));

describe('stage authenticate', () => {
  it('refuses a request without a key, naming the variables to set', async () => {
    await assert.rejects(Promise.resolve(stage(testContext())), (e: SluiceError) => {
      assert.equal(e.code, 'missing_key');
      assert.equal(e.status, 401);
      assert.match(e.message, /ANTHROPIC_API_KEY .* ANTHROPIC_AUTH_TOKEN/);
      return true;
    });
  });

  it('refuses an unknown key', async () => {
    const ctx = testContext({ headers: { 'x-api-key': 'sk-sluice-nope' } });
    await assert.rejects(Promise.resolve(stage(ctx)), (e: SluiceError) => e.code === 'bad_key');
    assert.equal(ctx.key, null);
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
      async () => undefined,
      async (token) => (token === jwt ? { ok: true, who } : { ok: false, reason: 'revoked' }),
    );
    const ctx = testContext({ headers: { authorization: `Bearer ${jwt}` } });
    await signedIn(ctx);
    assert.deepEqual(ctx.identity, who);
    assert.deepEqual([ctx.key?.org, ctx.key?.user, ctx.key?.role], ['acme', 'dev@example.com', 'member']);
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
