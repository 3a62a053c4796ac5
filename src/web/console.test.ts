import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../control/keys.js';
import { startHarness, type Harness } from '../gateway/testing/harness.js';
import type { Role } from '../store/types.js';
import { CSP } from './console.js';

const TOKEN = 'admin-token-for-console-tests-0123';
let h: Harness;
const keys: Record<string, string> = {};

before(async () => {
  if (!existsSync('dist/console/index.html')) execFileSync(process.execPath, ['scripts/build-console.mjs']);
  h = await startHarness('{ upstream: anthropic }', {
    topLevel: `  beta: { upstream: anthropic }\nadmin: { tokens: ["${TOKEN}"] }`,
  });
  const key = async (org: string, user: string, role: Role) =>
    (await createKey(h.store, { org, user, role }, new Date())).key;
  keys.acmeAdmin = await key('acme', 'boss@acme.test', 'admin');
  keys.acmeAuditor = await key('acme', 'audit@acme.test', 'auditor');
  keys.betaAuditor = await key('beta', 'audit@beta.test', 'auditor');
  await fetch(`${h.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': h.key },
    body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}',
  });
});
after(() => h.close());

async function signIn(token: string) {
  const res = await fetch(`${h.gateway.url}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const body = (await res.json()) as {
    csrf: string;
    caller: { org: string | null; role: string };
    orgs: string[];
  };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { res, body, cookie };
}

const get = (cookie: string, path: string) => fetch(`${h.gateway.url}${path}`, { headers: { cookie } });

describe('the console over HTTP', () => {
  it('serves its page with a CSP that allows no inline script, and hashed assets cached for good', async () => {
    const page = await fetch(`${h.gateway.url}/console`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-security-policy'), CSP);
    assert.doesNotMatch(CSP, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const js = /src="(\/console\/assets\/main-[\w]+\.js)"/.exec(html)?.[1];
    assert.ok(js, html);
    const asset = await fetch(`${h.gateway.url}${js}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const outside = await fetch(`${h.gateway.url}/console/assets/..%2F..%2Fpackage.json`);
    assert.equal(outside.status, 404);
  });

  it('signs in with a key: an HttpOnly, SameSite=Strict cookie scoped to /console (not Secure over plain HTTP)', async () => {
    const { res, body } = await signIn(keys.acmeAuditor as string);
    assert.equal(res.status, 201);
    assert.match(
      res.headers.get('set-cookie') ?? '',
      /^sluice_console=[\w-]{43}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    assert.deepEqual(body.caller, { org: 'acme', user: 'audit@acme.test', role: 'auditor' });
    assert.deepEqual(body.orgs, ['acme']);
    assert.equal(typeof body.csrf, 'string');
  });

  it('a wrong token is refused with the admin API own error', async () => {
    const { res, body } = await signIn('sk-sluice-not-a-key');
    assert.equal(res.status, 401);
    assert.deepEqual(body, {
      type: 'error',
      error: {
        type: 'authentication_error',
        message: 'This token is not an admin token and not a live Sluice key.',
      },
    });
  });

  it('a member key cannot sign in: the admin API says which role it needs', async () => {
    const { res, body } = await signIn(h.key);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('set-cookie'), null);
    assert.deepEqual(body, {
      type: 'error',
      error: {
        type: 'permission_error',
        message: 'This needs the auditor role in org "acme"; your key has member.',
      },
    });
  });

  it('without a session, data is refused', async () => {
    const res = await get('', '/console/api/orgs/acme/overview');
    assert.equal(res.status, 401);
    assert.equal(
      ((await res.json()) as { error: { message: string } }).error.message,
      'The console session is missing or expired. Sign in again with an admin token or a Sluice key.',
    );
  });

  it('an action without the CSRF token is refused, with it it is done', async () => {
    const { cookie, body } = await signIn(keys.acmeAdmin as string);
    const create = (headers: Record<string, string>) =>
      fetch(`${h.gateway.url}/console/api/admin/v1/orgs/acme/keys`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ user: 'new@acme.test', role: 'member' }),
      });
    for (const headers of [{}, { 'x-csrf-token': 'wrong' }] as Record<string, string>[]) {
      const refused = await create(headers);
      assert.equal(refused.status, 403);
      assert.deepEqual(await refused.json(), {
        type: 'error',
        error: {
          type: 'permission_error',
          message:
            'This console action lacks its CSRF token (x-csrf-token from POST /console/session), so it was refused. Reload the console and try again.',
        },
      });
    }
    assert.equal((await h.store.listKeys({ org: 'acme', user: 'new@acme.test' })).length, 0);
    const done = await create({ 'x-csrf-token': body.csrf });
    assert.equal(done.status, 201);
  });

  it("an auditor of org beta sees nothing of org acme: views and the admin API's routes", async () => {
    const { cookie } = await signIn(keys.betaAuditor as string);
    for (const path of [
      '/console/api/orgs/acme/overview',
      '/console/api/orgs/acme/guard',
      '/console/api/orgs/acme/requests',
      '/console/api/orgs/acme/flows',
      '/console/api/orgs/acme/egress',
      '/console/api/admin/v1/orgs/acme/records',
      '/console/api/admin/v1/orgs/acme/keys',
      '/console/api/admin/v1/orgs/acme/egress',
    ]) {
      const res = await get(cookie, path);
      assert.equal(res.status, 403, path);
      assert.equal(
        ((await res.json()) as { error: { message: string } }).error.message,
        'Your key belongs to org "beta"; it cannot read or change org "acme".',
        path,
      );
    }
    const own = await get(cookie, '/console/api/orgs/beta/requests');
    assert.deepEqual(await own.json(), { records: [], next: null });
  });

  it('views read the store: overview, requests with paging, guard, flows; no content', async () => {
    const { cookie } = await signIn(TOKEN);
    const overview = (await (await get(cookie, '/console/api/orgs/acme/overview?span=day')).json()) as {
      buckets: { requests: number }[];
    };
    assert.equal(overview.buckets.length, 24);
    assert.equal(
      overview.buckets.reduce((a, b) => a + b.requests, 0),
      1,
    );
    const page = (await (await get(cookie, '/console/api/orgs/acme/requests?limit=1')).json()) as {
      records: Record<string, unknown>[];
      next: string | null;
    };
    assert.equal(page.records.length, 1);
    assert.equal(page.next, null);
    assert.ok(!('requestContent' in (page.records[0] as object)));
    const flows = (await (await get(cookie, '/console/api/orgs/acme/flows')).json()) as { flows: unknown[] };
    assert.ok(flows.flows.length > 0);
    const bad = await get(cookie, '/console/api/orgs/acme/requests?decision=maybe');
    assert.equal(bad.status, 400);
    assert.equal(
      ((await bad.json()) as { error: { message: string } }).error.message,
      'decision: expected one of none, log, redact, block, error, fail-open; got "maybe".',
    );
    const cursor = await get(cookie, '/console/api/orgs/acme/requests?cursor=nowhere');
    assert.equal(cursor.status, 400);
    assert.equal(
      ((await cursor.json()) as { error: { message: string } }).error.message,
      'cursor: expected the "next" of an earlier page (<time>|<record id>), got "nowhere".',
    );
  });

  it('a reload of the configuration keeps sessions open, and a revocation through the console still ends a key at once', async () => {
    const { cookie, body } = await signIn(TOKEN);
    h.gateway.prepare(h.gateway.config).commit();
    const session = (await (await get(cookie, '/console/session')).json()) as {
      signedIn: boolean;
      csrf: string;
    };
    assert.deepEqual([session.signedIn, session.csrf], [true, body.csrf]);
    const { key, record } = await createKey(
      h.store,
      { org: 'acme', user: 'reload@acme.test', role: 'member' },
      new Date(),
    );
    const ask = () =>
      fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key },
        body: '{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
      });
    assert.equal((await ask()).status, 200);
    const revoked = await fetch(`${h.gateway.url}/console/api/admin/v1/orgs/acme/keys/${record.id}`, {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': body.csrf },
    });
    assert.equal(revoked.status, 200);
    assert.equal((await ask()).status, 401);
  });

  it('signing out needs the CSRF token and ends the session', async () => {
    const { cookie, body } = await signIn(keys.acmeAuditor as string);
    const out = (csrf?: string) =>
      fetch(`${h.gateway.url}/console/session`, {
        method: 'DELETE',
        headers: { cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      });
    assert.equal((await out()).status, 403);
    const done = await out(body.csrf);
    assert.equal(done.status, 200);
    assert.match(done.headers.get('set-cookie') ?? '', /^sluice_console=; .*Max-Age=0$/);
    assert.deepEqual(await (await get(cookie, '/console/session')).json(), { signedIn: false });
  });
});
