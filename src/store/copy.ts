/**
 * Moving a store: every table's rows from one store to another (SQLite or PostgreSQL either way),
 * verbatim, in primary-key order and in batches that each commit on their own. A copy that stops
 * (Ctrl-C, a lost connection) continues on the next run from the destination's last key, after
 * checking that what the destination holds is exactly the source's rows up to that key.
 */
import type { RowKey, TableRow, TableRows } from './table-rows.js';
import type { Store } from './types.js';
import { migrations } from './schema.js';

/** The tables a copy moves, each with its primary key, in the order they are copied. */
export const COPIED_TABLES: readonly { table: string; key: readonly string[] }[] = [
  { table: 'orgs', key: ['id'] },
  { table: 'api_keys', key: ['id'] },
  { table: 'signin_sessions', key: ['id'] },
  { table: 'scim_users', key: ['id'] },
  { table: 'scim_groups', key: ['id'] },
  { table: 'scim_members', key: ['group_id', 'user_id'] },
  { table: 'admin_log', key: ['seq'] },
  { table: 'usage_counters', key: ['org', 'user_email', 'period'] },
  { table: 'telemetry', key: ['org', 'user_email', 'session_id', 'metric', 'day'] },
  { table: 'egress_records', key: ['id'] },
  { table: 'audit_records', key: ['id'] },
  // Copied as they are: they hold the sums of records retention has deleted.
  {
    table: 'audit_rollups',
    key: ['org', 'day', 'user_email', 'key_id', 'model', 'status', 'decision'],
  },
  { table: 'audit_rollup_hours', key: ['org', 'hour', 'decision'] },
  {
    table: 'audit_guard_rollups',
    key: ['org', 'day', 'user_email', 'session_id', 'decision', 'rule'],
  },
];

/** Tables a copy leaves behind, and why. */
export const NOT_COPIED_TABLES: Readonly<Record<string, string>> = {
  sluice_migrations: 'each store records the migrations it ran itself',
  sluice_probe: 'a one-row write probe, rewritten at every start',
  signin_device_grants:
    'device sign-ins in progress live ten minutes; a client waiting on one signs in again',
};

export interface TableProgress {
  table: string;
  /** Rows in the source. */
  total: number;
  /** Rows of the source the destination holds now. */
  done: number;
  /** Rows the destination already held when this run began (a resumed copy). */
  resumedAt: number;
}

export interface CopyOptions {
  /** Rows per batch (one transaction each); default 1000. */
  batchSize?: number;
  onProgress?: (progress: TableProgress) => void;
  /** Checked between batches: the copy stops after the batch in flight commits. */
  signal?: AbortSignal;
}

export interface TableCopy {
  table: string;
  source: number;
  /** Rows this run wrote. */
  copied: number;
  /** Rows the destination held from an earlier run. */
  resumedAt: number;
}

/** The copy cannot go on: the destination holds rows of its own, or the source is newer than this Sluice. */
export class CopyRefusedError extends Error {
  override readonly name = 'CopyRefusedError';
}

/** The signal stopped the copy; what was copied stays and the next run continues from there. */
export class CopyInterruptedError extends Error {
  override readonly name = 'CopyInterruptedError';
  constructor(
    readonly table: string,
    readonly done: number,
    readonly total: number,
  ) {
    super(`interrupted while copying ${table} (${done} of ${total} rows)`);
  }
}

