/**
 * The admin API's logic (the gateway routes /admin/v1/* here). Callers present
 * `Authorization: Bearer <token>`: a config admin token (role admin over every org) or a Sluice
 * key, whose role applies within its own org only: `admin` reads and manages keys, `auditor` reads,
 * `member` reads its own records, usage and keys. A caller never sees another org: every route
 * names its org and is checked. Bodies and query strings are declared schemas; every refusal is a
 * catalog error.
 *
 *   GET    /admin/v1/orgs
 *   GET    /admin/v1/orgs/:org/keys
 *   POST   /admin/v1/orgs/:org/keys          {"user": "...", "role": "member|auditor|admin"}
 *   DELETE /admin/v1/orgs/:org/keys/:id
 *   GET    /admin/v1/orgs/:org/records?since=&user=&limit=&cursor=   (cursor: the last page's `next`)
 *   GET    /admin/v1/orgs/:org/usage?since=&by=user|model
 *   GET    /admin/v1/orgs/:org/egress?since=&limit=   (auditor: the egress proxy's records)
 *   GET    /admin/v1/orgs/:org/sessions?user=&all=   (company sign-in's sessions; members: their own)
 *   DELETE /admin/v1/orgs/:org/sessions/:id  (admin: ends a sign-in session)
 *   DELETE /admin/v1/orgs/:org/sessions?user=EMAIL   (admin: ends every session of a person)
 *   GET    /admin/v1/admin-log               (config admin tokens)
 *   GET    /admin/v1/admin-log/verify        (config admin tokens)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { errors } from '../errors/catalog.js';
import type { Role, Store } from '../store/types.js';
import { recordAdmin, verifyChain } from './admin-log.js';
import type { SluiceConfig } from './config.js';
import { authenticate, createKey } from './keys.js';
import { parseSince, SINCE_EXPECTED } from './since.js';
import { listSignInSessions, revokeSignInSessions, type RevokeTarget } from './signin-sessions.js';

/** One admin API request, as the gateway hands it over. */
export interface AdminRequest {
  method: string;
  /** The path after /admin/v1, still percent-encoded: `/orgs/acme/keys`. */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** Already signed in (the console's company sign-in): used instead of `authorization`. */
  caller?: Caller;
  body: () => Promise<Buffer>;
}

export interface AdminReply {
  status: number;
  body: unknown;
}

export interface Caller {
  /** null: a config admin token, over every org. */
  org: string | null;
  user: string;
  role: Role;
}

const ROLES: Role[] = ['member', 'auditor', 'admin'];

const digest = (s: string) => createHash('sha256').update(s).digest();

const newKeySchema = z
  .object({
    user: z.string().min(1, 'must be a non-empty string'),
    role: z.enum(['member', 'auditor', 'admin']).default('member'),
  })
  .strict();

const limitSchema = z.coerce.number().int().min(1).max(1000).catch(100).default(100);
const querySchema = z.object({
  since: z.string().optional(),
  user: z.string().min(1).optional(),
  limit: limitSchema,
  by: z.enum(['user', 'model']).catch('user').default('user'),
  cursor: z.string().optional(),
});
type Query = z.infer<typeof querySchema>;

/** A page's `next` back into the record it names: `<ISO time>|<record id>`. */
export function parseCursor(value: string): { time: string; id: string } {
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(.+)$/.exec(value);
  if (!m)
    throw errors.adminBadRequest(
      `cursor: expected the "next" of an earlier page (<time>|<record id>), got "${value}".`,
    );
  return { time: m[1] as string, id: m[2] as string };
}

/** A zod failure as one line: `user: must be a non-empty string; role: …`. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

interface Handler {
  method: string;
  /** Segments after /admin/v1; `:org` and `:id` are parameters. */
  path: string[];
  run(api: AdminApi, c: Caller, p: Record<string, string>, q: Query, r: AdminRequest): Promise<AdminReply>;
}

