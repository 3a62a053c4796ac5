/** Mapping between store records and table rows, shared by both dialects. */
import { GUARDED } from './guard-rollups.js';
import type {
  AdminLogEntry,
  AuditQuery,
  AuditRecord,
  EgressRecord,
  EgressTarget,
  Counter,
  KeyRecord,
  OrgRecord,
  TelemetryRow,
  UsageRow,
} from './types.js';

export const AUDIT_COLUMNS = [
  'id',
  'time',
  'org',
  'user_email',
  'key_id',
  'session_id',
  'method',
  'path',
  'model',
  'stream',
  'status',
  'error_type',
  'upstream',
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
  'cost_usd',
  'latency_ms',
  'overhead_ms',
  'guard',
  'request_content',
  'response_content',
  'flagged',
  'upstreams_tried',
  'groups',
  'price_note',
  'request_base',
  'request_head',
  'request_tail',
] as const;

/** The row values of `record`, in `AUDIT_COLUMNS` order; `stream` as the dialect wants booleans. */
export function auditValues(r: AuditRecord, bool: (b: boolean) => unknown): unknown[] {
  return [
    r.id,
    r.time,
    r.org,
    r.user,
    r.keyId,
    r.sessionId,
    r.method,
    r.path,
    r.model,
    bool(r.stream),
    r.status,
    r.errorType,
    r.upstream,
    r.inputTokens,
    r.outputTokens,
    r.cacheCreationInputTokens,
    r.cacheReadInputTokens,
    r.costUsd,
    r.latencyMs,
    r.overheadMs,
    // Decision first, always: the partial index `audit_guarded` and decision filters match its prefix.
    JSON.stringify({ decision: r.guard.decision, rules: r.guard.rules }),
    r.requestContent,
    r.responseContent,
    bool(r.guard.decision === 'block'),
    JSON.stringify(r.upstreamsTried),
    groupsValue(r.groups),
    r.priceNote ?? null,
    r.requestBase?.id ?? null,
    r.requestBase?.head ?? null,
    r.requestBase?.tail ?? null,
  ];
}

type Row = Record<string, unknown>;

/** Groups as stored: a JSON array, or null for none. */
export function groupsValue(groups: readonly string[] | undefined): string | null {
  return groups?.length ? JSON.stringify(groups) : null;
}

