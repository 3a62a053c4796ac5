/** The embedded store: one SQLite file in WAL mode through better-sqlite3. */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { chainSql, contentRow, missingBases, orphanedSql, rebuildAll, type ContentRow } from './content.js';
import { guardRollupFromRow, guardRollupSql, SQLITE_GUARD_ADD } from './guard-rollups.js';
import {
  rollupFromRow,
  RollupSums,
  rollupSql,
  splitUsage,
  SQLITE_HOUR_ADD,
  SQLITE_ROLLUP_ADD,
} from './rollups.js';
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
import { SqliteTableRows, type TableRows } from './table-rows.js';

type Row = Record<string, unknown>;

/** Rows a sweep deletes or clears per transaction. */
const SWEEP_BATCH = 200;
/**
 * How long the first audit record of a batch waits for others, and the most in one batch: at 16
 * requests in flight (about 1,000 a second here) a batch holds 15–20 records, where 3 ms gave 3–4
 * (bench/audit-write.ts: CPU per record by batch size, docs/performance.md).
 */
const AUDIT_BATCH_MS = 20;
const AUDIT_BATCH_MAX = 256;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly signin: SignInStore = signInStore(async (sql, params) => {
    const stmt = this.db.prepare(sql);
    if (stmt.reader) return { rows: stmt.all(...params) as Row[], changes: 0 };
    return { rows: [], changes: stmt.run(...params).changes };
  });
  readonly scim: ScimStore = scimStore(async (sql, params) => {
    const stmt = this.db.prepare(sql);
    if (stmt.reader) return { rows: stmt.all(...params) as Row[], changes: 0 };
    return { rows: [], changes: stmt.run(...params).changes };
  });
  private readonly db: Database.Database;
  private readonly insertAuditStmt: () => Database.Statement;
  private readonly keyByHashStmt: () => Database.Statement;
  private readonly insertAuditBatch: () => (batch: PendingAudit[]) => void;
  /** Inserts one record and adds it to its rollup, in one transaction. */
  private readonly insertAuditAlone: () => (p: PendingAudit) => void;
  private readonly bumpCounterStmt: () => Database.Statement;
  private readonly insertAuditsOnce: () => (records: readonly AuditRecord[]) => void;
  /** The file's inode when opened: a different one (or none) means it was replaced or deleted. */
  private readonly ino: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly locks = new Map<string, Promise<void>>();
  private pendingAudit: (PendingAudit & { resolve: () => void; reject: (err: Error) => void })[] = [];

  /** Opens (creating folders as needed) the database at `file`; `:memory:` works too. */
  constructor(readonly file: string) {
    if (file !== ':memory:') {
      // The store holds audit records: only its owner reads it. SQLite gives the WAL and shared-
      // memory files the database file's mode, so creating that 0600 covers all three.
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      closeSync(openSync(file, 'a', 0o600));
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    // Statements are prepared lazily: the tables exist only after migrate().
    this.insertAuditStmt = lazy(() =>
      this.db.prepare(
        `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
      ),
    );
    this.keyByHashStmt = lazy(() => this.db.prepare('SELECT * FROM api_keys WHERE hash = ?'));
    const rollupStmt = lazy(() => this.db.prepare(SQLITE_ROLLUP_ADD));
    const hourStmt = lazy(() => this.db.prepare(SQLITE_HOUR_ADD));
    const guardStmt = lazy(() => this.db.prepare(SQLITE_GUARD_ADD));
    // Built once: better-sqlite3 compiles a wrapper (and its BEGIN/COMMIT) for every transaction().
    this.insertAuditBatch = lazy(() => {
      const stmt = this.insertAuditStmt();
      return this.db.transaction((batch: PendingAudit[]) => {
        const sums = new RollupSums();
        for (const b of batch) {
          stmt.run(...b.values);
          sums.add(b.record);
        }
        sums.write(rollupStmt(), hourStmt(), guardStmt());
      });
    });
    this.insertAuditAlone = lazy(() => {
      const insertOne = this.insertAuditBatch();
      return (p: PendingAudit) => insertOne([p]);
    });
    this.insertAuditsOnce = lazy(() => {
      const stmt = this.db.prepare(
        `INSERT OR IGNORE INTO audit_records (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
      );
      return this.db.transaction((records: readonly AuditRecord[]) => {
        const sums = new RollupSums();
        // A record already stored (a replay) is skipped, and so are its rollups.
        for (const r of records) if (stmt.run(...auditValues(r, (b) => (b ? 1 : 0))).changes) sums.add(r);
        sums.write(rollupStmt(), hourStmt(), guardStmt());
      });
    });
    this.ino = file === ':memory:' ? undefined : statSync(file).ino;
    // One upsert adds to a counter, for addCounters and bumpCounter alike (the latter reads it back).
    this.bumpCounterStmt = lazy(() =>
      this.db.prepare(
        `INSERT INTO usage_counters (org, user_email, period, requests, tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (org, user_email, period) DO UPDATE SET requests = requests + excluded.requests,
           tokens = tokens + excluded.tokens, cost_usd = cost_usd + excluded.cost_usd
         RETURNING user_email, period, requests, tokens, cost_usd`,
      ),
    );
  }

  async migrate(): Promise<void> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS sluice_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const apply = this.db.transaction(() => {
      const done = new Set(
        (this.db.prepare('SELECT version FROM sluice_migrations').all() as Row[]).map((r) =>
          Number(r.version),
        ),
      );
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        for (const sql of m.sqlite) this.db.exec(sql);
        this.db
          .prepare('INSERT INTO sluice_migrations (version, applied_at) VALUES (?, ?)')
          .run(m.version, new Date().toISOString());
      }
    });
    apply.immediate();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.flushAudit();
    if (this.db.open) this.db.close();
  }

  async upsertOrg(org: OrgRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO orgs (id, policy, created_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET policy = excluded.policy`,
      )
      .run(org.id, org.policy ? JSON.stringify(org.policy) : null, org.createdAt);
  }

  async getOrg(id: string): Promise<OrgRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM orgs WHERE id = ?').get(id) as Row | undefined;
    return row ? orgFromRow(row) : undefined;
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return (this.db.prepare('SELECT * FROM orgs ORDER BY id').all() as Row[]).map(orgFromRow);
  }

  async insertKey(key: KeyRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO api_keys (id, org, user_email, role, hash, prefix, created_at, revoked_at, expires_at, groups)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const row = this.keyByHashStmt().get(hash) as Row | undefined;
    return row ? keyFromRow(row) : undefined;
  }

  async listKeys(filter: { org?: string; user?: string } = {}): Promise<KeyRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM api_keys WHERE (@org IS NULL OR org = @org) AND (@user IS NULL OR user_email = @user)
         ORDER BY created_at, id`,
      )
      .all({ org: filter.org ?? null, user: filter.user ?? null }) as Row[];
    return rows.map(keyFromRow);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
    const r = this.db
      .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(at, id);
    return r.changes > 0;
  }

  /**
   * Records written within AUDIT_BATCH_MS of the first are committed in one transaction, their
   * rollups summed per row (a commit costs more than many inserts, and most of a busy gateway's
   * records add to the same few rollup rows); reads and close flush first. Holding a record that
   * long weakens nothing: the audit journal has it on disk before this is called. Each caller's
   * promise settles when its record is committed, and a record that fails is retried alone so it
   * cannot take others down.
   */
  insertAudit(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingAudit.push({ values: auditValues(record, (b) => (b ? 1 : 0)), record, resolve, reject });
      if (this.pendingAudit.length === 1)
        this.flushTimer = setTimeout(() => this.flushAudit(), AUDIT_BATCH_MS);
      else if (this.pendingAudit.length >= AUDIT_BATCH_MAX) this.flushAudit();
    });
  }

  private flushAudit(): void {
    clearTimeout(this.flushTimer);
    const batch = this.pendingAudit;
    if (!batch.length) return;
    this.pendingAudit = [];
    if (!this.db.open) {
      for (const b of batch) b.reject(new Error('the store is closed'));
      return;
    }
    try {
      this.insertAuditBatch()(batch);
      for (const b of batch) b.resolve();
    } catch {
      for (const b of batch) {
        try {
          this.insertAuditAlone()(b);
          b.resolve();
        } catch (err) {
          b.reject(err as Error);
        }
      }
    }
  }

  async insertAudits(records: readonly AuditRecord[]): Promise<void> {
    this.assertPresent();
    this.insertAuditsOnce()(records);
  }

  async probeWrite(at: string): Promise<void> {
    this.assertPresent();
    this.db
      .prepare(
        'INSERT INTO sluice_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      )
      .run(at);
  }

  /** A store whose file was deleted or replaced under it would take writes into nothing. */
  private assertPresent(): void {
    if (this.file === ':memory:') return;
    let ino: number | undefined;
    try {
      ino = statSync(this.file).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== this.ino) throw new Error(`the store file ${this.file} was deleted or replaced`);
  }

  async queryAudit(query: AuditQuery): Promise<AuditRecord[]> {
    this.flushAudit();
    const { sql, params } = auditWhere(query, () => '?');
    const limit = query.limit ?? 1000;
    const rows = this.db
      .prepare(`SELECT * FROM audit_records ${sql} ORDER BY time DESC, id DESC LIMIT ?`)
      .all(...params, limit) as Row[];
    const records = rows.map(auditFromRow);
    this.rebuild(records);
    return records;
  }

  /** Replaces each record's content delta with its whole content (content.ts). */
  private rebuild(records: AuditRecord[]): void {
    if (!records.some((r) => r.requestBase)) return;
    const ids = missingBases(records);
    const rows = new Map<string, ContentRow>();
    if (ids.length)
      for (const row of this.db.prepare(chainSql(ids.length, () => '?')).all(...ids) as Row[])
        rows.set(String(row.id), contentRow(row));
    rebuildAll(records, rows);
  }

  async getAudit(id: string): Promise<AuditRecord | undefined> {
    this.flushAudit();
    const row = this.db.prepare('SELECT * FROM audit_records WHERE id = ?').get(id) as Row | undefined;
    if (!row) return undefined;
    const records = [auditFromRow(row)];
    this.rebuild(records); // a delta comes back whole
    return records[0];
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    this.flushAudit();
    return splitUsage(
      query,
      async (q) => {
        const { sql, params } = auditWhere(q, () => '?');
        return (this.db.prepare(usageSql(USAGE_GROUP[q.by], sql)).all(...params) as Row[]).map(usageFromRow);
      },
      (q) => this.rollups(q),
    );
  }

  async guardRollups(query: GuardRollupQuery): Promise<GuardRollupRow[]> {
    this.flushAudit();
    const { sql, params } = guardRollupSql(query, () => '?');
    return (this.db.prepare(sql).all(...params) as Row[]).map(guardRollupFromRow);
  }

  async rollups(query: RollupQuery): Promise<RollupRow[]> {
    this.flushAudit();
    const { sql, params } = rollupSql(query, () => '?');
    return (this.db.prepare(sql).all(...params) as Row[]).map(rollupFromRow);
  }

  /**
   * In bounded batches, each its own transaction, yielding between them: deleting a day of a busy
   * org's records never holds the writer lock (or this process's event loop) for long.
   */
  async sweep(org: string | null, cut: SweepCutoffs): Promise<SweepResult> {
    this.flushAudit();
    // Records that keep their content while their base loses its own are stored whole first.
    this.db
      .transaction(() => {
        const orphans = this.db
          .prepare(
            orphanedSql(
              (i) => `@p${i}`,
              '1',
              (c, p) => `${c} IS ${p}`,
            ),
          )
          .all({ p1: org, p2: cut.contentBefore, p3: cut.before, p4: cut.flaggedBefore }) as Row[];
        const whole = this.db.prepare(
          'UPDATE audit_records SET request_content = ?, request_base = NULL, request_head = NULL, request_tail = NULL WHERE id = ?',
        );
        for (const { id } of orphans) {
          const records = (this.db.prepare('SELECT * FROM audit_records WHERE id = ?').all(id) as Row[]).map(
            auditFromRow,
          );
          this.rebuild(records);
          if (records[0]) whole.run(records[0].requestContent, id);
        }
      })
      .immediate();
    const batches = async (sql: string, ...params: unknown[]): Promise<number> => {
      const stmt = this.db.prepare(sql);
      let total = 0;
      for (;;) {
        const changes = this.db.transaction(() => stmt.run(...params, SWEEP_BATCH).changes).immediate();
        total += changes;
        // Requests' timers and I/O run between batches (one store, one thread).
        await new Promise((r) => setImmediate(r));
        if (changes < SWEEP_BATCH) return total;
      }
    };
    const pick = (where: string) =>
      `SELECT rowid FROM audit_records WHERE org IS ? AND time < ? AND ${where} LIMIT ?`;
    const recordsDeleted =
      (await batches(`DELETE FROM audit_records WHERE rowid IN (${pick('flagged = 0')})`, org, cut.before)) +
      (await batches(
        `DELETE FROM audit_records WHERE rowid IN (${pick('flagged = 1')})`,
        org,
        cut.flaggedBefore,
      ));
    const contentCleared = await batches(
      `UPDATE audit_records SET request_content = NULL, response_content = NULL WHERE rowid IN (${pick(
        '(request_content IS NOT NULL OR response_content IS NOT NULL)',
      )})`,
      org,
      cut.contentBefore,
    );
    return { recordsDeleted, contentCleared };
  }

  /** Each org's sweep in turn: SQLite has no days to drop whole. */
  async sweepAll(cuts: ReadonlyMap<string | null, SweepCutoffs>): Promise<SweepResult> {
    const result = { recordsDeleted: 0, contentCleared: 0 };
    for (const [org, cut] of cuts) {
      const r = await this.sweep(org, cut);
      result.recordsDeleted += r.recordsDeleted;
      result.contentCleared += r.contentCleared;
    }
    return result;
  }

  async readCounters(org: string, keys: CounterKey[]): Promise<Counter[]> {
    if (!keys.length) return [];
    const where = keys.map(() => '(user_email = ? AND period = ?)').join(' OR ');
    const rows = this.db
      .prepare(`SELECT * FROM usage_counters WHERE org = ? AND (${where})`)
      .all(org, ...keys.flatMap((k) => [k.user, k.period])) as Row[];
    return rows.map(counterFromRow);
  }

  async addCounters(
    org: string,
    keys: CounterKey[],
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<void> {
    const stmt = this.bumpCounterStmt();
    this.db.transaction(() => {
      for (const k of keys) stmt.get(org, k.user, k.period, delta.requests, delta.tokens, delta.costUsd);
    })();
  }

  async bumpCounter(
    org: string,
    key: CounterKey,
    delta: { requests: number; tokens: number; costUsd: number },
  ): Promise<Counter> {
    const row = this.bumpCounterStmt().get(
      org,
      key.user,
      key.period,
      delta.requests,
      delta.tokens,
      delta.costUsd,
    ) as Row;
    return counterFromRow(row);
  }

  async sweepCounters(minuteBefore: string, dayBefore: string): Promise<void> {
    this.db
      .prepare(
        `DELETE FROM usage_counters WHERE (period LIKE 'minute:%' AND period < ?) OR (period LIKE 'day:%' AND period < ?)`,
      )
      .run(`minute:${minuteBefore}`, `day:${dayBefore}`);
  }

  async appendAdminLog(
    entry: Omit<AdminLogEntry, 'seq' | 'prevHash' | 'hash'>,
    hash: (prev: string, entry: Omit<AdminLogEntry, 'hash' | 'prevHash'>) => string,
  ): Promise<AdminLogEntry> {
    const append = this.db.transaction(() => {
      const last = this.db.prepare('SELECT seq, hash FROM admin_log ORDER BY seq DESC LIMIT 1').get() as
        Row | undefined;
      const seq = last ? Number(last.seq) + 1 : 1;
      const prevHash = last ? String(last.hash) : GENESIS_HASH;
      const full: AdminLogEntry = { ...entry, seq, prevHash, hash: hash(prevHash, { ...entry, seq }) };
      this.db
        .prepare(
          'INSERT INTO admin_log (seq, time, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          seq,
          full.time,
          full.actor,
          full.action,
          full.target,
          JSON.stringify(full.details),
          prevHash,
          full.hash,
        );
      return full;
    });
    return append.immediate();
  }

  async listAdminLog(): Promise<AdminLogEntry[]> {
    return (this.db.prepare('SELECT * FROM admin_log ORDER BY seq').all() as Row[]).map(adminFromRow);
  }

  tableRows(): TableRows {
    this.flushAudit();
    return new SqliteTableRows(this.db);
  }

  /** One process owns an SQLite store: an in-process queue per lock name is enough. */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.locks.set(
      name,
      before.then(() => mine),
    );
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async addTelemetry(org: string, user: string, values: TelemetryValue[]): Promise<void> {
    const add = this.db.prepare(
      `INSERT INTO telemetry (org, user_email, session_id, metric, day, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, user_email, session_id, metric, day) DO UPDATE SET value = value + excluded.value`,
    );
    const max = this.db.prepare(
      `INSERT INTO telemetry (org, user_email, session_id, metric, day, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, user_email, session_id, metric, day) DO UPDATE SET value = MAX(value, excluded.value)`,
    );
    this.db.transaction(() => {
      for (const v of values)
        (v.cumulative ? max : add).run(org, user, v.sessionId, v.metric, v.day, v.value);
    })();
  }

  async telemetryUsage(query: { org?: string; sinceDay?: string }): Promise<TelemetryRow[]> {
    const rows = this.db
      .prepare(
        `SELECT user_email, metric, SUM(value) AS value, COUNT(DISTINCT session_id) AS sessions FROM telemetry
         WHERE (@org IS NULL OR org = @org) AND (@since IS NULL OR day >= @since)
         GROUP BY user_email, metric ORDER BY user_email, metric`,
      )
      .all({ org: query.org ?? null, since: query.sinceDay ?? null }) as Row[];
    return rows.map(telemetryFromRow);
  }

  async insertEgress(record: EgressRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO egress_records (${EGRESS_COLUMNS.join(', ')}) VALUES (${EGRESS_COLUMNS.map(() => '?').join(', ')})`,
      )
      .run(...egressValues(record));
  }

  async queryEgress(query: EgressQuery): Promise<EgressRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM egress_records WHERE (@org IS NULL OR org = @org) AND (@since IS NULL OR time >= @since)
         AND (@decision IS NULL OR decision = @decision) ORDER BY time DESC, id DESC LIMIT @limit`,
      )
      .all({
        org: query.org ?? null,
        since: query.since ?? null,
        decision: query.decision ?? null,
        limit: query.limit ?? 1000,
      }) as Row[];
    return rows.map(egressFromRow);
  }

  async egressTargets(query: { org: string; since: string }): Promise<EgressTarget[]> {
    const rows = this.db.prepare(EGRESS_TARGETS_SQL('?', '?')).all(query.org, query.since) as Row[];
    return rows.map(egressTargetFromRow);
  }
}

/** A record waiting for the next batch, and its row's values. */
interface PendingAudit {
  values: unknown[];
  record: AuditRecord;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
