/**
 * The client side of company sign-in, for a terminal (`sluice login`, `sluice token`): discovery,
 * the RFC 8628 device flow with its polling rules, and the refresh grant. The network, the clock
 * and waiting come in as parameters, so the polling rules are tested without waiting.
 */

/** What the client needs of a gateway's discovery document; every endpoint same-origin. */
export interface GatewayEndpoints {
  /** The gateway's base URL as given, without a trailing `/`. */
  base: string;
  deviceAuthorization: string;
  token: string;
  revocation?: string;
}

/** Tokens as stored: times in epoch milliseconds. */
export interface SignInTokens {
  accessToken: string;
  /** When the access token expires (receipt time + `expires_in`). */
  expiresAt: number;
  refreshToken?: string;
  email?: string;
}

export interface ClientDeps {
  fetch: typeof fetch;
  /** Epoch milliseconds. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** A sign-in that cannot go on; `refused` when only a new `sluice login` helps. */
export class SignInClientError extends Error {
  constructor(
    message: string,
    readonly refused = false,
  ) {
    super(message);
    this.name = 'SignInClientError';
  }
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i;

/** The gateway URL a person typed, checked: https, or http on loopback only (tokens travel in it). */
export function gatewayBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SignInClientError(
      `"${url}" is not a URL; give the gateway's address, such as https://sluice.example.com`,
    );
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.test(u.hostname)))
    throw new SignInClientError(
      `${u.origin} is not https: sign-in sends tokens, so only https (or http on this machine's loopback) is used`,
    );
  if (u.search || u.hash || u.username || u.password)
    throw new SignInClientError(`give the gateway's base URL without a query, fragment or credentials`);
  return u.href.replace(/\/+$/, '');
}

/** Reads the gateway's discovery document; its endpoints must be absolute and on the gateway's origin. */
export async function discover(base: string, deps: Pick<ClientDeps, 'fetch'>): Promise<GatewayEndpoints> {
  const url = `${base}/.well-known/oauth-authorization-server`;
  const doc = await getJson(url, deps);
  const origin = new URL(base).origin;
  const endpoint = (name: string): string | undefined => {
    const v = doc[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !URL.canParse(v) || new URL(v).origin !== origin)
      throw new SignInClientError(
        `${url}: ${name} is not an absolute URL on ${origin}; is this a Sluice gateway?`,
      );
    return v;
  };
  const deviceAuthorization = endpoint('device_authorization_endpoint');
  const token = endpoint('token_endpoint');
  if (!deviceAuthorization || !token)
    throw new SignInClientError(
      `${url} names no device authorization or token endpoint; is company sign-in set up?`,
    );
  const revocation = endpoint('revocation_endpoint');
  return { base, deviceAuthorization, token, ...(revocation ? { revocation } : {}) };
}

async function getJson(url: string, deps: Pick<ClientDeps, 'fetch'>): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await deps.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error' });
  } catch (err) {
    throw new SignInClientError(`cannot reach ${url}: ${(err as Error).message}`);
  }
  if (res.status === 404)
    throw new SignInClientError(
      `${url} answered 404: company sign-in is not set up on this gateway (signin in sluice.yaml)`,
    );
  if (!res.ok) throw new SignInClientError(`${url} answered ${res.status}`);
  const body = (await res.json().catch(() => null)) as unknown;
  if (!body || typeof body !== 'object') throw new SignInClientError(`${url} did not answer JSON`);
  return body as Record<string, unknown>;
}

/** A started device authorization: what to show the person, and what to poll with. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds between polls. */
  interval: number;
  /** Epoch milliseconds after which the code is dead. */
  expiresAt: number;
}

export async function startDeviceAuthorization(
  endpoints: GatewayEndpoints,
  deps: ClientDeps,
): Promise<DeviceAuthorization> {
  const { status, body } = await postForm(endpoints.deviceAuthorization, { surface: 'sluice_cli' }, deps);
  if (status !== 200)
    throw new SignInClientError(`the gateway refused to start a sign-in: ${describe(status, body)}`);
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const deviceCode = str('device_code');
  const userCode = str('user_code');
  const verificationUri = str('verification_uri');
  if (!deviceCode || !userCode || !verificationUri)
    throw new SignInClientError('the gateway answered the device authorization without a code or a URL');
  const complete = str('verification_uri_complete');
  const interval = typeof body.interval === 'number' && body.interval > 0 ? body.interval : 5;
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 600;
  return {
    deviceCode,
    userCode,
    verificationUri,
    ...(complete ? { verificationUriComplete: complete } : {}),
    interval,
    expiresAt: deps.now() + expiresIn * 1000,
  };
}

