/** Every client-facing error of the gateway, in the Anthropic shape, from one place. */

export type ErrorCode =
  | 'missing_key'
  | 'bad_key'
  | 'malformed_json'
  | 'not_a_messages_request'
  | 'too_large'
  | 'not_found'
  | 'zdr_forbidden'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'store_unavailable'
  | 'guard_blocked'
  | 'guard_failed'
  | 'budget_exceeded'
  | 'rate_limited'
  | 'unpriced_model'
  | 'admin_bad_request'
  | 'admin_unauthenticated'
  | 'admin_forbidden'
  | 'admin_not_found';

const CATALOG: Record<ErrorCode, { status: number; type: string }> = {
  missing_key: { status: 401, type: 'authentication_error' },
  bad_key: { status: 401, type: 'authentication_error' },
  malformed_json: { status: 400, type: 'invalid_request_error' },
  not_a_messages_request: { status: 400, type: 'invalid_request_error' },
  too_large: { status: 413, type: 'request_too_large' },
  not_found: { status: 404, type: 'not_found_error' },
  zdr_forbidden: { status: 403, type: 'permission_error' },
  upstream_unreachable: { status: 502, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  store_unavailable: { status: 503, type: 'api_error' },
  // Claude Code shows a 429 with a long retry-after at once and does not retry it; a 403 would read
  // "Failed to authenticate" and a 400 is retried six times (see shared/reference/client-observations.md).
  guard_blocked: { status: 429, type: 'rate_limit_error' },
  guard_failed: { status: 500, type: 'api_error' },
  budget_exceeded: { status: 429, type: 'rate_limit_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  unpriced_model: { status: 400, type: 'invalid_request_error' },
  admin_bad_request: { status: 400, type: 'invalid_request_error' },
  admin_unauthenticated: { status: 401, type: 'authentication_error' },
  admin_forbidden: { status: 403, type: 'permission_error' },
  admin_not_found: { status: 404, type: 'not_found_error' },
};

const usd = (n: number) => `$${n.toFixed(2)}`;
const seconds = (from: Date, to: Date) => Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000));

/** Headers that tell clients (the SDK, Claude Code) not to retry a refusal that a retry cannot fix. */
const NO_RETRY = { 'retry-after': '86400', 'x-should-retry': 'false' };

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = CATALOG[code].status;
    this.type = CATALOG[code].type;
  }

  body(): string {
    return JSON.stringify({ type: 'error', error: { type: this.type, message: this.message } });
  }
}

export const errors = {
  missingKey: () =>
    new GatewayError(
      'missing_key',
      'No Sluice key: set ANTHROPIC_API_KEY (sent as x-api-key) or ANTHROPIC_AUTH_TOKEN (sent as Authorization: Bearer) to a key from `sluice keys create`.',
    ),
  badKey: () =>
    new GatewayError(
      'bad_key',
      'This Sluice key is unknown or revoked. Ask your administrator for a new one (`sluice keys create`).',
    ),
  malformedJson: (detail: string) =>
    new GatewayError('malformed_json', `The request body is not valid JSON (${detail}).`),
  notMessages: (what: string) =>
    new GatewayError('not_a_messages_request', `The request body is not a Messages request: ${what}.`),
  tooLarge: (limit: number) =>
    new GatewayError(
      'too_large',
      `The request body is larger than this gateway accepts (${limit} bytes). Shorten the conversation (/compact or /clear).`,
    ),
  notFound: (method: string, path: string) =>
    new GatewayError('not_found', `This gateway does not serve ${method} ${path}.`),
  zdrForbidden: (org: string, what: string) =>
    new GatewayError(
      'zdr_forbidden',
      `The organization's policy (zero data retention for org "${org}") does not allow ${what}, because it keeps content on a server. Use the Messages API directly, or ask an administrator to change the org's policy.`,
    ),
  upstreamUnreachable: (name: string, host: string) =>
    new GatewayError(
      'upstream_unreachable',
      `The gateway could not reach its upstream "${name}" (${host}). Try again; if it persists, tell the gateway's administrator.`,
    ),
  upstreamTimeout: (name: string, host: string) =>
    new GatewayError(
      'upstream_timeout',
      `The upstream "${name}" (${host}) did not answer in time. Try again with a shorter request.`,
    ),
  guardBlocked: (org: string, rules: Record<string, number>, blocked: string[]) =>
    new GatewayError(
      'guard_blocked',
      `Sluice blocked this request: org "${org}" does not allow ${blocked
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
    scope: 'perUser' | 'org';
    span: 'daily' | 'monthly';
    limit: number;
    used: number;
    resetsAt: Date;
    at: Date;
  }) =>
    new GatewayError(
      'budget_exceeded',
      `Sluice: the ${b.span} budget of ${b.who} is used up (${usd(b.used)} of ${usd(b.limit)}). ` +
        `It resets at ${b.resetsAt.toISOString()}. Until then, ask your administrator to raise orgs.${b.org}.budgets.${b.scope}.${b.span}.`,
      // Claude Code shows a 429 with a long retry-after at once instead of retrying for minutes.
      { 'retry-after': String(seconds(b.at, b.resetsAt)), 'x-should-retry': 'false' },
    ),
  rateLimited: (r: { org: string; user: string; what: string; resetsAt: Date; at: Date }) =>
    new GatewayError(
      'rate_limited',
      `Sluice: ${r.user} is over the limit of ${r.what} for org "${r.org}". It resets at ${r.resetsAt.toISOString()}; retry then.`,
      { 'retry-after': String(seconds(r.at, r.resetsAt)) },
    ),
  unpricedModel: (org: string, model: string) =>
    new GatewayError(
      'unpriced_model',
      `Sluice: model "${model}" has no price, and org "${org}" has budgets, so it cannot be charged. ` +
        `Use a priced model, or ask your administrator to add "${model}" under prices: or set orgs.${org}.unpricedModel.`,
      { 'x-should-retry': 'false' },
    ),
  guardFailed: (org: string, reason: string) =>
    new GatewayError(
      'guard_failed',
      `Sluice could not inspect this request (${reason}), and org "${org}" never forwards content it has not inspected. ` +
        'Try again; if it keeps failing, shorten the conversation (/compact) or ask your administrator to raise guard.timeoutMs.',
    ),
};
