/**
 * Raw row access to a store's tables, for `sluice store copy`: whole rows in primary-key order, in
 * batches, so a copy can stop anywhere and continue from the destination's last key. Text keys
 * compare bytewise in both dialects (SQLite's BINARY, PostgreSQL's "C"), so "after key k" means the
 * same rows on either side whatever the database's collation.
 */
import { dayOf, ensureDays } from './partitions.js';
import type Database from 'better-sqlite3';
import type pg from 'pg';

/** One table row as column name to value; booleans read as 0/1 and 64-bit integers as numbers. */
export type TableRow = Record<string, unknown>;

/** The primary-key values of a row, in key-column order. */
export type RowKey = unknown[];

export interface TableRows {
  /** Table names in the store (migration bookkeeping included). */
  tables(): Promise<string[]>;
  /** Column names of `table`, in table order. */
  columns(table: string): Promise<string[]>;
  /** Migration versions applied. */
  versions(): Promise<number[]>;
  count(table: string, key?: { columns: readonly string[]; upTo: RowKey }): Promise<number>;
  /** The row with the largest key, or undefined when the table is empty. */
  last(table: string, keyColumns: readonly string[]): Promise<TableRow | undefined>;
  /** The row at `key`, or undefined. */
  at(table: string, keyColumns: readonly string[], key: RowKey): Promise<TableRow | undefined>;
  /** Up to `limit` rows with keys after `after` (from the first when undefined), in key order. */
  batch(
    table: string,
    keyColumns: readonly string[],
    after: RowKey | undefined,
    limit: number,
  ): Promise<TableRow[]>;
  /** Inserts `rows` in one transaction, skipping rows whose key is already there; returns how many went in. */
  insert(table: string, columns: readonly string[], rows: readonly TableRow[]): Promise<number>;
}

