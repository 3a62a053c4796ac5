/**
 * Guard actions and content logging per group, end to end: `sluice serve` with a real OpenID
 * provider; signed-in people get the policy of the IdP groups they are in, Sluice keys that of
 * their `--group`s, and where groups disagree the strictest wins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { createKeyCli, sluice } from './processes.js';
import { signInAs, startSignInWorld, type SignInWorld } from './signin-world.js';

const AWS = 'AKIAQYLPMN5HHHFPZAM2';
const ORG = `{ upstream: anthropic, contentLogging: full, guard: { secrets: redact },
    groups: {
      contractors: { guard: { secrets: block }, contentLogging: none },
      engineers: { contentLogging: redacted } } }`;

let world: SignInWorld;
before(async () => {
  world = await startSignInWorld('requiredDenyRules: ["Read(./secrets/**)"]\n', ORG);
});
after(async () => world?.close());

/** Sends a prompt holding a secret with `token` (a Sluice key or an access token); status and body. */
async function send(token: string, marker: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${world.base}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 16,
      messages: [{ role: 'user', content: `${marker}: deploy with key=${AWS}` }],
    }),
  });
  return { status: res.status, body: await res.text() };
}

describe('guard actions and content logging per group (sluice serve, a real OpenID provider)', () => {
  it('applies the IdP groups of signed-in people and the groups of keys; the strictest group wins', async () => {
    const dev = await signInAs(world, 'dev');
    const contractor = await signInAs(world, 'contractor');
    const r = sluice(world.dir, [
      'keys',
      'create',
      '--org',
      'acme',
      '--user',
      'temp@example.com',
      '--group',
      'contractors',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const contractorKey = r.stdout.trimEnd().split('\n').pop()!;
    const plainKey = createKeyCli(world.dir, 'acme', 'plain@example.com');

    // dev (engineers): the org redacts; engineers keep the redacted request only.
    const seen = world.standin.seen.length;
    assert.equal((await send(dev.access_token, 'dev')).status, 200);
    const forwarded = world.standin.seen
      .slice(seen)
      .map((x) => String(x.body))
      .join('\n');
    assert.ok(forwarded.includes('dev: deploy') && !forwarded.includes(AWS), 'redacted before the upstream');

    // contractor (engineers and contractors): block wins over redact, none over redacted.
    for (const [who, token] of [
      ['contractor', contractor.access_token],
      ['contractor-key', contractorKey],
    ] as const) {
      const before = world.standin.seen.length;
      const refused = await send(token, who);
      assert.equal(refused.status, 429, refused.body);
      assert.match(
        refused.body,
        /"type":"rate_limit_error","message":"Sluice blocked this request: group \\"contractors\\" of org \\"acme\\" does not allow aws-access-key-id \(1×\)/,
      );
      assert.equal(world.standin.seen.length, before, 'nothing reached the upstream');
    }
    // A key in no group: the org's own redact and full content.
    assert.equal((await send(plainKey, 'plain')).status, 200);

    await world.gateway.stop();
    const store = await openStore('sqlite:./sluice.db', world.dir);
    try {
      const records = await store.queryAudit({ org: 'acme' });
      const of = (user: string) => records.find((x) => x.user === user && x.path === '/v1/messages');
      const devRecord = of('dev@example.com');
      assert.equal(devRecord?.guard.decision, 'redact');
      assert.deepEqual(devRecord?.groups, ['engineers']);
      assert.match(devRecord?.requestContent ?? '', /dev: deploy with key=\[REDACTED/);
      assert.equal(devRecord?.responseContent, null, 'engineers keep the redacted request, not the answer');
      for (const user of ['contractor@example.com', 'temp@example.com']) {
        const blocked = of(user);
        assert.deepEqual([blocked?.guard.decision, blocked?.requestContent], ['block', null], user);
      }
      assert.deepEqual(of('contractor@example.com')?.groups, ['engineers', 'contractors']);
      const plain = of('plain@example.com');
      assert.equal(plain?.guard.decision, 'redact');
      assert.ok(plain?.responseContent, 'the org keeps full content for callers in no group');
      assert.ok(!JSON.stringify(records).includes(AWS), 'no record holds the secret');
    } finally {
      await store.close();
    }
  });
});
