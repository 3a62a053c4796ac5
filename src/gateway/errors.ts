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
  | 'store_unavailable';

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
};

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
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
};
