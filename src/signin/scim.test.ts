import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signinSchema } from '../control/signin-config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { SignInService, type SignInAnswer } from './service.js';
import { SigningKeys } from './tokens.js';

const KEY = 'scim-test-signing-key-0123456789abcdef';
const TOKEN = 'scim-token-0123456789abcdef0123456789';
const BASE = 'http://127.0.0.1:8787';
const config = signinSchema.parse({
  publicUrl: BASE,
  issuer: 'http://127.0.0.1:1',
  clientId: 'sluice',
  clientSecretEnv: 'S',
  signingKeys: ['k'],
  map: [{ groups: ['engineers'], org: 'acme' }],
  scim: { tokenEnv: 'SCIM' },
});
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function world() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scim-'));
  dirs.push(dir);
  const store = await openStore(`sqlite:${join(dir, 's.db')}`, dir);
  let now = new Date('2026-12-01T10:00:00Z');
  let n = 0;
  const service = new SignInService({
    config,
    store,
    clientSecret: 'x',
    signingKeys: [KEY],
    settings: [],
    clock: () => now,
    // Ids and codes the test can predict: 00…01, 00…02, …
    random: (size) => {
      const b = Buffer.alloc(size);
      b.writeUInt32BE(++n, size - 4);
      return b;
    },
    scimTokens: [TOKEN],
  });
  const call = async (method: string, path: string, body?: unknown, token = TOKEN): Promise<Answer> => {
    const [p, q] = path.split('?');
    const a = await service.scim!.handle({
      method,
      path: `/scim/v2${p}`,
      query: new URLSearchParams(q ?? ''),
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: Buffer.from(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body)),
      clientIp: '127.0.0.1',
    });
    return { ...a, json: a.body ? (JSON.parse(a.body) as Record<string, unknown>) : null };
  };
  return {
    store,
    service,
    call,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    now: () => now,
  };
}

type Answer = SignInAnswer & { json: Record<string, unknown> | null };

