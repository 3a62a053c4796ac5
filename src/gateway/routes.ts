/**
 * The gateway's routes as data: method, path pattern, the stages a request runs through in order,
 * and the zero-data-retention rule. Clients in Bedrock's and Vertex AI's formats have routes of
 * their own, whose first stage after the key puts the request in the Messages API's terms.
 * `server.ts` turns each stage name into its unit; `record` runs after the stages whatever
 * happened, for every route that keeps audit records.
 */

import type { Operation } from './upstreams/adapter.js';

/** The stages of DESIGN.md's order, plus the routes that are answered by one unit of their own. */
export type StageName =
  | 'authenticate'
  | 'authorize'
  | 'bedrockClient'
  | 'vertexClient'
  | 'read'
  | 'route'
  | 'limit'
  | 'inspect'
  | 'journal'
  | 'forward'
  | 'relay'
  | 'account'
  | 'notServed'
  | 'health'
  | 'hello'
  | 'inferenceProfiles'
  | 'telemetry'
  | 'admin'
  | 'metrics'
  | 'signin'
  | 'managedSettings'
  | 'scim'
  | 'console';

export interface Route {
  name: string;
  /** Methods served; `*` for any. */
  methods: readonly string[] | '*';
  /** An exact path, or a pattern for the path without its query. */
  path: string | RegExp;
  stages: readonly StageName[];
  /** `refuse`: under zero data retention the route is refused, since it keeps content upstream. */
  zdr: 'allow' | 'refuse';
  /** One audit record per request (model traffic); other routes leave their own traces. */
  recorded: boolean;
  /** The body is a Messages request that generates (max_tokens applies, and it costs money). */
  generates?: boolean;
  /** The Messages API operation a model route stands for. */
  operation?: Operation;
  /** A prefix of the client's path that the Messages API path does not have (Foundry's `/anthropic`). */
  strip?: string;
}

const MODEL_CALL = [
  'authenticate',
  'authorize',
  'read',
  'route',
  'limit',
  'inspect',
  'journal',
  'forward',
  'relay',
  'account',
] as const;

// Free, and Claude Code calls it often: no limit and no charge, but inspected like any content.
const COUNT_TOKENS = [
  'authenticate',
  'authorize',
  'read',
  'route',
  'inspect',
  'journal',
  'forward',
  'relay',
] as const;

/** The Messages API's own routes, at `prefix`. */
function messagesApi(name: string, prefix: string): Route[] {
  const strip = prefix ? { strip: prefix } : {};
  return [
    {
      name: `${name}messages`,
      methods: ['POST'],
      path: `${prefix}/v1/messages`,
      stages: MODEL_CALL,
      zdr: 'allow',
      recorded: true,
      generates: true,
      operation: 'messages',
      ...strip,
    },
    {
      name: `${name}count_tokens`,
      methods: ['POST'],
      path: `${prefix}/v1/messages/count_tokens`,
      stages: COUNT_TOKENS,
      zdr: 'allow',
      recorded: true,
      operation: 'count_tokens',
      ...strip,
    },
    {
      name: `${name}models`,
      methods: ['GET'],
      path: `${prefix}/v1/models`,
      stages: ['authenticate', 'authorize', 'route', 'journal', 'forward', 'relay'],
      zdr: 'allow',
      recorded: true,
      operation: 'models',
      ...strip,
    },
  ];
}