/** Every admin route. */
const HANDLERS: Handler[] = [
  { method: 'GET', path: ['orgs'], run: (api, c) => api.listOrgs(c) },
  { method: 'GET', path: ['orgs', ':org', 'keys'], run: (api, c, p) => api.listKeys(c, p.org as string) },
  {
    method: 'POST',
    path: ['orgs', ':org', 'keys'],
    run: (api, c, p, _q, r) => api.createKey(c, p.org as string, r),
  },
  {
    method: 'DELETE',
    path: ['orgs', ':org', 'keys', ':id'],
    run: (api, c, p) => api.revokeKey(c, p.org as string, p.id as string),
  },
  {
    method: 'GET',
    path: ['orgs', ':org', 'records'],
    run: (api, c, p, q) => api.records(c, p.org as string, q),
  },
  { method: 'GET', path: ['orgs', ':org', 'usage'], run: (api, c, p, q) => api.usage(c, p.org as string, q) },
  {
    method: 'GET',
    path: ['orgs', ':org', 'egress'],
    run: (api, c, p, q) => api.egress(c, p.org as string, q),
  },
  {
    method: 'GET',
    path: ['orgs', ':org', 'sessions'],
    run: (api, c, p, q, r) => api.sessions(c, p.org as string, q, r.query.get('all') === 'true'),
  },
  {
    method: 'DELETE',
    path: ['orgs', ':org', 'sessions', ':id'],
    run: (api, c, p) => api.revokeSessions(c, p.org as string, { id: p.id as string }),
  },
  {
    method: 'DELETE',
    path: ['orgs', ':org', 'sessions'],
    run: (api, c, p, q) => {
      if (!q.user)
        throw errors.adminBadRequest(
          'DELETE /orgs/:org/sessions needs ?user=EMAIL (or name one session: /orgs/:org/sessions/:id).',
        );
      return api.revokeSessions(c, p.org as string, { user: q.user });
    },
  },
  { method: 'GET', path: ['admin-log'], run: (api, c) => api.adminLog(c, false) },
  { method: 'GET', path: ['admin-log', 'verify'], run: (api, c) => api.adminLog(c, true) },
];

/** The path's segments, decoded; a malformed escape is the caller's error, not the server's. */
function segments(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw errors.adminBadRequest(`The path ${path} has a malformed percent escape.`);
  }
}

function match(h: Handler, method: string, parts: string[]): Record<string, string> | undefined {
  if (h.method !== method || h.path.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const want = h.path[i] as string;
    if (want.startsWith(':')) params[want.slice(1)] = parts[i] as string;
    else if (want !== parts[i]) return undefined;
  }
  return params;
}

export class AdminApi {
  private readonly tokens: Buffer[];

  constructor(
    private readonly config: SluiceConfig,
    private readonly store: Store,
    private readonly clock: () => Date,
    /** Told the hash of each key the API revokes (the gateway drops it from its key cache). */
    private readonly onRevoked: (hash: string) => void = () => undefined,
    /** Told the id of each sign-in session the API ends (the gateway refuses its tokens at once). */
    private readonly onSessionEnded: (id: string) => void = () => undefined,
  ) {
    this.tokens = config.admin.tokens.map(digest);
  }

  async handle(r: AdminRequest): Promise<AdminReply> {
    const c = r.caller ?? (await this.caller(r.authorization));
    const parts = segments(r.path);
    const query = this.query(r.query);
    for (const h of HANDLERS) {
      const params = match(h, r.method, parts);
      if (params) return h.run(this, c, params, query, r);
    }
    throw errors.adminNotFound(`The admin API has no ${r.method} /admin/v1${r.path}.`);
  }

  private query(q: URLSearchParams): Query {
    const parsed = querySchema.parse(Object.fromEntries(q));
    if (parsed.since !== undefined) {
      const since = parseSince(parsed.since, this.clock());
      if (since === undefined)
        throw errors.adminBadRequest(`since: expected ${SINCE_EXPECTED}, got "${parsed.since}".`);
      parsed.since = since;
    }
    return parsed;
  }

  /** The caller of `authorization`, allowed to act in `org` with at least `role`: the console's own views use it. */
  async authorize(authorization: string | Caller | undefined, org: string, role: Role): Promise<Caller> {
    // A Caller is one the console signed in through the company IdP: the same rules apply to it.
    const c = typeof authorization === 'object' ? authorization : await this.caller(authorization);
    this.allow(c, org, role);
    return c;
  }

  /** Who `authorization` is (the console's sign-in); refuses as every admin route does. */
  whoami(authorization: string | undefined): Promise<Caller> {
    return this.caller(authorization);
  }

  private async caller(authorization: string | undefined): Promise<Caller> {
    const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
    if (!token)
      throw errors.adminUnauthenticated(
        'The admin API needs Authorization: Bearer <an admin token or a Sluice key>.',
      );
    const d = digest(token);
    if (this.tokens.some((t) => timingSafeEqual(t, d)))
      return { org: null, user: 'admin-token', role: 'admin' };
    const key = await authenticate(this.store, token);
    if (!key)
      throw errors.adminUnauthenticated('This token is not an admin token and not a live Sluice key.');
    return { org: key.org, user: key.user, role: key.role };
  }

  /** The caller may act in `org` with at least `role`; a member may also read what is its own. */
  private allow(c: Caller, org: string, role: Role): void {
    if (!Object.hasOwn(this.config.orgs, org)) throw errors.adminNotFound(`No org "${org}".`);
    if (c.org !== null && c.org !== org)
      throw errors.adminForbidden(
        `Your key belongs to org "${c.org}"; it cannot read or change org "${org}".`,
      );
    if (ROLES.indexOf(c.role) < ROLES.indexOf(role))
      throw errors.adminForbidden(`This needs the ${role} role in org "${org}"; your key has ${c.role}.`);
  }

  async listOrgs(c: Caller): Promise<AdminReply> {
    const names = Object.keys(this.config.orgs).filter((o) => c.org === null || o === c.org);
    return { status: 200, body: { orgs: names } };
  }

