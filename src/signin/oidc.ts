/**
 * The organisation's OpenID provider, through `openid-client`: issuer discovery, the authorization
 * URL (code flow with PKCE, nonce and state), the code exchange and refresh. Every id_token is
 * also verified with `jose` against the provider's JWKS (signature, issuer, audience), whatever
 * the transport already guarantees.
 */
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  /** Where the provider sends the browser back: PUBLIC_URL/oauth/callback. */
  redirectUri: string;
}

/** What the provider said about a person: the id_token's verified claims and its refresh token. */
export interface ProviderAnswer {
  claims: Record<string, unknown>;
  refreshToken: string | null;
}

/** The provider refused (invalid_grant and the like): the person must sign in again. */
export class ProviderRefused extends Error {
  constructor(readonly error: string) {
    super(`the identity provider refused: ${error}`);
    this.name = 'ProviderRefused';
  }
}

/** The provider could not be asked (unreachable, 5xx, a malformed answer). */
export class ProviderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}

export class OpenIdProvider {
  private discovered: Promise<{ config: client.Configuration; jwks: JWTVerifyGetKey }> | null = null;

  constructor(private readonly s: OidcSettings) {}

  /** Discovery, once; a failure is retried on the next call. */
  private provider() {
    this.discovered ??= (async () => {
      const insecure = new URL(this.s.issuer).protocol === 'http:';
      const config = await client.discovery(
        new URL(this.s.issuer),
        this.s.clientId,
        undefined,
        client.ClientSecretPost(this.s.clientSecret),
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      );
      const jwksUri = config.serverMetadata().jwks_uri;
      if (!jwksUri) throw new ProviderUnavailable('the identity provider publishes no jwks_uri');
      return { config, jwks: createRemoteJWKSet(new URL(jwksUri)) };
    })().catch((err: Error) => {
      this.discovered = null;
      throw err instanceof ProviderUnavailable
        ? err
        : new ProviderUnavailable(`discovery of ${this.s.issuer} failed: ${err.message}`);
    });
    return this.discovered;
  }

  /** The origin of the authorization endpoint (the verification page's CSP allows posting there). */
  async authorizationOrigin(): Promise<string> {
    const { config } = await this.provider();
    return new URL(config.serverMetadata().authorization_endpoint ?? this.s.issuer).origin;
  }

  /** The authorization URL for one browser round trip. */
  async authorizationUrl(state: string, nonce: string, verifier: string): Promise<URL> {
    const { config } = await this.provider();
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.s.redirectUri,
      scope: this.s.scopes.join(' '),
      response_type: 'code',
      response_mode: 'query',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // Providers (oidc-provider among them) issue a refresh token for offline_access only after consent.
      ...(this.s.scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    });
  }

  /** Exchanges the code the browser brought back (`callbackUrl`), checking state, nonce and PKCE. */
  async exchange(
    callbackUrl: URL,
    checks: { state: string; nonce: string; verifier: string },
  ): Promise<ProviderAnswer> {
    const { config } = await this.provider();
    const tokens = await this.ask(() =>
      client.authorizationCodeGrant(config, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.verifier,
        idTokenExpected: true,
      }),
    );
    return { claims: await this.verifyIdToken(tokens.id_token), refreshToken: tokens.refresh_token ?? null };
  }

  /** Refreshes at the provider: the person's current claims, and the provider's next refresh token. */
  async refresh(refreshToken: string, previous: Record<string, unknown>): Promise<ProviderAnswer> {
    const { config } = await this.provider();
    const tokens = await this.ask(() => client.refreshTokenGrant(config, refreshToken));
    const claims = tokens.id_token ? await this.verifyIdToken(tokens.id_token) : previous;
    if (claims.sub !== previous.sub) throw new ProviderRefused('the refreshed identity is another subject');
    return { claims, refreshToken: tokens.refresh_token ?? refreshToken };
  }

  private async verifyIdToken(idToken: string | undefined): Promise<Record<string, unknown>> {
    if (!idToken) throw new ProviderRefused('no id_token');
    const { jwks } = await this.provider();
    try {
      const { payload } = await jwtVerify(idToken, jwks, {
        issuer: this.s.issuer,
        audience: this.s.clientId,
      });
      return payload;
    } catch (err) {
      throw new ProviderRefused(`the id_token did not verify (${(err as Error).message})`);
    }
  }

  /** Runs a token request, sorting the provider's refusals from its failures. */
  private async ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof client.ResponseBodyError) {
        if (err.status >= 500) throw new ProviderUnavailable(`the identity provider answered ${err.status}`);
        throw new ProviderRefused(err.error);
      }
      if (err instanceof client.AuthorizationResponseError) throw new ProviderRefused(err.error);
      if (err instanceof ProviderRefused || err instanceof ProviderUnavailable) throw err;
      const e = err as Error & { code?: string };
      // openid-client's own checks (state, nonce, PKCE, claims) carry OAUTH_* codes: a refusal.
      if (typeof e.code === 'string' && e.code.startsWith('OAUTH_')) throw new ProviderRefused(e.message);
      throw new ProviderUnavailable(`the identity provider could not be reached: ${e.message}`);
    }
  }
}
