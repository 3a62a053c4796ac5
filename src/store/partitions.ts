/**
 * PostgreSQL's audit records in one partition per UTC day (range on `time`): a retention sweep
 * detaches and drops a whole day instead of deleting its rows, so requests never wait on it.
 * Days are made ahead (by `migrate` and every sweep) and on demand (an insert for a day with no
 * partition, such as a journal replay of yesterday's records, makes it and tries again).
 */
import type pg from 'pg';
import { AUDIT_COLUMNS } from './rows.js';
import type { SweepCutoffs } from './types.js';

/** What the partition code needs of a pool or a client. */
type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Makes the partition of one day unless it is there. The advisory lock (per schema) makes one
 * creator at a time: CREATE TABLE IF NOT EXISTS alone still races another gateway's.
 */
export const AUDIT_DAY_FUNCTION = `CREATE FUNCTION sluice_audit_day(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  part text := 'audit_records_' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(format('%I.%I', current_schema(), part)) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('sluice:audit-day:' || current_schema()));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_records FOR VALUES FROM (%L) TO (%L)',
    part, to_char(day, 'YYYY-MM-DD'), to_char(day + 1, 'YYYY-MM-DD'));
END $$`;

/**
 * Migration 14 on PostgreSQL: the unpartitioned table becomes a partitioned one holding every
 * record (a day's partition for each day that has records), in the migration's one transaction.
 * The key is (id, time): a partitioned table's unique keys hold its partition key.
 */
export function partitionAuditMigration(columns: string, indexes: readonly string[]): string[] {
  return [
    `ALTER TABLE audit_records RENAME TO audit_records_unpartitioned`,
    `ALTER TABLE audit_records_unpartitioned DROP CONSTRAINT audit_records_pkey`,
    ...indexes.map((sql) => `DROP INDEX ${(/^CREATE INDEX (\w+)/.exec(sql) as RegExpExecArray)[1]}`),
    `CREATE TABLE audit_records (${columns}) PARTITION BY RANGE (time)`,
    AUDIT_DAY_FUNCTION,
    `SELECT sluice_audit_day(d::date) FROM (SELECT DISTINCT left(time, 10) AS d FROM audit_records_unpartitioned) days`,
    `INSERT INTO audit_records (${AUDIT_COLUMNS.join(', ')}) SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_records_unpartitioned`,
    `DROP TABLE audit_records_unpartitioned`,
    `ALTER TABLE audit_records ADD PRIMARY KEY (id, time)`,
    ...indexes,
  ];
}

/** The UTC day (YYYY-MM-DD) of an ISO time. */
export const dayOf = (time: string): string => time.slice(0, 10);

const DAY = 86_400_000;

/** `count` days from the day of `from`, as YYYY-MM-DD. */
export function daysFrom(from: Date, count: number): string[] {
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  return Array.from({ length: count }, (_v, i) => new Date(start + i * DAY).toISOString().slice(0, 10));
}

/** Makes the partitions of `days` (YYYY-MM-DD) that are missing. */
export async function ensureDays(db: Queryable, days: Iterable<string>): Promise<void> {
  const list = [...new Set(days)].sort();
  if (list.length) await db.query('SELECT sluice_audit_day(d::date) FROM unnest($1::text[]) AS d', [list]);
}

/** An insert refused because no partition takes its row's day. */
export function isMissingDay(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}

/** Runs an insert of records at `times`; when a day has no partition, makes it and runs it again. */
export async function withDays<T>(
  db: Queryable,
  times: readonly string[],
  insert: () => Promise<T>,
): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if (!isMissingDay(err)) throw err;
    await ensureDays(db, times.map(dayOf));
    return insert();
  }
}

interface DayPartition {
  name: string;
  /** The first day after this one (YYYY-MM-DD): every row's time sorts before it. */
  end: string;
  /** A detach that stopped half way (DETACH … CONCURRENTLY interrupted). */
  pending: boolean;
}

async function listDays(db: Queryable): Promise<DayPartition[]> {
  const { rows } = await db.query(
    `SELECT c.relname AS name, i.inhdetachpending AS pending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_records'::regclass ORDER BY c.relname`,
  );
  const days: DayPartition[] = [];
  for (const r of rows as { name: string; pending: boolean }[]) {
    const m = /^audit_records_(\d{4})(\d{2})(\d{2})$/.exec(r.name);
    if (!m) continue;
    const end = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY);
    days.push({ name: r.name, end: end.toISOString().slice(0, 10), pending: r.pending });
  }
  return days;
}

/**
 * Whether every record in a day is past its org's retention: each org in it has cutoffs (`null`:
 * records of no org), and the day ends before its records' cutoff (flagged ones' if it has any).
 */
async function expired(db: Queryable, day: DayPartition, cuts: ReadonlyMap<string | null, SweepCutoffs>) {
  const { rows } = await db.query(
    `SELECT org, bool_or(flagged) AS flagged FROM ${quote(day.name)} GROUP BY org`,
  );
  return (rows as { org: string | null; flagged: boolean }[]).every((r) => {
    const cut = cuts.get(r.org);
    return !!cut && day.end <= cut.before && (!r.flagged || day.end <= cut.flaggedBefore);
  });
}

/**
 * Detaches and drops every day whose records are all past retention; resolves to the days and
 * records dropped. DETACH … CONCURRENTLY takes no lock that stops inserts or reads of other days
 * (a plain DROP would take the whole table's, and wait behind any long report); it cannot run
 * in a transaction, so a detach that was cut short is finished on the next sweep.
 */
export async function dropExpiredDays(
  db: Queryable,
  cuts: ReadonlyMap<string | null, SweepCutoffs>,
): Promise<{ days: number; records: number }> {
  const latest = [...cuts.values()].reduce((m, c) => (c.before > m ? c.before : m), '');
  let days = 0;
  let records = 0;
  for (const day of await listDays(db)) {
    if (day.end > latest) break;
    if (!day.pending && !(await expired(db, day, cuts))) continue;
    const finish = day.pending ? 'FINALIZE' : 'CONCURRENTLY';
    await db.query(`ALTER TABLE audit_records DETACH PARTITION ${quote(day.name)} ${finish}`);
    records += Number((await db.query(`SELECT count(*) AS n FROM ${quote(day.name)}`)).rows[0].n);
    await db.query(`DROP TABLE ${quote(day.name)}`);
    days++;
  }
  return { days, records };
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
