/**
 * SCIM 2.0 provisioning (RFC 7643, RFC 7644) at `/scim/v2`: the subset Okta and Entra ID use to
 * create, read, list (`filter=userName eq "…"`), replace, patch and delete Users and Groups, and the
 * discovery documents. An IdP authenticates with a bearer token kept only as its SHA-256 and
 * compared in constant time. A user deactivated (`active: false`) or deleted ends their sign-in
 * sessions (on this gateway at once, on the others within the session cache's 5 s); SCIM groups
 * join the IdP's groups of a signed-in person. Every change enters the admin log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { recordAdmin } from '../control/admin-log.js';
import type { ScimGroupRow, ScimUserRow } from '../store/scim.js';
import type { Store } from '../store/types.js';
import { applyPatch, attr, parseFilter, ScimError, scimBoolean, type Equality } from './scim-patch.js';
import { SCIM_DISCOVERY } from './scim-schemas.js';
import type { SignInAnswer, SignInRequest } from './service.js';

export { ScimError } from './scim-patch.js';

type Json = Record<string, unknown>;

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const MAX_COUNT = 1000;
/** Attributes Sluice owns or never keeps (a password an IdP may push is dropped, never stored). */
const NOT_KEPT = new Set(['id', 'meta', 'groups', 'password', 'schemas']);

