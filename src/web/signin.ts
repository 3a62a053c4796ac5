/**
 * The console's sign-in through the company's OpenID provider, when `signin:` is configured. The
 * round trip itself (PKCE, state, nonce, id_token checks, claims to org and role through
 * `signin.map`) is company sign-in's (src/signin, handed in as a `ConsoleIdp`); this part turns its
 * answer into a console session: the role is checked by the admin API's own rules (auditor or
 * admin), the person gets a sign-in session in the store (so revoking their sessions, or SCIM,
 * ends it), and the sign-in or its refusal enters the admin log.
 */
import { randomBytes } from 'node:crypto';
import type { AdminApi } from '../control/admin-api.js';
import { recordAdmin } from '../control/admin-log.js';
import { SluiceError } from '../errors/catalog.js';
import type { Role, Store } from '../store/types.js';
import { readCookie, sessionCookie, type Session, type Sessions } from './session.js';

/** Who the IdP says signed in, mapped to an org and role by `signin.map`. */
export interface ConsoleIdentity {
  subject: string;
  email: string;
  name: string | null;
  groups: string[];
  org: string;
  role: Role;
}

export type ConsoleIdpAnswer =
  { ok: true; identity: ConsoleIdentity } | { ok: false; reason: string; unavailable: boolean };

/** One OIDC round trip for the console (src/signin/console-signin.ts implements it). */
export interface ConsoleIdp {
  /** The provider's name on the button: "Sign in with <label>". */
  label: string;
  /** Where to send the browser, and the value that binds the round trip to this browser. */
  start(): Promise<{ location: string; binding: string }>;
  /** The IdP's answer at the callback, checked against the browser's binding. */
  finish(query: URLSearchParams, binding: string | undefined): Promise<ConsoleIdpAnswer>;
}

/** Sign-in sessions the console opens are told apart from Claude Code's by this id prefix. */
export const CONSOLE_SESSION_PREFIX = 'ses_console_';

const BINDING = 'sluice_console_signin';
const ROUND_TRIP_SECONDS = 300;

export interface IdpSignInDeps {
  idp: ConsoleIdp;
  api: AdminApi;
  store: Store;
  sessions: Sessions;
  clock: () => Date;
  ttlMs: number;
  security: Record<string, string>;
}

interface Redirect {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class IdpSignIn {
  /**
   * Why a round trip failed, by its browser's binding, until the sign-in page asks once: the reason
   * never travels in the address, where anyone could write a link with text of their own.
   */
  private readonly failures = new Map<string, { reason: string; expires: number }>();

  constructor(private readonly d: IdpSignInDeps) {}

  private bindingCookie(value: string, secure: boolean): string {
    // Lax, not Strict: the IdP sends the browser back with a cross-site navigation.
    const attrs = ['Path=/console', 'HttpOnly', 'SameSite=Lax', `Max-Age=${ROUND_TRIP_SECONDS}`];
    if (secure) attrs.push('Secure');
    return [`${BINDING}=${value}`, ...attrs].join('; ');
  }

  private redirect(location: string, cookie?: string): Redirect {
    return {
      status: 302,
      headers: {
        location,
        'cache-control': 'no-store',
        ...this.d.security,
        ...(cookie ? { 'set-cookie': cookie } : {}),
      },
      body: '',
    };
  }

  /** Back to the sign-in page, which asks for `reason` (`failure`) with the browser's binding. */
  private refused(reason: string, binding: string | undefined, cookie?: string): Redirect {
    if (binding) {
      const now = this.d.clock().getTime();
      for (const [k, f] of this.failures) if (f.expires <= now) this.failures.delete(k);
      if (this.failures.size >= 10_000) this.failures.delete(this.failures.keys().next().value as string);
      this.failures.set(binding, { reason, expires: now + ROUND_TRIP_SECONDS * 1000 });
    }
    return this.redirect('/console?signin=failed', cookie);
  }

  /** Why this browser's last round trip failed, once; undefined when none did. */
  failure(cookie: string | undefined): string | undefined {
    const binding = readCookie(cookie, BINDING);
    const f = binding ? this.failures.get(binding) : undefined;
    if (!binding || !f) return undefined;
    this.failures.delete(binding);
    return f.expires > this.d.clock().getTime() ? f.reason : undefined;
  }

  /** `GET /console/signin`: off to the IdP, with a short-lived cookie binding the round trip to this browser. */
  async start(secure: boolean): Promise<Redirect> {
    let started: { location: string; binding: string };
    try {
      started = await this.d.idp.start();
    } catch {
      const binding = randomBytes(32).toString('base64url');
      const reason = `${this.d.idp.label} could not be reached. Try again in a moment.`;
      return this.refused(reason, binding, this.bindingCookie(binding, secure));
    }
    return this.redirect(started.location, this.bindingCookie(started.binding, secure));
  }

  /** `GET /console/signin/callback`: the IdP's answer becomes a console session, or a refusal. */
  async callback(query: URLSearchParams, cookie: string | undefined, secure: boolean): Promise<Redirect> {
    const binding = readCookie(cookie, BINDING);
    const answer = await this.d.idp.finish(query, binding);
    if (!answer.ok) {
      if (!answer.unavailable)
        await this.log('console.signin_denied', 'console:unknown', '-', { reason: answer.reason });
      return this.refused(answer.reason, binding);
    }
    const id = answer.identity;
    const caller = { org: id.org, user: id.email, role: id.role };
    try {
      await this.d.api.authorize(caller, id.org, 'auditor');
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      // The admin API's refusal, said for a person rather than a key.
      const reason =
        id.role === 'member'
          ? `The console needs the auditor or admin role in org "${id.org}"; signin.map gives ${id.email} the member role. Ask an administrator to map one of your groups to auditor or admin.`
          : err.message;
      await this.log('console.signin_denied', `console:${id.email}`, id.org, { reason, ...id });
      return this.refused(reason, binding);
    }
    const now = this.d.clock();
    const signinSession = `${CONSOLE_SESSION_PREFIX}${randomBytes(12).toString('hex')}`;
    await this.d.store.signin.insertSession({
      id: signinSession,
      ...id,
      refreshHash: null,
      createdAt: now.toISOString(),
      refreshedAt: null,
      expiresAt: new Date(now.getTime() + this.d.ttlMs).toISOString(),
      revokedAt: null,
    });
    await this.log('console.signin', `console:${id.email}`, signinSession, { ...id });
    const s = this.d.sessions.open(null, { caller, signinSession });
    return this.redirect('/console', sessionCookie(s, secure, this.d.ttlMs));
  }

  private async log(action: string, actor: string, target: string, details: Record<string, unknown>) {
    await recordAdmin(this.d.store, this.d.clock(), actor, action, target, details);
  }
}

/** Whether the store still holds `s`'s sign-in session live (revoked by an admin or SCIM: no). */
export async function stillSignedIn(store: Store, s: Session, now: Date): Promise<boolean> {
  if (!s.signedIn) return true;
  const held = await store.signin.getSession(s.signedIn.signinSession);
  return !!held && held.revokedAt === null && held.expiresAt > now.toISOString();
}
