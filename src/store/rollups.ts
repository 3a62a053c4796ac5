/**
 * Per-day sums of the audit records (`audit_rollups`): one row per org, UTC day, user, key, model,
 * status and guard decision, with requests, tokens, spend and unpriced requests. A store adds a
 * record to its row in the statement or transaction that inserts the record, and only when the
 * insert took it (a replayed record is skipped by both), so the sums cannot drift from the records.
 * Retention deletes records, never their sums: usage and spend history outlive the content.
 *
 * Usage over a period reads whole units from here and the partial ones at its edges from the
 * records: by org or by hour (with no user), whole UTC hours from the hourly sums; by user or model
 * (or by org for one user), whole UTC days from the daily ones. The console's charts and its
 * filtered paging read days (and hours) from here.
 */
import { GUARDED, guardRollupMigration, guardRollupRows, postgresGuardCte } from './guard-rollups.js';
import type {
  AuditRecord,
  GuardDecision,
  RollupDimension,
  RollupQuery,
  RollupRow,
  UsageQuery,
  UsageRow,
} from './types.js';

const KEY = ['org', 'day', 'user_email', 'key_id', 'model', 'status', 'decision'] as const;
/** The hourly table: the overview's day chart, by org and decision only (a few rows an hour). */
const HOUR_KEY = ['org', 'hour', 'decision'] as const;
const SUMS = [
  'requests',
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
  'cost_usd',
  'unpriced',
] as const;
const COLUMNS = [...KEY, ...SUMS].join(', ');
const HOUR_COLUMNS = [...HOUR_KEY, ...SUMS].join(', ');

/** The decision in a record's `guard` JSON, as each dialect reads it. */
const DECISION = { sqlite: `json_extract(guard, '$.decision')`, postgres: `(guard::json->>'decision')` };

const SUM_SELECT = `COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_input_tokens),
  SUM(cache_read_input_tokens), SUM(COALESCE(cost_usd, 0)),
  SUM(CASE WHEN cost_usd IS NULL AND status < 400 THEN 1 ELSE 0 END)`;

/** Key and sums of audit rows (`FROM` follows): the backfill and PostgreSQL's insert share them. */
const daySelect = (dialect: 'sqlite' | 'postgres') => `SELECT COALESCE(org, ''), substr(time, 1, 10),
  COALESCE(user_email, ''), COALESCE(key_id, ''), COALESCE(model, ''), status, ${DECISION[dialect]}, ${SUM_SELECT}`;
const hourSelect = (dialect: 'sqlite' | 'postgres') =>
  `SELECT COALESCE(org, ''), substr(time, 1, 13), ${DECISION[dialect]}, ${SUM_SELECT}`;

const DAY_GROUP = 'GROUP BY 1, 2, 3, 4, 5, 6, 7';
const HOUR_GROUP = 'GROUP BY 1, 2, 3';

/** Adds to an existing row: both dialects take the table-qualified form. */
const add = (table: string, key: readonly string[]) =>
  `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${SUMS.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ')}`;

/** Records the guard acted on, by org and time: a few in a thousand (the guard page, decision filters). */
export const GUARDED_INDEX = `CREATE INDEX audit_guarded ON audit_records (org, time) WHERE ${GUARDED}`;

/** Migration 13: the tables, an index for guard-flagged records, and the sums of existing records. */
export function rollupMigration(dialect: 'sqlite' | 'postgres'): string[] {
  const [int, real] = dialect === 'sqlite' ? ['INTEGER', 'REAL'] : ['BIGINT', 'DOUBLE PRECISION'];
  const sums = `requests ${int} NOT NULL, input_tokens ${int} NOT NULL, output_tokens ${int} NOT NULL,
      cache_creation_input_tokens ${int} NOT NULL, cache_read_input_tokens ${int} NOT NULL,
      cost_usd ${real} NOT NULL, unpriced ${int} NOT NULL`;
  return [
    `CREATE TABLE audit_rollups (org TEXT NOT NULL, day TEXT NOT NULL, user_email TEXT NOT NULL,
      key_id TEXT NOT NULL, model TEXT NOT NULL, status INTEGER NOT NULL, decision TEXT NOT NULL, ${sums},
      PRIMARY KEY (${KEY.join(', ')}))`,
    `CREATE TABLE audit_rollup_hours (org TEXT NOT NULL, hour TEXT NOT NULL, decision TEXT NOT NULL, ${sums},
      PRIMARY KEY (${HOUR_KEY.join(', ')}))`,
    // The guard page and decision filters read only records the guard acted on: a few in a thousand.
    GUARDED_INDEX,
    ...rollupBackfill(dialect),
    ...guardRollupMigration(dialect),
  ];
}