export interface ScimDeps {
  store: Store;
  /** The gateway's public URL: `meta.location` is built from it. */
  publicUrl: string;
  /** The bearer tokens the IdP may present (read from the environment or a file at start). */
  tokens: readonly string[];
  /** Ends the sign-in sessions of a person; returns how many it ended. */
  endSessions: (who: { emails: string[]; subject: string | null }, reason: string) => Promise<number>;
  clock: () => Date;
  random?: (n: number) => Buffer;
  logError?: (fields: Record<string, unknown>, msg: string) => void;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

function scimJson(status: number, body: unknown, headers: Record<string, string> = {}): SignInAnswer {
  return {
    status,
    headers: {
      'content-type': 'application/scim+json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: body === null ? '' : JSON.stringify(body),
  };
}

export function scimErrorAnswer(e: ScimError): SignInAnswer {
  const extra: Record<string, string> = e.status === 401 ? { 'www-authenticate': 'Bearer realm="scim"' } : {};
  return scimJson(e.status, e.body(), extra);
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a user resource keeps, and the columns derived from it; throws ScimError for bad input. */
export function userFields(raw: unknown): Omit<ScimUserRow, 'id' | 'createdAt' | 'updatedAt' | 'version'> {
  if (!isObject(raw)) throw new ScimError(400, 'invalidSyntax', 'The body must be a JSON object.');
  const userName = attr(raw, 'userName');
  if (typeof userName !== 'string' || !userName.trim())
    throw new ScimError(400, 'invalidValue', 'userName is required and must be a non-empty string.');
  const externalId = attr(raw, 'externalId');
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string')
    throw new ScimError(400, 'invalidValue', 'externalId must be a string.');
  const activeRaw = attr(raw, 'active');
  const active = activeRaw === undefined || activeRaw === null ? true : scimBoolean(activeRaw, 'active');
  const emails = attr(raw, 'emails');
  if (emails !== undefined && !Array.isArray(emails))
    throw new ScimError(400, 'invalidValue', 'emails must be a list of {"value": "…"} objects.');
  const list = (emails ?? []).filter(isObject);
  const primary = list.find((e) => scimTrue(attr(e, 'primary'))) ?? list[0];
  const primaryValue = primary ? attr(primary, 'value') : undefined;
  const email =
    typeof primaryValue === 'string' && primaryValue.includes('@')
      ? primaryValue
      : userName.includes('@')
        ? userName
        : null;
  const kept: Json = {};
  for (const [k, v] of Object.entries(raw)) if (!NOT_KEPT.has(k.toLowerCase())) kept[k] = v;
  kept[Object.keys(kept).find((k) => k.toLowerCase() === 'active') ?? 'active'] = active;
  return {
    userName: userName.trim(),
    externalId: typeof externalId === 'string' ? externalId : null,
    email: email ? email.toLowerCase() : null,
    active,
    resource: JSON.stringify(kept),
  };
}

const scimTrue = (v: unknown) => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

/** A group's name, externalId and member ids from a body; throws ScimError for bad input. */
export function groupFields(raw: unknown): {
  displayName: string;
  externalId: string | null;
  members: string[];
} {
  if (!isObject(raw)) throw new ScimError(400, 'invalidSyntax', 'The body must be a JSON object.');
  const displayName = attr(raw, 'displayName');
  if (typeof displayName !== 'string' || !displayName.trim())
    throw new ScimError(400, 'invalidValue', 'displayName is required and must be a non-empty string.');
  const externalId = attr(raw, 'externalId');
  const members = attr(raw, 'members') ?? [];
  if (!Array.isArray(members))
    throw new ScimError(400, 'invalidValue', 'members must be a list of {"value": "<user id>"} objects.');
  const ids = members.map((m, i) => {
    const v = isObject(m) ? attr(m, 'value') : undefined;
    if (typeof v !== 'string' || !v)
      throw new ScimError(400, 'invalidValue', `members[${i}].value must be the id of a User.`);
    return v;
  });
  return {
    displayName: displayName.trim(),
    externalId: typeof externalId === 'string' ? externalId : null,
    members: [...new Set(ids)],
  };
}

/** `startIndex` and `count` (RFC 7644 §3.4.2.4): 1-based, bounded. */
function paging(q: URLSearchParams): { offset: number; limit: number; start: number } {
  const start = Math.max(1, Math.floor(Number(q.get('startIndex') ?? '1')) || 1);
  const countRaw = q.get('count');
  const count = countRaw === null ? 100 : Math.floor(Number(countRaw));
  if (!Number.isFinite(count))
    throw new ScimError(400, 'invalidValue', `count must be a number, got "${countRaw}".`);
  return { offset: start - 1, limit: Math.min(MAX_COUNT, Math.max(0, count)), start };
}

function userQuery(eqs: Equality[]) {
  const q: { id?: string; userName?: string; externalId?: string; email?: string } = {};
  for (const e of eqs) {
    if (e.attr === 'username') q.userName = e.value;
    else if (e.attr === 'externalid') q.externalId = e.value;
    else if (e.attr === 'id') q.id = e.value;
    else if (e.attr === 'emails.value' || e.attr === 'emails') q.email = e.value;
    else
      throw new ScimError(
        400,
        'invalidFilter',
        `Users cannot be filtered by ${e.attr}: use userName, externalId, id or emails.value.`,
      );
  }
  return q;
}

function groupQuery(eqs: Equality[]) {
  const q: { id?: string; displayName?: string; externalId?: string; member?: string } = {};
  for (const e of eqs) {
    if (e.attr === 'displayname') q.displayName = e.value;
    else if (e.attr === 'externalid') q.externalId = e.value;
    else if (e.attr === 'id') q.id = e.value;
    else if (e.attr === 'members.value') q.member = e.value;
    else
      throw new ScimError(
        400,
        'invalidFilter',
        `Groups cannot be filtered by ${e.attr}: use displayName, externalId, id or members[value eq "…"].`,
      );
  }
  return q;
}

/** Drops the attributes of `excludedAttributes` (Entra ID asks for groups without `members`). */
function exclude(resource: Json, q: URLSearchParams): Json {
  const gone = (q.get('excludedAttributes') ?? '')
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a && a !== 'id' && a !== 'schemas');
  if (!gone.length) return resource;
  return Object.fromEntries(Object.entries(resource).filter(([k]) => !gone.includes(k.toLowerCase())));
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ScimError(400, 'invalidSyntax', 'The body is not valid JSON.');
  }
}

export class ScimService {
  private readonly tokens: Buffer[];
  private readonly random: (n: number) => Buffer;
  private readonly base: string;

  constructor(private readonly deps: ScimDeps) {
    this.tokens = deps.tokens.map(sha256);
    this.random = deps.random ?? randomBytes;
    this.base = `${deps.publicUrl}/scim/v2`;
  }

