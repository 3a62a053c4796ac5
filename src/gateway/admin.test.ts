import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKey } from '../control/keys.js';
import type { Role } from '../store/types.js';
import { startHarness } from './testing/harness.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup() {
  const h = await startHarness('{ upstream: anthropic, contentLogging: full }', {
    topLevel: `  beta: { upstream: anthropic }\nadmin: { tokens: ["${TOKEN}"] }`,
  });
  cleanups.push(() => h.close());
  const key = async (org: string, user: string, role: Role) =>
    (await createKey(h.store, { org, user, role }, new Date())).key;
  const keys = {
    acmeAdmin: await key('acme', 'boss@acme.test', 'admin'),
    acmeAuditor: await key('acme', 'audit@acme.test', 'auditor'),
    acmeMember: h.key, // dev@acme.test
    betaAdmin: await key('beta', 'boss@beta.test', 'admin'),
  };
  const call = async (token: string | null, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.gateway.url}/admin/v1${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  // Traffic from two acme users, with content the API must never return.
  for (const k of [keys.acmeMember, keys.acmeAdmin])
    await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': k },
      body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"private words"}]}',
    });
  return { h, keys, call };
}

const message = (r: { body: Record<string, unknown> }) =>
  (r.body.error as { message?: string } | undefined)?.message;