/** Sums every stored record into the (empty) rollups: migration 13, and bench/storage.ts after a bulk load. */
export function rollupBackfill(dialect: 'sqlite' | 'postgres'): string[] {
  return [
    `INSERT INTO audit_rollups (${COLUMNS}) ${daySelect(dialect)} FROM audit_records ${DAY_GROUP}`,
    `INSERT INTO audit_rollup_hours (${HOUR_COLUMNS}) ${hourSelect(dialect)} FROM audit_records ${HOUR_GROUP}`,
  ];
}

/**
 * SQLite: adds to a day row and an hour row (requests and sums as parameters: `RollupSums` gives a
 * batch's per row); run only for records whose insert took them.
 */
export const SQLITE_ROLLUP_ADD = `INSERT INTO audit_rollups (${COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${add('audit_rollups', KEY)}`;
export const SQLITE_HOUR_ADD = `INSERT INTO audit_rollup_hours (${HOUR_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${add('audit_rollup_hours', HOUR_KEY)}`;

/** A record's sums, its request count first, in SUMS order. */
const sumValues = (r: AuditRecord): number[] => [
  1,
  r.inputTokens,
  r.outputTokens,
  r.cacheCreationInputTokens,
  r.cacheReadInputTokens,
  r.costUsd ?? 0,
  r.costUsd === null && r.status < 400 ? 1 : 0,
];

const dayKey = (r: AuditRecord): unknown[] => [
  r.org ?? '',
  r.time.slice(0, 10),
  r.user ?? '',
  r.keyId ?? '',
  r.model ?? '',
  r.status,
  r.guard.decision,
];
const hourKey = (r: AuditRecord): unknown[] => [r.org ?? '', r.time.slice(0, 13), r.guard.decision];

/** Rows keyed by their key columns, each with its running sums. */
class Sums {
  private readonly rows = new Map<string, { key: unknown[]; sums: number[] }>();

  add(key: unknown[], sums: readonly number[]): void {
    const id = key.join('\u0000');
    const row = this.rows.get(id);
    if (!row) {
      this.rows.set(id, { key, sums: [...sums] });
      return;
    }
    for (let i = 0; i < sums.length; i++) (row.sums[i] as number) += sums[i] as number;
  }

  /** Each row's statement parameters, in key order (concurrent writers take locks in one order). */
  *values(): Generator<unknown[]> {
    for (const id of [...this.rows.keys()].sort()) {
      const { key, sums } = this.rows.get(id) as { key: unknown[]; sums: number[] };
      yield [...key, ...sums];
    }
  }
}

/**
 * What a batch of records adds to the day, hour and guard rollups, summed per row: a batch of a
 * busy gateway's records (mostly the same org, day, user and model) upserts a few rows, not three
 * per record.
 */
export class RollupSums {
  private readonly day = new Sums();
  private readonly hour = new Sums();
  private readonly guard = new Sums();

  add(r: AuditRecord): void {
    const sums = sumValues(r);
    this.day.add(dayKey(r), sums);
    this.hour.add(hourKey(r), sums);
    for (const [key, findings] of guardRollupRows(r)) this.guard.add(key, [1, findings]);
  }