  /** Answers one request under `/scim/v2`; every refusal is a SCIM error body. */
  async handle(req: SignInRequest): Promise<SignInAnswer> {
    try {
      this.authenticate(req.headers.authorization);
      return await this.route(req);
    } catch (err) {
      if (err instanceof ScimError) return scimErrorAnswer(err);
      this.deps.logError?.({ err: (err as Error).message }, 'SCIM request failed');
      return scimErrorAnswer(new ScimError(500, null, 'The SCIM request could not be completed; try again.'));
    }
  }

  private authenticate(header: string | string[] | undefined): void {
    const value = Array.isArray(header) ? header[0] : header;
    const token = /^Bearer\s+(.+)$/i.exec(value ?? '')?.[1]?.trim();
    if (!token)
      throw new ScimError(401, null, 'SCIM needs Authorization: Bearer <the token of signin.scim>.');
    const d = sha256(token);
    // Every token is compared, so the time taken does not say which one came close.
    let ok = false;
    for (const t of this.tokens) ok = timingSafeEqual(t, d) || ok;
    if (!ok) throw new ScimError(401, null, 'This bearer token is not the SCIM token of this gateway.');
  }

  private route(req: SignInRequest): Promise<SignInAnswer> {
    const parts = req.path.slice('/scim/v2'.length).split('/').filter(Boolean);
    const [kind, id, ...rest] = parts;
    const m = req.method.toUpperCase();
    if (rest.length === 0 && kind && Object.hasOwn(SCIM_DISCOVERY, kind) && m === 'GET')
      return Promise.resolve(this.discovery(kind, id));
    if (rest.length === 0 && (kind === 'Users' || kind === 'Groups')) {
      const users = kind === 'Users';
      if (!id && m === 'GET') return users ? this.listUsers(req.query) : this.listGroups(req.query);
      if (!id && m === 'POST') return users ? this.createUser(req.body) : this.createGroup(req.body);
      if (id && m === 'GET') return users ? this.getUser(id, req.query) : this.getGroup(id, req.query);
      if (id && (m === 'PUT' || m === 'PATCH'))
        return users ? this.changeUser(id, m, req.body) : this.changeGroup(id, m, req.body);
      if (id && m === 'DELETE') return users ? this.deleteUser(id) : this.deleteGroup(id);
    }
    throw new ScimError(404, null, `SCIM has no ${m} ${req.path} here.`);
  }

  private discovery(kind: string, id: string | undefined): SignInAnswer {
    const doc = SCIM_DISCOVERY[kind]!(this.base);
    if (!id) return scimJson(200, doc);
    const one = (doc.Resources as Json[] | undefined)?.find((r) => r.id === id || r.name === id);
    if (!one) throw new ScimError(404, null, `No ${kind} ${id}.`);
    return scimJson(200, one);
  }

  private event(action: string, target: string, details: Json): Promise<void> {
    return recordAdmin(this.deps.store, this.deps.clock(), 'scim', action, target, details).then(
      () => undefined,
      (err: Error) =>
        this.deps.logError?.({ err: err.message, action }, 'SCIM change not written to the admin log'),
    );
  }

  private newId(): string {
    return this.random(16).toString('hex');
  }

  private meta(
    type: 'User' | 'Group',
    id: string,
    row: { createdAt: string; updatedAt: string; version: number },
  ) {
    return {
      resourceType: type,
      created: row.createdAt,
      lastModified: row.updatedAt,
      location: `${this.base}/${type}s/${id}`,
      version: `W/"${row.version}"`,
    };
  }

  private async userResource(row: ScimUserRow): Promise<Json> {
    const kept = JSON.parse(row.resource) as Json;
    const schemas = [USER_SCHEMA, ...Object.keys(kept).filter((k) => k.startsWith('urn:'))];
    const groups = (await this.deps.store.scim.groupsOf(row.id)).map((g) => ({
      value: g.id,
      display: g.displayName,
      $ref: `${this.base}/Groups/${g.id}`,
    }));
    return { schemas, id: row.id, ...kept, groups, meta: this.meta('User', row.id, row) };
  }

