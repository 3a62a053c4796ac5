/**
 * Request content stored by delta. Claude Code resends the whole conversation on every turn, so a
 * record's stored request is mostly the previous one's: it is stored as a reference to that record
 * (its `base`), how many bytes of the base's whole content it begins with (`head`) and ends with
 * (`tail`), and the bytes in between. Reading a record back rebuilds the whole content by walking its
 * chain of bases to the first record stored whole.
 *
 * Offsets count UTF-8 bytes and always fall on character boundaries, so the stored middle is whole
 * text in either dialect.
 */
import type { AuditRecord, ContentBase } from './types.js';

/** The content columns of one stored record. */
export interface ContentRow {
  id: string;
  content: string | null;
  base: ContentBase | null;
}

const STEP = 65536;

/** Length of the longest common prefix of `a` and `b` (native compares, 64 KB at a time). */
export function sharedHead(a: Buffer, b: Buffer, limit = Math.min(a.length, b.length)): number {
  let lo = 0;
  while (lo < limit) {
    const hi = Math.min(limit, lo + STEP);
    if (a.compare(b, lo, hi, lo, hi) !== 0) break;
    lo = hi;
  }
  let hi = Math.min(limit, lo + STEP);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a.compare(b, lo, mid + 1, lo, mid + 1) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Length of the longest common suffix of `a` and `b`, at most `limit`. */
export function sharedTail(a: Buffer, b: Buffer, limit = Math.min(a.length, b.length)): number {
  const la = a.length;
  const lb = b.length;
  const same = (from: number, to: number) => a.compare(b, lb - to, lb - from, la - to, la - from) === 0;
  let lo = 0;
  while (lo < limit) {
    const hi = Math.min(limit, lo + STEP);
    if (!same(lo, hi)) break;
    lo = hi;
  }
  let hi = Math.min(limit, lo + STEP);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (same(lo, mid + 1)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A UTF-8 continuation byte (never the first byte of a character). */
const continues = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

/**
 * How `next` continues `prev`: the bytes it shares at its start (`head`) and end (`tail`), both on
 * character boundaries and never overlapping in either buffer.
 */
export function delta(prev: Buffer, next: Buffer): { head: number; tail: number } {
  let head = sharedHead(prev, next);
  while (head > 0 && continues(next[head])) head--;
  let tail = sharedTail(prev, next, Math.min(prev.length, next.length) - head);
  while (tail > 0 && continues(next[next.length - tail])) tail--;
  return { head, tail };
}

/** The whole content of a record stored as `base` + `middle`, from the base's whole content. */
export function applyDelta(base: Buffer, d: { head: number; tail: number }, middle: Buffer): Buffer {
  if (d.head + d.tail > base.length) throw new Error('a stored content delta runs past its base');
  return Buffer.concat([base.subarray(0, d.head), middle, base.subarray(base.length - d.tail)]);
}

/**
 * The SQL that loads the content columns of the records `ids` stand for and of every base they lead
 * to (one recursive query; UNION stops at a cycle). `ph(i)` renders the dialect's i-th placeholder.
 */
export function chainSql(count: number, ph: (i: number) => string): string {
  const list = Array.from({ length: count }, (_v, i) => ph(i + 1)).join(', ');
  return `WITH RECURSIVE chain(id) AS (
      SELECT id FROM audit_records WHERE id IN (${list})
      UNION SELECT a.request_base FROM audit_records a JOIN chain c ON a.id = c.id WHERE a.request_base IS NOT NULL)
    SELECT id, request_content, request_base, request_head, request_tail FROM audit_records
    WHERE id IN (SELECT id FROM chain)`;
}

/** A content row from a row of `chainSql` (or of `SELECT *`). */
export function contentRow(row: Record<string, unknown>): ContentRow {
  const content =
    row.request_content === null || row.request_content === undefined ? null : String(row.request_content);
  const base =
    row.request_base === null || row.request_base === undefined
      ? null
      : { id: String(row.request_base), head: Number(row.request_head), tail: Number(row.request_tail) };
  return { id: String(row.id), content, base };
}

/** The bases `records` need that are not among them: what `chainSql` must load. */
export function missingBases(records: readonly AuditRecord[]): string[] {
  const have = new Set(records.map((r) => r.id));
  const need = new Set<string>();
  for (const r of records) if (r.requestBase && !have.has(r.requestBase.id)) need.add(r.requestBase.id);
  return [...need];
}

/**
 * Replaces each record's delta with its whole content, from `rows` (the content rows of every base
 * the records lead to). A record whose chain is broken (a base missing or without content) reads
 * back with no content. Records built earlier are reused by later ones of the same chain.
 */
export function rebuildAll(records: AuditRecord[], rows: ReadonlyMap<string, ContentRow>): void {
  const built = new Map<string, Buffer | null>();
  const own = new Map<string, ContentRow>();
  for (const r of records)
    own.set(r.id, { id: r.id, content: r.requestContent, base: r.requestBase ?? null });
  const row = (id: string) => own.get(id) ?? rows.get(id);
  const whole = (id: string): Buffer | null => {
    // Down the chain to a record built already or stored whole, then forward again.
    const path: ContentRow[] = [];
    let at: Buffer | null = null;
    const seen = new Set<string>();
    for (let cur = row(id); ; cur = cur.base ? row(cur.base.id) : undefined) {
      if (!cur || cur.content === null || seen.has(cur.id)) return null;
      const done = built.get(cur.id);
      if (done !== undefined) {
        at = done;
        break;
      }
      seen.add(cur.id);
      path.push(cur);
      if (!cur.base) break;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const p = path[i] as ContentRow;
      const middle = Buffer.from(p.content as string, 'utf8');
      if (!p.base) at = middle;
      else if (at === null) return null;
      else at = applyDelta(at, p.base, middle);
      if (own.has(p.id)) built.set(p.id, at);
    }
    return at;
  };
  // Oldest first, so a later record of the same chain starts from an earlier one's content.
  const order = [...records].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const r of order) {
    if (!r.requestBase) continue;
    const content = whole(r.id);
    r.requestContent = content === null ? null : content.toString('utf8');
    delete r.requestBase;
  }
}

/**
 * The records that keep their content while their base loses its own in a sweep (`ph(1)` the org,
 * `ph(2)`..`ph(4)` the content, record and flagged-record cutoffs; `flagged` the dialect's true):
 * they are stored whole before the sweep, so every record still holding content reads back whole.
 */
export function orphanedSql(ph: (i: number) => string, flagged: string): string {
  const loses = (t: string) =>
    `(${t}.time < ${ph(2)} OR (${t}.time < ${ph(3)} AND ${t}.flagged <> ${flagged}) OR (${t}.time < ${ph(4)} AND ${t}.flagged = ${flagged}))`;
  return `SELECT c.id FROM audit_records b JOIN audit_records c ON c.request_base = b.id
    WHERE b.org = ${ph(1)} AND ${loses('b')} AND NOT ${loses('c')} AND c.request_content IS NOT NULL`;
}
