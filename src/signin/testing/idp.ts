/**
 * A real OpenID provider for tests (panva's `oidc-provider`, in-process on a loopback port) and a
 * browser stand-in that walks its login and consent forms with undici's fetch: no mock of any
 * part of the sign-in, and no browser needed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestUser {
  email: string;
  name: string;
  groups: string[];
  /** False: the account is gone at the IdP (a leaver); its refresh tokens stop working. */
  active: boolean;
}

export interface TestIdp {
  issuer: string;
  users: Map<string, TestUser>;
  close(): Promise<void>;
}

/** Starts a provider with one confidential client whose redirect URI is `redirectUri`. */
export async function startTestIdp(opts: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** More redirect URIs the client may use (the console's: PUBLIC_URL/console/signin/callback). */
  moreRedirectUris?: string[];
  users: Record<string, Omit<TestUser, 'active'>>;
}): Promise<TestIdp> {
  const users = new Map(Object.entries(opts.users).map(([id, u]) => [id, { ...u, active: true }]));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        redirect_uris: [opts.redirectUri, ...(opts.moreRedirectUris ?? [])],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user?.active) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email: user.email,
          email_verified: true,
          name: user.name,
          groups: user.groups,
        }),
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // The claims in the id_token itself, as the companies' IdPs are usually set up for gateways.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
  });
  const listening = provider.listen(port, '127.0.0.1') as unknown as Server;
  await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
  return {
    issuer,
    users,
    close: () =>
      new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeAllConnections();
      }),
  };
}

/** A loopback port free now (for a URL that must be known before its server starts). */
/** Ports this process was handed: a port just probed is free again, and the kernel may hand it out twice. */
const handedOut = new Set<number>();

/** A loopback port that is free now and was not handed out before in this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** A browser: one cookie jar (cookies ignore ports, as browsers' do), redirects followed by hand. */
export class TestBrowser {
  private readonly jar = new Map<string, string>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1);
      if (/max-age=0/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /** One request with the jar's cookies; the answer is not followed. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.remember(res);
    return res;
  }

  /** Follows redirects from `res` (GET), returning the first non-redirect answer. */
  async follow(res: Response, from: string): Promise<{ res: Response; url: string }> {
    let url = from;
    while (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      res = await this.request(url);
    }
    return { res, url };
  }

  /**
   * Signs in at the IdP as `login`: posts each page's form (login, then consent) until a page of
   * `until` answers; returns that page.
   */
  async signInAtIdp(
    first: Response,
    from: string,
    login: string,
    until: string,
  ): Promise<{ res: Response; url: string; body: string }> {
    let { res, url } = await this.follow(first, from);
    for (let step = 0; step < 5; step++) {
      const body = await res.text();
      if (url.startsWith(until)) return { res, url, body };
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(body);
      if (!form) throw new Error(`no form at ${url} (${res.status}): ${body.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const m of body.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi))
        fields.set(m[1]!, m[2]!);
      if (/name="login"/.test(body)) {
        fields.set('login', login);
        fields.set('password', 'any');
      }
      const action = new URL(form[1]!.replace(/&amp;/g, '&'), url).href;
      const posted = await this.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
        body: fields.toString(),
      });
      ({ res, url } = await this.follow(posted, action));
    }
    throw new Error(`did not reach ${until}; visited ${this.visited.join(' -> ')}`);
  }
}