  private async groupResource(row: ScimGroupRow): Promise<Json> {
    const members = (await this.deps.store.scim.members(row.id)).map((id) => ({
      value: id,
      $ref: `${this.base}/Users/${id}`,
    }));
    return {
      schemas: [GROUP_SCHEMA],
      id: row.id,
      displayName: row.displayName,
      ...(row.externalId !== null ? { externalId: row.externalId } : {}),
      members,
      meta: this.meta('Group', row.id, row),
    };
  }

  private async list(
    q: URLSearchParams,
    fetch: (offset: number, limit: number) => Promise<{ total: number; rows: Json[] }>,
  ): Promise<SignInAnswer> {
    const { offset, limit, start } = paging(q);
    const { total, rows } = await fetch(offset, limit);
    return scimJson(200, {
      schemas: [LIST_SCHEMA],
      totalResults: total,
      startIndex: start,
      itemsPerPage: rows.length,
      Resources: rows.map((r) => exclude(r, q)),
    });
  }

  private listUsers(q: URLSearchParams): Promise<SignInAnswer> {
    const filter = q.get('filter');
    const query = filter ? userQuery(parseFilter(filter)) : {};
    return this.list(q, async (offset, limit) => {
      const found = await this.deps.store.scim.listUsers(query, offset, limit);
      return { total: found.total, rows: await Promise.all(found.rows.map((r) => this.userResource(r))) };
    });
  }

  private listGroups(q: URLSearchParams): Promise<SignInAnswer> {
    const filter = q.get('filter');
    const query = filter ? groupQuery(parseFilter(filter)) : {};
    return this.list(q, async (offset, limit) => {
      const found = await this.deps.store.scim.listGroups(query, offset, limit);
      return { total: found.total, rows: await Promise.all(found.rows.map((r) => this.groupResource(r))) };
    });
  }

  private async user(id: string): Promise<ScimUserRow> {
    const row = await this.deps.store.scim.getUser(id);
    if (!row) throw new ScimError(404, null, `No User with id ${id}.`);
    return row;
  }

  private async group(id: string): Promise<ScimGroupRow> {
    const row = await this.deps.store.scim.getGroup(id);
    if (!row) throw new ScimError(404, null, `No Group with id ${id}.`);
    return row;
  }

  private async getUser(id: string, q: URLSearchParams): Promise<SignInAnswer> {
    const row = await this.user(id);
    return scimJson(200, exclude(await this.userResource(row), q), { etag: `W/"${row.version}"` });
  }

  private async getGroup(id: string, q: URLSearchParams): Promise<SignInAnswer> {
    const row = await this.group(id);
    return scimJson(200, exclude(await this.groupResource(row), q), { etag: `W/"${row.version}"` });
  }

  private async createUser(body: Buffer): Promise<SignInAnswer> {
    const fields = userFields(parseBody(body));
    const at = this.deps.clock().toISOString();
    const row: ScimUserRow = { id: this.newId(), ...fields, createdAt: at, updatedAt: at, version: 1 };
    if (!(await this.deps.store.scim.insertUser(row)))
      throw new ScimError(409, 'uniqueness', `A User with userName "${fields.userName}" exists already.`);
    await this.event('scim.user.created', row.id, {
      userName: row.userName,
      ...(row.externalId ? { externalId: row.externalId } : {}),
      active: row.active,
    });
    const resource = await this.userResource(row);
    return scimJson(201, resource, { location: `${this.base}/Users/${row.id}`, etag: `W/"1"` });
  }

  /** PUT (replace) or PATCH (operations) a user; a user turned inactive is signed out everywhere. */
  private async changeUser(id: string, method: 'PUT' | 'PATCH', body: Buffer): Promise<SignInAnswer> {
    const before = await this.user(id);
    const raw = parseBody(body);
    const next = userFields(method === 'PUT' ? raw : applyPatch(JSON.parse(before.resource) as Json, raw));
    const updatedAt = this.deps.clock().toISOString();
    const done = await this.deps.store.scim.updateUser({ id, ...next, updatedAt });
    if (done === 'missing') throw new ScimError(404, null, `No User with id ${id}.`);
    if (done === 'conflict')
      throw new ScimError(409, 'uniqueness', `A User with userName "${next.userName}" exists already.`);
    const ended = before.active && !next.active ? await this.endSessionsOf(before, 'deactivated by SCIM') : 0;
    await this.event(next.active ? 'scim.user.updated' : 'scim.user.deactivated', id, {
      userName: next.userName,
      via: method,
      active: next.active,
      ...(before.active !== next.active ? { wasActive: before.active } : {}),
      ...(ended ? { sessionsEnded: ended } : {}),
    });
    const row = await this.user(id);
    return scimJson(200, await this.userResource(row), { etag: `W/"${row.version}"` });
  }

