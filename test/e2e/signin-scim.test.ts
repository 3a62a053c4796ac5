/**
 * SCIM deprovisioning end to end: two `sluice serve` processes sharing one PostgreSQL schema, a
 * real OpenID provider, and a person signed in through the device flow. The IdP's SCIM client
 * deactivates the person on one gateway; the other refuses their access token within seconds.
 * SCIM groups reach the person's requests (a group's model list applies).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { freePort, startTestIdp } from '../../src/signin/testing/idp.js';
import { quoteIdent } from '../../src/store/postgres.js';
import { cleanEnv, serve } from './processes.js';
import { deviceSignIn } from './signin-device.js';

const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sluice_scim_${randomBytes(6).toString('hex')}`;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function createSchema(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await c.end();
    });
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const up = await createSchema();
if (!up) {
  const line = `PostgreSQL not reachable at ${new URL(url).host}: the two-gateway SCIM test SKIPPED`;
  if (process.env.SLUICE_REQUIRE_POSTGRES === '1')
    it('PostgreSQL is required here (SLUICE_REQUIRE_POSTGRES=1)', () => assert.fail(line));
  else process.stderr.write(`\n!!! ${line} !!!\n\n`);
}

/** Two gateways on one store; A's port is the public URL both sign tokens for. */
async function twoGateways() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scim-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const clientSecret = randomBytes(16).toString('hex');
  const scimToken = randomBytes(24).toString('base64url');
  const standin = await startStandin('sk-ant-upstream-scim');
  cleanups.push(() => standin.close());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const idp = await startTestIdp({
    clientId: 'sluice',
    clientSecret,
    redirectUri: `${base}/oauth/callback`,
    users: { dev: { email: 'dev@example.com', name: 'Dev Eloper', groups: ['engineers'] } },
  });
  cleanups.push(() => idp.close());
  await writeFile(join(dir, 'signing.key'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  const storage = `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const config = (p: number) => `storage: "${storage}"
server: { host: 127.0.0.1, port: ${p} }
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: sk-ant-upstream-scim }
orgs:
  acme:
    upstream: anthropic
    groups:
      contractors: { models: [claude-haiku-test] }
signin:
  publicUrl: ${base}
  issuer: ${idp.issuer}
  clientId: sluice
  clientSecretEnv: SLUICE_OIDC_SECRET
  scopes: [openid, profile, email, offline_access, groups]
  map:
    - { groups: [engineers], org: acme }
  signingKeys: [./signing.key]
  scim: { tokenEnv: SLUICE_SCIM_TOKEN }
`;
  await writeFile(join(dir, 'a.yaml'), config(port));
  await writeFile(join(dir, 'b.yaml'), config(0));
  const env = cleanEnv({ SLUICE_OIDC_SECRET: clientSecret, SLUICE_SCIM_TOKEN: scimToken });
  const a = await serve(dir, ['--config', 'a.yaml'], env);
  cleanups.push(() => a.stop());
  const b = await serve(dir, ['--config', 'b.yaml'], env);
  cleanups.push(() => b.stop());
  return { base, a: a.url, b: b.url, scimToken };
}

const messages = (gateway: string, token: string, model = 'claude-test') =>
  fetch(`${gateway}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
  });

/** Polls `check` until it holds; fails after `ms` with what it last saw. */
async function within<T>(ms: number, probe: () => Promise<T>, holds: (t: T) => boolean): Promise<number> {
  const start = Date.now();
  let last: T;
  do {
    last = await probe();
    if (holds(last)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() - start < ms);
  assert.fail(`still not so after ${ms} ms: ${JSON.stringify(last)}`);
}

describe('SCIM on two gateways sharing PostgreSQL', { skip: !up }, () => {
  it('a SCIM group reaches the signed-in person, and a SCIM deactivation cuts them off on the other gateway', async () => {
    const g = await twoGateways();
    const scim = (gateway: string, method: string, path: string, body?: unknown) =>
      fetch(`${gateway}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${g.scimToken}`, 'content-type': 'application/scim+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await scim(g.a, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'dev@example.com',
      emails: [{ primary: true, value: 'dev@example.com' }],
      active: true,
    });
    assert.equal(created.status, 201);
    const userId = String(((await created.json()) as { id: string }).id);

    const tokens = await deviceSignIn(g.base, 'dev');
    assert.equal((await messages(g.b, tokens.access_token)).status, 200, 'signed in, served by B');

    // Into the org's group `contractors`, whose model list leaves out claude-test (Sluice answers that 429).
    const group = await scim(g.b, 'POST', '/Groups', {
      displayName: 'contractors',
      members: [{ value: userId }],
    });
    assert.equal(group.status, 201);
    const tookGroup = await within(
      8_000,
      () => messages(g.a, tokens.access_token).then(async (r) => `${r.status} ${await r.text()}`),
      (s) => s.startsWith('429') && s.includes('group \\"contractors\\" of org'),
    );

    // B has just read the session as live: what ends it there is the 5 s session cache running out.
    assert.equal((await messages(g.b, tokens.access_token, 'claude-haiku-test')).status, 200);
    const off = await scim(g.a, 'PATCH', `/Users/${userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    assert.equal(off.status, 200);
    const onA = await messages(g.a, tokens.access_token, 'claude-haiku-test');
    assert.deepEqual([onA.status, onA.headers.get('x-should-retry')], [401, 'false'], 'at once on A');
    const cutOff = await within(
      8_000,
      () => messages(g.b, tokens.access_token, 'claude-haiku-test').then((r) => r.status),
      (s) => s === 401,
    );
    // The session cache's 5 s, plus one request's time on a busy machine.
    assert.ok(cutOff <= 6_000, `B refused the token after ${cutOff} ms`);
    const refresh = await fetch(`${g.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    });
    assert.deepEqual([refresh.status, await refresh.json()], [401, { error: 'invalid_grant' }]);
    await assert.rejects(deviceSignIn(g.base, 'dev'), /deactivated by SCIM provisioning/);
    process.stderr.write(`SCIM group applied after ${tookGroup} ms; B cut off after ${cutOff} ms\n`);
  });
});
