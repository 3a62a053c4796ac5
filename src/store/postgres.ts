/** The shared store: PostgreSQL through a pg pool, for several gateways on one database. */
import pg from 'pg';
import { chainSql, contentRow, missingBases, orphanedSql, rebuildAll, type ContentRow } from './content.js';
import { guardRollupFromRow, guardRollupSql } from './guard-rollups.js';
import { daysFrom, dropExpiredDays, ensureDays, withDays } from './partitions.js';
import { postgresInsertWithRollup, rollupFromRow, rollupSql, splitUsage } from './rollups.js';
import { migrations } from './schema.js';
import {
  adminFromRow,
  EGRESS_COLUMNS,
  EGRESS_TARGETS_SQL,
  egressFromRow,
  egressTargetFromRow,
  egressValues,
  groupsValue,
  telemetryFromRow,
  AUDIT_COLUMNS,
  GENESIS_HASH,
  auditFromRow,
  auditValues,
  auditWhere,
  counterFromRow,
  keyFromRow,
  orgFromRow,
  USAGE_GROUP,
  usageFromRow,
  usageSql,
} from './rows.js';
import { scimStore, type ScimStore } from './scim.js';
import { signInStore, type SignInStore } from './signin.js';
import type {
  AdminLogEntry,
  EgressQuery,
  EgressRecord,
  EgressTarget,
  TelemetryRow,
  TelemetryValue,
  AuditQuery,
  AuditRecord,
  Counter,
  CounterKey,
  KeyRecord,
  GuardRollupQuery,
  GuardRollupRow,
  OrgRecord,
  RollupQuery,
  RollupRow,
  Store,
  SweepCutoffs,
  SweepResult,
  UsageQuery,
  UsageRow,
} from './types.js';
import { PostgresTableRows, type TableRows } from './table-rows.js';

/** Rows a sweep deletes or clears per statement. */
const SWEEP_BATCH = 5000;

