/**
 * The admin HTTP API under /admin/v1 (JSON). Callers present `Authorization: Bearer <token>`: a
 * config admin token (role admin over every org) or a Sluice key, whose role applies within its
 * own org only: `admin` reads and manages keys, `auditor` reads, `member` reads its own records,
 * usage and keys. A caller never sees another org: every route names its org and is checked.
 *
 *   GET    /admin/v1/orgs
 *   GET    /admin/v1/orgs/:org/keys
 *   POST   /admin/v1/orgs/:org/keys          {"user": "...", "role": "member|auditor|admin"}
 *   DELETE /admin/v1/orgs/:org/keys/:id
 *   GET    /admin/v1/orgs/:org/records?since=&user=&limit=
 *   GET    /admin/v1/orgs/:org/usage?since=&by=user|model
 *   GET    /admin/v1/orgs/:org/egress?since=&limit=   (auditor: the egress proxy's records)
 *   GET    /admin/v1/admin-log               (config admin tokens)
 *   GET    /admin/v1/admin-log/verify        (config admin tokens)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { recordAdmin, verifyChain } from '../control/admin-log.js';
import type { SluiceConfig } from '../control/config.js';
import { authenticate, createKey } from '../control/keys.js';
import type { Role, Store } from '../store/types.js';
import { errors, type SluiceError } from '../errors/catalog.js';

interface Caller {
  /** null: a config admin token, over every org. */
  org: string | null;
  user: string;
  role: Role;
}

const ROLES: Role[] = ['member', 'auditor', 'admin'];

export function adminError(status: 400 | 401 | 403 | 404, message: string): SluiceError {
  const make = {
    400: errors.adminBadRequest,
    401: errors.adminUnauthenticated,
    403: errors.adminForbidden,
    404: errors.adminNotFound,
  }[status];
  return make(message);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface AdminReply {
  status: number;
  body: unknown;
}

export class AdminApi {
  private readonly tokens: Buffer[];

  constructor(
    private readonly config: SluiceConfig,
    private readonly store: Store,
    private readonly clock: () => Date,
  ) {
    this.tokens = config.admin.tokens.map(digest);
  }

  private async caller(req: IncomingMessage): Promise<Caller> {
    const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!token)
      throw adminError(401, 'The admin API needs Authorization: Bearer <an admin token or a Sluice key>.');
    const d = digest(token);
    if (this.tokens.some((t) => timingSafeEqual(t, d)))
      return { org: null, user: 'admin-token', role: 'admin' };
    const key = await authenticate(this.store, token);
    if (!key) throw adminError(401, 'This token is not an admin token and not a live Sluice key.');
    return { org: key.org, user: key.user, role: key.role };
  }

  /** The caller may act in `org` with at least `role`; a member may also read what is its own. */
  private allow(c: Caller, org: string, role: Role): void {
    if (!this.config.orgs[org]) throw adminError(404, `No org "${org}".`);
    if (c.org !== null && c.org !== org)
      throw adminError(403, `Your key belongs to org "${c.org}"; it cannot read or change org "${org}".`);
    if (ROLES.indexOf(c.role) < ROLES.indexOf(role))
      throw adminError(403, `This needs the ${role} role in org "${org}"; your key has ${c.role}.`);
  }

  async handle(req: IncomingMessage, path: string, body: () => Promise<Buffer>): Promise<AdminReply> {
    const c = await this.caller(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const parts = path.split('/').slice(3).map(decodeURIComponent); // after /admin/v1/
    const [first, org, sub, id] = parts;
    const method = req.method ?? 'GET';
    const since = q.get('since') ?? undefined;
    if (since !== undefined && Number.isNaN(Date.parse(since)))
      throw adminError(400, `since: expected an ISO date, got "${since}".`);

    if (first === 'orgs' && parts.length === 1 && method === 'GET') {
      const names = Object.keys(this.config.orgs).filter((o) => c.org === null || o === c.org);
      return { status: 200, body: { orgs: names } };
    }
    if (first === 'orgs' && org && sub === 'keys') {
      if (method === 'GET' && !id) {
        this.allow(c, org, 'member');
        const own = c.role === 'member' ? { user: c.user } : {};
        const keys = (await this.store.listKeys({ org, ...own })).map(({ hash: _h, ...k }) => k);
        return { status: 200, body: { keys } };
      }
      if (method === 'POST' && !id) {
        this.allow(c, org, 'admin');
        let input: { user?: unknown; role?: unknown };
        try {
          input = JSON.parse((await body()).toString('utf8')) as typeof input;
        } catch {
          throw adminError(400, 'Expected a JSON body {"user": "...", "role": "member|auditor|admin"}.');
        }
        const role = (input.role ?? 'member') as Role;
        if (typeof input.user !== 'string' || !input.user || !ROLES.includes(role))
          throw adminError(400, 'Expected a JSON body {"user": "...", "role": "member|auditor|admin"}.');
        const { key, record } = await createKey(this.store, { org, user: input.user, role }, this.clock());
        await recordAdmin(this.store, this.clock(), `admin-api:${c.user}`, 'key.created', record.id, {
          org,
          user: record.user,
          role,
        });
        const { hash: _h, ...shown } = record;
        return { status: 201, body: { key, record: shown } };
      }
      if (method === 'DELETE' && id) {
        this.allow(c, org, 'admin');
        const [existing] = (await this.store.listKeys({ org })).filter((k) => k.id === id && !k.revokedAt);
        if (!existing || !(await this.store.revokeKey(id, this.clock().toISOString())))
          throw adminError(404, `No live key ${id} in org "${org}".`);
        await recordAdmin(this.store, this.clock(), `admin-api:${c.user}`, 'key.revoked', id, { org });
        return { status: 200, body: { revoked: id } };
      }
    }
    if (first === 'orgs' && org && sub === 'records' && method === 'GET') {
      this.allow(c, org, 'member');
      const user = c.role === 'member' ? c.user : (q.get('user') ?? undefined);
      const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
      const records = await this.store.queryAudit({
        org,
        ...(user ? { user } : {}),
        ...(since ? { since } : {}),
        limit,
      });
      // Content stays in the store: the API returns metadata only.
      return {
        status: 200,
        body: { records: records.map(({ requestContent: _q, responseContent: _r, ...r }) => r) },
      };
    }
    if (first === 'orgs' && org && sub === 'usage' && method === 'GET') {
      this.allow(c, org, 'member');
      const by = q.get('by') === 'model' ? 'model' : 'user';
      const user = c.role === 'member' ? { user: c.user } : {};
      return {
        status: 200,
        body: { usage: await this.store.usage({ org, by, ...user, ...(since ? { since } : {}) }) },
      };
    }
    if (first === 'orgs' && org && sub === 'egress' && method === 'GET') {
      // Every user's connections: what the org's clients tried to reach is for auditors.
      this.allow(c, org, 'auditor');
      const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
      const records = await this.store.queryEgress({ org, ...(since ? { since } : {}), limit });
      return { status: 200, body: { records } };
    }
    if (first === 'admin-log' && method === 'GET') {
      if (c.org !== null)
        throw adminError(403, 'The admin log spans every org: it needs a config admin token.');
      const entries = await this.store.listAdminLog();
      return { status: 200, body: org === 'verify' ? verifyChain(entries) : { entries } };
    }
    throw adminError(404, `The admin API has no ${method} ${path}.`);
  }
}