/** `{ groups }` when the row names any, else nothing (records without groups stay as they were). */
function groupsOf(row: Row): { groups?: string[] } {
  const groups = row.groups ? (JSON.parse(String(row.groups)) as string[]) : [];
  return groups.length ? { groups } : {};
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function auditFromRow(row: Row): AuditRecord {
  return {
    id: String(row.id),
    time: String(row.time),
    org: str(row.org),
    user: str(row.user_email),
    keyId: str(row.key_id),
    sessionId: str(row.session_id),
    method: String(row.method),
    path: String(row.path),
    model: str(row.model),
    stream: row.stream === true || row.stream === 1,
    status: num(row.status),
    errorType: str(row.error_type),
    upstream: str(row.upstream),
    // Records from before failover have no list: the one upstream they name is the one tried.
    upstreamsTried: row.upstreams_tried
      ? (JSON.parse(String(row.upstreams_tried)) as string[])
      : row.upstream
        ? [String(row.upstream)]
        : [],
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheCreationInputTokens: num(row.cache_creation_input_tokens),
    cacheReadInputTokens: num(row.cache_read_input_tokens),
    costUsd: row.cost_usd === null || row.cost_usd === undefined ? null : Number(row.cost_usd),
    priceNote: str(row.price_note),
    latencyMs: num(row.latency_ms),
    overheadMs: num(row.overhead_ms),
    guard: JSON.parse(String(row.guard)) as AuditRecord['guard'],
    requestContent: str(row.request_content),
    responseContent: str(row.response_content),
    ...groupsOf(row),
    // A delta, until the store rebuilds the whole content (content.ts).
    ...(row.request_base
      ? {
          requestBase: {
            id: String(row.request_base),
            head: num(row.request_head),
            tail: num(row.request_tail),
          },
        }
      : {}),
  };
}

export function counterFromRow(row: Row): Counter {
  return {
    user: String(row.user_email),
    period: String(row.period),
    requests: num(row.requests),
    tokens: num(row.tokens),
    costUsd: num(row.cost_usd),
  };
}

export function usageFromRow(row: Row): UsageRow {
  return {
    key: str(row.k) ?? '(none)',
    requests: num(row.requests),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheCreationInputTokens: num(row.cache_creation_input_tokens),
    cacheReadInputTokens: num(row.cache_read_input_tokens),
    costUsd: num(row.cost_usd),
    unpriced: num(row.unpriced),
  };
}

/** The grouped sums behind `usage`; `groupColumn` is one of a fixed set, never user input. */
export function usageSql(groupColumn: (typeof USAGE_GROUP)[keyof typeof USAGE_GROUP], where: string): string {
  return `SELECT ${groupColumn} AS k, COUNT(*) AS requests,
    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
    SUM(cache_creation_input_tokens) AS cache_creation_input_tokens,
    SUM(cache_read_input_tokens) AS cache_read_input_tokens,
    SUM(COALESCE(cost_usd, 0)) AS cost_usd,
    SUM(CASE WHEN cost_usd IS NULL AND status < 400 THEN 1 ELSE 0 END) AS unpriced
    FROM audit_records ${where} GROUP BY ${groupColumn} ORDER BY cost_usd DESC, k`;
}

export const USAGE_GROUP = {
  user: 'user_email',
  model: 'model',
  org: 'org',
  hour: 'substr(time, 1, 13)',
} as const;

export function adminFromRow(row: Row): AdminLogEntry {
  return {
    seq: Number(row.seq),
    time: String(row.time),
    actor: String(row.actor),
    action: String(row.action),
    target: String(row.target),
    details: JSON.parse(String(row.details)) as Record<string, unknown>,
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

export const GENESIS_HASH = '0'.repeat(64);

export const EGRESS_COLUMNS = [
  'id',
  'time',
  'org',
  'user_email',
  'host',
  'port',
  'method',
  'decision',
  'rule',
  'bytes_up',
  'bytes_down',
  'duration_ms',
  'error',
] as const;

export function egressValues(r: EgressRecord): unknown[] {
  return [
    r.id,
    r.time,
    r.org,
    r.user,
    r.host,
    r.port,
    r.method,
    r.decision,
    r.rule,
    r.bytesUp,
    r.bytesDown,
    r.durationMs,
    r.error,
  ];
}

/** An org's connections since a time, counted per target, decision and rule (the console's egress page). */
export const EGRESS_TARGETS_SQL = (org: string, since: string) =>
  `SELECT host, port, decision, rule, COUNT(*) AS n, MAX(time) AS last FROM egress_records
   WHERE org = ${org} AND time >= ${since} GROUP BY host, port, decision, rule`;

export function egressTargetFromRow(row: Row): EgressTarget {
  return {
    host: String(row.host),
    port: num(row.port),
    decision: String(row.decision) as EgressTarget['decision'],
    rule: String(row.rule),
    connections: num(row.n),
    last: String(row.last),
  };
}

export function egressFromRow(row: Row): EgressRecord {
  return {
    id: String(row.id),
    time: String(row.time),
    org: str(row.org),
    user: str(row.user_email),
    host: String(row.host),
    port: num(row.port),
    method: String(row.method),
    decision: String(row.decision) as EgressRecord['decision'],
    rule: String(row.rule),
    bytesUp: num(row.bytes_up),
    bytesDown: num(row.bytes_down),
    durationMs: num(row.duration_ms),
    error: str(row.error),
  };
}

export function telemetryFromRow(row: Row): TelemetryRow {
  return {
    user: String(row.user_email),
    metric: String(row.metric),
    value: num(row.value),
    sessions: num(row.sessions),
  };
}

export function keyFromRow(row: Row): KeyRecord {
  return {
    id: String(row.id),
    org: String(row.org),
    user: String(row.user_email),
    role: String(row.role) as KeyRecord['role'],
    hash: String(row.hash),
    prefix: String(row.prefix),
    createdAt: String(row.created_at),
    revokedAt: str(row.revoked_at),
    expiresAt: str(row.expires_at),
    ...groupsOf(row),
  };
}

/** WHERE clause and parameters for an audit query; `ph(n)` renders the dialect's n-th placeholder. */
export function auditWhere(q: AuditQuery, ph: (n: number) => string): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    parts.push(clause(ph(params.length)));
  };
  if (q.org !== undefined) add((p) => `org = ${p}`, q.org);
  if (q.user !== undefined) add((p) => `user_email = ${p}`, q.user);
  if (q.since !== undefined) add((p) => `time >= ${p}`, q.since);
  if (q.until !== undefined) add((p) => `time < ${p}`, q.until);
  if (q.model !== undefined) add((p) => `model = ${p}`, q.model);
  if (q.status !== undefined) add((p) => `status = ${p}`, q.status);
  // Decisions by the prefix of the guard JSON; any but `none` also names the partial index's own term.
  if (q.guarded || (q.decision !== undefined && q.decision !== 'none')) parts.push(GUARDED);
  if (q.decision !== undefined) add((p) => `guard LIKE ${p}`, `{"decision":"${q.decision}"%`);
  if (q.before) {
    add((p) => `time <= ${p}`, q.before.time);
    const t = ph(params.length + 1);
    const i = ph(params.length + 2);
    params.push(q.before.time, q.before.id);
    parts.push(`(time < ${t} OR id < ${i})`);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export function orgFromRow(row: Row): OrgRecord {
  return {
    id: String(row.id),
    policy: row.policy ? (JSON.parse(String(row.policy)) as Record<string, unknown>) : undefined,
    createdAt: String(row.created_at),
  };
}
