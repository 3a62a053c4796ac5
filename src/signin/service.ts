/**
 * Company sign-in as the Claude apps gateway protocol has it (shared reference, §3-§9): discovery,
 * device authorization, the verification page and its OIDC round trip, the token endpoint (device
 * and refresh grants), revocation and `/managed/settings`. It knows no HTTP listener: the gateway
 * hands it a request (`SignInRequest`) and writes back its answer (`SignInAnswer`).
 */
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { SignInConfig } from '../control/config.js';
import { recordAdmin } from '../control/admin-log.js';
import type { DeviceGrant } from '../store/signin.js';
import type { Store } from '../store/types.js';
import { ConsoleSignIn } from './console-signin.js';
import { claimedPerson, IdentityRefused, identityFrom, type Identity } from './identity.js';
import { ScimService } from './scim.js';
import { settingsFor, type SettingsRule } from './managed-settings.js';
import { OpenIdProvider, ProviderRefused, ProviderUnavailable } from './oidc.js';
import { confirmCodePage, enterCodePage, messagePage, pageHeaders } from './pages.js';
import {
  idpRefreshTokenOf,
  looksLikeJwt,
  randomToken,
  refreshToken,
  sha256Hex,
  SigningKeys,
  type SignedIn,
} from './tokens.js';

export interface SignInRequest {
  method: string;
  /** The path without its query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  clientIp: string | null;
}

export interface SignInAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SignInDeps {
  config: SignInConfig;
  store: Store;
  clientSecret: string;
  /** The signing keys' text, newest first. */
  signingKeys: readonly string[];
  /** `signin.managedSettings` with each policy turned into settings. */
  settings: readonly SettingsRule[];
  clock?: () => Date;
  random?: (n: number) => Buffer;
  logError?: (fields: Record<string, unknown>, msg: string) => void;
  /** How long a session's state (revoked or not) is trusted before the store is asked again, ms. */
  sessionCacheMs?: number;
  /** The SCIM bearer tokens (`signin.scim`); SCIM is off without them. */
  scimTokens?: readonly string[] | null;
}

/** What the gateway last read of a session: ended or not, and the person's groups (IdP's and SCIM's). */
interface SessionState {
  revoked: boolean;
  groups: string[] | null;
  until: number;
}

export type Verified = { ok: true; who: SignedIn } | { ok: false; reason: 'invalid' | 'expired' | 'revoked' };

/** The paths this part answers without a bearer. */
export const SIGNIN_PATHS =
  /^\/(\.well-known\/oauth-authorization-server|oauth\/(device_authorization|token|revoke|callback)|device(\/deny)?)$/;

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEVICE_SECONDS = 600;
const INTERVAL = 5;
const STATE_SECONDS = 300;
const USER_CODE_LETTERS = 'BCDFGHJKMNPQRSTVWXYZ';
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** A fixed window per client address, in memory: bounds what one network can make the gateway store. */
class AttemptWindow {
  private readonly seen = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  /** Counts an attempt; false when it is over the limit. */
  take(ip: string, now: number): boolean {
    const w = this.seen.get(ip);
    if (!w || now - w.start >= this.windowMs) {
      if (this.seen.size > 10_000) this.seen.clear();
      this.seen.set(ip, { start: now, count: 1 });
      return true;
    }
    return ++w.count <= this.max;
  }
}

