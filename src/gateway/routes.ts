/**
 * The gateway's routes as data: method, path pattern, the stages a request runs through in order,
 * and the zero-data-retention rule. `server.ts` turns each stage name into its unit; `record`
 * runs after the stages whatever happened, for every route that keeps audit records.
 */

/** The stages of DESIGN.md's order, plus the routes that are answered by one unit of their own. */
export type StageName =
  | 'authenticate'
  | 'authorize'
  | 'read'
  | 'limit'
  | 'inspect'
  | 'journal'
  | 'forward'
  | 'relay'
  | 'account'
  | 'notServed'
  | 'health'
  | 'hello'
  | 'telemetry'
  | 'admin';

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
}

const MODEL_CALL = [
  'authenticate',
  'authorize',
  'read',
  'limit',
  'inspect',
  'journal',
  'forward',
  'relay',
  'account',
] as const;

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
  {
    name: 'messages',
    methods: ['POST'],
    path: '/v1/messages',
    stages: MODEL_CALL,
    zdr: 'allow',
    recorded: true,
    generates: true,
  },
  {
    name: 'count_tokens',
    methods: ['POST'],
    path: '/v1/messages/count_tokens',
    // Free, and Claude Code calls it often: no limit and no charge, but inspected like any content.
    stages: ['authenticate', 'authorize', 'read', 'inspect', 'journal', 'forward', 'relay'],
    zdr: 'allow',
    recorded: true,
  },
  {
    name: 'models',
    methods: ['GET'],
    path: '/v1/models',
    stages: ['authenticate', 'authorize', 'journal', 'forward', 'relay'],
    zdr: 'allow',
    recorded: true,
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
