/**
 * The web console's sign-in through the organisation's OpenID provider: the same client
 * (`oidc.ts`: code flow with PKCE, state and nonce, id_token verified with `jose`) and the same
 * claims-to-identity rules (`identity.ts`, `signin.map`) as Claude Code's sign-in, with its own
 * redirect URI, PUBLIC_URL/console/signin/callback. A round trip's checks live in memory for five
 * minutes, bound to the browser that started it by a value only that browser holds (a cookie).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { SignInConfig } from '../control/config.js';
import { IdentityRefused, identityFrom, type Identity } from './identity.js';
import { OpenIdProvider, ProviderRefused, ProviderUnavailable } from './oidc.js';

export type ConsoleSignInAnswer =
  { ok: true; identity: Identity } | { ok: false; reason: string; unavailable: boolean };

interface Pending {
  verifier: string;
  nonce: string;
  binding: string;
  expires: number;
}

const ROUND_TRIP_MS = 300_000;
const MAX_PENDING = 10_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ConsoleSignIn {
  private readonly provider: OpenIdProvider;
  private readonly pending = new Map<string, Pending>();
  private readonly redirectUri: string;

  constructor(
    private readonly o: {
      config: SignInConfig;
      clientSecret: string;
      clock: () => Date;
      random?: (n: number) => Buffer;
      logError?: (fields: Record<string, unknown>, msg: string) => void;
    },
  ) {
    this.redirectUri = `${o.config.publicUrl}/console/signin/callback`;
    this.provider = new OpenIdProvider({
      issuer: o.config.issuer,
      clientId: o.config.clientId,
      clientSecret: o.clientSecret,
      // The console needs no refresh token: its session ends after eight hours.
      scopes: o.config.scopes.filter((s) => s !== 'offline_access'),
      redirectUri: this.redirectUri,
    });
  }

  /** The provider's name on the console's button. */
  get label(): string {
    return this.o.config.displayName ?? new URL(this.o.config.issuer).host;
  }

  private token(): string {
    return (this.o.random ?? randomBytes)(32).toString('base64url');
  }

  /** Starts a round trip: the authorization URL and the browser's binding value. */
  async start(): Promise<{ location: string; binding: string }> {
    const now = this.o.clock().getTime();
    for (const [k, p] of this.pending) if (p.expires <= now) this.pending.delete(k);
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
    const state = this.token();
    const binding = this.token();
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const url = await this.provider.authorizationUrl(state, nonce, verifier);
    this.pending.set(state, { verifier, nonce, binding: sha256(binding), expires: now + ROUND_TRIP_MS });
    return { location: url.href, binding };
  }

  /** The IdP's answer at the callback: the identity it maps to, or why not. */
  async finish(query: URLSearchParams, binding: string | undefined): Promise<ConsoleSignInAnswer> {
    const state = query.get('state') ?? '';
    const p = this.pending.get(state);
    // Single use, whatever the outcome.
    this.pending.delete(state);
    const refuse = (reason: string, unavailable = false): ConsoleSignInAnswer => ({
      ok: false,
      reason,
      unavailable,
    });
    if (!p || p.expires <= this.o.clock().getTime())
      return refuse('This sign-in link has expired or was used already. Sign in again.');
    if (!binding || sha256(binding) !== p.binding)
      return refuse('This sign-in was started in another browser. Sign in again here.');
    const idpError = query.get('error');
    if (idpError) return refuse(`The identity provider said: ${idpError}`);
    try {
      const answer = await this.provider.exchange(new URL(`${this.redirectUri}?${query.toString()}`), {
        state,
        nonce: p.nonce,
        verifier: p.verifier,
      });
      return { ok: true, identity: identityFrom(answer.claims, this.o.config) };
    } catch (err) {
      if (err instanceof IdentityRefused || err instanceof ProviderRefused) return refuse(err.message);
      if (!(err instanceof ProviderUnavailable)) throw err;
      this.o.logError?.({ err: err.message }, 'identity provider unavailable for a console sign-in');
      return refuse('The identity provider could not be reached. Try again in a moment.', true);
    }
  }
}