/** Table and column names here come from the schema, never from input; quoted all the same. */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export class SqliteTableRows implements TableRows {
  constructor(private readonly db: Database.Database) {}

  async tables(): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
      .all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  async columns(table: string): Promise<string[]> {
    return (this.db.prepare(`PRAGMA table_info(${ident(table)})`).all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  async versions(): Promise<number[]> {
    return (this.db.prepare('SELECT version FROM sluice_migrations ORDER BY version').all() as Row[]).map(
      (r) => Number(r.version),
    );
  }

  async count(table: string, key?: { columns: readonly string[]; upTo: RowKey }): Promise<number> {
    const where = key ? `WHERE ${tuple(key.columns)} <= (${key.columns.map(() => '?').join(', ')})` : '';
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM ${ident(table)} ${where}`)
      .get(...(key?.upTo ?? [])) as Row;
    return Number(row.n);
  }

  async last(table: string, keyColumns: readonly string[]): Promise<TableRow | undefined> {
    const order = keyColumns.map((c) => `${ident(c)} DESC`).join(', ');
    return this.db.prepare(`SELECT * FROM ${ident(table)} ORDER BY ${order} LIMIT 1`).get() as
      TableRow | undefined;
  }

  async at(table: string, keyColumns: readonly string[], key: RowKey): Promise<TableRow | undefined> {
    const where = keyColumns.map((c) => `${ident(c)} = ?`).join(' AND ');
    return this.db.prepare(`SELECT * FROM ${ident(table)} WHERE ${where}`).get(...key.map(sqliteValue)) as
      TableRow | undefined;
  }

  async batch(
    table: string,
    keyColumns: readonly string[],
    after: RowKey | undefined,
    limit: number,
  ): Promise<TableRow[]> {
    const where = after ? `WHERE ${tuple(keyColumns)} > (${keyColumns.map(() => '?').join(', ')})` : '';
    const order = keyColumns.map(ident).join(', ');
    return this.db
      .prepare(`SELECT * FROM ${ident(table)} ${where} ORDER BY ${order} LIMIT ?`)
      .all(...(after ?? []).map(sqliteValue), limit) as TableRow[];
  }

  async insert(table: string, columns: readonly string[], rows: readonly TableRow[]): Promise<number> {
    const stmt = this.db.prepare(
      `INSERT OR IGNORE INTO ${ident(table)} (${columns.map(ident).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    const run = this.db.transaction(() => {
      let n = 0;
      for (const row of rows) n += stmt.run(...columns.map((c) => sqliteValue(row[c]))).changes;
      return n;
    });
    return run.immediate();
  }
}

type Row = Record<string, unknown>;

/** better-sqlite3 binds no booleans. */
const sqliteValue = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

const tuple = (columns: readonly string[]): string => `(${columns.map(ident).join(', ')})`;

/** PostgreSQL type ids read differently from what pg returns: int8 (as text) and bool. */
const INT8 = 20;
const BOOL = 16;

export class PostgresTableRows implements TableRows {
  private readonly text = new Map<string, Promise<Set<string>>>();

  constructor(private readonly pool: pg.Pool) {}

  /** Keys compare bytewise, as SQLite's do (the database's collation may order text otherwise). */
  private async keyExprs(table: string, columns: readonly string[]): Promise<string[]> {
    let text = this.text.get(table);
    if (!text) {
      text = this.query(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND data_type IN ('text', 'character varying')`,
        [table],
      ).then((rows) => new Set(rows.map((r) => String(r.column_name))));
      this.text.set(table, text);
    }
    const names = await text;
    return columns.map((c) => (names.has(c) ? `${ident(c)} COLLATE "C"` : ident(c)));
  }

  private async query(text: string, values: unknown[] = []): Promise<TableRow[]> {
    const result = await this.pool.query(text, values);
    const convert = result.fields.filter((f) => f.dataTypeID === INT8 || f.dataTypeID === BOOL);
    if (!convert.length) return result.rows as TableRow[];
    for (const row of result.rows as TableRow[]) {
      for (const f of convert) {
        const v = row[f.name];
        if (v === null || v === undefined) continue;
        row[f.name] = f.dataTypeID === INT8 ? Number(v) : v ? 1 : 0;
      }
    }
    return result.rows as TableRow[];
  }

  async tables(): Promise<string[]> {
    const rows = await this.query(
      // A day partition of audit_records is part of its table, not a table of its own (partitions.ts).
      `SELECT table_name FROM information_schema.tables t
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
         AND NOT (SELECT relispartition FROM pg_class WHERE oid = format('%I.%I', t.table_schema, t.table_name)::regclass)
       ORDER BY table_name`,
    );
    return rows.map((r) => String(r.table_name));
  }

  async columns(table: string): Promise<string[]> {
    const rows = await this.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    return rows.map((r) => String(r.column_name));
  }

  async versions(): Promise<number[]> {
    return (await this.query('SELECT version FROM sluice_migrations ORDER BY version')).map((r) =>
      Number(r.version),
    );
  }

  async count(table: string, key?: { columns: readonly string[]; upTo: RowKey }): Promise<number> {
    const where = key
      ? `WHERE (${(await this.keyExprs(table, key.columns)).join(', ')}) <= (${placeholders(key.columns.length)})`
      : '';
    const rows = await this.query(`SELECT COUNT(*) AS n FROM ${ident(table)} ${where}`, key?.upTo ?? []);
    return Number(rows[0]?.n);
  }

  async last(table: string, keyColumns: readonly string[]): Promise<TableRow | undefined> {
    const order = (await this.keyExprs(table, keyColumns)).map((c) => `${c} DESC`).join(', ');
    return (await this.query(`SELECT * FROM ${ident(table)} ORDER BY ${order} LIMIT 1`))[0];
  }

  async at(table: string, keyColumns: readonly string[], key: RowKey): Promise<TableRow | undefined> {
    const where = keyColumns.map((c, i) => `${ident(c)} = $${i + 1}`).join(' AND ');
    return (await this.query(`SELECT * FROM ${ident(table)} WHERE ${where}`, key))[0];
  }

  async batch(
    table: string,
    keyColumns: readonly string[],
    after: RowKey | undefined,
    limit: number,
  ): Promise<TableRow[]> {
    const params = [...(after ?? []), limit];
    const keys = await this.keyExprs(table, keyColumns);
    const where = after ? `WHERE (${keys.join(', ')}) > (${placeholders(keyColumns.length)})` : '';
    const order = keys.join(', ');
    return this.query(
      `SELECT * FROM ${ident(table)} ${where} ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
  }

  async insert(table: string, columns: readonly string[], rows: readonly TableRow[]): Promise<number> {
    if (!rows.length) return 0;
    // PostgreSQL takes at most 65535 parameters in one statement.
    const per = Math.max(1, Math.floor(60_000 / columns.length));
    if (table === 'audit_records')
      await ensureDays(
        this.pool,
        rows.map((r) => dayOf(String(r.time))),
      );
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      let n = 0;
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        const values = chunk.map(
          (_r, j) => `(${columns.map((_c, k) => `$${j * columns.length + k + 1}`).join(', ')})`,
        );
        const r = await client.query(
          `INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')}) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`,
          chunk.flatMap((row) => columns.map((c) => row[c])),
        );
        n += r.rowCount ?? 0;
      }
      await client.query('COMMIT');
      return n;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

const placeholders = (n: number): string => Array.from({ length: n }, (_v, i) => `$${i + 1}`).join(', ');