  /** Runs each summed row's upsert: SQLITE_ROLLUP_ADD, SQLITE_HOUR_ADD, SQLITE_GUARD_ADD. */
  write(day: Upsert, hour: Upsert, guard: Upsert): void {
    for (const v of this.day.values()) day.run(...v);
    for (const v of this.hour.values()) hour.run(...v);
    for (const v of this.guard.values()) guard.run(...v);
  }
}

/** A prepared statement's `run`, as better-sqlite3 gives it. */
interface Upsert {
  run(...params: unknown[]): unknown;
}

/**
 * PostgreSQL: `insert` (an INSERT INTO audit_records … ) and the sums of the rows it took, as one
 * statement; rows it skipped (ON CONFLICT DO NOTHING) return nothing and add nothing. Rows are
 * upserted in key order, so concurrent gateways take their locks in one order.
 */
export function postgresInsertWithRollup(insert: string): string {
  return `WITH ins AS (${insert} RETURNING org, time, user_email, key_id, session_id, model, status, guard,
      input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd),
    ${postgresGuardCte()},
    days AS (INSERT INTO audit_rollups (${COLUMNS}) ${daySelect('postgres')} FROM ins ${DAY_GROUP}
      ORDER BY 1, 2, 3, 4, 5, 6, 7 ${add('audit_rollups', KEY)})
    INSERT INTO audit_rollup_hours (${HOUR_COLUMNS}) ${hourSelect('postgres')} FROM ins ${HOUR_GROUP}
      ORDER BY 1, 2, 3 ${add('audit_rollup_hours', HOUR_KEY)}`;
}

const DIMENSION: Record<RollupDimension, string> = {
  day: 'day',
  hour: 'hour',
  org: 'org',
  user: 'user_email',
  key: 'key_id',
  model: 'model',
  status: 'status',
  decision: 'decision',
};

/** The grouped sums `query` asks for; `ph(n)` renders the dialect's n-th placeholder. */
export function rollupSql(q: RollupQuery, ph: (n: number) => string): { sql: string; params: unknown[] } {
  const hourly = q.hourly || q.fromHour !== undefined || q.toHour !== undefined || q.by.includes('hour');
  if (hourly && (q.user ?? q.model ?? q.status ?? q.fromDay ?? q.toDay ?? q.by.find((d) => !HOURLY.has(d))))
    throw new Error('hourly rollups hold org and decision only');
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    parts.push(clause(ph(params.length)));
  };
  if (q.org !== undefined) add((p) => `org = ${p}`, q.org);
  if (q.user !== undefined) add((p) => `user_email = ${p}`, q.user);
  if (q.model !== undefined) add((p) => `model = ${p}`, q.model);
  if (q.status !== undefined) add((p) => `status = ${p}`, q.status);
  if (q.decision !== undefined) add((p) => `decision = ${p}`, q.decision);
  if (q.guarded) parts.push(`decision <> 'none'`);
  if (q.fromDay !== undefined) add((p) => `day >= ${p}`, q.fromDay);
  if (q.toDay !== undefined) add((p) => `day < ${p}`, q.toDay);
  if (q.fromHour !== undefined) add((p) => `hour >= ${p}`, q.fromHour);
  if (q.toHour !== undefined) add((p) => `hour < ${p}`, q.toHour);
  const dims = q.by.map((d) => DIMENSION[d]);
  const group = dims.length ? `GROUP BY ${dims.join(', ')} ORDER BY ${dims.join(', ')}` : '';
  const sql = `SELECT ${dims.map((d) => `${d}, `).join('')}SUM(requests) AS requests,
    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
    SUM(cache_creation_input_tokens) AS cache_creation_input_tokens,
    SUM(cache_read_input_tokens) AS cache_read_input_tokens, SUM(cost_usd) AS cost_usd,
    SUM(unpriced) AS unpriced FROM ${hourly ? 'audit_rollup_hours' : 'audit_rollups'} ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''} ${group}`;
  return { sql, params };
}

const HOURLY = new Set<RollupDimension>(['hour', 'org', 'decision']);

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
/** '' stands for none in the key columns (a key column cannot be null). */
const orNull = (v: unknown): string | null => (v === '' || v === null ? null : String(v));

