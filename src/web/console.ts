/**
 * The web console at /console: its page and assets (built by `npm run build` into dist/console),
 * sign-in with an admin token or a Sluice key, and its data. Every data request is authorized by
 * the admin API (control/admin-api.ts) with the session's token: the admin API's own routes are
 * handed to it as they are (`/console/api/admin/v1/...`), and the console's views ask it first
 * (`authorize`), so the console has no rules of its own. State-changing requests need the session's
 * CSRF token in `x-csrf-token`. The gateway hands requests over and writes the replies.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseCursor, type AdminApi, type Caller } from '../control/admin-api.js';
import { recordAdmin } from '../control/admin-log.js';
import type { SluiceConfig } from '../control/config.js';
import { parseSince, SINCE_EXPECTED } from '../control/since.js';
import { errors } from '../errors/catalog.js';
import type { Store } from '../store/types.js';
import { recordDetail } from './record.js';
import { csrfMatches, Sessions, sessionCookie, type Session } from './session.js';
import { IdpSignIn, stillSignedIn, type ConsoleIdp } from './signin.js';
import { revokeUser, usersView } from './users.js';
import { budgetsView, egressView, flowsView, guardView, overview, requestsPage } from './views.js';

/** A console request as the gateway hands it over. */
export interface ConsoleRequest {
  method: string;
  /** The path without its query, starting /console. */
  path: string;
  query: URLSearchParams;
  cookie: string | undefined;
  csrf: string | undefined;
  /** The request came over TLS (the cookie is then `Secure`). */
  secure: boolean;
  body: () => Promise<Buffer>;
}

export interface ConsoleReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface ConsoleOptions {
  api: AdminApi;
  config: SluiceConfig;
  store: Store;
  clock: () => Date;
  /** Where the built page and assets are (default: dist/console of this checkout). */
  assetsDir?: string;
  /** Sessions shared by every configuration the gateway reloads (default: new ones). */
  sessions?: Sessions;
  /** Sign-in through the company IdP (`signin:` configured), from src/signin. */
  idp?: ConsoleIdp | null;
  /** Ends a company sign-in session and logs it (default: the store's revoke and an admin-log entry). */
  revokeSession?: (id: string, actor: string) => Promise<boolean>;
}

const SESSION_TTL_MS = 8 * 3_600_000;

/** The console's sessions, kept by the gateway across reloads of its configuration. */
export function consoleSessions(clock: () => Date): Sessions {
  return new Sessions({ ttlMs: SESSION_TTL_MS, now: () => clock().getTime() });
}