/**
 * Polls the token endpoint as RFC 8628 §3.4-3.5 says: every `interval` seconds; `slow_down` adds 5
 * seconds to the interval for good; `authorization_pending` waits; anything else ends the sign-in.
 * Gives up when the code expires. `onWait` hears each wait (for a progress line, and for tests).
 */
export async function pollForTokens(
  endpoints: GatewayEndpoints,
  grant: DeviceAuthorization,
  deps: ClientDeps,
  onWait: (seconds: number) => void = () => {},
): Promise<SignInTokens> {
  let interval = grant.interval;
  for (;;) {
    onWait(interval);
    await deps.sleep(interval * 1000);
    if (deps.now() >= grant.expiresAt) break;
    const { status, body } = await postForm(
      endpoints.token,
      { grant_type: DEVICE_GRANT, device_code: grant.deviceCode },
      deps,
    );
    if (status === 200) return tokensFrom(body, deps.now());
    const error = body.error;
    if (error === 'authorization_pending') continue;
    if (error === 'slow_down') {
      interval += 5;
      continue;
    }
    if (error === 'access_denied')
      throw new SignInClientError('the sign-in was denied in the browser (or by the identity provider)');
    if (error === 'expired_token') break;
    throw new SignInClientError(`the gateway ended the sign-in: ${describe(status, body)}`);
  }
  throw new SignInClientError('the code expired before the sign-in was completed; run `sluice login` again');
}

/**
 * The refresh grant: new tokens, the refresh token rotated. A refusal (`invalid_grant`: signed out,
 * revoked, the account disabled at the identity provider) is `refused`; anything else is transient.
 */
export async function refreshTokens(
  tokenEndpoint: string,
  refreshToken: string,
  deps: Omit<ClientDeps, 'sleep'>,
): Promise<SignInTokens> {
  const { status, body } = await postForm(
    tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    deps,
  );
  if (status === 200) return tokensFrom(body, deps.now(), refreshToken);
  if (body.error === 'invalid_grant')
    throw new SignInClientError(
      'the gateway refused to renew the sign-in (signed out, revoked by an administrator, or the account was disabled)',
      true,
    );
  throw new SignInClientError(`the gateway could not renew the sign-in now: ${describe(status, body)}`);
}

/** RFC 7009 revocation, best effort: true when the gateway said 200. */
export async function revokeToken(
  endpoint: string,
  token: string,
  hint: 'access_token' | 'refresh_token',
  deps: Pick<ClientDeps, 'fetch'>,
): Promise<boolean> {
  const { status } = await postForm(endpoint, { token, token_type_hint: hint }, deps).catch(() => ({
    status: 0,
  }));
  return status === 200;
}

function tokensFrom(body: Record<string, unknown>, now: number, previousRefresh?: string): SignInTokens {
  const access = body.access_token;
  const expiresIn = body.expires_in;
  if (typeof access !== 'string' || !access)
    throw new SignInClientError('the gateway answered without an access token');
  const refresh =
    typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : previousRefresh;
  return {
    accessToken: access,
    // Without expires_in, assume the protocol's hour would be wrong in the unsafe direction: ten minutes.
    expiresAt: now + (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 600) * 1000,
    ...(refresh ? { refreshToken: refresh } : {}),
    ...(typeof body.email === 'string' && body.email ? { email: body.email } : {}),
  };
}

async function postForm(
  url: string,
  fields: Record<string, string>,
  deps: Pick<ClientDeps, 'fetch'>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await deps.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new SignInClientError(`cannot reach ${url}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as unknown;
  return {
    status: res.status,
    body: body && typeof body === 'object' ? (body as Record<string, unknown>) : {},
  };
}

function describe(status: number, body: Record<string, unknown>): string {
  const error = typeof body.error === 'string' ? body.error : 'no error code';
  const text = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
  return `${status} ${error}${text}`;
}
