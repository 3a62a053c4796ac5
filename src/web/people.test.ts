/** The console's record detail (the request as stored), users view and revoking a user, over HTTP. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../control/keys.js';
import { startHarness, type Harness } from '../gateway/testing/harness.js';

const TOKEN = 'admin-token-for-people-tests-0123456';
let h: Harness;
const keys: Record<string, string> = {};
const secret = 'ghp_' + randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36);
let recordId: string;

before(async () => {
  if (!existsSync('dist/console/index.html')) execFileSync(process.execPath, ['scripts/build-console.mjs']);
  h = await startHarness('{ upstream: anthropic, contentLogging: redacted, guard: { secrets: redact } }', {
    topLevel: `  beta: { upstream: anthropic }\nadmin: { tokens: ["${TOKEN}"] }`,
  });
  keys.acmeAdmin = (
    await createKey(h.store, { org: 'acme', user: 'boss@acme.test', role: 'admin' }, new Date())
  ).key;
  keys.acmeAuditor = (
    await createKey(h.store, { org: 'acme', user: 'audit@acme.test', role: 'auditor' }, new Date())
  ).key;
  keys.betaAuditor = (
    await createKey(h.store, { org: 'beta', user: 'audit@beta.test', role: 'auditor' }, new Date())
  ).key;
  const res = await fetch(`${h.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': h.key },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 5,
      messages: [{ role: 'user', content: `deploy with ${secret} please` }],
    }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  recordId = res.headers.get('x-sluice-request-id') as string;
  // The gateway's store commits what it batched before answering a read.
  assert.ok(await h.store.getAudit(recordId), 'the record is stored');
});
after(() => h.close());

async function signIn(token: string) {
  const res = await fetch(`${h.gateway.url}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  assert.equal(res.status, 201);
  const body = (await res.json()) as { csrf: string };
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string, csrf: body.csrf };
}

const get = (cookie: string, path: string) => fetch(`${h.gateway.url}${path}`, { headers: { cookie } });

describe("the console's record, users and revoke routes", () => {
  it("a record's request is shown as stored: the placeholder, never the value", async () => {
    const { cookie } = await signIn(keys.acmeAuditor as string);
    const res = await get(cookie, `/console/api/orgs/acme/records/${recordId}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes(secret), 'no secret in the answer');
    const body = JSON.parse(text) as { record: Record<string, unknown>; request: string };
    assert.equal(body.record.id, recordId);
    assert.ok(!('responseContent' in body.record) && !('requestContent' in body.record));
    assert.equal(JSON.parse(body.request).messages[0].content, 'deploy with [REDACTED:github-pat:1] please');
  });

  it("another org's record is not found, and another org's auditor is refused", async () => {
    const admin = await signIn(TOKEN);
    const other = await get(admin.cookie, `/console/api/orgs/beta/records/${recordId}`);
    assert.equal(other.status, 404);
    assert.equal(
      ((await other.json()) as { error: { message: string } }).error.message,
      `No audit record ${recordId} in org "beta".`,
    );
    const beta = await signIn(keys.betaAuditor as string);
    for (const path of [`/console/api/orgs/acme/records/${recordId}`, '/console/api/orgs/acme/users']) {
      const res = await get(beta.cookie, path);
      assert.equal(res.status, 403, path);
      assert.equal(
        ((await res.json()) as { error: { message: string } }).error.message,
        'Your key belongs to org "beta"; it cannot read or change org "acme".',
      );
    }
  });

  it("the users view lists keys' users with roles, spend this month and when they were last seen", async () => {
    const { cookie } = await signIn(keys.acmeAuditor as string);
    const body = (await (await get(cookie, '/console/api/orgs/acme/users')).json()) as {
      users: { user: string; roles: string[]; keys: unknown[]; requests: number; lastSeen: string | null }[];
    };
    const names = body.users.map((u) => u.user);
    assert.deepEqual(names, [...names].sort());
    const dev = body.users.find((u) => u.user === 'dev@acme.test');
    assert.ok(dev, names.join(', '));
    assert.deepEqual(dev.roles, ['member']);
    assert.equal(dev.keys.length, 1);
    assert.equal(dev.requests, 1);
    assert.equal(dev.lastSeen, (await h.store.getAudit(recordId))?.time);
    assert.ok(!names.includes('audit@beta.test'));
  });

  it('revoking a user needs the admin role and the CSRF token; it ends their keys and enters the admin log', async () => {
    const { key } = await createKey(
      h.store,
      { org: 'acme', user: 'leaver@acme.test', role: 'member' },
      new Date(),
    );
    const ask = () =>
      fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key },
        body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
      });
    assert.equal((await ask()).status, 200);
    const revoke = (s: { cookie: string; csrf: string }, csrf = true) =>
      fetch(`${h.gateway.url}/console/api/orgs/acme/users/revoke`, {
        method: 'POST',
        headers: {
          cookie: s.cookie,
          'content-type': 'application/json',
          ...(csrf ? { 'x-csrf-token': s.csrf } : {}),
        },
        body: JSON.stringify({ user: 'leaver@acme.test' }),
      });
    const auditor = await signIn(keys.acmeAuditor as string);
    const refused = await revoke(auditor);
    assert.equal(refused.status, 403);
    assert.equal(
      ((await refused.json()) as { error: { message: string } }).error.message,
      'This needs the admin role in org "acme"; your key has auditor.',
    );
    const admin = await signIn(keys.acmeAdmin as string);
    assert.equal((await revoke(admin, false)).status, 403);
    const done = await revoke(admin);
    assert.equal(done.status, 200);
    const body = (await done.json()) as { keys: string[]; sessions: string[] };
    assert.equal(body.keys.length, 1);
    assert.equal((await ask()).status, 401);
    const log = await h.store.listAdminLog();
    const last = log[log.length - 1];
    assert.deepEqual(
      [last?.actor, last?.action, last?.target],
      ['admin-api:boss@acme.test', 'key.revoked', body.keys[0]],
    );
    const bad = await fetch(`${h.gateway.url}/console/api/orgs/acme/users/revoke`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf },
      body: '{"who":"x"}',
    });
    assert.equal(bad.status, 400);
    assert.equal(
      ((await bad.json()) as { error: { message: string } }).error.message,
      'Expected a JSON body {"user": "<the user whose keys and sessions end>"}.',
    );
  });
});