describe('the admin API', () => {
  it('a key of one org can never read or change another org', async () => {
    const { keys, call } = await setup();
    for (const [method, path] of [
      ['GET', '/orgs/acme/records'],
      ['GET', '/orgs/acme/keys'],
      ['GET', '/orgs/acme/usage'],
      ['GET', '/orgs/acme/egress'],
      ['POST', '/orgs/acme/keys'],
      ['DELETE', '/orgs/acme/keys/key_0'],
    ] as const) {
      const r = await call(keys.betaAdmin, method, path, method === 'POST' ? { user: 'x@y.z' } : undefined);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.deepEqual(r.body, {
        type: 'error',
        error: {
          type: 'permission_error',
          message: 'Your key belongs to org "beta"; it cannot read or change org "acme".',
        },
      });
    }
    assert.deepEqual((await call(keys.betaAdmin, 'GET', '/orgs')).body, { orgs: ['beta'] });
    assert.deepEqual((await call(TOKEN, 'GET', '/orgs')).body, { orgs: ['acme', 'beta'] });
    const log = await call(keys.acmeAdmin, 'GET', '/admin-log');
    assert.equal(log.status, 403);
    assert.equal(message(log), 'The admin log spans every org: it needs a config admin token.');
  });

  it('roles: members see their own, auditors read, admins manage keys; content is never returned', async () => {
    const { h, keys, call } = await setup();
    const mine = await call(keys.acmeMember, 'GET', '/orgs/acme/records');
    const users = (mine.body.records as { user: string }[]).map((r) => r.user);
    assert.deepEqual([...new Set(users)], ['dev@acme.test'], 'a member reads only its own records');
    const all = await call(keys.acmeAuditor, 'GET', '/orgs/acme/records');
    assert.deepEqual([...new Set((all.body.records as { user: string }[]).map((r) => r.user))].sort(), [
      'boss@acme.test',
      'dev@acme.test',
    ]);
    assert.ok(!JSON.stringify(all.body).includes('private words'), 'no content through the API');
    assert.ok(
      (await h.store.queryAudit({ org: 'acme' })).some((r) => r.requestContent?.includes('private words')),
    );

    const denied = await call(keys.acmeAuditor, 'POST', '/orgs/acme/keys', { user: 'new@acme.test' });
    assert.equal(denied.status, 403);
    assert.equal(message(denied), 'This needs the admin role in org "acme"; your key has auditor.');

    const created = await call(keys.acmeAdmin, 'POST', '/orgs/acme/keys', {
      user: 'new@acme.test',
      role: 'member',
    });
    assert.equal(created.status, 201);
    const newKey = created.body.key as string;
    const id = (created.body.record as { id: string }).id;
    assert.match(newKey, /^sk-sluice-/);
    const works = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': newKey },
      body: '{"model":"claude-test","max_tokens":5,"messages":[]}',
    });
    assert.equal(works.status, 200);
    assert.equal((await call(keys.acmeAdmin, 'DELETE', `/orgs/acme/keys/${id}`)).status, 200);
    assert.equal((await call(keys.acmeAdmin, 'DELETE', `/orgs/acme/keys/${id}`)).status, 404);
    const listed = await call(keys.acmeMember, 'GET', '/orgs/acme/keys');
    assert.deepEqual(
      (listed.body.keys as { user: string; hash?: string }[]).map((k) => [k.user, k.hash]),
      [['dev@acme.test', undefined]],
    );

    const log = await call(TOKEN, 'GET', '/admin-log');
    const actions = (log.body.entries as { action: string; actor: string }[]).filter((e) =>
      e.actor.startsWith('admin-api:'),
    );
    assert.deepEqual(
      actions.map((e) => [e.action, e.actor]),
      [
        ['key.created', 'admin-api:boss@acme.test'],
        ['key.revoked', 'admin-api:boss@acme.test'],
      ],
    );
    assert.deepEqual((await call(TOKEN, 'GET', '/admin-log/verify')).body, {
      ok: true,
      entries: (log.body.entries as unknown[]).length,
    });
  });

  it('records page by cursor: each page continues where the last ended; a bad cursor is refused', async () => {
    const { keys, call } = await setup();
    const all = await call(keys.acmeAuditor, 'GET', '/orgs/acme/records');
    const ids = (all.body.records as { id: string }[]).map((r) => r.id);
    assert.equal(ids.length, 2);
    assert.equal(all.body.next, null, 'a short page is the last');
    const first = await call(keys.acmeAuditor, 'GET', '/orgs/acme/records?limit=1');
    assert.deepEqual(
      (first.body.records as { id: string }[]).map((r) => r.id),
      [ids[0]],
    );
    const next = await call(
      keys.acmeAuditor,
      'GET',
      `/orgs/acme/records?limit=1&cursor=${encodeURIComponent(first.body.next as string)}`,
    );
    assert.deepEqual(
      (next.body.records as { id: string }[]).map((r) => r.id),
      [ids[1]],
    );
    const bad = await call(keys.acmeAuditor, 'GET', '/orgs/acme/records?cursor=yesterday');
    assert.equal(bad.status, 400);
    assert.equal(
      message(bad),
      'cursor: expected the "next" of an earlier page (<time>|<record id>), got "yesterday".',
    );
  });

  it("egress records: an org's auditors and admins read its own, members and other orgs are refused", async () => {
    const { h, keys, call } = await setup();
    const rec = (id: string, org: string, user: string, host: string) =>
      h.store.insertEgress({
        id,
        time: new Date().toISOString(),
        org,
        user,
        host,
        port: 443,
        method: 'CONNECT',
        decision: 'deny',
        rule: 'deny:anthropic-api',
        bytesUp: 0,
        bytesDown: 0,
        durationMs: 1,
        error: null,
      });
    await rec('e1', 'acme', 'dev@acme.test', 'api.anthropic.com');
    await rec('e2', 'beta', 'boss@beta.test', 'secret.beta.example');
    for (const token of [keys.acmeAuditor, keys.acmeAdmin, TOKEN]) {
      const r = await call(token, 'GET', '/orgs/acme/egress');
      assert.equal(r.status, 200);
      assert.deepEqual(
        (r.body.records as { id: string; host: string }[]).map((x) => [x.id, x.host]),
        [['e1', 'api.anthropic.com']],
      );
    }
    const member = await call(keys.acmeMember, 'GET', '/orgs/acme/egress');
    assert.equal(member.status, 403);
    assert.equal(message(member), 'This needs the auditor role in org "acme"; your key has member.');
  });

  it('refuses missing and unknown tokens, bad input, and admin tokens on the model route', async () => {
    const { h, keys, call } = await setup();
    assert.equal((await call(null, 'GET', '/orgs')).status, 401);
    const bad = await call('not-a-token', 'GET', '/orgs');
    assert.equal(bad.status, 401);
    assert.equal(message(bad), 'This token is not an admin token and not a live Sluice key.');
    const nobody = await call(keys.acmeAdmin, 'POST', '/orgs/acme/keys', { role: 'member' });
    assert.equal(nobody.status, 400);
    assert.equal((await call(TOKEN, 'GET', '/orgs/nope/keys')).status, 404);
    const yesterday = await call(TOKEN, 'GET', '/orgs/acme/records?since=yesterday');
    assert.equal(yesterday.status, 400);
    assert.equal(
      message(yesterday),
      'since: expected a date (2026-11-01) or a duration (30m, 1h, 7d), got "yesterday".',
    );
    // `since` as the CLI takes it: a duration back from now, or a date.
    for (const since of ['1d', '30m', '2026-11-01'])
      for (const what of ['records', 'usage', 'egress'])
        assert.equal(
          (await call(TOKEN, 'GET', `/orgs/acme/${what}?since=${since}`)).status,
          200,
          `${what} ${since}`,
        );
    const model = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{"model":"claude-test","max_tokens":5,"messages":[]}',
    });
    assert.equal(model.status, 401, 'an admin token is not a key: it cannot bypass keys or limits');
  });

  it('a key revoked through the admin API is refused on its very next request (no cache window)', async () => {
    const { h, keys, call } = await setup();
    const ask = () =>
      fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': keys.acmeMember },
        body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
      });
    assert.equal((await ask()).status, 200, 'the key is cached as live');
    const [live] = (await h.store.listKeys({ org: 'acme', user: 'dev@acme.test' })).filter(
      (k) => !k.revokedAt,
    );
    assert.equal((await call(keys.acmeAdmin, 'DELETE', `/orgs/acme/keys/${live!.id}`)).status, 200);
    assert.equal((await ask()).status, 401);
  });

  it('lists and ends sign-in sessions: members see their own, auditors all, admins end them', async () => {
    const { h, keys, call } = await setup();
    const session = (id: string, email: string, org = 'acme') => ({
      id,
      org,
      subject: `sub-${email}`,
      email,
      name: null,
      groups: ['eng'],
      role: 'member' as const,
      refreshHash: id.padEnd(64, '0'),
      createdAt: '2026-11-01T00:00:00.000Z',
      refreshedAt: null,
      expiresAt: '2099-01-01T00:00:00.000Z',
      revokedAt: null,
    });
    await h.store.signin.insertSession(session('ses_a1', 'dev@acme.test'));
    await h.store.signin.insertSession(session('ses_a2', 'Leaver@acme.test'));
    await h.store.signin.insertSession(session('ses_a3', 'leaver@acme.test'));
    await h.store.signin.insertSession(session('ses_b1', 'leaver@acme.test', 'beta'));
    const ids = (r: { body: Record<string, unknown> }) =>
      (r.body.sessions as { id: string }[]).map((s) => s.id);
    assert.deepEqual(ids(await call(keys.acmeMember, 'GET', '/orgs/acme/sessions')), ['ses_a1']);
    assert.deepEqual(ids(await call(keys.acmeAuditor, 'GET', '/orgs/acme/sessions?user=LEAVER@acme.test')), [
      'ses_a2',
      'ses_a3',
    ]);
    const listed = await call(keys.acmeAuditor, 'GET', '/orgs/acme/sessions');
    assert.equal(
      JSON.stringify(listed.body).includes('refreshHash'),
      false,
      'no token hash leaves the store',
    );
    const denied = await call(keys.acmeAuditor, 'DELETE', '/orgs/acme/sessions/ses_a1');
    assert.deepEqual(
      [denied.status, message(denied)],
      [403, 'This needs the admin role in org "acme"; your key has auditor.'],
    );
    const one = await call(keys.acmeAdmin, 'DELETE', '/orgs/acme/sessions/ses_a1');
    assert.deepEqual([one.status, one.body], [200, { revoked: ['ses_a1'] }]);
    const again = await call(keys.acmeAdmin, 'DELETE', '/orgs/acme/sessions/ses_a1');
    assert.deepEqual([again.status, message(again)], [404, 'No live sign-in session ses_a1 in org "acme".']);
    const person = await call(keys.acmeAdmin, 'DELETE', '/orgs/acme/sessions?user=leaver@acme.test');
    assert.deepEqual(person.body, { revoked: ['ses_a2', 'ses_a3'] });
    assert.equal((await h.store.signin.getSession('ses_b1'))?.revokedAt, null, "another org's session stays");
    const bare = await call(keys.acmeAdmin, 'DELETE', '/orgs/acme/sessions');
    assert.deepEqual(
      [bare.status, message(bare)],
      [400, 'DELETE /orgs/:org/sessions needs ?user=EMAIL (or name one session: /orgs/:org/sessions/:id).'],
    );
    assert.deepEqual(ids(await call(keys.acmeAuditor, 'GET', '/orgs/acme/sessions')), []);
    assert.deepEqual(ids(await call(keys.acmeAuditor, 'GET', '/orgs/acme/sessions?all=true')), [
      'ses_a1',
      'ses_a2',
      'ses_a3',
    ]);
    const log = (await h.store.listAdminLog()).filter((e) => e.action === 'signin.revoked');
    assert.deepEqual(
      log.map((e) => [e.actor, e.target, e.details]),
      ['ses_a1', 'ses_a2', 'ses_a3'].map((id, i) => [
        'admin-api:boss@acme.test',
        id,
        {
          by: 'admin-api:boss@acme.test',
          org: 'acme',
          user: i ? (i === 1 ? 'Leaver@acme.test' : 'leaver@acme.test') : 'dev@acme.test',
        },
      ]),
    );
  });
});
