import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProfileError, parseProfile } from './profile.js';

test('a valid profile passes through', () => {
  const p = parseProfile({
    plan: 'enterprise',
    provider: 'anthropic',
    zdr: true,
    env: { DO_NOT_TRACK: '1' },
  });
  assert.equal(p.plan, 'enterprise');
  assert.equal(p.zdr, true);
});

test('errors name each field and what was expected', () => {
  assert.throws(
    () => parseProfile({ plan: 'platinum', provider: 'anthropic', zdr: 'yes', colour: 1 }),
    (err: unknown) => {
      assert.ok(err instanceof ProfileError);
      assert.deepEqual(err.issues, [
        'plan: expected one of free, pro, max, team, enterprise, api, gov, got "platinum"',
        'zdr: expected true or false, got "yes"',
        'colour: unknown field',
      ]);
      return true;
    },
  );
});

test('missing plan, bad dates and non-string env values are reported', () => {
  assert.throws(
    () =>
      parseProfile({
        provider: 'bedrock',
        session: { startedAt: '2025-02-30x' },
        env: { DISABLE_TELEMETRY: 1 },
      }),
    /plan: required; expected one of[\s\S]*session\.startedAt: expected an ISO date like 2025-10-08, got "2025-02-30x"[\s\S]*env\.DISABLE_TELEMETRY: expected a string value/,
  );
  assert.throws(() => parseProfile('pro'), /\(root\): expected an object/);
});
