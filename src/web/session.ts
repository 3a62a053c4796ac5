/**
 * Console sessions: a signed-in token behind an opaque cookie, held in this process's memory only.
 * The session keeps the token itself so that every console request is authorized again by the admin
 * API (a revoked key ends its sessions at once); the CSRF token is sent back in `x-csrf-token`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../store/types.js';

export const COOKIE = 'sluice_console';

export interface Session {
  id: string;
  /** The admin token or Sluice key signed in with, presented to the admin API on each request. */
  token: string | null;
  /** Signed in through the company IdP instead: who, and the sign-in session it holds in the store. */
  signedIn?: { caller: { org: string; user: string; role: Role }; signinSession: string };
  csrf: string;
  expires: number;
}

export interface SessionOptions {
  /** Milliseconds a session lasts from sign-in. */
  ttlMs: number;
  /** Wall-clock milliseconds. */
  now: () => number;
  random?: (bytes: number) => Buffer;
  /** Sessions kept at most; the oldest goes first. */
  max?: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  private readonly random: (bytes: number) => Buffer;

  constructor(private readonly o: SessionOptions) {
    this.random = o.random ?? randomBytes;
  }

  /** A session for an admin token or Sluice key (`token`), or for a person the company IdP signed in. */
  open(token: string | null, signedIn?: Session['signedIn']): Session {
    const s: Session = {
      id: this.random(32).toString('base64url'),
      token,
      ...(signedIn ? { signedIn } : {}),
      csrf: this.random(32).toString('base64url'),
      expires: this.o.now() + this.o.ttlMs,
    };
    if (this.byId.size >= (this.o.max ?? 10_000)) this.byId.delete(this.byId.keys().next().value as string);
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session named by the request's cookie header, if any. */
  find(cookieHeader: string | undefined): Session | undefined {
    const id = readCookie(cookieHeader, COOKIE);
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.expires <= this.o.now()) {
      this.byId.delete(id);
      return undefined;
    }
    return s;
  }

  close(s: Session): void {
    this.byId.delete(s.id);
  }

  /** Ends the sessions of people signed in through the IdP as `user` in `org` (their sessions were revoked). */
  closeSignedIn(org: string, user: string): number {
    let n = 0;
    for (const [id, s] of this.byId)
      if (s.signedIn?.caller.org === org && s.signedIn.caller.user === user) {
        this.byId.delete(id);
        n++;
      }
    return n;
  }
}

/** Whether `given` is the session's CSRF token (compared in constant time). */
export function csrfMatches(s: Session, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** The Set-Cookie value for `s` (or one that clears it): HttpOnly, SameSite=Strict, Secure over TLS. */
export function sessionCookie(s: Session | null, secure: boolean, ttlMs: number): string {
  const attrs = ['Path=/console', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  const value = s ? s.id : '';
  const age = s ? Math.floor(ttlMs / 1000) : 0;
  return [`${COOKIE}=${value}`, ...attrs, `Max-Age=${age}`].join('; ');
}