function header(h: SignInRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function cookie(h: SignInRequest['headers'], name: string): string | undefined {
  for (const part of (header(h, 'cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): SignInAnswer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
  body: JSON.stringify(body),
});
const oauthError = (status: number, error: string, description?: string): SignInAnswer =>
  json(status, description ? { error, error_description: description } : { error });

/** `XXXX-XXXX` from what a person typed: upper case, letters only, the dash put back. */
export function normaliseUserCode(typed: string): string | null {
  const letters = typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : null;
}

export class SignInService {
  private readonly keys: SigningKeys;
  private readonly provider: OpenIdProvider;
  private readonly clock: () => Date;
  private readonly random: (n: number) => Buffer;
  private readonly logError: NonNullable<SignInDeps['logError']>;
  private readonly issuer: string;
  private readonly verified = new Map<string, { who: SignedIn; until: number }>();
  private readonly sessions = new Map<string, SessionState>();
  private readonly authorizeWindow = new AttemptWindow(30, 600_000);
  private readonly verifyWindow = new AttemptWindow(10, 600_000);
  private readonly sessionCacheMs: number;
  /** SCIM 2.0 provisioning at /scim/v2, when `signin.scim` is set. */
  readonly scim: ScimService | null;
  private consoleFlow: ConsoleSignIn | null = null;

  constructor(private readonly deps: SignInDeps) {
    this.keys = new SigningKeys(deps.signingKeys);
    this.issuer = deps.config.publicUrl;
    this.provider = new OpenIdProvider({
      issuer: deps.config.issuer,
      clientId: deps.config.clientId,
      clientSecret: deps.clientSecret,
      scopes: deps.config.scopes,
      redirectUri: `${this.issuer}/oauth/callback`,
    });
    this.clock = deps.clock ?? (() => new Date());
    this.random = deps.random ?? randomBytes;
    this.logError = deps.logError ?? (() => undefined);
    this.sessionCacheMs = deps.sessionCacheMs ?? 5_000;
    this.scim = deps.scimTokens?.length
      ? new ScimService({
          store: deps.store,
          publicUrl: this.issuer,
          tokens: deps.scimTokens,
          endSessions: (who, reason) => this.endSessionsOf(who, 'scim', reason),
          clock: this.clock,
          random: this.random,
          logError: this.logError,
        })
      : null;
  }

  /**
   * The identity the IdP's claims stand for, with SCIM's say: SCIM's groups count for `map`, and a
   * person SCIM deactivated is refused.
   */
  private async identityOf(claims: Record<string, unknown>): Promise<Identity> {
    const person = claimedPerson(claims, this.deps.config);
    const standing = person ? await this.deps.store.scim.standing(person.email, person.subject) : null;
    if (standing?.deactivated)
      throw new IdentityRefused(
        `${person!.email} was deactivated by SCIM provisioning and may not sign in; ask your administrator`,
      );
    return identityFrom(claims, this.deps.config, standing?.groups ?? []);
  }

  private get secureCookie(): boolean {
    return this.issuer.startsWith('https:');
  }
  private get cookieName(): string {
    return this.secureCookie ? '__Host-sluice_signin' : 'sluice_signin';
  }
  private get clearCookie(): Record<string, string> {
    return { 'set-cookie': `${this.cookieName}=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/` };
  }

  /** One sign-in event in the admin log; a failure to write it is logged, never the caller's. */
  private async event(action: string, actor: string, target: string, details: Record<string, unknown>) {
    await recordAdmin(this.deps.store, this.clock(), actor, `signin.${action}`, target, details).catch(
      (err: Error) =>
        this.logError({ err: err.message, action }, 'sign-in event not written to the admin log'),
    );
  }

  /** Answers one of `SIGNIN_PATHS`. */
  async handle(req: SignInRequest): Promise<SignInAnswer> {
    const { method, path } = req;
    if (path === '/.well-known/oauth-authorization-server' && method === 'GET') return this.discovery();
    if (path === '/oauth/device_authorization' && method === 'POST') return this.deviceAuthorization(req);
    if (path === '/oauth/token' && method === 'POST') return this.token(req);
    if (path === '/oauth/revoke' && method === 'POST') return this.revoke(req);
    if (path === '/device' && method === 'GET') return this.devicePage(req);
    if ((path === '/device' || path === '/device/deny') && method === 'POST')
      return this.deviceVerify(req, path === '/device/deny');
    if (path === '/oauth/callback' && method === 'GET') return this.callback(req);
    return json(405, { error: 'invalid_request', error_description: `${method} is not served on ${path}` });
  }

  discovery(): SignInAnswer {
    const base = this.issuer;
    return json(200, {
      issuer: base,
      device_authorization_endpoint: `${base}/oauth/device_authorization`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      grant_types_supported: [DEVICE_GRANT, 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'profile', 'email'],
      gateway_protocol_version: 1,
    });
  }

  private userCode(): string {
    let out = '';
    while (out.length < 8)
      for (const b of this.random(16)) if (b < 240 && out.length < 8) out += USER_CODE_LETTERS[b % 20];
    return `${out.slice(0, 4)}-${out.slice(4)}`;
  }

  private async deviceAuthorization(req: SignInRequest): Promise<SignInAnswer> {
    const now = this.clock();
    if (!this.authorizeWindow.take(req.clientIp ?? '', now.getTime()))
      return oauthError(
        429,
        'slow_down',
        'Too many sign-in attempts came from your network, which other people may share.',
      );
    const deviceCode = randomToken(32, this.random);
    const grant: DeviceGrant = {
      id: `dg_${this.random(12).toString('hex')}`,
      deviceHash: sha256Hex(deviceCode),
      userCode: this.userCode(),
      status: 'pending',
      sessionId: null,
      sealed: null,
      clientIp: req.clientIp,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + DEVICE_SECONDS * 1000).toISOString(),
      polledAt: null,
    };
    await this.deps.store.signin.sweepDeviceGrants(now.toISOString());
    await this.deps.store.signin.insertDeviceGrant(grant);
    await this.event('authorize', 'signin:device', grant.id, { clientIp: req.clientIp });
    return json(200, {
      device_code: deviceCode,
      user_code: grant.userCode,
      verification_uri: `${this.issuer}/device`,
      verification_uri_complete: `${this.issuer}/device?user_code=${grant.userCode}`,
      expires_in: DEVICE_SECONDS,
      interval: INTERVAL,
    });
  }

  private async page(
    status: number,
    html: string,
    headers: Record<string, string> = {},
  ): Promise<SignInAnswer> {
    const idp = await this.provider
      .authorizationOrigin()
      .catch(() => new URL(this.deps.config.issuer).origin);
    return { status, headers: { ...pageHeaders([idp]), ...headers }, body: html };
  }

  private async devicePage(req: SignInRequest): Promise<SignInAnswer> {
    const typed = req.query.get('user_code');
    const code = typed ? normaliseUserCode(typed) : null;
    return this.page(200, code ? confirmCodePage(code) : enterCodePage());
  }

  /** RFC 8628 §5.4 and CSRF: the form must come from Sluice's own page. */
  private sameOrigin(req: SignInRequest): boolean {
    const site = header(req.headers, 'sec-fetch-site');
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    return header(req.headers, 'origin') === new URL(this.issuer).origin;
  }

  private async deviceVerify(req: SignInRequest, deny: boolean): Promise<SignInAnswer> {
    const now = this.clock();
    if (!this.sameOrigin(req))
      return this.page(
        200,
        messagePage(
          'Blocked',
          'This request came from another site and was blocked. Open the link your device shows.',
        ),
      );
    if (!this.verifyWindow.take(req.clientIp ?? '', now.getTime()))
      return this.page(
        200,
        messagePage(
          'Too many attempts',
          'Too many attempts came from your network. Wait a few minutes and try again.',
        ),
      );
    const typed = new URLSearchParams(req.body.toString('utf8')).get('user_code') ?? '';
    const code = normaliseUserCode(typed);
    const grant = code ? await this.deps.store.signin.findDeviceGrant({ userCode: code }) : undefined;
    if (!grant || grant.status !== 'pending' || grant.expiresAt <= now.toISOString())
      return this.page(
        200,
        messagePage('Unknown code', 'That code was not recognized — it may have expired.'),
      );
    if (deny) {
      await this.deps.store.signin.updateDeviceGrant(grant.id, 'pending', { status: 'denied' });
      await this.event('denied', 'signin:browser', grant.id, {
        reason: 'denied in the browser',
        clientIp: req.clientIp,
        requestedFrom: grant.clientIp,
        requestedAt: grant.createdAt,
      });
      return this.page(
        200,
        messagePage('Sign-in stopped', 'You stopped this sign-in. Your device will not be signed in.'),
      );
    }
    const browser = randomToken(32, this.random);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = await this.keys.seal(
      { g: grant.id, v: verifier, n: nonce, c: sha256Hex(browser) },
      now,
      STATE_SECONDS,
    );
    let location: URL;
    try {
      location = await this.provider.authorizationUrl(state, nonce, verifier);
    } catch (err) {
      this.logError({ err: (err as Error).message }, 'identity provider unavailable');
      return this.page(
        502,
        messagePage('Try again', 'The identity provider could not be reached. Try again in a moment.'),
      );
    }
    await this.event('verify', 'signin:browser', grant.id, { step: 'redirect', clientIp: req.clientIp });
    const secure = this.secureCookie ? '; Secure' : '';
    return {
      status: 302,
      headers: {
        location: location.href,
        ...NO_STORE,
        'set-cookie': `${this.cookieName}=${browser}; Max-Age=${DEVICE_SECONDS}; HttpOnly; SameSite=Lax; Path=/${secure}`,
      },
      body: '',
    };
  }

  private async callback(req: SignInRequest): Promise<SignInAnswer> {
    const now = this.clock();
    const checked = await this.checkCallback(req, now);
    if ('status' in checked) return checked;
    const { grantId, state, stateText } = checked;
    const exchanged = await this.exchange(req, grantId, state, stateText);
    if ('status' in exchanged) return exchanged;
    const { identity, idpRefresh } = exchanged;
    const refresh = refreshToken(idpRefresh, this.random);
    const sessionId = `ses_${this.random(12).toString('hex')}`;
    const sealed = await this.keys.seal({ r: refresh }, now, DEVICE_SECONDS);
    // The session first: a client polling the moment the grant is approved must find it.
    await this.deps.store.signin.insertSession({
      id: sessionId,
      ...identity,
      refreshHash: sha256Hex(refresh),
      createdAt: now.toISOString(),
      refreshedAt: null,
      expiresAt: this.refreshExpiry(now),
      revokedAt: null,
    });
    const approved = await this.deps.store.signin.updateDeviceGrant(grantId, 'pending', {
      status: 'approved',
      sessionId,
      sealed,
    });
    if (!approved) {
      await this.deps.store.signin.revokeSession(sessionId, now.toISOString());
      return this.alreadyUsed();
    }
    await this.event('verify', `signin:${identity.email}`, sessionId, {
      step: 'signed_in',
      grant: grantId,
      subject: identity.subject,
      email: identity.email,
      org: identity.org,
      role: identity.role,
      groups: identity.groups,
      clientIp: req.clientIp,
    });
    return this.page(
      200,
      messagePage("You're signed in", "You're signed in. Return to your device."),
      this.clearCookie,
    );
  }

  /** The IdP's answer belongs to a pending grant started in this browser; else the page that says why. */
  private async checkCallback(
    req: SignInRequest,
    now: Date,
  ): Promise<SignInAnswer | { grantId: string; state: Record<string, unknown>; stateText: string }> {
    const stateText = req.query.get('state') ?? '';
    const state = stateText ? await this.keys.unseal(stateText, now) : null;
    const grantId = typeof state?.g === 'string' ? state.g : null;
    const idpError = req.query.get('error');
    if (idpError && grantId) {
      await this.deps.store.signin.updateDeviceGrant(grantId, 'pending', { status: 'denied' });
      await this.event('denied', 'signin:idp', grantId, { reason: `identity provider: ${idpError}` });
    }
    if (idpError)
      return this.page(
        200,
        messagePage('Sign-in failed', `The identity provider said: ${idpError}`),
        this.clearCookie,
      );
    if (!state || !grantId || !req.query.get('code'))
      return this.page(
        200,
        messagePage('Link expired', 'This sign-in link has expired. Try again from your device.'),
      );
    const browser = cookie(req.headers, this.cookieName);
    if (!browser || sha256Hex(browser) !== state.c) {
      await this.event('denied', 'signin:browser', grantId, {
        reason: 'browser_mismatch',
        clientIp: req.clientIp,
      });
      return this.page(
        200,
        messagePage(
          'Other browser',
          'This sign-in was started in a different browser. Open the link your device shows here.',
        ),
      );
    }
    const grant = await this.deps.store.signin.findDeviceGrant({ id: grantId });
    if (!grant || grant.status !== 'pending' || grant.expiresAt <= now.toISOString())
      return this.alreadyUsed();
    return { grantId, state, stateText };
  }

  /** The authorization code for the IdP's tokens, and the identity they carry; or the page that says why not. */
  private async exchange(
    req: SignInRequest,
    grantId: string,
    state: Record<string, unknown>,
    stateText: string,
  ): Promise<SignInAnswer | { identity: Identity; idpRefresh: string | null }> {
    const callbackUrl = new URL(`${this.issuer}/oauth/callback?${req.query.toString()}`);
    try {
      const answer = await this.provider.exchange(callbackUrl, {
        state: stateText,
        nonce: String(state.n),
        verifier: String(state.v),
      });
      return { identity: await this.identityOf(answer.claims), idpRefresh: answer.refreshToken };
    } catch (err) {
      if (err instanceof ProviderUnavailable) {
        this.logError({ err: err.message }, 'identity provider unavailable');
        return this.page(
          502,
          messagePage('Try again', 'The identity provider could not be reached. Try again from your device.'),
        );
      }
      const known = err instanceof IdentityRefused || err instanceof ProviderRefused;
      const reason = known ? err.message : 'sign-in failed';
      if (!known) this.logError({ err: (err as Error).message }, 'sign-in callback failed');
      await this.deps.store.signin.updateDeviceGrant(grantId, 'pending', { status: 'denied' });
      await this.event('denied', 'signin:idp', grantId, { reason, clientIp: req.clientIp });
      return this.page(200, messagePage('Sign-in could not be completed', reason), this.clearCookie);
    }
  }

  private alreadyUsed(): Promise<SignInAnswer> {
    return this.page(
      200,
      messagePage('Already used', 'This sign-in has already been used or has expired.'),
      this.clearCookie,
    );
  }

  private refreshExpiry(now: Date): string {
    return new Date(now.getTime() + this.deps.config.refreshTokenDays * 86_400_000).toISOString();
  }

  private async tokens(
    session: { id: string } & Identity,
    refresh: string,
    now: Date,
  ): Promise<SignInAnswer> {
    const seconds = Math.round(this.deps.config.accessTokenMinutes * 60);
    const access = await this.keys.mint({ sessionId: session.id, ...session }, this.issuer, now, seconds);
    return json(200, {
      access_token: access,
      refresh_token: refresh,
      token_type: 'Bearer',
      expires_in: seconds,
      email: session.email,
    });
  }

  private async token(req: SignInRequest): Promise<SignInAnswer> {
    const type = header(req.headers, 'content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
      return oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.body.toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType === DEVICE_GRANT) return this.deviceGrant(form.get('device_code'));
    if (grantType === 'refresh_token') return this.refreshGrant(form.get('refresh_token'), req.clientIp);
    return oauthError(400, 'unsupported_grant_type');
  }

  private async deviceGrant(deviceCode: string | null): Promise<SignInAnswer> {
    if (!deviceCode) return oauthError(400, 'invalid_request', 'device_code is required');
    const now = this.clock();
    const store = this.deps.store.signin;
    const grant = await store.findDeviceGrant({ deviceHash: sha256Hex(deviceCode) });
    if (!grant || grant.expiresAt <= now.toISOString()) return oauthError(400, 'expired_token');
    const previous = await store.pollDeviceGrant(grant.id, now.toISOString());
    if (grant.status === 'denied') {
      await store.deleteDeviceGrant(grant.id);
      return oauthError(400, 'access_denied');
    }
    if (grant.status === 'pending') {
      if (previous && now.getTime() - Date.parse(previous) < (INTERVAL - 1) * 1000)
        return oauthError(429, 'slow_down');
      return oauthError(400, 'authorization_pending');
    }
    if (!(await store.deleteDeviceGrant(grant.id))) return oauthError(400, 'expired_token');
    const handed = grant.sealed ? await this.keys.unseal(grant.sealed, now) : null;
    const session = grant.sessionId ? await store.getSession(grant.sessionId) : undefined;
    if (!handed || typeof handed.r !== 'string' || !session || session.revokedAt)
      return oauthError(400, 'expired_token');
    await this.event('mint', `signin:${session.email}`, session.id, {
      grant: 'device_code',
      email: session.email,
      org: session.org,
    });
    return this.tokens(session, handed.r, now);
  }

  private async refreshGrant(presented: string | null, clientIp: string | null): Promise<SignInAnswer> {
    if (!presented) return oauthError(400, 'invalid_request', 'refresh_token is required');
    const now = this.clock();
    const store = this.deps.store.signin;
    const idpToken = idpRefreshTokenOf(presented);
    const session =
      idpToken === undefined ? undefined : await store.findSessionByRefresh(sha256Hex(presented));
    const refuse = async (reason: string, step: string) => {
      if (session) {
        await store.revokeSession(session.id, now.toISOString());
        this.ended(session.id);
      }
      await this.event('denied', session ? `signin:${session.email}` : 'signin:unknown', session?.id ?? '-', {
        reason,
        step,
        clientIp,
      });
      return oauthError(401, 'invalid_grant');
    };
    if (!session || session.revokedAt) return refuse('unknown, rotated or revoked refresh token', 'session');
    if (session.expiresAt <= now.toISOString()) return refuse('session expired', 'session');
    if ((await this.deps.store.scim.standing(session.email, session.subject)).deactivated)
      return refuse('deactivated by SCIM provisioning', 'scim');
    let identity: Identity = session;
    let nextIdp: string | null = idpToken ?? null;
    if (idpToken) {
      try {
        const answer = await this.provider.refresh(idpToken, {
          sub: session.subject,
          email: session.email,
          groups: session.groups,
          name: session.name,
        });
        identity = await this.identityOf(answer.claims);
        nextIdp = answer.refreshToken;
      } catch (err) {
        if (err instanceof ProviderUnavailable) {
          this.logError({ err: err.message }, 'identity provider unavailable for a refresh');
          return oauthError(503, 'temporarily_unavailable');
        }
        if (err instanceof ProviderRefused) return refuse(err.message, 'token_endpoint');
        if (err instanceof IdentityRefused) return refuse(err.message, 'claims');
        throw err;
      }
      if (identity.org !== session.org || identity.subject !== session.subject)
        return refuse('the identity now maps to another org; sign in again', 'claims');
    }
    const next = refreshToken(nextIdp, this.random);
    const rotated = await store.rotateRefresh(session.id, sha256Hex(presented), {
      refreshHash: sha256Hex(next),
      at: now.toISOString(),
      expiresAt: this.refreshExpiry(now),
      groups: identity.groups,
      email: identity.email,
    });
    if (!rotated) return refuse('refresh token already used', 'rotation');
    await this.event('refresh', `signin:${identity.email}`, session.id, {
      email: identity.email,
      groups: identity.groups,
    });
    return this.tokens({ ...identity, org: session.org, role: session.role, id: session.id }, next, now);
  }

  private async revoke(req: SignInRequest): Promise<SignInAnswer> {
    const token = new URLSearchParams(req.body.toString('utf8')).get('token') ?? '';
    const now = this.clock();
    let sessionId: string | null = null;
    if (looksLikeJwt(token)) {
      const v = await this.keys.verify(token, this.issuer, now);
      if (v.ok) sessionId = v.who.sessionId;
    } else if (idpRefreshTokenOf(token) !== undefined) {
      sessionId = (await this.deps.store.signin.findSessionByRefresh(sha256Hex(token)))?.id ?? null;
    }
    if (sessionId) {
      const session = await this.deps.store.signin.getSession(sessionId);
      this.ended(sessionId);
      if (await this.deps.store.signin.revokeSession(sessionId, now.toISOString()))
        await this.event('revoked', `signin:${session?.email ?? 'unknown'}`, sessionId, {
          by: 'client sign-out',
          clientIp: req.clientIp,
        });
    }
    // RFC 7009 §2.2: 200 whether or not the token was known.
    return { status: 200, headers: { ...NO_STORE }, body: '' };
  }

  /** Requests with this session's tokens are refused on this gateway from now on. */
  ended(sessionId: string): void {
    this.sessions.set(sessionId, { revoked: true, groups: null, until: Infinity });
  }

  /** The web console's sign-in through the same provider and claims mapping (one per gateway). */
  consoleSignIn(): ConsoleSignIn {
    return (this.consoleFlow ??= new ConsoleSignIn({
      config: this.deps.config,
      clientSecret: this.deps.clientSecret,
      clock: this.clock,
      random: this.random,
      logError: this.logError,
    }));
  }

  /** Ends a session now (an admin's revoke); requests with its tokens are refused on this gateway at once. */
  async revokeSession(sessionId: string, actor: string): Promise<boolean> {
    this.ended(sessionId);
    const done = await this.deps.store.signin.revokeSession(sessionId, this.clock().toISOString());
    if (done) await this.event('revoked', actor, sessionId, { by: actor });
    return done;
  }

  /**
   * Ends every live session of a person (SCIM deprovisioning): at once on this gateway, within the
   * session cache's 5 s on every other sharing the store. Returns how many ended.
   */
  async endSessionsOf(
    who: { emails: string[]; subject: string | null },
    actor: string,
    reason: string,
  ): Promise<number> {
    const ids = await this.deps.store.signin.revokeSessionsOf(who, this.clock().toISOString());
    for (const id of ids) {
      this.ended(id);
      await this.event('revoked', actor, id, { by: actor, reason });
    }
    return ids.length;
  }

  /** Verifies a presented access token (signature, audience, issuer, expiry) and its session's state, cached. */
  async verify(token: string): Promise<Verified> {
    const now = this.clock();
    const t = now.getTime();
    let who = this.verified.get(token);
    if (who && who.until <= t) {
      this.verified.delete(token);
      who = undefined;
    }
    if (!who) {
      const v = await this.keys.verify(token, this.issuer, now);
      if (!v.ok) return v;
      who = { who: v.who, until: v.who.expiresAt * 1000 };
      if (this.verified.size >= 10_000) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, who);
    }
    const sid = who.who.sessionId;
    let state = this.sessions.get(sid);
    if (!state || state.until <= t) {
      state = await this.sessionState(sid, t);
      if (this.sessions.size >= 10_000) this.sessions.delete(this.sessions.keys().next().value!);
      this.sessions.set(sid, state);
    }
    if (state.revoked) return { ok: false, reason: 'revoked' };
    return { ok: true, who: state.groups ? { ...who.who, groups: state.groups } : who.who };
  }

  /** A session as the store has it now: ended, or live with the IdP's groups and SCIM's. */
  private async sessionState(sid: string, t: number): Promise<SessionState> {
    const until = t + this.sessionCacheMs;
    const session = await this.deps.store.signin.getSession(sid);
    if (!session || session.revokedAt !== null) return { revoked: true, groups: null, until };
    const standing = await this.deps.store.scim.standing(session.email, session.subject);
    // A session SCIM's deactivation missed (it started in the same instant) ends here.
    if (standing.deactivated) return { revoked: true, groups: null, until };
    const groups = [...new Set([...session.groups, ...standing.groups])];
    return { revoked: false, groups, until };
  }

  /** `/managed/settings` for a caller; null when no rule fits (the protocol's 404: no managed policy). */
  async managedSettings(
    caller: { org: string; groups: readonly string[]; user: string },
    ifNoneMatch: string | undefined,
  ): Promise<SignInAnswer | null> {
    const found = settingsFor(this.deps.settings, caller.org, caller.groups, this.issuer);
    if (!found) return null;
    const etag = `"${found.checksum}"`;
    const common = { etag, vary: 'User-Agent' };
    if (ifNoneMatch === etag)
      return { status: 304, headers: { ...common, 'cache-control': 'no-store' }, body: '' };
    await this.event('settings', `signin:${caller.user}`, caller.org, {
      rule: found.rule,
      checksum: found.checksum,
    });
    return json(200, { uuid: found.checksum, checksum: found.checksum, settings: found.settings }, common);
  }
}