export function rollupFromRow(row: Row): RollupRow {
  return {
    ...('day' in row ? { day: String(row.day) } : {}),
    ...('hour' in row ? { hour: String(row.hour) } : {}),
    ...('org' in row ? { org: orNull(row.org) } : {}),
    ...('user_email' in row ? { user: orNull(row.user_email) } : {}),
    ...('key_id' in row ? { key: orNull(row.key_id) } : {}),
    ...('model' in row ? { model: orNull(row.model) } : {}),
    ...('status' in row ? { status: num(row.status) } : {}),
    ...('decision' in row ? { decision: String(row.decision) as GuardDecision } : {}),
    requests: num(row.requests),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheCreationInputTokens: num(row.cache_creation_input_tokens),
    cacheReadInputTokens: num(row.cache_read_input_tokens),
    costUsd: num(row.cost_usd),
    unpriced: num(row.unpriced),
  };
}

/** The start of the UTC day of an ISO time, and the day after a `YYYY-MM-DD`. */
export const dayStart = (day: string): string => `${day.slice(0, 10)}T00:00:00.000Z`;
export function nextDay(day: string): string {
  return new Date(Date.parse(dayStart(day)) + 86_400_000).toISOString().slice(0, 10);
}

/** The rollups' time keys: a UTC day `YYYY-MM-DD` (audit_rollups), a UTC hour `YYYY-MM-DDTHH` (audit_rollup_hours). */
export type PeriodUnit = 'day' | 'hour';
const UNIT: Record<PeriodUnit, { chars: number; start: (key: string) => string; ms: number }> = {
  day: { chars: 10, start: dayStart, ms: 86_400_000 },
  hour: { chars: 13, start: (key) => `${key.slice(0, 13)}:00:00.000Z`, ms: 3_600_000 },
};

export interface PeriodSplit {
  /** Time ranges read from the records (the partial days or hours at the edges). */
  raw: { since?: string; until?: string }[];
  /** Whole UTC days or hours read from the rollups, as their keys, `to` exclusive; absent: none. */
  whole?: { from?: string; to?: string };
}

/** [since, until) as whole UTC days (or hours) in the middle and partial ones at the edges. */
export function splitPeriod(
  since: string | undefined,
  until: string | undefined,
  unit: PeriodUnit = 'day',
): PeriodSplit {
  const { chars, start, ms } = UNIT[unit];
  const iso = (t: string | undefined) => (t === undefined ? undefined : canonical(t));
  const s = iso(since);
  const u = iso(until);
  // A time the split cannot read (not an ISO instant) is left whole to the records.
  if (s === null || u === null) return { raw: [{ since, until }] };
  const next = (t: string) => new Date(Date.parse(start(t)) + ms).toISOString().slice(0, chars);
  const from = s === undefined ? undefined : s === start(s) ? s.slice(0, chars) : next(s);
  const to = u?.slice(0, chars);
  if (from !== undefined && to !== undefined && from >= to) return { raw: [{ since: s, until: u }] };
  const raw: PeriodSplit['raw'] = [];
  if (s !== undefined && from !== undefined && start(from) > s) raw.push({ since: s, until: start(from) });
  if (u !== undefined && to !== undefined && u > start(to)) raw.push({ since: start(to), until: u });
  return { raw, whole: { ...(from ? { from } : {}), ...(to ? { to } : {}) } };
}

/**
 * `t` as `toISOString` writes it (how record times are stored), or null when it is not a time or
 * falls outside four-digit years (where the keys' fixed widths would not hold).
 */
function canonical(t: string): string | null {
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return null;
  const iso = new Date(ms).toISOString();
  return /^\d{4}-/.test(iso) && iso < '9999-12-31' ? iso : null;
}

const BY: Record<Exclude<UsageQuery['by'], 'hour'>, RollupDimension> = {
  user: 'user',
  model: 'model',
  org: 'org',
};

type UsageReader = (q: UsageQuery) => Promise<UsageRow[]>;
type RollupReader = (q: RollupQuery) => Promise<RollupRow[]>;