  async listKeys(c: Caller, org: string): Promise<AdminReply> {
    this.allow(c, org, 'member');
    const own = c.role === 'member' ? { user: c.user } : {};
    const keys = (await this.store.listKeys({ org, ...own })).map(({ hash: _h, ...k }) => k);
    return { status: 200, body: { keys } };
  }

  async createKey(c: Caller, org: string, r: AdminRequest): Promise<AdminReply> {
    this.allow(c, org, 'admin');
    let raw: unknown;
    try {
      raw = JSON.parse((await r.body()).toString('utf8'));
    } catch {
      throw errors.adminBadRequest('Expected a JSON body {"user": "...", "role": "member|auditor|admin"}.');
    }
    const input = newKeySchema.safeParse(raw);
    if (!input.success)
      throw errors.adminBadRequest(
        `Expected a JSON body {"user": "...", "role": "member|auditor|admin"}: ${describeIssues(input.error)}.`,
      );
    const { user, role } = input.data;
    const { key, record } = await createKey(this.store, { org, user, role }, this.clock());
    await recordAdmin(this.store, this.clock(), `admin-api:${c.user}`, 'key.created', record.id, {
      org,
      user: record.user,
      role,
    });
    const { hash: _h, ...shown } = record;
    return { status: 201, body: { key, record: shown } };
  }

  async revokeKey(c: Caller, org: string, id: string): Promise<AdminReply> {
    this.allow(c, org, 'admin');
    const [existing] = (await this.store.listKeys({ org })).filter((k) => k.id === id && !k.revokedAt);
    if (!existing || !(await this.store.revokeKey(id, this.clock().toISOString())))
      throw errors.adminNotFound(`No live key ${id} in org "${org}".`);
    this.onRevoked(existing.hash);
    await recordAdmin(this.store, this.clock(), `admin-api:${c.user}`, 'key.revoked', id, { org });
    return { status: 200, body: { revoked: id } };
  }

  async records(c: Caller, org: string, q: Query): Promise<AdminReply> {
    this.allow(c, org, 'member');
    const user = c.role === 'member' ? c.user : q.user;
    const before = q.cursor === undefined ? undefined : parseCursor(q.cursor);
    const records = await this.store.queryAudit({
      org,
      ...(user ? { user } : {}),
      ...(q.since ? { since: q.since } : {}),
      ...(before ? { before } : {}),
      limit: q.limit,
    });
    const last = records.length === q.limit ? records[records.length - 1] : undefined;
    // Content stays in the store: the API returns metadata only.
    return {
      status: 200,
      body: {
        records: records.map(({ requestContent: _q, responseContent: _r, ...rec }) => rec),
        /** The next page's `cursor` (the last record's time and id); null after the last page. */
        next: last ? `${last.time}|${last.id}` : null,
      },
    };
  }

  async usage(c: Caller, org: string, q: Query): Promise<AdminReply> {
    this.allow(c, org, 'member');
    const user = c.role === 'member' ? { user: c.user } : {};
    const since = q.since ? { since: q.since } : {};
    return { status: 200, body: { usage: await this.store.usage({ org, by: q.by, ...user, ...since }) } };
  }

  async egress(c: Caller, org: string, q: Query): Promise<AdminReply> {
    // Every user's connections: what the org's clients tried to reach is for auditors.
    this.allow(c, org, 'auditor');
    const since = q.since ? { since: q.since } : {};
    const records = await this.store.queryEgress({ org, ...since, limit: q.limit });
    return { status: 200, body: { records } };
  }

  async sessions(c: Caller, org: string, q: Query, all: boolean): Promise<AdminReply> {
    this.allow(c, org, 'member');
    const user = c.role === 'member' ? c.user : q.user;
    const sessions = await listSignInSessions(
      this.store,
      { org, ...(user ? { user } : {}), all },
      this.clock(),
    );
    return { status: 200, body: { sessions } };
  }

  async revokeSessions(c: Caller, org: string, target: RevokeTarget): Promise<AdminReply> {
    this.allow(c, org, 'admin');
    const ended = await revokeSignInSessions(this.store, this.clock(), `admin-api:${c.user}`, {
      ...target,
      org,
    });
    if (!ended.length)
      throw errors.adminNotFound(
        'id' in target
          ? `No live sign-in session ${target.id} in org "${org}".`
          : `No live sign-in session of ${target.user} in org "${org}".`,
      );
    for (const s of ended) this.onSessionEnded(s.id);
    return { status: 200, body: { revoked: ended.map((s) => s.id) } };
  }

  async adminLog(c: Caller, verify: boolean): Promise<AdminReply> {
    if (c.org !== null)
      throw errors.adminForbidden('The admin log spans every org: it needs a config admin token.');
    const entries = await this.store.listAdminLog();
    return { status: 200, body: verify ? verifyChain(entries) : { entries } };
  }
}
