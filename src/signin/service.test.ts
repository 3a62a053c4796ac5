import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { signinSchema } from '../control/signin-config.js';
import { openStore } from '../store/index.js';
import { PostgresStore } from '../store/postgres.js';
import { testSchema, TEST_POSTGRES_URL } from '../store/testing/postgres.js';
import type { Store } from '../store/types.js';
import { SignInService, type SignInRequest } from './service.js';
import { refreshToken, sha256Hex, SigningKeys } from './tokens.js';

const KEY = 'service-test-signing-key-0123456789abcdef';
const config = signinSchema.parse({
  publicUrl: 'http://127.0.0.1:8787',
  issuer: 'http://127.0.0.1:1',
  clientId: 'sluice',
  clientSecretEnv: 'S',
  signingKeys: ['k'],
  map: [{ groups: ['engineers'], org: 'acme' }],
});
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const pgUrl = TEST_POSTGRES_URL;
const schemaMade = await testSchema('sluice_signin', 'the two-gateway sign-in test on PostgreSQL');
const pgUp = schemaMade !== null;
const pgSchema = schemaMade ?? '';

/** One SQLite file, or two PostgreSQL connections (as two gateway processes have) on one schema. */
async function stores(kind: 'sqlite' | 'postgres'): Promise<[Store, Store]> {
  if (kind === 'postgres') {
    const [a, b] = [0, 1].map(() => new PostgresStore({ connectionString: pgUrl, schema: pgSchema }));
    await a!.migrate();
    return [a!, b!];
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-signin-svc-'));
  dirs.push(dir);
  const store = await openStore(`sqlite:${join(dir, 's.db')}`, dir);
  return [store, store];
}

/** Two gateways' services on one store, each with its own clock a test moves. */
async function twoGateways(kind: 'sqlite' | 'postgres' = 'sqlite') {
  const [store, other] = await stores(kind);
  let now = new Date('2026-12-01T10:00:00Z');
  const clock = () => now;
  const make = (on: Store) =>
    new SignInService({ config, store: on, clientSecret: 'x', signingKeys: [KEY], settings: [], clock });
  const session = {
    id: `ses_${randomBytes(4).toString('hex')}`,
    org: 'acme',
    subject: 'dev',
    email: 'dev@example.com',
    name: null,
    groups: ['engineers'],
    role: 'member' as const,
  };
  const refresh = refreshToken(null);
  await store.signin.insertSession({
    ...session,
    refreshHash: sha256Hex(refresh),
    createdAt: now.toISOString(),
    refreshedAt: null,
    expiresAt: '2027-01-01T00:00:00.000Z',
    revokedAt: null,
  });
  const access = await new SigningKeys([KEY]).mint(
    { ...session, sessionId: session.id },
    config.publicUrl,
    now,
    3600,
  );
  return {
    store,
    session: session.id,
    a: make(store),
    b: make(other),
    access,
    refresh,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    close: async () => {
      await store.close();
      if (other !== store) await other.close();
    },
  };
}

const post = (path: string, body: Record<string, string>): SignInRequest => ({
  method: 'POST',
  path,
  query: new URLSearchParams(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: Buffer.from(new URLSearchParams(body).toString()),
  clientIp: '127.0.0.1',
});

describe('sign-in service', () => {
  for (const kind of ['sqlite', 'postgres'] as const)
    it(
      `a session revoked on one gateway is refused there at once, and on another within 5 s (${kind})`,
      {
        skip: kind === 'postgres' && !pgUp,
      },
      async () => {
        const g = await twoGateways(kind);
        assert.equal((await g.b.verify(g.access)).ok, true, 'gateway b caches a live session');
        assert.equal((await g.a.handle(post('/oauth/revoke', { token: g.access }))).status, 200);
        assert.deepEqual(await g.a.verify(g.access), { ok: false, reason: 'revoked' });
        assert.equal((await g.b.verify(g.access)).ok, true, 'b trusts its cache for up to 5 s');
        g.advance(5_001);
        assert.deepEqual(await g.b.verify(g.access), { ok: false, reason: 'revoked' });
        const events = (await g.store.listAdminLog()).map((e) => [e.action, e.actor, e.target]);
        assert.deepEqual(events.at(-1), ['signin.revoked', 'signin:dev@example.com', g.session]);
        await g.close();
      },
    );

  it('refreshes without an IdP refresh token: rotation, reuse refused, expired access tokens refused', async () => {
    const g = await twoGateways();
    const first = await g.a.handle(
      post('/oauth/token', { grant_type: 'refresh_token', refresh_token: g.refresh }),
    );
    assert.equal(first.status, 200, first.body);
    const tokens = JSON.parse(first.body) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
    };
    assert.equal(tokens.expires_in, 3600);
    const reuse = await g.b.handle(
      post('/oauth/token', { grant_type: 'refresh_token', refresh_token: g.refresh }),
    );
    assert.deepEqual([reuse.status, JSON.parse(reuse.body)], [401, { error: 'invalid_grant' }]);
    assert.equal((await g.b.verify(tokens.access_token)).ok, true);
    g.advance(3_601_000);
    assert.deepEqual(await g.b.verify(tokens.access_token), { ok: false, reason: 'expired' });
    const bad = await g.a.handle({
      ...post('/oauth/token', {}),
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual([bad.status, JSON.parse(bad.body).error], [400, 'invalid_request']);
    await g.close();
  });

  it('answers 503 temporarily_unavailable when the IdP cannot be asked, and keeps the session', async () => {
    const g = await twoGateways();
    const withIdp = refreshToken('idp-refresh-token');
    await g.store.signin.rotateRefresh(g.session, sha256Hex(g.refresh), {
      refreshHash: sha256Hex(withIdp),
      at: '2026-12-01T10:00:00.000Z',
      expiresAt: '2027-01-01T00:00:00.000Z',
      groups: ['engineers'],
      email: 'dev@example.com',
    });
    // signin.issuer is 127.0.0.1:1, where nothing listens.
    const down = await g.a.handle(
      post('/oauth/token', { grant_type: 'refresh_token', refresh_token: withIdp }),
    );
    assert.deepEqual([down.status, JSON.parse(down.body)], [503, { error: 'temporarily_unavailable' }]);
    assert.equal(
      (await g.store.signin.getSession(g.session))?.revokedAt,
      null,
      'a transient failure ends nothing',
    );
    assert.equal((await g.a.verify(g.access)).ok, true);
    await g.close();
  });
});