/** No inline script or style, nothing from elsewhere, no framing. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json',
};

const DEFAULT_ASSETS = join(fileURLToPath(new URL('../../', import.meta.url)), 'dist', 'console');

const signInSchema = z.object({ token: z.string().min(1) }).strict();
const revokeUserSchema = z.object({ user: z.string().min(1) }).strict();
const spanSchema = z.enum(['day', 'week', 'month']).catch('week');
const decisionSchema = z.enum(['none', 'log', 'redact', 'block', 'error', 'fail-open']);
const json = (status: number, body: unknown, headers: Record<string, string> = {}): ConsoleReply => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...SECURITY, ...headers },
  body: JSON.stringify(body),
});

export class Console {
  private readonly sessions: Sessions;
  private readonly assets: string;
  private readonly ttl: number;
  private readonly idp: IdpSignIn | null;
  private readonly revokeSession: (id: string, actor: string) => Promise<boolean>;

  constructor(private readonly o: ConsoleOptions) {
    this.ttl = SESSION_TTL_MS;
    this.sessions = o.sessions ?? consoleSessions(o.clock);
    this.assets = o.assetsDir ?? DEFAULT_ASSETS;
    this.idp = o.idp
      ? new IdpSignIn({
          idp: o.idp,
          api: o.api,
          store: o.store,
          sessions: this.sessions,
          clock: o.clock,
          ttlMs: this.ttl,
          security: SECURITY,
        })
      : null;
    this.revokeSession =
      o.revokeSession ??
      (async (id, actor) => {
        const done = await o.store.signin.revokeSession(id, o.clock().toISOString());
        if (done) await recordAdmin(o.store, o.clock(), actor, 'signin.revoked', id, { by: actor });
        return done;
      });
  }

  async handle(r: ConsoleRequest): Promise<ConsoleReply> {
    const rest = r.path.slice('/console'.length);
    if (rest === '' || rest === '/') return this.page();
    if (rest.startsWith('/assets/') && (r.method === 'GET' || r.method === 'HEAD'))
      return this.asset(rest.slice('/assets/'.length));
    if (rest === '/session') return this.session(r);
    if (this.idp && r.method === 'GET' && rest === '/signin') return this.idp.start(r.secure);
    if (this.idp && r.method === 'GET' && rest === '/signin/callback')
      return this.idp.callback(r.query, r.cookie, r.secure);
    if (rest.startsWith('/api/')) return this.data(r, rest.slice('/api'.length));
    throw errors.notFound(r.method, r.path);
  }

  private async page(): Promise<ConsoleReply> {
    const body = await readFile(join(this.assets, 'index.html')).catch(() => undefined);
    if (!body)
      return {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY },
        body: 'The console is not built: run `npm run build` in the repository.\n',
      };
    return {
      status: 200,
      headers: { 'content-type': TYPES['.html'] as string, 'cache-control': 'no-cache', ...SECURITY },
      body,
    };
  }

  private async asset(name: string): Promise<ConsoleReply> {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    // Built names only: one segment, no traversal; their hash is in the name, so they never change.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.') || !type)
      throw errors.notFound('GET', `/console/assets/${name}`);
    const body = await readFile(join(this.assets, 'assets', name)).catch(() => undefined);
    if (!body) throw errors.notFound('GET', `/console/assets/${name}`);
    return {
      status: 200,
      headers: { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable', ...SECURITY },
      body,
    };
  }

  /** POST signs in, GET says who is signed in (and the CSRF token), DELETE signs out. */
  private async session(r: ConsoleRequest): Promise<ConsoleReply> {
    if (r.method === 'POST') {
      let token: string;
      try {
        token = signInSchema.parse(JSON.parse((await r.body()).toString('utf8'))).token;
      } catch {
        throw errors.adminBadRequest('Expected a JSON body {"token": "<an admin token or a Sluice key>"}.');
      }
      const caller = await this.o.api.whoami(`Bearer ${token}`);
      // The console is for an org's auditors and admins: the admin API's own check and refusal.
      if (caller.org !== null) await this.o.api.authorize(`Bearer ${token}`, caller.org, 'auditor');
      const s = this.sessions.open(token);
      return json(201, await this.describe(s, caller), {
        'set-cookie': sessionCookie(s, r.secure, this.ttl),
      });
    }
    if (r.method === 'GET') {
      // Not signed in is an answer here, not an error: the page asks on every load.
      const found = await this.signedIn(r).catch(() => undefined);
      if (!found) return json(200, { signedIn: false, ...this.idpOffer(r.cookie) });
      const auth = this.auth(found);
      return json(
        200,
        await this.describe(found, typeof auth === 'string' ? await this.o.api.whoami(auth) : auth),
      );
    }
    const s = await this.signedIn(r);
    if (r.method === 'DELETE') {
      this.checkCsrf(s, r);
      this.sessions.close(s);
      // Signing out of an IdP sign-in ends its sign-in session too (and says so in the admin log).
      if (s.signedIn) await this.revokeSession(s.signedIn.signinSession, `console:${s.signedIn.caller.user}`);
      return json(200, { signedOut: true }, { 'set-cookie': sessionCookie(null, r.secure, this.ttl) });
    }
    throw errors.notFound(r.method, r.path);
  }

  /** The IdP the sign-in page offers, and why this browser's last round trip failed (once). */
  private idpOffer(cookie: string | undefined) {
    if (!this.idp || !this.o.idp) return {};
    const failed = this.idp.failure(cookie);
    return { idp: { label: this.o.idp.label }, ...(failed ? { signinError: failed } : {}) };
  }

  private async describe(s: Session, caller: { org: string | null; user: string; role: string }) {
    const orgs = Object.keys(this.o.config.orgs).filter((o) => caller.org === null || o === caller.org);
    return { signedIn: true, csrf: s.csrf, caller, orgs };
  }

  private async signedIn(r: ConsoleRequest): Promise<Session> {
    const s = this.sessions.find(r.cookie);
    if (!s) throw errors.consoleSignedOut();
    if (!(await stillSignedIn(this.o.store, s, this.o.clock()))) {
      this.sessions.close(s);
      throw errors.consoleSignedOut();
    }
    return s;
  }

  /** What the admin API authorizes the session by: its token, or the person the IdP signed in. */
  private auth(s: Session): string | Caller {
    return s.token !== null ? `Bearer ${s.token}` : (s.signedIn?.caller as Caller);
  }

  private checkCsrf(s: Session, r: ConsoleRequest): void {
    if (!csrfMatches(s, r.csrf)) throw errors.consoleCsrf();
  }

  private async data(r: ConsoleRequest, path: string): Promise<ConsoleReply> {
    const s = await this.signedIn(r);
    if (r.method !== 'GET' && r.method !== 'HEAD') this.checkCsrf(s, r);
    const auth = this.auth(s);
    const who =
      typeof auth === 'string' ? { authorization: auth } : { authorization: undefined, caller: auth };
    if (path.startsWith('/admin/v1/')) {
      const answer = await this.o.api.handle({
        method: r.method,
        path: path.slice('/admin/v1'.length),
        query: r.query,
        ...who,
        body: r.body,
      });
      return json(answer.status, answer.body);
    }
    const people = await this.people(r, path, who);
    if (people) return people;
    const m = /^\/orgs\/([^/]+)\/(overview|guard|requests|flows|egress|budgets)$/.exec(path);
    if (!m || r.method !== 'GET') throw errors.notFound(r.method, r.path);
    const org = decodeURIComponent(m[1] as string);
    await this.o.api.authorize(auth, org, 'auditor');
    return json(200, await this.view(m[2] as string, org, r.query));
  }

  /** A record with its redacted request, the org's users, and revoking a user: undefined for other paths. */
  private async people(
    r: ConsoleRequest,
    path: string,
    who: { authorization: string | undefined; caller?: Caller },
  ): Promise<ConsoleReply | undefined> {
    const m = /^\/orgs\/([^/]+)\/(records\/[^/]+|users|users\/revoke)$/.exec(path);
    if (!m) return undefined;
    const org = decodeURIComponent(m[1] as string);
    const what = m[2] as string;
    if (what === 'users/revoke' && r.method === 'POST') {
      let user: string;
      try {
        user = revokeUserSchema.parse(JSON.parse((await r.body()).toString('utf8'))).user;
      } catch {
        throw errors.adminBadRequest(
          'Expected a JSON body {"user": "<the user whose keys and sessions end>"}.',
        );
      }
      const d = { ...this.o, revokeSession: this.revokeSession, sessions: this.sessions };
      return json(200, await revokeUser(d, who, org, user));
    }
    if (r.method !== 'GET') throw errors.notFound(r.method, r.path);
    await this.o.api.authorize(who.caller ?? who.authorization, org, 'auditor');
    if (what === 'users') return json(200, await usersView(this.o.store, this.o.config, org, this.o.clock()));
    const id = decodeURIComponent(what.slice('records/'.length));
    const found = await recordDetail(this.o.store, org, id);
    if (!found) throw errors.adminNotFound(`No audit record ${id} in org "${org}".`);
    return json(200, found);
  }

  private async view(name: string, org: string, q: URLSearchParams): Promise<unknown> {
    const now = this.o.clock();
    switch (name) {
      case 'overview':
        return overview(this.o.store, org, spanSchema.parse(q.get('span') ?? undefined), now);
      case 'guard':
        return guardView(this.o.store, org, this.since(q.get('since') ?? '7d'));
      case 'flows':
        return flowsView(this.o.config, org, now);
      case 'budgets':
        return budgetsView(this.o.store, this.o.config, org, now);
      case 'egress':
        return egressView(this.o.store, this.o.config, org, this.since(q.get('since') ?? '7d'), now);
      default:
        return requestsPage(this.o.store, org, this.filter(q));
    }
  }

  private since(value: string): string {
    const since = parseSince(value, this.o.clock());
    if (since === undefined)
      throw errors.adminBadRequest(`since: expected ${SINCE_EXPECTED}, got "${value}".`);
    return since;
  }

  private filter(q: URLSearchParams) {
    const get = (k: string) => q.get(k) || undefined;
    const status = get('status');
    const decision = get('decision');
    if (status !== undefined && !/^\d{3}$/.test(status))
      throw errors.adminBadRequest(`status: expected an HTTP status such as 200; got "${status}".`);
    const parsedDecision = decision === undefined ? undefined : decisionSchema.safeParse(decision);
    if (parsedDecision && !parsedDecision.success)
      throw errors.adminBadRequest(
        `decision: expected one of ${decisionSchema.options.join(', ')}; got "${decision}".`,
      );
    const since = get('since');
    const until = get('until');
    const cursor = get('cursor');
    if (cursor !== undefined) parseCursor(cursor); // refused here as the admin API refuses it
    const user = get('user');
    const model = get('model');
    return {
      limit: Math.min(200, Math.max(1, Number(get('limit') ?? 50) || 50)),
      ...(user ? { user } : {}),
      ...(model ? { model } : {}),
      ...(status ? { status: Number(status) } : {}),
      ...(parsedDecision?.success ? { decision: parsedDecision.data } : {}),
      ...(since ? { since: this.since(since) } : {}),
      ...(until ? { until: this.since(until) } : {}),
      ...(cursor ? { cursor } : {}),
    };
  }
}