export const ROUTES: readonly Route[] = [
  { name: 'health', methods: ['GET'], path: '/healthz', stages: ['health'], zdr: 'allow', recorded: false },
  {
    name: 'hello',
    methods: ['HEAD', 'GET'],
    path: '/api/hello',
    stages: ['hello'],
    zdr: 'allow',
    recorded: false,
  },
  ...messagesApi('', ''),
  // Microsoft Foundry's format is the Messages API under /anthropic (ANTHROPIC_FOUNDRY_BASE_URL).
  ...messagesApi('foundry-', '/anthropic'),
  {
    // Claude Code in Bedrock's format asks for the account's inference profiles at start, with no
    // credential when it skips AWS auth; the models are Sluice's to map, so the list is empty.
    name: 'bedrock-inference-profiles',
    methods: ['GET'],
    path: '/inference-profiles',
    stages: ['inferenceProfiles'],
    zdr: 'allow',
    recorded: false,
  },
  {
    // Amazon Bedrock's format (ANTHROPIC_BEDROCK_BASE_URL): InvokeModel and its streaming twin.
    name: 'bedrock-invoke',
    methods: ['POST'],
    path: /^\/model\/[^/]+\/(invoke|invoke-with-response-stream)$/,
    stages: ['authenticate', 'authorize', 'bedrockClient', ...MODEL_CALL.slice(2)],
    zdr: 'allow',
    recorded: true,
    generates: true,
    operation: 'messages',
  },
  {
    // Google Vertex AI's format (ANTHROPIC_VERTEX_BASE_URL, with or without its /v1).
    name: 'vertex-count-tokens',
    methods: ['POST'],
    path: /^(\/v1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/count-tokens:rawPredict$/,
    stages: ['authenticate', 'authorize', 'vertexClient', ...COUNT_TOKENS.slice(2)],
    zdr: 'allow',
    recorded: true,
    operation: 'count_tokens',
  },
  {
    name: 'vertex-predict',
    methods: ['POST'],
    path: /^(\/v1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/[^/:]+:(rawPredict|streamRawPredict)$/,
    stages: ['authenticate', 'authorize', 'vertexClient', ...MODEL_CALL.slice(2)],
    zdr: 'allow',
    recorded: true,
    generates: true,
    operation: 'messages',
  },
  {
    name: 'stores-content',
    methods: '*',
    path: /^\/v1\/(files|messages\/batches)(\/|$)/,
    stages: ['authenticate', 'authorize', 'notServed'],
    zdr: 'refuse',
    recorded: true,
  },
  {
    name: 'otlp',
    methods: ['POST'],
    path: /^\/v1\/(metrics|logs|traces)$/,
    stages: ['authenticate', 'authorize', 'telemetry'],
    zdr: 'allow',
    recorded: false,
  },
  { name: 'admin', methods: '*', path: /^\/admin\/v1\//, stages: ['admin'], zdr: 'allow', recorded: false },
  // Prometheus text format, for a config admin token (docs/operations.md).
  { name: 'metrics', methods: ['GET'], path: '/metrics', stages: ['metrics'], zdr: 'allow', recorded: false },
  {
    // Company sign-in (src/signin): discovery, device flow, the browser leg, tokens, revocation.
    name: 'signin',
    methods: '*',
    path: /^\/(\.well-known\/oauth-authorization-server|oauth\/(device_authorization|token|revoke|callback)|device(\/deny)?)$/,
    stages: ['signin'],
    zdr: 'allow',
    recorded: false,
  },
  {
    // SCIM 2.0 provisioning from the company's IdP (src/signin/scim.ts), with its own bearer token.
    name: 'scim',
    methods: '*',
    path: /^\/scim\/v2(\/|$)/,
    stages: ['scim'],
    zdr: 'allow',
    recorded: false,
  },
  {
    name: 'managed-settings',
    methods: ['GET'],
    path: '/managed/settings',
    stages: ['authenticate', 'authorize', 'managedSettings'],
    zdr: 'allow',
    recorded: false,
  },
  // The web console (src/web): its page, assets, session and data, under the admin API's rules.
  {
    name: 'console',
    methods: '*',
    path: /^\/console(\/|$)/,
    stages: ['console'],
    zdr: 'allow',
    recorded: false,
  },
];

/** Anything else: a key is still required, then a 404 naming what was asked for. */
export const UNKNOWN_ROUTE: Route = {
  name: 'unknown',
  methods: '*',
  path: /.*/,
  stages: ['authenticate', 'authorize', 'notServed'],
  zdr: 'allow',
  recorded: true,
};

/** The route serving `method path` (the path without its query). */
export function routeFor(method: string, path: string, routes: readonly Route[] = ROUTES): Route {
  for (const r of routes) {
    if (r.methods !== '*' && !r.methods.includes(method)) continue;
    if (typeof r.path === 'string' ? r.path === path : r.path.test(path)) return r;
  }
  return UNKNOWN_ROUTE;
}
