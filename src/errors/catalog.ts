/**
 * Every client-facing error of Sluice (gateway, admin API, OTLP receiver, egress proxy), in the
 * Anthropic shape, from one place: a stable code, its status and error type, and a message that
 * says which policy was hit and what to do.
 */

/** Status and Anthropic error type of each code. */
export const CATALOG = {
  // gateway: the Messages API surface
  missing_key: { status: 401, type: 'authentication_error' },
  bad_key: { status: 401, type: 'authentication_error' },
  // company sign-in (src/signin): a token the client must replace by signing in again
  signin_ended: { status: 401, type: 'authentication_error' },
  signin_unavailable: { status: 404, type: 'not_found_error' },
  no_managed_settings: { status: 404, type: 'not_found_error' },
  malformed_json: { status: 400, type: 'invalid_request_error' },
  not_a_messages_request: { status: 400, type: 'invalid_request_error' },
  too_large: { status: 413, type: 'request_too_large' },
  not_found: { status: 404, type: 'not_found_error' },
  bad_http: { status: 400, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  zdr_forbidden: { status: 403, type: 'permission_error' },
  upstream_unreachable: { status: 502, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  upstream_stream_error: { status: 502, type: 'api_error' },
  store_unavailable: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
  limits_unavailable: { status: 503, type: 'api_error' },
  // Claude Code shows a 429 with a long retry-after at once and does not retry it; a 403 would read
  // "Failed to authenticate" and a 400 is retried six times (see shared/reference/client-observations.md).
  guard_blocked: { status: 429, type: 'rate_limit_error' },
  guard_failed: { status: 500, type: 'api_error' },
  budget_exceeded: { status: 429, type: 'rate_limit_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  unpriced_model: { status: 400, type: 'invalid_request_error' },
  // A model the org or the cloud account may not use: Claude Code 2.1.330 shows a 429 with a long
  // retry-after at once, after one request, in all four client formats. A 403 is retried for
  // minutes by its Bedrock format and read as "authentication failed" by the others; a 400 is
  // retried up to six times; a 404 is replaced by its own "issue with the selected model" text.
  model_not_allowed: { status: 429, type: 'rate_limit_error' },
  unknown_model: { status: 400, type: 'invalid_request_error' },
  // cloud upstreams (Bedrock, Vertex AI, Foundry): their errors in the Anthropic shape
  cloud_credentials: { status: 502, type: 'api_error' },
  cloud_throttled: { status: 429, type: 'rate_limit_error' },
  cloud_model_denied: { status: 429, type: 'rate_limit_error' },
  cloud_model_unavailable: { status: 400, type: 'invalid_request_error' },
  cloud_invalid_request: { status: 400, type: 'invalid_request_error' },
  cloud_overloaded: { status: 529, type: 'overloaded_error' },
  cloud_timeout: { status: 504, type: 'timeout_error' },
  cloud_failed: { status: 502, type: 'api_error' },
  // OTLP receiver
  telemetry_malformed: { status: 400, type: 'invalid_request_error' },
  telemetry_unavailable: { status: 503, type: 'api_error' },
  // admin API
  admin_bad_request: { status: 400, type: 'invalid_request_error' },
  admin_unauthenticated: { status: 401, type: 'authentication_error' },
  admin_forbidden: { status: 403, type: 'permission_error' },
  admin_not_found: { status: 404, type: 'not_found_error' },
  admin_unavailable: { status: 503, type: 'api_error' },
  // the web console (src/web)
  console_signed_out: { status: 401, type: 'authentication_error' },
  console_csrf: { status: 403, type: 'permission_error' },
  // egress proxy
  egress_bad_request: { status: 400, type: 'invalid_request_error' },
  egress_auth_required: { status: 407, type: 'authentication_error' },
  egress_denied: { status: 403, type: 'permission_error' },
  egress_unreachable: { status: 502, type: 'api_error' },
  egress_busy: { status: 503, type: 'api_error' },
  egress_unavailable: { status: 503, type: 'api_error' },
  // git credential proxy (sandboxed sessions)
  git_auth_required: { status: 401, type: 'authentication_error' },
  git_bad_request: { status: 400, type: 'invalid_request_error' },
  git_not_found: { status: 404, type: 'not_found_error' },
  git_forge_refused: { status: 502, type: 'api_error' },
  git_forge_unreachable: { status: 502, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof CATALOG;

/** Every code of the catalog (tests walk it). */
export const ERROR_CODES = Object.keys(CATALOG) as ErrorCode[];

const usd = (n: number) => `$${n.toFixed(2)}`;
const seconds = (from: Date, to: Date) => Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000));

/** Headers that tell clients (the SDK, Claude Code) not to retry a refusal that a retry cannot fix. */
const NO_RETRY = { 'retry-after': '86400', 'x-should-retry': 'false' };

/** A client-facing error: its code decides status and type; the message says what to do. */
export class SluiceError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SluiceError';
    this.status = CATALOG[code].status;
    this.type = CATALOG[code].type;
  }

  /** The headers an answer with this error carries: its own, and its catalog code. */
  responseHeaders(): Record<string, string> {
    return { ...this.headers, 'x-sluice-error': this.code };
  }

  /** The Anthropic error envelope, as JSON text. */
  body(): string {
    return JSON.stringify({ type: 'error', error: { type: this.type, message: this.message } });
  }

  /** The same error as a server-sent `error` event, for a stream whose status line has gone. */
  sseEvent(): string {
    return `event: error\ndata: ${this.body()}\n\n`;
  }
}

const upstreamName = (name: string, host: string) => `"${name}" (${host})`;

/** A cloud upstream, as errors name it. */
export interface CloudUpstream {
  /** Its name under `upstreams`. */
  name: string;
  /** The cloud, for people: "Amazon Bedrock", "Google Vertex AI", "Microsoft Foundry". */
  cloud: string;
  host: string;
}
const cloudName = (up: CloudUpstream) => `${up.cloud} (upstream ${upstreamName(up.name, up.host)})`;

export const errors = {
  // A 401 without x-should-retry: false is retried by Claude Code for minutes before it shows it.
  missingKey: () =>
    new SluiceError(
      'missing_key',
      'No Sluice key: set ANTHROPIC_API_KEY (sent as x-api-key) or ANTHROPIC_AUTH_TOKEN (sent as Authorization: Bearer) to a key from `sluice keys create`.',
      { 'x-should-retry': 'false' },
    ),
  badKey: () =>
    new SluiceError(
      'bad_key',
      'This Sluice key is unknown or revoked. Ask your administrator for a new one (`sluice keys create`).',
      { 'x-should-retry': 'false' },
    ),
  revokedKey: (revokedAt: string) =>
    new SluiceError(
      'bad_key',
      `This Sluice key was revoked (at ${revokedAt}). Ask your administrator for a new one (\`sluice keys create\`).`,
      { 'x-should-retry': 'false' },
    ),
  expiredKey: (expiresAt: string) =>
    new SluiceError(
      'bad_key',
      `This Sluice key expired at ${expiresAt}. Ask your administrator for a new one (\`sluice keys create\`).`,
      { 'x-should-retry': 'false' },
    ),
  signinEnded: (why: 'expired' | 'revoked' | 'invalid') =>
    new SluiceError(
      'signin_ended',
      why === 'revoked'
        ? 'Your Sluice sign-in was ended (signed out, or revoked by an administrator). Sign in again with /login (or `claude auth login`).'
        : why === 'expired'
          ? 'Your Sluice sign-in token has expired. Sign in again with /login (or `claude auth login`).'
          : 'This sign-in token was not issued by this gateway, or its signing key was retired. Sign in again with /login (or `claude auth login`).',
      // The protocol asks for it: without it Claude Code retries a dead token for minutes before prompting.
      { 'x-should-retry': 'false' },
    ),
  signinUnavailable: (path: string) =>
    new SluiceError(
      'signin_unavailable',
      `This gateway does not offer company sign-in (${path}); there is no signin: section in its configuration. Use a Sluice key (ANTHROPIC_API_KEY), or ask an administrator to configure sign-in (docs/sign-in.md).`,
      { 'cache-control': 'no-store' },
    ),
  noManagedSettings: (org: string) =>
    new SluiceError(
      'no_managed_settings',
      `No managed settings apply to you in org "${org}" (no rule of signin.managedSettings fits); the client starts with its own settings.`,
      { 'cache-control': 'no-store' },
    ),
  malformedJson: (detail: string) =>
    new SluiceError('malformed_json', `The request body is not valid JSON (${detail}).`),
  notMessages: (what: string) =>
    new SluiceError('not_a_messages_request', `The request body is not a Messages request: ${what}.`),
  tooLarge: (limit: number) =>
    new SluiceError(
      'too_large',
      `The request body is larger than this gateway accepts (${limit} bytes). Shorten the conversation (/compact or /clear).`,
    ),
  badHttp: () =>
    new SluiceError('bad_http', 'The request is not valid HTTP/1.1, so the gateway could not read it.'),
  requestTimeout: (ms: number) =>
    new SluiceError(
      'request_timeout',
      `The request did not arrive within ${ms} ms (server.requestTimeoutMs), so the gateway stopped waiting for it. Check the network between the client and the gateway.`,
    ),
  notFound: (method: string, path: string) =>
    new SluiceError('not_found', `This gateway does not serve ${method} ${path}.`),
  zdrForbidden: (org: string, what: string) =>
    new SluiceError(
      'zdr_forbidden',
      `The organization's policy (zero data retention for org "${org}") does not allow ${what}, because it keeps content on a server. Use the Messages API directly, or ask an administrator to change the org's policy.`,
    ),
  upstreamUnreachable: (name: string, host: string) =>
    new SluiceError(
      'upstream_unreachable',
      `The gateway could not reach its upstream ${upstreamName(name, host)}. Try again; if it persists, tell the gateway's administrator.`,
    ),
  upstreamTimeout: (name: string, host: string) =>
    new SluiceError(
      'upstream_timeout',
      `The upstream ${upstreamName(name, host)} did not answer in time. Try again with a shorter request.`,
    ),
  upstreamStream: (name: string, host: string) =>
    new SluiceError(
      'upstream_stream_error',
      `The upstream ${upstreamName(name, host)} failed mid-stream. Try again.`,
    ),
  storeUnavailable: (reason: string) =>
    new SluiceError(
      'store_unavailable',
      `Sluice could not make this request's audit record durable (${reason}), so nothing was sent. Try again shortly; if it persists, tell the gateway's administrator.`,
    ),
  internal: (requestId: string) =>
    new SluiceError(
      'internal_error',
      `Sluice failed to handle this request (logged as ${requestId}). Try again; if it persists, tell the gateway's administrator.`,
    ),
  limitsUnavailable: (org: string) =>
    new SluiceError(
      'limits_unavailable',
      `Sluice could not check the limits of org "${org}" (its store did not answer), so the request was not sent. Try again; if it persists, tell the gateway's administrator.`,
    ),
  /** `groups`: the caller's groups whose `guard` set the blocking action, when it was not the org's own. */
  guardBlocked: (org: string, rules: Record<string, number>, blocked: string[], groups: string[] = []) =>
    new SluiceError(
      'guard_blocked',
      `Sluice blocked this request: ${groups.length ? `${groups.length > 1 ? 'groups' : 'group'} ${groups.map((g) => `"${g}"`).join(' and ')} of ` : ''}org "${org}" does not allow ${blocked
        .map((r) => `${r} (${rules[r]}×)`)
        .join(', ')} to be sent to the model, and nothing was sent. ` +
        'The blocked content is now part of this conversation, so every later request in it would be refused too: ' +
        'run /clear (or /rewind to before the content was read) and keep the value out of the prompt ' +
        '(remove it from the file, or add the file to permissions.deny), or ask your administrator for redact mode.',
      NO_RETRY,
    ),
  budgetExceeded: (b: {
    org: string;
    who: string;
    scope: 'perUser' | 'org' | 'group';
    /** The group whose budget it is (scope 'group'). */
    group?: string;
    span: 'daily' | 'monthly';
    limit: number;
    used: number;
    /** What this request could cost at most (it is refused when that does not fit). */
    need: number;
    resetsAt: Date;
    at: Date;
  }) =>
    new SluiceError(
      'budget_exceeded',
      (b.used >= b.limit
        ? `Sluice: the ${b.span} budget of ${b.who} is used up (${usd(b.used)} of ${usd(b.limit)}, spent or reserved by requests in flight). `
        : `Sluice: the ${b.span} budget of ${b.who} has ${usd(b.limit - b.used)} left of ${usd(b.limit)} ` +
          `(spent or reserved by requests in flight), and this request could cost up to ${usd(b.need)}. ` +
          'Wait for requests in flight to finish, or lower max_tokens. ') +
        `It resets at ${b.resetsAt.toISOString()}. Until then, ask your administrator to raise orgs.${b.org}.${b.scope === 'group' ? `groups.${b.group}.budgets` : `budgets.${b.scope}`}.${b.span}.`,
      // Claude Code shows a 429 with a long retry-after at once instead of retrying for minutes.
      { 'retry-after': String(seconds(b.at, b.resetsAt)), 'x-should-retry': 'false' },
    ),
  rateLimited: (r: { org: string; user: string; what: string; resetsAt: Date; at: Date }) =>
    new SluiceError(
      'rate_limited',
      `Sluice: ${r.user} is over the limit of ${r.what} for org "${r.org}". It resets at ${r.resetsAt.toISOString()}; retry then.`,
      { 'retry-after': String(seconds(r.at, r.resetsAt)) },
    ),
  unpricedModel: (org: string, model: string) =>
    new SluiceError(
      'unpriced_model',
      `Sluice: model "${model}" has no price, and org "${org}" has budgets, so it cannot be charged. ` +
        `Use a priced model, or ask your administrator to add "${model}" under prices: or set orgs.${org}.unpricedModel.`,
      { 'x-should-retry': 'false' },
    ),
  groupModelNotAllowed: (org: string, group: string, model: string, allowed: readonly string[]) =>
    new SluiceError(
      'model_not_allowed',
      `Sluice: group "${group}" of org "${org}" does not allow model "${model}" (its model policy, orgs.${org}.groups.${group}.models, lists ${allowed.join(', ')}). ` +
        'Pick one of those with /model or --model, or ask your administrator to add this one.',
      NO_RETRY,
    ),
  modelNotAllowed: (org: string, model: string, allowed: readonly string[]) =>
    new SluiceError(
      'model_not_allowed',
      `Sluice: org "${org}" does not allow model "${model}" (its model policy, orgs.${org}.models, lists ${allowed.join(', ')}). ` +
        'Pick one of those with /model or --model, or ask your administrator to add this one.',
      NO_RETRY,
    ),
  unknownModel: (model: string, tables: readonly string[]) =>
    new SluiceError(
      'unknown_model',
      `Sluice does not know which id model "${model}" has on this org's route: it is not in ${tables.join(' or ')} (nor in the shipped defaults). ` +
        'Pick a listed model with /model or --model, or ask your administrator to add it to that table.',
      { 'x-should-retry': 'false' },
    ),
  cloudCredentials: (up: CloudUpstream, reason: string) =>
    new SluiceError(
      'cloud_credentials',
      `The gateway's credentials for ${cloudName(up)} were refused or could not be obtained (${reason}). ` +
        "Nothing is wrong with your Sluice key: tell the gateway's administrator to renew the upstream's credentials.",
      { 'x-should-retry': 'false' },
    ),
  cloudThrottled: (up: CloudUpstream, reason: string, retryAfter?: string) =>
    new SluiceError(
      'cloud_throttled',
      `${cloudName(up)} is throttling this account (${reason}). Claude Code retries on its own; if it keeps happening, ask your administrator to raise the quota or add a failover upstream.`,
      retryAfter ? { 'retry-after': retryAfter } : {},
    ),
  cloudModelDenied: (up: CloudUpstream, model: string, reason: string) =>
    new SluiceError(
      'cloud_model_denied',
      `${cloudName(up)} refused model "${model}" for the gateway's account (${reason}). ` +
        "Pick another model with /model, or ask your administrator to grant the account access to this one in the cloud's console.",
      NO_RETRY,
    ),
  cloudModelUnavailable: (up: CloudUpstream, model: string, reason: string) =>
    new SluiceError(
      'cloud_model_unavailable',
      `${cloudName(up)} does not serve model "${model}" there (${reason}). ` +
        "Pick another model with /model, or ask your administrator to map it to an id the region serves (the upstream's models table) or use another region.",
      { 'x-should-retry': 'false' },
    ),
  cloudInvalidRequest: (up: CloudUpstream, reason: string) =>
    new SluiceError('cloud_invalid_request', `${cloudName(up)} refused the request: ${reason}`),
  cloudOverloaded: (up: CloudUpstream, reason: string) =>
    new SluiceError('cloud_overloaded', `${cloudName(up)} is overloaded (${reason}). Try again.`),
  cloudTimeout: (up: CloudUpstream, reason: string) =>
    new SluiceError(
      'cloud_timeout',
      `${cloudName(up)} timed out (${reason}). Try again with a shorter request.`,
    ),
  cloudFailed: (up: CloudUpstream, status: number, reason: string) =>
    new SluiceError(
      'cloud_failed',
      `${cloudName(up)} failed (HTTP ${status}: ${reason}). Try again; if it persists, tell the gateway's administrator.`,
    ),
  guardFailed: (org: string, reason: string) =>
    new SluiceError(
      'guard_failed',
      `Sluice could not inspect this request (${reason}), and org "${org}" never forwards content it has not inspected. ` +
        'Try again; if it keeps failing, shorten the conversation (/compact) or ask your administrator to raise guard.timeoutMs.',
    ),

  telemetryMalformed: (format: string, detail: string) =>
    new SluiceError('telemetry_malformed', `The OTLP ${format} body could not be read (${detail}).`),
  telemetryUnavailable: () =>
    new SluiceError('telemetry_unavailable', 'The telemetry could not be stored. The exporter will retry.'),

  adminBadRequest: (detail: string) => new SluiceError('admin_bad_request', detail),
  adminUnauthenticated: (detail: string) => new SluiceError('admin_unauthenticated', detail),
  adminForbidden: (detail: string) => new SluiceError('admin_forbidden', detail),
  adminNotFound: (detail: string) => new SluiceError('admin_not_found', detail),
  adminUnavailable: () =>
    new SluiceError('admin_unavailable', 'The admin API could not reach the store. Try again.'),

  consoleSignedOut: () =>
    new SluiceError(
      'console_signed_out',
      'The console session is missing or expired. Sign in again with an admin token or a Sluice key.',
    ),
  consoleCsrf: () =>
    new SluiceError(
      'console_csrf',
      'This console action lacks its CSRF token (x-csrf-token from POST /console/session), so it was refused. Reload the console and try again.',
    ),

  egressBadRequest: (detail: string) => new SluiceError('egress_bad_request', `Sluice egress: ${detail}`),
  egressAuthRequired: () =>
    new SluiceError(
      'egress_auth_required',
      'Sluice egress: set the proxy to http://you:SLUICE_KEY@host:port (your Sluice key as the password).',
      { 'proxy-authenticate': 'Basic realm="sluice"' },
    ),
  egressDenied: (host: string, port: number, rule: string) =>
    new SluiceError(
      'egress_denied',
      `Sluice egress: ${host}:${port} is not allowed for this org (rule ${rule}). Ask your administrator to add it to orgs.<org>.egress.allow if it is needed.`,
    ),
  egressUnreachable: (target: string) =>
    new SluiceError('egress_unreachable', `Sluice egress: ${target} could not be reached.`),
  egressBusy: (cap: number) =>
    new SluiceError(
      'egress_busy',
      `Sluice egress: the proxy is serving its limit of ${cap} connections, so this one was not served. Try again shortly; if it keeps happening, ask your administrator to raise egress.maxConnections.`,
      { 'retry-after': '1' },
    ),
  egressUnavailable: (why: string) =>
    new SluiceError(
      'egress_unavailable',
      `Sluice egress could not handle this request (${why}), so nothing was sent. Try again; if it persists, tell your administrator.`,
    ),

  gitAuthRequired: () =>
    new SluiceError(
      'git_auth_required',
      "Sluice git proxy: this request does not carry the session's key. Use the git configuration the sandbox set up (the origin remote as cloned).",
    ),
  gitBadRequest: (detail: string) => new SluiceError('git_bad_request', `Sluice git proxy: ${detail}.`),
  gitNotFound: (detail: string) => new SluiceError('git_not_found', `Sluice git proxy: ${detail}.`),
  gitForgeRefused: (repository: string, status: number) =>
    new SluiceError(
      'git_forge_refused',
      `Sluice git proxy: the forge answered ${status} for ${repository}. Tell the administrator: the forge token under forges: may be missing, expired or without access to this repository.`,
    ),
  gitForgeUnreachable: (repository: string) =>
    new SluiceError(
      'git_forge_unreachable',
      `Sluice git proxy: ${repository} could not be reached. Try again; if it persists, tell the administrator.`,
    ),
};