/**
 * `usage` for either store. By org or by hour with no user: whole UTC hours from the hourly
 * rollups (a few rows an hour, by org and decision). Otherwise whole UTC days from the daily ones,
 * except by hour for one user, which the rollups cannot tell (the daily ones have no hour, the
 * hourly ones no user). The part-hours or part-days at the edges come from `records`; all is summed per key.
 */
export async function splitUsage(
  q: UsageQuery,
  records: UsageReader,
  rollups: RollupReader,
): Promise<UsageRow[]> {
  const org = q.org !== undefined ? { org: q.org } : {};
  if (q.user === undefined && (q.by === 'org' || q.by === 'hour')) {
    const by = q.by;
    return pieced(q, 'hour', records, async (whole) =>
      (
        await rollups({
          ...org,
          hourly: true,
          ...(whole.from ? { fromHour: whole.from } : {}),
          ...(whole.to ? { toHour: whole.to } : {}),
          by: [by],
        })
      ).map((r) => usageRow((by === 'org' ? r.org : r.hour) ?? null, r)),
    );
  }
  if (q.by === 'hour') {
    // Times read as the instants they name, as the split paths read them.
    const { since, until, ...rest } = q;
    const at = (t: string | undefined) => (t === undefined ? undefined : (canonical(t) ?? t));
    return mergeUsage(await records({ ...rest, ...defined({ since: at(since), until: at(until) }) }));
  }
  const dim = BY[q.by];
  return pieced(q, 'day', records, async (whole) =>
    (
      await rollups({
        ...org,
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(whole.from ? { fromDay: whole.from } : {}),
        ...(whole.to ? { toDay: whole.to } : {}),
        by: [dim],
      })
    ).map((r) => usageRow((dim === 'org' ? r.org : dim === 'user' ? r.user : r.model) ?? null, r)),
  );
}

/** [since, until) split by `unit`: the edges from the records and the whole units, read at once. */
async function pieced(
  q: UsageQuery,
  unit: PeriodUnit,
  records: UsageReader,
  whole: (range: NonNullable<PeriodSplit['whole']>) => Promise<UsageRow[]>,
): Promise<UsageRow[]> {
  const split = splitPeriod(q.since, q.until, unit);
  const { since: _s, until: _u, ...rest } = q;
  const parts = await Promise.all([
    ...split.raw.map((range) => records({ ...rest, ...defined(range) })),
    ...(split.whole ? [whole(split.whole)] : []),
  ]);
  return mergeUsage(parts.flat());
}

/** A usage row of rollup sums; none (null) is `(none)`, as the records' query names it. */
function usageRow(key: string | null, r: RollupRow): UsageRow {
  return {
    key: key ?? '(none)',
    requests: r.requests,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheCreationInputTokens: r.cacheCreationInputTokens,
    cacheReadInputTokens: r.cacheReadInputTokens,
    costUsd: r.costUsd,
    unpriced: r.unpriced,
  };
}

function defined(range: { since?: string; until?: string }): { since?: string; until?: string } {
  return {
    ...(range.since !== undefined ? { since: range.since } : {}),
    ...(range.until !== undefined ? { until: range.until } : {}),
  };
}

/** Rows with the same key summed; by spend, then key (as usage always sorted). */
export function mergeUsage(rows: readonly UsageRow[]): UsageRow[] {
  const out = new Map<string, UsageRow>();
  for (const r of rows) {
    const m = out.get(r.key);
    if (!m) {
      out.set(r.key, { ...r });
      continue;
    }
    m.requests += r.requests;
    m.inputTokens += r.inputTokens;
    m.outputTokens += r.outputTokens;
    m.cacheCreationInputTokens += r.cacheCreationInputTokens;
    m.cacheReadInputTokens += r.cacheReadInputTokens;
    m.costUsd += r.costUsd;
    m.unpriced += r.unpriced;
  }
  return [...out.values()].sort(
    (a, b) => b.costUsd - a.costUsd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