  private endSessionsOf(row: ScimUserRow, reason: string): Promise<number> {
    const emails = [row.userName, ...(row.email ? [row.email] : [])].filter((e) => e.includes('@'));
    return this.deps.endSessions({ emails, subject: row.externalId }, reason);
  }

  private async deleteUser(id: string): Promise<SignInAnswer> {
    const row = await this.user(id);
    const ended = await this.endSessionsOf(row, 'deleted by SCIM');
    if (!(await this.deps.store.scim.deleteUser(id)))
      throw new ScimError(404, null, `No User with id ${id}.`);
    await this.event('scim.user.deleted', id, {
      userName: row.userName,
      ...(ended ? { sessionsEnded: ended } : {}),
    });
    return scimJson(204, null);
  }

  private async checkMembers(ids: readonly string[]): Promise<void> {
    const found = new Set(await this.deps.store.scim.existingUsers(ids));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw new ScimError(400, 'invalidValue', `members: no User with id ${missing.join(', ')}.`);
  }

  private async createGroup(body: Buffer): Promise<SignInAnswer> {
    const fields = groupFields(parseBody(body));
    await this.checkMembers(fields.members);
    const at = this.deps.clock().toISOString();
    const row: ScimGroupRow = {
      id: this.newId(),
      displayName: fields.displayName,
      externalId: fields.externalId,
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    if (!(await this.deps.store.scim.insertGroup(row)))
      throw new ScimError(409, 'uniqueness', `A Group named "${fields.displayName}" exists already.`);
    await this.deps.store.scim.setMembers(row.id, fields.members, []);
    await this.event('scim.group.created', row.id, {
      displayName: row.displayName,
      members: fields.members,
    });
    return scimJson(201, await this.groupResource(row), { location: `${this.base}/Groups/${row.id}` });
  }

  private async changeGroup(id: string, method: 'PUT' | 'PATCH', body: Buffer): Promise<SignInAnswer> {
    const before = await this.group(id);
    const current = await this.deps.store.scim.members(id);
    const raw = parseBody(body);
    const now: Json = {
      displayName: before.displayName,
      ...(before.externalId !== null ? { externalId: before.externalId } : {}),
      members: current.map((value) => ({ value })),
    };
    const next = groupFields(method === 'PUT' ? raw : applyPatch(now, raw));
    const add = next.members.filter((m) => !current.includes(m));
    const remove = current.filter((m) => !next.members.includes(m));
    await this.checkMembers(add);
    const done = await this.deps.store.scim.updateGroup({
      id,
      displayName: next.displayName,
      externalId: next.externalId,
      updatedAt: this.deps.clock().toISOString(),
    });
    if (done === 'missing') throw new ScimError(404, null, `No Group with id ${id}.`);
    if (done === 'conflict')
      throw new ScimError(409, 'uniqueness', `A Group named "${next.displayName}" exists already.`);
    await this.deps.store.scim.setMembers(id, add, remove);
    await this.event('scim.group.updated', id, {
      displayName: next.displayName,
      via: method,
      ...(add.length ? { added: add } : {}),
      ...(remove.length ? { removed: remove } : {}),
    });
    // Okta and Entra ID accept 204 to a PATCH; the resource is what RFC 7644 prefers.
    return scimJson(200, await this.groupResource(await this.group(id)));
  }

  private async deleteGroup(id: string): Promise<SignInAnswer> {
    const row = await this.group(id);
    if (!(await this.deps.store.scim.deleteGroup(id)))
      throw new ScimError(404, null, `No Group with id ${id}.`);
    await this.event('scim.group.deleted', id, { displayName: row.displayName });
    return scimJson(204, null);
  }
}