/** An arbitrary constant that all Sluice processes use to serialise migrations. */
const MIGRATION_LOCK = 0x51c3;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema to use (search_path); default the server's. */
  schema?: string;
  maxConnections?: number;
  /** Days of audit partitions made ahead of today, by `migrate` and every sweep; default 7. */
  daysAhead?: number;
  /** The clock that says which day today is; default the system's. */
  clock?: () => Date;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly signin: SignInStore = signInStore(async (sql, params) => {
    let n = 0;
    const r = await this.pool.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
    return { rows: r.rows as Record<string, unknown>[], changes: r.rowCount ?? 0 };
  });
  readonly scim: ScimStore = scimStore(async (sql, params) => {
    let n = 0;
    const r = await this.pool.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
    return { rows: r.rows as Record<string, unknown>[], changes: r.rowCount ?? 0 };
  });
  private readonly pool: pg.Pool;
  /** One statement inserts a record and adds it to its rollup (rollups.ts). */
  private readonly insertSql = postgresInsertWithRollup(
    `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((_c, i) => `$${i + 1}`).join(', ')})`,
  );
  private readonly daysAhead: number;
  private readonly clock: () => Date;

  constructor(options: PostgresStoreOptions) {
    this.daysAhead = options.daysAhead ?? 7;
    this.clock = options.clock ?? (() => new Date());
    // Startup options from the URL (`?options=-c search_path=…`), the schema option, and
    // synchronous_commit=off: commits do not wait for the WAL flush, as SQLite's WAL with
    // synchronous=NORMAL (a server crash can lose the last fraction of a second of records, never
    // corrupt them); counters every request of a user updates would otherwise queue on the flush.
    const url = new URL(options.connectionString);
    const startup = [
      url.searchParams.get('options'),
      options.schema ? `-c search_path=${quoteIdent(options.schema)}` : null,
      '-c synchronous_commit=off',
    ].filter(Boolean);
    url.searchParams.delete('options');
    this.pool = new pg.Pool({
      connectionString: url.toString(),
      max: options.maxConnections ?? 20,
      options: startup.join(' '),
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Runs the migrations up to `until` (all by default: a lower one is for tests of an upgrade). */
  async migrate(until = Infinity): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS sluice_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
      );
      const done = new Set(
        (await client.query('SELECT version FROM sluice_migrations')).rows.map((r) => Number(r.version)),
      );
      for (const m of migrations) {
        if (done.has(m.version) || m.version > until) continue;
        await client.query('BEGIN');
        try {
          for (const sql of m.postgres) await client.query(sql);
          await client.query('INSERT INTO sluice_migrations (version, applied_at) VALUES ($1, $2)', [
            m.version,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
    if (until >= 14) await this.makeDaysAhead();
  }

  /** Today's audit partition and the next `daysAhead` days'. */
  private async makeDaysAhead(): Promise<void> {
    await ensureDays(this.pool, daysFrom(this.clock(), this.daysAhead + 1));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async upsertOrg(org: OrgRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO orgs (id, policy, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET policy = excluded.policy`,
      [org.id, org.policy ? JSON.stringify(org.policy) : null, org.createdAt],
    );
  }

  async getOrg(id: string): Promise<OrgRecord | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM orgs WHERE id = $1', [id]);
    return rows[0] ? orgFromRow(rows[0]) : undefined;
  }

  async listOrgs(): Promise<OrgRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM orgs ORDER BY id');
    return rows.map(orgFromRow);
  }

  async insertKey(key: KeyRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO api_keys (id, org, user_email, role, hash, prefix, created_at, revoked_at, expires_at, groups)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        key.id,
        key.org,
        key.user,
        key.role,
        key.hash,
        key.prefix,
        key.createdAt,
        key.revokedAt,
        key.expiresAt,
        groupsValue(key.groups),
      ],
    );
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const { rows } = await this.pool.query({
      name: 'sluice-key-by-hash',
      text: 'SELECT * FROM api_keys WHERE hash = $1',
      values: [hash],
    });
    return rows[0] ? keyFromRow(rows[0]) : undefined;
  }

  async listKeys(filter: { org?: string; user?: string } = {}): Promise<KeyRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM api_keys WHERE ($1::text IS NULL OR org = $1) AND ($2::text IS NULL OR user_email = $2)
       ORDER BY created_at, id`,
      [filter.org ?? null, filter.user ?? null],
    );
    return rows.map(keyFromRow);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
      [at, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async insertAudit(record: AuditRecord): Promise<void> {
    await withDays(this.pool, [record.time], () =>
      this.pool.query({
        name: 'sluice-insert-audit',
        text: this.insertSql,
        values: auditValues(record, (b) => b),
      }),
    );
  }

  async insertAudits(records: readonly AuditRecord[]): Promise<void> {
    if (!records.length) return;
    const n = AUDIT_COLUMNS.length;
    const rows = records.map((_r, i) => `(${AUDIT_COLUMNS.map((_c, j) => `$${i * n + j + 1}`).join(', ')})`);
    // A record replays with the time it was made, so (id, time) finds the copy already stored; it
    // and its rollups are skipped in one statement.
    const sql = postgresInsertWithRollup(
      `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (id, time) DO NOTHING`,
    );
    const values = records.flatMap((r) => auditValues(r, (b) => b));
    await withDays(
      this.pool,
      records.map((r) => r.time),
      () => this.pool.query(sql, values),
    );
  }

  async probeWrite(at: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO sluice_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      [at],
    );
  }

  async queryAudit(query: AuditQuery): Promise<AuditRecord[]> {
    const { sql, params } = auditWhere(query, (n) => `$${n}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM audit_records ${sql} ORDER BY time DESC, id DESC LIMIT $${params.length + 1}`,
      [...params, query.limit ?? 1000],
    );
    const records = rows.map(auditFromRow);
    await this.rebuild(records);
    return records;
  }

  /** Replaces each record's content delta with its whole content (content.ts). */
  private async rebuild(records: AuditRecord[]): Promise<void> {
    if (!records.some((r) => r.requestBase)) return;
    const ids = missingBases(records);
    const rows = new Map<string, ContentRow>();
    if (ids.length)
      for (const row of (
        await this.pool.query(
          chainSql(ids.length, (i) => `$${i}`),
          ids,
        )
      ).rows as Record<string, unknown>[])
        rows.set(String(row.id), contentRow(row));
    rebuildAll(records, rows);
  }

  async getAudit(id: string): Promise<AuditRecord | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM audit_records WHERE id = $1', [id]);
    if (!rows[0]) return undefined;
    const records = [auditFromRow(rows[0])];
    await this.rebuild(records); // a delta comes back whole
    return records[0];
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    return splitUsage(
      query,
      async (q) => {
        const { sql, params } = auditWhere(q, (n) => `$${n}`);
        const { rows } = await this.pool.query(usageSql(USAGE_GROUP[q.by], sql), params);
        return rows.map(usageFromRow);
      },
      (q) => this.rollups(q),
    );
  }

  async guardRollups(query: GuardRollupQuery): Promise<GuardRollupRow[]> {
    const { sql, params } = guardRollupSql(query, (n) => `$${n}`);
    const { rows } = await this.pool.query(sql, params);
    return rows.map(guardRollupFromRow);
  }

  async rollups(query: RollupQuery): Promise<RollupRow[]> {
    const { sql, params } = rollupSql(query, (n) => `$${n}`);
    const { rows } = await this.pool.query(sql, params);
    return rows.map(rollupFromRow);
  }

  async sweep(org: string | null, cut: SweepCutoffs): Promise<SweepResult> {
    await this.storeOrphansWhole(org, cut);
    return this.deleteRows(org, cut);
  }

  /**
   * Every org's sweep at once: orphans stored whole first, then the days whose records are all
   * past retention dropped whole (partitions.ts), then row by row what is left of each org.
   */
  async sweepAll(cuts: ReadonlyMap<string | null, SweepCutoffs>): Promise<SweepResult> {
    await this.makeDaysAhead();
    for (const [org, cut] of cuts) await this.storeOrphansWhole(org, cut);
    // One dropper at a time across gateways: a second detach of one day would fail the sweep.
    const dropped = await this.exclusive('audit-days', () => dropExpiredDays(this.pool, cuts));
    const result = { recordsDeleted: dropped.records, contentCleared: 0, daysDropped: dropped.days };
    for (const [org, cut] of cuts) {
      const r = await this.deleteRows(org, cut);
      result.recordsDeleted += r.recordsDeleted;
      result.contentCleared += r.contentCleared;
    }
    return result;
  }

  /** Records that keep their content while their base loses its own are stored whole first. */
  private async storeOrphansWhole(org: string | null, cut: SweepCutoffs): Promise<void> {
    const orphans = await this.pool.query(
      orphanedSql((i) => `$${i}`, 'true', orgIs),
      [org, cut.contentBefore, cut.before, cut.flaggedBefore],
    );
    for (const { id } of orphans.rows as { id: string }[]) {
      const { rows } = await this.pool.query('SELECT * FROM audit_records WHERE id = $1', [id]);
      const records = rows.map(auditFromRow);
      await this.rebuild(records);
      const r = records[0];
      if (r)
        await this.pool.query(
          'UPDATE audit_records SET request_content = $1, request_base = NULL, request_head = NULL, request_tail = NULL WHERE id = $2 AND time = $3',
          [r.requestContent, id, r.time],
        );
    }
  }

  /** Bounded batches, each its own statement: no long transaction holds the rows other writers need. */
  private async deleteRows(org: string | null, cut: SweepCutoffs): Promise<SweepResult> {
    const batches = async (sql: string, params: unknown[]): Promise<number> => {
      let total = 0;
      for (;;) {
        const n = (await this.pool.query(sql, [...params, SWEEP_BATCH])).rowCount ?? 0;
        total += n;
        if (n < SWEEP_BATCH) return total;
      }
    };
    // `time < $2` outside too: the plan then leaves out every day after the cutoff.
    const pick = (where: string) =>
      `(id, time) IN (SELECT id, time FROM audit_records WHERE ${orgIs('org', '$1')} AND time < $2 AND ${where} LIMIT $3) AND time < $2`;
    const recordsDeleted =
      (await batches(`DELETE FROM audit_records WHERE ${pick('NOT flagged')}`, [org, cut.before])) +
      (await batches(`DELETE FROM audit_records WHERE ${pick('flagged')}`, [org, cut.flaggedBefore]));
    const contentCleared = await batches(
      `UPDATE audit_records SET request_content = NULL, response_content = NULL WHERE ${pick(
        '(request_content IS NOT NULL OR response_content IS NOT NULL)',
      )}`,
      [org, cut.contentBefore],
    );
    return { recordsDeleted, contentCleared };
  }

  async addCounters(
    org: string,
    keys: CounterKey[],
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<void> {
    if (!keys.length) return;
    // One statement: every counter moves together, and concurrent gateways add, never overwrite.
    await this.pool.query(
      `INSERT INTO usage_counters (org, user_email, period, requests, tokens, cost_usd)
       SELECT $1, u, p, $4, $5, $6 FROM unnest($2::text[], $3::text[]) AS k(u, p)
       ON CONFLICT (org, user_email, period) DO UPDATE SET
         requests = usage_counters.requests + excluded.requests,
         tokens = usage_counters.tokens + excluded.tokens,
         cost_usd = usage_counters.cost_usd + excluded.cost_usd`,
      [org, keys.map((k) => k.user), keys.map((k) => k.period), delta.requests, delta.tokens, delta.costUsd],
    );
  }

  async bumpCounter(
    org: string,
    key: CounterKey,
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<Counter> {
    const { rows } = await this.pool.query({
      name: 'sluice-bump-counter',
      text: `INSERT INTO usage_counters (org, user_email, period, requests, tokens, cost_usd)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org, user_email, period) DO UPDATE SET
         requests = usage_counters.requests + excluded.requests,
         tokens = usage_counters.tokens + excluded.tokens,
         cost_usd = usage_counters.cost_usd + excluded.cost_usd
       RETURNING user_email, period, requests, tokens, cost_usd`,
      values: [org, key.user, key.period, delta.requests, delta.tokens, delta.costUsd],
    });
    return counterFromRow(rows[0]);
  }

  async readCounters(org: string, keys: CounterKey[]): Promise<Counter[]> {
    const { rows } = await this.pool.query(
      `SELECT c.user_email, c.period, c.requests, c.tokens, c.cost_usd
         FROM usage_counters c JOIN unnest($2::text[], $3::text[]) AS k(u, p)
         ON c.user_email = k.u AND c.period = k.p WHERE c.org = $1`,
      [org, keys.map((k) => k.user), keys.map((k) => k.period)],
    );
    return rows.map(counterFromRow);
  }

  async sweepCounters(minuteBefore: string, dayBefore: string): Promise<void> {
    await this.pool.query(
      `DELETE FROM usage_counters WHERE (period LIKE 'minute:%' AND period < $1) OR (period LIKE 'day:%' AND period < $2)`,
      [`minute:${minuteBefore}`, `day:${dayBefore}`],
    );
  }

  async appendAdminLog(
    entry: Omit<AdminLogEntry, 'seq' | 'prevHash' | 'hash'>,
    hash: (prev: string, entry: Omit<AdminLogEntry, 'hash' | 'prevHash'>) => string,
  ): Promise<AdminLogEntry> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One writer at a time across every gateway on this database: the chain has one tip.
      await client.query('LOCK TABLE admin_log IN EXCLUSIVE MODE');
      const { rows } = await client.query('SELECT seq, hash FROM admin_log ORDER BY seq DESC LIMIT 1');
      const last = rows[0] as { seq: string; hash: string } | undefined;
      const seq = last ? Number(last.seq) + 1 : 1;
      const prevHash = last ? last.hash : GENESIS_HASH;
      const full: AdminLogEntry = { ...entry, seq, prevHash, hash: hash(prevHash, { ...entry, seq }) };
      await client.query(
        'INSERT INTO admin_log (seq, time, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [
          seq,
          full.time,
          full.actor,
          full.action,
          full.target,
          JSON.stringify(full.details),
          prevHash,
          full.hash,
        ],
      );
      await client.query('COMMIT');
      return full;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async listAdminLog(): Promise<AdminLogEntry[]> {
    const { rows } = await this.pool.query('SELECT * FROM admin_log ORDER BY seq');
    return rows.map(adminFromRow);
  }

  tableRows(): TableRows {
    return new PostgresTableRows(this.pool);
  }

  /** A session advisory lock on a connection of its own, held while `fn` runs. */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`sluice:${name}`]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`sluice:${name}`]);
      }
    } finally {
      client.release();
    }
  }

  async addTelemetry(org: string, user: string, values: TelemetryValue[]): Promise<void> {
    for (const cumulative of [false, true]) {
      const vs = values.filter((v) => v.cumulative === cumulative);
      if (!vs.length) continue;
      await this.pool.query(
        `INSERT INTO telemetry (org, user_email, session_id, metric, day, value)
         SELECT $1, $2, s, m, d, v FROM unnest($3::text[], $4::text[], $5::text[], $6::float8[]) AS t(s, m, d, v)
         ON CONFLICT (org, user_email, session_id, metric, day) DO UPDATE SET value = ${
           cumulative ? 'GREATEST(telemetry.value, excluded.value)' : 'telemetry.value + excluded.value'
         }`,
        [
          org,
          user,
          vs.map((v) => v.sessionId),
          vs.map((v) => v.metric),
          vs.map((v) => v.day),
          vs.map((v) => v.value),
        ],
      );
    }
  }

  async telemetryUsage(query: { org?: string; sinceDay?: string }): Promise<TelemetryRow[]> {
    const { rows } = await this.pool.query(
      `SELECT user_email, metric, SUM(value) AS value, COUNT(DISTINCT session_id) AS sessions FROM telemetry
       WHERE ($1::text IS NULL OR org = $1) AND ($2::text IS NULL OR day >= $2)
       GROUP BY user_email, metric ORDER BY user_email, metric`,
      [query.org ?? null, query.sinceDay ?? null],
    );
    return rows.map(telemetryFromRow);
  }

  async insertEgress(record: EgressRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO egress_records (${EGRESS_COLUMNS.join(', ')}) VALUES (${EGRESS_COLUMNS.map((_c, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`,
      egressValues(record),
    );
  }

  async queryEgress(query: EgressQuery): Promise<EgressRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM egress_records WHERE ($1::text IS NULL OR org = $1) AND ($2::text IS NULL OR time >= $2)
       AND ($4::text IS NULL OR decision = $4) ORDER BY time DESC, id DESC LIMIT $3`,
      [query.org ?? null, query.since ?? null, query.limit ?? 1000, query.decision ?? null],
    );
    return rows.map(egressFromRow);
  }

  async egressTargets(query: { org: string; since: string }): Promise<EgressTarget[]> {
    const { rows } = await this.pool.query(EGRESS_TARGETS_SQL('$1', '$2'), [query.org, query.since]);
    return rows.map(egressTargetFromRow);
  }
}

/**
 * `column` is the org `param` names, or null when it is null. Planned with the value bound, the
 * test of the parameter folds away and an org's match uses its indexes.
 */
const orgIs = (column: string, param: string): string =>
  `(${column} = ${param} OR (${param}::text IS NULL AND ${column} IS NULL))`;

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
