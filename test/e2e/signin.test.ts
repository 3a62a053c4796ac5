/**
 * Company sign-in end to end: a real OpenID provider (oidc-provider, in-process), the real
 * `sluice serve` process, the stand-in upstream and the official SDK. The browser leg is played
 * with fetch, posting the provider's own login and consent forms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Standin } from '../../src/gateway/testing/standin.js';
import { TestBrowser, type TestIdp } from '../../src/signin/testing/idp.js';
import { openStore } from '../../src/store/index.js';
import type { Served } from './processes.js';
import { startSignInWorld } from './signin-world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

let CLIENT_SECRET = '';

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  email: string;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

describe('company sign-in (sluice serve, a real OpenID provider)', () => {
  let dir: string;
  let base: string;
  let idp: TestIdp;
  let standin: Standin;
  let gateway: Served;

  before(async () => {
    const world = await startSignInWorld(
      'nonEssentialTrafficForbidden: true\nrequiredDenyRules: ["Read(./secrets/**)"]\n',
    );
    cleanups.push(() => world.close());
    ({ dir, base, idp, standin, gateway } = world);
    CLIENT_SECRET = world.clientSecret;
  });

  /** The whole device flow for `login`: the client's calls and the browser's; returns the tokens. */
  async function signIn(login: string): Promise<Tokens> {
    const auth = await fetch(`${base}/oauth/device_authorization`, form({ surface: 'claude_code' }));
    assert.equal(auth.status, 200);
    const grant = (await auth.json()) as Record<string, string | number>;
    const poll = () =>
      fetch(
        `${base}/oauth/token`,
        form({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: String(grant.device_code),
        }),
      );
    const browser = new TestBrowser();
    const page = await browser.request(String(grant.verification_uri_complete));
    assert.match(await page.text(), new RegExp(`${grant.user_code}[\\s\\S]*This matches my device`));
    const verified = await browser.request(`${base}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ user_code: String(grant.user_code).toLowerCase() }).toString(),
    });
    assert.equal(verified.status, 302);
    const at = new URL(verified.headers.get('location')!);
    assert.equal(at.origin, idp.issuer);
    assert.deepEqual(
      [at.searchParams.get('code_challenge_method'), at.searchParams.get('response_mode')],
      ['S256', 'query'],
    );
    const done = await browser.signInAtIdp(verified, `${base}/device`, login, `${base}/oauth/callback`);
    assert.equal(done.res.status, 200, done.body);
    const pending = await poll();
    if (done.body.includes('signed in. Return to your device.')) {
      assert.equal(pending.status, 200);
      return (await pending.json()) as Tokens;
    }
    const said = done.body.replace(/<(style|title)>[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, ' ');
    throw new Error(
      `sign-in failed: ${said.replace(/\s+/g, ' ').trim()} (${pending.status} ${await pending.text()})`,
    );
  }

  it('serves the discovery document the client reads, with revocation, from the public URL', async () => {
    const res = await fetch(`${base}/.well-known/oauth-authorization-server`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      issuer: base,
      device_authorization_endpoint: `${base}/oauth/device_authorization`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'profile', 'email'],
      gateway_protocol_version: 1,
    });
  });

  it('answers the device grant as the protocol says: pending, slow_down, unknown, wrong grant and body', async () => {
    const auth = await fetch(`${base}/oauth/device_authorization`, form({ surface: 'claude_code' }));
    const grant = (await auth.json()) as {
      device_code: string;
      user_code: string;
      interval: number;
      expires_in: number;
    };
    assert.equal(auth.headers.get('cache-control'), 'no-store');
    assert.match(grant.user_code, /^[BCDFGHJKMNPQRSTVWXYZ]{4}-[BCDFGHJKMNPQRSTVWXYZ]{4}$/);
    assert.match(grant.device_code, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual([grant.interval, grant.expires_in], [5, 600]);
    const poll = (device_code: string) =>
      fetch(
        `${base}/oauth/token`,
        form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code }),
      );
    const first = await poll(grant.device_code);
    assert.deepEqual([first.status, await first.json()], [400, { error: 'authorization_pending' }]);
    const again = await poll(grant.device_code);
    assert.deepEqual([again.status, await again.json()], [429, { error: 'slow_down' }]);
    const unknown = await poll('nope');
    assert.deepEqual([unknown.status, await unknown.json()], [400, { error: 'expired_token' }]);
    const missing = await fetch(
      `${base}/oauth/token`,
      form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
    );
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');
    const other = await fetch(`${base}/oauth/token`, form({ grant_type: 'password' }));
    assert.deepEqual([other.status, await other.json()], [400, { error: 'unsupported_grant_type' }]);
    const asJson = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"refresh_token"}',
    });
    assert.equal(asJson.status, 400);
    // Denied in the browser: access_denied once, then the grant is gone.
    const browser = new TestBrowser();
    const blocked = await browser.request(`${base}/device/deny`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.test' },
      body: `user_code=${grant.user_code}`,
    });
    assert.match(await blocked.text(), /came from another site and was blocked/);
    const denied = await browser.request(`${base}/device/deny`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: `user_code=${grant.user_code}`,
    });
    assert.match(await denied.text(), /You stopped this sign-in/);
    const after1 = await poll(grant.device_code);
    assert.deepEqual([after1.status, await after1.json()], [400, { error: 'access_denied' }]);
    const after2 = await poll(grant.device_code);
    assert.deepEqual([after2.status, await after2.json()], [400, { error: 'expired_token' }]);
  });

  it('refuses a person no rule maps, in the browser and to the polling client', async () => {
    await assert.rejects(
      signIn('sales'),
      /Sign-in could not be completed sales@example\.com is in no group or domain that signin\.map gives access to; ask your administrator \(400 \{"error":"access_denied"\}\)/,
    );
  });

  it('cuts a leaver off at once: the IdP refuses the refresh, the session ends, the access token is refused', async () => {
    const tokens = await signIn('leaver');
    const messages = (token: string) =>
      fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-test',
          max_tokens: 8,
          messages: [{ role: 'user', content: 'x' }],
        }),
      });
    assert.equal((await messages(tokens.access_token)).status, 200);
    idp.users.get('leaver')!.active = false;
    const refreshed = await fetch(
      `${base}/oauth/token`,
      form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    );
    assert.deepEqual([refreshed.status, await refreshed.json()], [401, { error: 'invalid_grant' }]);
    const refused = await messages(tokens.access_token);
    assert.equal(refused.status, 401, 'the access token dies with the session, not at its exp');
    assert.equal(refused.headers.get('x-should-retry'), 'false');
  });

  it('signs in, sends a request as the signed-in user, refreshes, signs out: the next request is refused at once', async () => {
    const tokens = await signIn('dev');
    assert.deepEqual(
      [tokens.token_type, tokens.expires_in, tokens.email],
      ['Bearer', 3600, 'dev@example.com'],
    );
    const claims = JSON.parse(
      Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>;
    assert.deepEqual(
      [claims.aud, claims.iss, claims.sub, claims.groups],
      ['claude-gateway', base, 'dev', ['engineers']],
    );

    const sdk = (token: string) =>
      new Anthropic({ baseURL: base, authToken: token, apiKey: null, maxRetries: 0 });
    const answer = await sdk(tokens.access_token).messages.create({
      model: 'claude-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(answer.content[0]?.type === 'text' && answer.content[0].text, 'Hello from the stand-in.');
    const upstream = standin.seen.at(-1)!;
    assert.equal(upstream.headers['x-api-key'], 'sk-ant-upstream-signin', 'the upstream key, not the token');
    assert.ok(!JSON.stringify(upstream.headers).includes(tokens.access_token.slice(-20)));

    // Managed settings: what `sluice managed-settings --policy engineers.yaml` makes, with checksum and ETag.
    const settings = await fetch(`${base}/managed/settings`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(settings.status, 200);
    const served = (await settings.json()) as {
      uuid: string;
      checksum: string;
      settings: { env: Record<string, string>; permissions: { deny: string[] } };
    };
    assert.match(served.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.equal(served.uuid, served.checksum);
    assert.equal(settings.headers.get('etag'), `"${served.checksum}"`);
    assert.equal(served.settings.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
    assert.ok(served.settings.permissions.deny.includes('Read(./secrets/**)'));
    assert.equal(served.settings.env.OTEL_EXPORTER_OTLP_ENDPOINT, base);
    const unchanged = await fetch(`${base}/managed/settings`, {
      headers: { authorization: `Bearer ${tokens.access_token}`, 'if-none-match': `"${served.checksum}"` },
    });
    assert.equal(unchanged.status, 304);
    const weak = await fetch(`${base}/managed/settings`, {
      headers: { authorization: `Bearer ${tokens.access_token}`, 'if-none-match': `W/"${served.checksum}"` },
    });
    assert.equal(weak.status, 200, 'only the exact quoted ETag is a match');

    // Refresh: new tokens through the IdP; the spent refresh token is refused.
    const refresh = (refresh_token: string) =>
      fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token }));
    const refreshed = await refresh(tokens.refresh_token);
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as Tokens;
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    const reused = await refresh(tokens.refresh_token);
    assert.deepEqual([reused.status, await reused.json()], [401, { error: 'invalid_grant' }]);
    await sdk(next.access_token).messages.create({
      model: 'claude-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'after refresh' }],
    });

    // Sign-out as the client does it: the access token, then the refresh token.
    const signOut: Record<string, string>[] = [
      { token: next.access_token },
      { token: next.refresh_token, token_type_hint: 'refresh_token' },
    ];
    for (const body of signOut) {
      const revoked = await fetch(`${base}/oauth/revoke`, form(body));
      assert.equal(revoked.status, 200);
    }
    const refused = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${next.access_token}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-should-retry'), 'false');
    assert.deepEqual(await refused.json(), {
      type: 'error',
      error: {
        type: 'authentication_error',
        message:
          'Your Sluice sign-in was ended (signed out, or revoked by an administrator). Sign in again with /login (or `claude auth login`).',
      },
    });
    const afterSignOut = await refresh(next.refresh_token);
    assert.equal(afterSignOut.status, 401);

    // The audit records name the signed-in user; the admin log has every sign-in event.
    await gateway.stop();
    const store = await openStore('sqlite:./sluice.db', dir);
    cleanups.push(() => store.close());
    const records = await store.queryAudit({ org: 'acme' });
    const mine = records.filter((r) => r.user === 'dev@example.com' && r.status === 200);
    assert.equal(mine.length, 2, 'two requests, each recorded under the signed-in user');
    assert.ok(mine.every((r) => r.path === '/v1/messages' && r.keyId?.startsWith('ses_')));
    const events = (await store.listAdminLog()).map((e) => e.action).filter((a) => a.startsWith('signin.'));
    for (const action of ['authorize', 'verify', 'mint', 'refresh', 'denied', 'revoked', 'settings'])
      assert.ok(events.includes(`signin.${action}`), `signin.${action} in ${events.join(', ')}`);
    const log = (await store.listAdminLog()).map((e) => JSON.stringify(e)).join('\n');
    for (const secret of [tokens.access_token, tokens.refresh_token, next.refresh_token, CLIENT_SECRET])
      assert.ok(!log.includes(secret), 'no token or secret in the admin log');
    assert.ok(!gateway.stderr().includes(CLIENT_SECRET) && !gateway.stderr().includes(next.refresh_token));
  });
});
