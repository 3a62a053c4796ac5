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
 * the records lead to). A record whose chain is broken (a base missing or without content, or a
 * cycle) reads back with no content.
 *
 * Nothing in between is built: the bytes a record needs are resolved down its chain as ranges of
 * the stored middles, and copied once, so reading a turn costs its size, not its depth times it.
 */
export function rebuildAll(records: AuditRecord[], rows: ReadonlyMap<string, ContentRow>): void {
  const own = new Map<string, ContentRow>();
  for (const r of records)
    own.set(r.id, { id: r.id, content: r.requestContent, base: r.requestBase ?? null });
  const middles = new Map<string, Buffer>();
  const lengths = new Map<string, number | null>();
  const row = (id: string) => own.get(id) ?? rows.get(id);
  const middle = (p: ContentRow): Buffer => {
    let m = middles.get(p.id);
    if (!m) middles.set(p.id, (m = Buffer.from(p.content as string, 'utf8')));
    return m;
  };
  /** The whole content's length in bytes, or null when the chain is broken. */
  const length = (id: string): number | null => {
    const path: ContentRow[] = [];
    let known: number | null | undefined;
    for (let cur = row(id); known === undefined;) {
      if (!cur || cur.content === null || path.includes(cur)) {
        known = null;
        break;
      }
      const l = lengths.get(cur.id);
      if (l !== undefined) known = l;
      else {
        path.push(cur);
        if (cur.base) cur = row(cur.base.id);
        else known = 0;
      }
    }
    // Forward again: each length is its base's plus what it adds.
    let at = known;
    for (let i = path.length - 1; i >= 0; i--) {
      const p = path[i] as ContentRow;
      if (at === null) lengths.set(p.id, null);
      else if (!p.base) lengths.set(p.id, (at = middle(p).length));
      else if (p.base.head + p.base.tail > at) lengths.set(p.id, (at = null));
      else lengths.set(p.id, (at = p.base.head + middle(p).length + p.base.tail));
    }
    return lengths.get(id) ?? null;
  };
  /** Appends to `out` the pieces of record `id`'s whole content in bytes [from, to). */
  const pieces = (id: string, from: number, to: number, out: Buffer[]): void => {
    // A stack of ranges still to resolve and pieces ready, popped in content order.
    const todo: ({ id: string; a: number; b: number } | Buffer)[] = [{ id, a: from, b: to }];
    while (todo.length) {
      const w = todo.pop() as { id: string; a: number; b: number } | Buffer;
      if (Buffer.isBuffer(w)) {
        out.push(w);
        continue;
      }
      const { a, b } = w;
      if (a >= b) continue;
      const p = row(w.id) as ContentRow;
      const m = middle(p);
      if (!p.base) {
        out.push(m.subarray(a, b));
        continue;
      }
      const { head, tail } = p.base;
      const baseLength = lengths.get(p.base.id) as number;
      const midEnd = head + m.length;
      if (b > midEnd)
        todo.push({
          id: p.base.id,
          a: baseLength - tail + Math.max(0, a - midEnd),
          b: baseLength - tail + (b - midEnd),
        });
      if (a < midEnd && b > head) todo.push(m.subarray(Math.max(a, head) - head, Math.min(b, midEnd) - head));
      if (a < head) todo.push({ id: p.base.id, a, b: Math.min(b, head) });
    }
  };
  for (const r of records) {
    if (!r.requestBase) continue;
    const l = length(r.id);
    if (l === null) r.requestContent = null;
    else {
      const out: Buffer[] = [];
      pieces(r.id, 0, l, out);
      r.requestContent = Buffer.concat(out, l).toString('utf8');
    }
    delete r.requestBase;
  }
}

/**
 * The records that keep their content while their base loses its own in a sweep (`ph(1)` the org,
 * matched by the dialect's `orgIs` so that null means records of no org;
 * `ph(2)`..`ph(4)` the content, record and flagged-record cutoffs; `flagged` the dialect's true):
 * they are stored whole before the sweep, so every record still holding content reads back whole.
 */
export function orphanedSql(
  ph: (i: number) => string,
  flagged: string,
  orgIs: (column: string, param: string) => string,
): string {
  const loses = (t: string) =>
    `(${t}.time < ${ph(2)} OR (${t}.time < ${ph(3)} AND ${t}.flagged <> ${flagged}) OR (${t}.time < ${ph(4)} AND ${t}.flagged = ${flagged}))`;
  // From the records that have a base (a small partial index) to their bases: never a scan of
  // the org's records (CROSS JOIN keeps that order on SQLite; PostgreSQL plans it alike).
  return `SELECT c.id FROM audit_records c CROSS JOIN audit_records b
    WHERE c.request_base IS NOT NULL AND b.id = c.request_base AND ${orgIs('b.org', ph(1))} AND ${loses('b')}
      AND NOT ${loses('c')} AND c.request_content IS NOT NULL`;
}