/** Copies every table of `from` into `to` (migrated); resumes a copy an earlier run began. */
export async function copyStore(from: Store, to: Store, options: CopyOptions = {}): Promise<TableCopy[]> {
  const src = from.tableRows();
  const dst = to.tableRows();
  await checkSchemas(src, dst);
  const batchSize = options.batchSize ?? 1000;
  // Every table is checked before any row moves: a refused copy writes nothing.
  const plan = [];
  for (const { table, key } of COPIED_TABLES) {
    const columns = await src.columns(table);
    const theirs = await dst.columns(table);
    const missing = columns.filter((c) => !theirs.includes(c));
    if (missing.length)
      throw new CopyRefusedError(`the destination's ${table} has no column ${missing.join(', ')}`);
    const after = await resumePoint(src, dst, table, key, columns);
    plan.push({ table, key, columns, after, resumedAt: after ? await dst.count(table) : 0 });
  }
  const results: TableCopy[] = [];
  for (const { table, key, columns, after, resumedAt } of plan) {
    const total = await src.count(table);
    let cursor = after;
    let copied = 0;
    options.onProgress?.({ table, total, done: resumedAt, resumedAt });
    for (;;) {
      if (options.signal?.aborted) throw new CopyInterruptedError(table, resumedAt + copied, total);
      const rows = await src.batch(table, key, cursor, batchSize);
      if (!rows.length) break;
      copied += await dst.insert(table, columns, rows);
      cursor = keyOf(rows[rows.length - 1]!, key);
      options.onProgress?.({ table, total, done: resumedAt + copied, resumedAt });
    }
    results.push({ table, source: total, copied, resumedAt });
  }
  return results;
}

export interface TableCount {
  table: string;
  source: number;
  destination: number;
}

/** Rows per copied table on both sides. */
export async function countTables(from: Store, to: Store): Promise<TableCount[]> {
  const src = from.tableRows();
  const dst = to.tableRows();
  const counts: TableCount[] = [];
  for (const { table } of COPIED_TABLES)
    counts.push({ table, source: await src.count(table), destination: await dst.count(table) });
  return counts;
}

/** Whether a store holds anything a gateway wrote for people: keys, audit or egress records. */
export async function holdsRecords(store: Store): Promise<{ keys: number; records: number }> {
  const rows = store.tableRows();
  return {
    keys: await rows.count('api_keys'),
    records: (await rows.count('audit_records')) + (await rows.count('egress_records')),
  };
}

const known = new Set([...COPIED_TABLES.map((t) => t.table), ...Object.keys(NOT_COPIED_TABLES)]);

/** Both stores at schema versions this Sluice knows, and no source table the copy would leave out. */
async function checkSchemas(src: TableRows, dst: TableRows): Promise<void> {
  const newest = Math.max(...migrations.map((m) => m.version));
  const srcVersions = await src.versions();
  const ahead = srcVersions.filter((v) => v > newest);
  if (ahead.length)
    throw new CopyRefusedError(
      `the source store is at schema version ${Math.max(...ahead)}, newer than this Sluice knows (${newest}): copy with the newer Sluice`,
    );
  const dstVersions = new Set(await dst.versions());
  const behind = migrations.filter((m) => !dstVersions.has(m.version));
  if (behind.length) throw new CopyRefusedError('the destination store is not migrated');
  const unknown = (await src.tables()).filter((t) => !known.has(t));
  if (unknown.length)
    throw new CopyRefusedError(`the source has tables this Sluice cannot copy: ${unknown.join(', ')}`);
}

/**
 * Where a copy continues: undefined for an empty destination table, else its last key, provided the
 * destination holds exactly the source's rows up to it (an earlier copy), never rows of its own.
 */
async function resumePoint(
  src: TableRows,
  dst: TableRows,
  table: string,
  key: readonly string[],
  columns: readonly string[],
): Promise<RowKey | undefined> {
  const last = await dst.last(table, key);
  if (!last) return undefined;
  const at = keyOf(last, key);
  const theirs = await src.at(table, key, at);
  const same =
    theirs !== undefined &&
    sameRow(theirs, last, columns) &&
    (await src.count(table, { columns: key, upTo: at })) === (await dst.count(table));
  if (!same)
    throw new CopyRefusedError(
      `the destination's ${table} already holds rows that are not the source's (was sluice serve started on it?): copy into an empty store, such as a new database or schema`,
    );
  return at;
}

const keyOf = (row: TableRow, key: readonly string[]): RowKey => key.map((c) => row[c]);

/** Rows compare by value across dialects (booleans read as 0/1 on both sides). */
function sameRow(a: TableRow, b: TableRow, columns: readonly string[]): boolean {
  return columns.every((c) => (a[c] ?? null) === (b[c] ?? null));
}