/** A live sign-in session for `email` and its access token. */
async function signedIn(store: Store, email: string, now: Date, groups = ['engineers']) {
  const session = {
    id: `ses_${randomBytes(4).toString('hex')}`,
    org: 'acme',
    subject: `sub-${email}`,
    email,
    name: null,
    groups,
    role: 'member' as const,
  };
  await store.signin.insertSession({
    ...session,
    refreshHash: randomBytes(32).toString('hex'),
    createdAt: now.toISOString(),
    refreshedAt: null,
    expiresAt: '2027-01-01T00:00:00.000Z',
    revokedAt: null,
  });
  const access = await new SigningKeys([KEY]).mint({ ...session, sessionId: session.id }, BASE, now, 3600);
  return { id: session.id, access };
}

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const oktaUser = (userName: string) => ({
  schemas: [USER],
  userName,
  name: { givenName: 'Dev', familyName: 'Eloper' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Dev Eloper',
  locale: 'en-US',
  externalId: '00u1abcd',
  groups: [],
  password: 'never-stored-Passw0rd',
  active: true,
});

describe('SCIM 2.0 provisioning', () => {
  it("serves Okta's calls: create, filter by userName, get, deactivate by PATCH, which signs the user out", async () => {
    const w = await world();
    const s = await signedIn(w.store, 'Dev@Example.com', w.now());
    assert.equal((await w.service.verify(s.access)).ok, true);
    const missing = await w.call(
      'GET',
      '/Users?filter=userName%20eq%20%22dev%40example.com%22&startIndex=1&count=100',
    );
    assert.deepEqual(missing.json, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
    const created = await w.call('POST', '/Users', oktaUser('dev@example.com'));
    assert.equal(created.status, 201, created.body);
    const id = String(created.json!.id);
    assert.equal(created.headers.location, `${BASE}/scim/v2/Users/${id}`);
    assert.equal(created.headers['content-type'], 'application/scim+json; charset=utf-8');
    assert.deepEqual(created.json, {
      schemas: [USER],
      id,
      userName: 'dev@example.com',
      name: { givenName: 'Dev', familyName: 'Eloper' },
      emails: [{ primary: true, value: 'dev@example.com', type: 'work' }],
      displayName: 'Dev Eloper',
      locale: 'en-US',
      externalId: '00u1abcd',
      active: true,
      groups: [],
      meta: {
        resourceType: 'User',
        created: '2026-12-01T10:00:00.000Z',
        lastModified: '2026-12-01T10:00:00.000Z',
        location: `${BASE}/scim/v2/Users/${id}`,
        version: 'W/"1"',
      },
    });
    assert.doesNotMatch(
      JSON.stringify(await w.store.scim.getUser(id)),
      /Passw0rd/,
      'a password is never kept',
    );
    const found = await w.call('GET', '/Users?filter=userName%20eq%20%22DEV%40example.com%22');
    assert.deepEqual([found.json!.totalResults, (found.json!.Resources as { id: string }[])[0]!.id], [1, id]);
    assert.equal((await w.call('GET', `/Users/${id}`)).json!.userName, 'dev@example.com');

    w.advance(1000);
    const off = await w.call('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    assert.equal(off.status, 200, off.body);
    assert.deepEqual([off.json!.active, (off.json!.meta as { version: string }).version], [false, 'W/"2"']);
    assert.deepEqual(await w.service.verify(s.access), { ok: false, reason: 'revoked' });
    assert.notEqual((await w.store.signin.getSession(s.id))?.revokedAt, null);
    const log = (await w.store.listAdminLog()).map((e) => [e.actor, e.action, e.target, e.details]);
    assert.deepEqual(log, [
      [
        'scim',
        'scim.user.created',
        id,
        { userName: 'dev@example.com', externalId: '00u1abcd', active: true },
      ],
      ['scim', 'signin.revoked', s.id, { by: 'scim', reason: 'deactivated by SCIM' }],
      [
        'scim',
        'scim.user.deactivated',
        id,
        { userName: 'dev@example.com', via: 'PATCH', active: false, wasActive: true, sessionsEnded: 1 },
      ],
    ]);
    await w.store.close();
  });

  it("serves Entra ID's calls: string booleans, capitalised ops, paths with filters, groups by value list", async () => {
    const w = await world();
    const s = await signedIn(w.store, 'ann@example.com', w.now(), []);
    const user = await w.call('POST', '/Users', {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: 'ann',
      userName: 'ann@example.com',
      active: 'True',
      emails: [{ primary: true, type: 'work', value: 'ann@example.com' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' },
    });
    assert.equal(user.status, 201, user.body);
    const id = String(user.json!.id);
    const patched = await w.call('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'name.familyName', value: 'Smith' },
        { op: 'Add', path: 'emails[type eq "home"].value', value: 'ann@home.example' },
        {
          op: 'Replace',
          path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
          value: 'Ops',
        },
      ],
    });
    assert.equal(patched.status, 200, patched.body);
    assert.deepEqual(
      [
        patched.json!.name,
        patched.json!.emails,
        patched.json!['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      ],
      [
        { familyName: 'Smith' },
        [
          { primary: true, type: 'work', value: 'ann@example.com' },
          { type: 'home', value: 'ann@home.example' },
        ],
        { department: 'Ops' },
      ],
    );
    const group = await w.call('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'engineers',
      members: [],
    });
    assert.equal(group.status, 201, group.body);
    const gid = String(group.json!.id);
    const add = await w.call('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }],
    });
    assert.deepEqual(add.json!.members, [{ value: id, $ref: `${BASE}/scim/v2/Users/${id}` }]);
    const v = await w.service.verify(s.access);
    assert.deepEqual(v.ok && v.who.groups, ['engineers'], "SCIM's group joins the person's groups");
    const byMember = await w.call(
      'GET',
      `/Groups?filter=${encodeURIComponent(`id eq "${gid}" and members[value eq "${id}"]`)}&excludedAttributes=members`,
    );
    assert.deepEqual(
      [byMember.json!.totalResults, 'members' in (byMember.json!.Resources as object[])[0]!],
      [1, false],
    );
    const userGroups = (await w.call('GET', `/Users/${id}`)).json!.groups;
    assert.deepEqual(userGroups, [
      { value: gid, display: 'engineers', $ref: `${BASE}/scim/v2/Groups/${gid}` },
    ]);
    await w.call('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: id }] }],
    });
    w.advance(5_001);
    const after = await w.service.verify(s.access);
    assert.deepEqual(after.ok && after.who.groups, [], 'out of the group within the session cache time');
    const off = await w.call('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    assert.deepEqual([off.status, off.json!.active], [200, false]);
    assert.deepEqual(await w.service.verify(s.access), { ok: false, reason: 'revoked' });
    const removed = await w.call('DELETE', `/Groups/${gid}`);
    assert.deepEqual([removed.status, removed.body], [204, '']);
    await w.store.close();
  });

  it('replaces with PUT, removes a member by path filter (Okta), deletes a user and signs them out', async () => {
    const w = await world();
    const s = await signedIn(w.store, 'bob@example.com', w.now());
    const id = String((await w.call('POST', '/Users', oktaUser('bob@example.com'))).json!.id);
    const gid = String(
      (await w.call('POST', '/Groups', { displayName: 'oncall', members: [{ value: id }] })).json!.id,
    );
    const put = await w.call('PUT', `/Users/${id}`, { ...oktaUser('bob@example.com'), displayName: 'Bob' });
    assert.deepEqual([put.status, put.json!.displayName], [200, 'Bob']);
    const renamed = await w.call('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', value: { id: gid, displayName: 'on-call' } },
        { op: 'remove', path: `members[value eq "${id}"]` },
      ],
    });
    assert.deepEqual([renamed.json!.displayName, renamed.json!.members], ['on-call', []]);
    const gone = await w.call('DELETE', `/Users/${id}`);
    assert.equal(gone.status, 204);
    assert.deepEqual(await w.service.verify(s.access), { ok: false, reason: 'revoked' });
    assert.equal((await w.call('GET', `/Users/${id}`)).status, 404);
    const actions = (await w.store.listAdminLog()).map((e) => e.action);
    assert.deepEqual(actions, [
      'scim.user.created',
      'scim.group.created',
      'scim.user.updated',
      'scim.group.updated',
      'signin.revoked',
      'scim.user.deleted',
    ]);
    await w.store.close();
  });

  it('answers bad input with the exact SCIM error body', async () => {
    const w = await world();
    const error = (status: number, detail: string, scimType?: string) => ({
      schemas: [ERROR],
      status: String(status),
      ...(scimType ? { scimType } : {}),
      detail,
    });
    const cases: [string, string, unknown, Record<string, unknown>, string?][] = [
      [
        'GET',
        '/Users',
        undefined,
        error(401, 'SCIM needs Authorization: Bearer <the token of signin.scim>.'),
        '',
      ],
      [
        'GET',
        '/Users',
        undefined,
        error(401, 'This bearer token is not the SCIM token of this gateway.'),
        'x'.repeat(40),
      ],
      ['POST', '/Users', '{"userName": ', error(400, 'The body is not valid JSON.', 'invalidSyntax')],
      [
        'POST',
        '/Users',
        { name: {} },
        error(400, 'userName is required and must be a non-empty string.', 'invalidValue'),
      ],
      [
        'POST',
        '/Users',
        { userName: 'a@example.com', active: 'maybe' },
        error(400, 'active must be true or false, got "maybe".', 'invalidValue'),
      ],
      [
        'GET',
        '/Users?filter=userName%20sw%20%22a%22',
        undefined,
        error(
          400,
          'The filter "userName sw "a"" is not supported: use attribute eq "value", joined by and.',
          'invalidFilter',
        ),
      ],
      [
        'GET',
        '/Users?filter=title%20eq%20%22a%22',
        undefined,
        error(
          400,
          'Users cannot be filtered by title: use userName, externalId, id or emails.value.',
          'invalidFilter',
        ),
      ],
      ['GET', '/Users/nope', undefined, error(404, 'No User with id nope.')],
      ['DELETE', '/Groups/nope', undefined, error(404, 'No Group with id nope.')],
      ['GET', '/Widgets', undefined, error(404, 'SCIM has no GET /scim/v2/Widgets here.')],
      [
        'POST',
        '/Groups',
        { displayName: 'g', members: [{ value: 'ghost' }] },
        error(400, 'members: no User with id ghost.', 'invalidValue'),
      ],
    ];
    for (const [method, path, body, want, token] of cases) {
      const a = await w.call(method, path, body, token ?? TOKEN);
      assert.deepEqual([a.status, a.json], [Number(want.status), want], `${method} ${path}`);
    }
    assert.equal(
      (await w.call('GET', '/Users', undefined, '')).headers['www-authenticate'],
      'Bearer realm="scim"',
    );
    const id = String((await w.call('POST', '/Users', { userName: 'a@example.com' })).json!.id);
    const dup = await w.call('POST', '/Users', { userName: 'A@example.com' });
    assert.deepEqual(
      [dup.status, dup.json],
      [409, error(409, 'A User with userName "A@example.com" exists already.', 'uniqueness')],
    );
    const patches: [unknown, Record<string, unknown>][] = [
      [
        { Operations: [] },
        error(400, 'schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp.', 'invalidSyntax'),
      ],
      [
        { schemas: [PATCH], Operations: [] },
        error(400, 'Operations must be a non-empty list.', 'invalidSyntax'),
      ],
      [
        { schemas: [PATCH], Operations: [{ op: 'move', path: 'active' }] },
        error(400, 'Operations[0].op must be add, replace or remove, got "move".', 'invalidSyntax'),
      ],
      [
        { schemas: [PATCH], Operations: [{ op: 'remove' }] },
        error(400, 'Operations[0]: remove needs a path.', 'noTarget'),
      ],
      [
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'a b', value: 1 }] },
        error(400, 'The path "a b" is not one this server understands.', 'invalidPath'),
      ],
    ];
    for (const [body, want] of patches) {
      const a = await w.call('PATCH', `/Users/${id}`, body);
      assert.deepEqual([a.status, a.json], [400, want], JSON.stringify(body));
    }
    await w.store.close();
  });

  it('serves the discovery documents', async () => {
    const w = await world();
    const spc = await w.call('GET', '/ServiceProviderConfig');
    assert.deepEqual(
      [spc.status, spc.json!.patch as object, (spc.json!.bulk as { supported: boolean }).supported],
      [200, { supported: true }, false],
    );
    const types = await w.call('GET', '/ResourceTypes');
    assert.deepEqual(
      (types.json!.Resources as { id: string; endpoint: string }[]).map((r) => [r.id, r.endpoint]),
      [
        ['User', '/Users'],
        ['Group', '/Groups'],
      ],
    );
    const schema = await w.call('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    assert.equal(schema.json!.name, 'User');
    await w.store.close();
  });
});
