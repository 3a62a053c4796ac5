/**
 * The tokens Sluice hands a signed-in client, and the sealed values it passes through a browser:
 * access tokens are HS256 JWTs (audience `claude-gateway`, issuer the public URL, as the Claude
 * apps gateway protocol has them) signed with the newest signing key and verified with any;
 * refresh tokens are opaque and rotate on every use; sealed values (the OIDC state, the hand-over
 * from the browser leg to the polling client) are JWEs under a key derived from the signing keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  base64url,
  EncryptJWT,
  jwtDecrypt,
  jwtVerify,
  SignJWT,
  decodeProtectedHeader,
  errors as joseErrors,
} from 'jose';
import type { Role } from '../store/types.js';

export const AUDIENCE = 'claude-gateway';

/** Who a verified access token speaks for. */
export interface SignedIn {
  sessionId: string;
  subject: string;
  email: string;
  name: string | null;
  groups: string[];
  org: string;
  role: Role;
  /** Seconds since the epoch. */
  expiresAt: number;
}

interface SigningKey {
  kid: string;
  hmac: Uint8Array;
  seal: Uint8Array;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Random text, base64url: device codes, refresh tokens, cookies. */
export const randomToken = (bytes = 32, random: (n: number) => Buffer = randomBytes): string =>
  base64url.encode(random(bytes));

/** The signing keys, newest first: the first signs, every one verifies. */
export class SigningKeys {
  private readonly keys: SigningKey[];

  constructor(secrets: readonly string[]) {
    if (!secrets.length) throw new Error('no signing key');
    this.keys = secrets.map((secret) => {
      if (secret.length < 32) throw new Error('a signing key must be at least 32 characters');
      return {
        kid: sha256Hex(secret).slice(0, 16),
        hmac: new TextEncoder().encode(secret),
        seal: createHash('sha256').update('sluice-signin-seal\n').update(secret, 'utf8').digest(),
      };
    });
  }

  private get newest(): SigningKey {
    return this.keys[0]!;
  }

  private byKid(kid: string | undefined): SigningKey | undefined {
    return kid === undefined ? this.newest : this.keys.find((k) => k.kid === kid);
  }

  /** An access token for `who`, valid from `now` for `seconds`. */
  async mint(who: Omit<SignedIn, 'expiresAt'>, issuer: string, now: Date, seconds: number): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({
      email: who.email,
      ...(who.name ? { name: who.name } : {}),
      ...(who.groups.length ? { groups: who.groups } : {}),
      sid: who.sessionId,
      org: who.org,
      role: who.role,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.newest.kid })
      .setSubject(who.subject)
      .setAudience(AUDIENCE)
      .setIssuer(issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.round(seconds))
      .sign(this.newest.hmac);
  }

  /** The identity in a valid access token, or why it is not valid. */
  async verify(
    token: string,
    issuer: string,
    now: Date,
  ): Promise<{ ok: true; who: SignedIn } | { ok: false; reason: 'expired' | 'invalid' }> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    const key = this.byKid(kid);
    if (!key) return { ok: false, reason: 'invalid' };
    try {
      const { payload: p } = await jwtVerify(token, key.hmac, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        issuer,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'sid', 'org', 'role'],
      });
      return {
        ok: true,
        who: {
          sessionId: String(p.sid),
          subject: String(p.sub),
          email: typeof p.email === 'string' ? p.email : '',
          name: typeof p.name === 'string' ? p.name : null,
          groups: Array.isArray(p.groups) ? p.groups.map(String) : [],
          org: String(p.org),
          role: String(p.role) as Role,
          expiresAt: Number(p.exp),
        },
      };
    } catch (err) {
      return { ok: false, reason: err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
    }
  }

  /** `claims` encrypted for Sluice alone, for `seconds`. */
  async seal(claims: Record<string, unknown>, now: Date, seconds: number): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new EncryptJWT(claims)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.newest.kid })
      .setIssuedAt(iat)
      .setExpirationTime(iat + seconds)
      .encrypt(this.newest.seal);
  }

  /** What `seal` sealed, or null when it is forged, expired or sealed under a key no longer held. */
  async unseal(text: string, now: Date): Promise<Record<string, unknown> | null> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(text).kid;
    } catch {
      return null;
    }
    const key = this.byKid(kid);
    if (!key) return null;
    try {
      const { payload } = await jwtDecrypt(text, key.seal, { currentDate: now });
      return payload;
    } catch {
      return null;
    }
  }
}

const REFRESH_PREFIX = 'srt1';

/**
 * A refresh token: Sluice's own random part (new on every refresh) and the IdP's refresh token
 * (so a refresh asks the IdP whether the person may still sign in). The client holds it; the store
 * holds only its hash.
 */
export function refreshToken(
  idpRefreshToken: string | null,
  random: (n: number) => Buffer = randomBytes,
): string {
  const idp = idpRefreshToken ? base64url.encode(idpRefreshToken) : '';
  return `${REFRESH_PREFIX}.${randomToken(32, random)}.${idp}`;
}

/** The IdP's refresh token inside one of ours (null when the IdP gave none), or undefined if malformed. */
export function idpRefreshTokenOf(token: string): string | null | undefined {
  const [prefix, own, idp, ...rest] = token.split('.');
  if (prefix !== REFRESH_PREFIX || !own || idp === undefined || rest.length) return undefined;
  if (!idp) return null;
  try {
    return new TextDecoder().decode(base64url.decode(idp));
  } catch {
    return undefined;
  }
}

/** Whether a presented bearer is shaped like a JWT (three base64url parts, a JSON header). */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
