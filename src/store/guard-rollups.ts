/**
 * Guard decisions summed per org, UTC day, user, session, decision and rule
 * (`audit_guard_rollups`), for the records the guard acted on only (a few in a thousand): the
 * console's guard page. Each such record adds 1 to its row with rule '' (its requests) and, for
 * each rule that found something, 1 request and the rule's findings to that rule's row. Kept in
 * the record's own write like the other rollups (rollups.ts), and never swept.
 */
import type { AuditRecord, GuardDecision, GuardRollupQuery, GuardRollupRow } from './types.js';

/** Records the guard acted on; a literal, so both planners match the partial index `audit_guarded`. */
export const GUARDED = `guard NOT LIKE '{"decision":"none"%'`;

const KEY = ['org', 'day', 'user_email', 'session_id', 'decision', 'rule'] as const;
const COLUMNS = [...KEY, 'requests', 'findings'].join(', ');
const ADD = `ON CONFLICT (${KEY.join(', ')}) DO UPDATE SET
  requests = audit_guard_rollups.requests + excluded.requests,
  findings = audit_guard_rollups.findings + excluded.findings`;

const DECISION = { sqlite: `json_extract(guard, '$.decision')`, postgres: `(guard::json->>'decision')` };
const keySelect = (dialect: 'sqlite' | 'postgres') => `COALESCE(org, ''), substr(time, 1, 10),
  COALESCE(user_email, ''), COALESCE(session_id, ''), ${DECISION[dialect]}`;
const GROUP = 'GROUP BY 1, 2, 3, 4, 5, 6';

/** Each guarded record's '' row, and its rules' rows, from `from` (a table with audit columns). */
function rows(dialect: 'sqlite' | 'postgres', from: string): [string, string] {
  const rules =
    dialect === 'sqlite'
      ? `${from}, json_each(guard, '$.rules') AS j`
      : `${from}, json_each_text(guard::json->'rules') AS j`;
  const n = dialect === 'sqlite' ? 'j.value' : 'j.value::bigint';
  return [
    `SELECT ${keySelect(dialect)}, '', COUNT(*), 0 FROM ${from} WHERE ${GUARDED} ${GROUP}`,
    `SELECT ${keySelect(dialect)}, j.key, COUNT(*), SUM(${n}) FROM ${rules} WHERE ${GUARDED} ${GROUP}`,
  ];
}

/** Migration 13's part: the table and the sums of the records already stored. */
export function guardRollupMigration(dialect: 'sqlite' | 'postgres'): string[] {
  const int = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE audit_guard_rollups (org TEXT NOT NULL, day TEXT NOT NULL, user_email TEXT NOT NULL,
      session_id TEXT NOT NULL, decision TEXT NOT NULL, rule TEXT NOT NULL,
      requests ${int} NOT NULL, findings ${int} NOT NULL, PRIMARY KEY (${KEY.join(', ')}))`,
    ...guardRollupBackfill(dialect),
  ];
}

export function guardRollupBackfill(dialect: 'sqlite' | 'postgres'): string[] {
  return rows(dialect, 'audit_records').map((sel) => `INSERT INTO audit_guard_rollups (${COLUMNS}) ${sel}`);
}

/** PostgreSQL: a data-modifying CTE over `ins` (the inserted records, `guard` and `session_id` returned). */
export function postgresGuardCte(): string {
  const [requests, rules] = rows('postgres', 'ins');
  return `guards AS (INSERT INTO audit_guard_rollups (${COLUMNS})
    SELECT * FROM (${requests} UNION ALL ${rules}) AS g ORDER BY 1, 2, 3, 4, 5, 6 ${ADD})`;
}

/** SQLite: adds a row's requests and findings; run only for records whose insert took them. */
export const SQLITE_GUARD_ADD = `INSERT INTO audit_guard_rollups (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${ADD}`;

/** The rows a record adds, each its key and findings (none when the guard did nothing). */
export function guardRollupRows(r: AuditRecord): [unknown[], number][] {
  if (r.guard.decision === 'none') return [];
  const key = [r.org ?? '', r.time.slice(0, 10), r.user ?? '', r.sessionId ?? '', r.guard.decision];
  return [
    [[...key, ''], 0],
    ...Object.entries(r.guard.rules).map(([rule, n]): [unknown[], number] => [[...key, rule], n]),
  ];
}

const DIMENSION = {
  day: 'day',
  user: 'user_email',
  session: 'session_id',
  decision: 'decision',
  rule: 'rule',
};

export function guardRollupSql(
  q: GuardRollupQuery,
  ph: (n: number) => string,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [q.org];
  const parts = [`org = ${ph(1)}`, q.rules ? `rule <> ''` : `rule = ''`];
  if (q.fromDay !== undefined) {
    params.push(q.fromDay);
    parts.push(`day >= ${ph(params.length)}`);
  }
  const dims = q.by.map((d) => DIMENSION[d]);
  const group = dims.length ? `GROUP BY ${dims.join(', ')} ORDER BY ${dims.join(', ')}` : '';
  return {
    sql: `SELECT ${dims.map((d) => `${d}, `).join('')}SUM(requests) AS requests, SUM(findings) AS findings
      FROM audit_guard_rollups WHERE ${parts.join(' AND ')} ${group}`,
    params,
  };
}

const orNull = (v: unknown): string | null => (v === '' || v === null ? null : String(v));

export function guardRollupFromRow(row: Record<string, unknown>): GuardRollupRow {
  return {
    ...('day' in row ? { day: String(row.day) } : {}),
    ...('user_email' in row ? { user: orNull(row.user_email) } : {}),
    ...('session_id' in row ? { session: orNull(row.session_id) } : {}),
    ...('decision' in row ? { decision: String(row.decision) as GuardDecision } : {}),
    ...('rule' in row ? { rule: String(row.rule) } : {}),
    requests: Number(row.requests ?? 0),
    findings: Number(row.findings ?? 0),
  };
}
