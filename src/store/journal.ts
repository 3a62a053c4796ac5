/**
 * The audit journal: every audit record passes through a local append-only file on its way to the
 * store, so that no request that reached the upstream goes unrecorded. Egress records take the same
 * path (`beginEgress` before an allowed connection opens, `endEgress` with its final record, or a
 * denied attempt's, before the client is answered); one begun and never ended is replayed with
 * error `proxy_interrupted`.
 *
 * A request is begun in the journal (one line, without content) before anything is forwarded, and
 * ended with its whole record when it finishes; the record then goes to the store at once, and if
 * the store refuses it, a drainer retries in batches until the store takes it (retries are
 * idempotent by record id). Lines are written with write(2) before the call returns, so a process
 * killed at any moment (kill -9) loses nothing it acknowledged: on the next start its journal is
 * replayed, and a request begun but never ended is stored as `gateway_interrupted` (it may have
 * reached the upstream and been paid for). Power loss can lose what the last fdatasync (every
 * `fsyncEveryMs`) had not put on disk.
 *
 * `begin` throws, and the gateway refuses the request (503) instead of forwarding it unrecorded,
 * while a line cannot be written (disk full, folder read-only; a write is tried again every
 * `retryMs`, so freed space brings it back without a restart), after the journal's folder was
 * removed under the process (a restart starts a new one), or while the records the store refused
 * exceed `maxBacklogBytes` (they wait in memory for the drainer). `notReady` says the same, for
 * /healthz.
 *
 * Each running process owns one slot folder under `dir` (`<dir>/<n>/`, a `lock` file holding its
 * pid, made with link(2) so two processes never share one); slots whose process is gone are
 * replayed into the store at start, then removed. Segments (`<seq>.jsonl`, 0600) are deleted once
 * every record ended in them is in the store and no request begun in them is still open.
 */
import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord, EgressRecord, Store } from './types.js';

export interface JournalOptions {
  dir: string;
  store: Store;
  /** This process's id (its slot's lock), and whether another pid still runs. */
  pid: number;
  isAlive: (pid: number) => boolean;
  onError: (err: Error, what: string) => void;
  segmentBytes?: number;
  maxBacklogBytes?: number;
  drainEveryMs?: number;
  fsyncEveryMs?: number;
  /** How long the drainer waits after the store refused a batch. */
  retryMs?: number;
  /** Records per store insert when draining or replaying. */
  batch?: number;
}

/** The journal cannot make a record durable now; the message is for the operator. */
export class JournalError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'JournalError';
  }
}

interface Segment {
  seq: number;
  path: string;
  /** Records ended in it that the store has not taken yet. */
  undrained: number;
  /** Requests begun in it that have not ended. */
  open: number;
}

/** What the journal takes to the store: a model request's record or an egress attempt's. */
type Entry = { kind: 'audit'; record: AuditRecord } | { kind: 'egress'; record: EgressRecord };

interface Pending {
  entry: Entry;
  seq: number;
  bytes: number;
}

const SEGMENT = /^\d{8}\.jsonl$/;
/** What a retry after a failed write writes (and cuts off again): a blank line, as long as a long record line. */
const PROBE = Buffer.from(`${' '.repeat(4095)}\n`);
const segmentName = (seq: number) => `${String(seq).padStart(8, '0')}.jsonl`;

/** The begin line: the record as it stands, without content (a crash stores it as interrupted). */
const beginLine = (r: AuditRecord) =>
  `${JSON.stringify({
    // Content is set only at the end (the record stage): usually there is none to leave out yet.
    b:
      r.requestContent === null && r.responseContent === null
        ? r
        : { ...r, requestContent: null, responseContent: null },
  })}\n`;
const endLine = (r: AuditRecord) => `${JSON.stringify({ e: r })}\n`;
/** Egress lines: `gb` an allowed connection about to open, `ge` an attempt's final record. */
const egressBeginLine = (r: EgressRecord) => `${JSON.stringify({ gb: r })}\n`;
const egressEndLine = (r: EgressRecord) => `${JSON.stringify({ ge: r })}\n`;

/** The `error` of an egress connection begun and never ended: the process ended while it was open. */
export const EGRESS_INTERRUPTED = 'proxy_interrupted';

interface JournalText {
  audits: AuditRecord[];
  egress: EgressRecord[];
}

/** The records journal text holds: every ended one, and each begun-but-never-ended as interrupted. */
export function entriesOf(text: string): JournalText {
  const ended = new Map<string, AuditRecord>();
  const begun = new Map<string, AuditRecord>();
  const egressEnded = new Map<string, EgressRecord>();
  const egressBegun = new Map<string, EgressRecord>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let entry: { b?: AuditRecord; e?: AuditRecord; gb?: EgressRecord; ge?: EgressRecord };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a line cut short by a full disk or a crash mid-write
    }
    if (entry.e) ended.set(entry.e.id, entry.e);
    else if (entry.b) begun.set(entry.b.id, entry.b);
    else if (entry.ge) egressEnded.set(entry.ge.id, entry.ge);
    else if (entry.gb) egressBegun.set(entry.gb.id, entry.gb);
  }
  for (const [id, b] of begun) if (!ended.has(id)) ended.set(id, { ...b, errorType: 'gateway_interrupted' });
  for (const [id, b] of egressBegun)
    if (!egressEnded.has(id)) egressEnded.set(id, { ...b, error: EGRESS_INTERRUPTED });
  return { audits: [...ended.values()], egress: [...egressEnded.values()] };
}

/** The audit records journal text holds (see entriesOf). */
export const recordsOf = (text: string): AuditRecord[] => entriesOf(text).audits;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

export class AuditJournal {
  private readonly o: Required<JournalOptions>;
  private slot = '';
  private current!: Segment & { fd: number; size: number };
  private readonly segments = new Map<number, Segment>();
  /** Open requests: record id -> the segment that began it. */
  private readonly begun = new Map<string, number>();
  /** Records the store refused, oldest first, for the drainer. */
  private queue: Pending[] = [];
  private queueBytes = 0;
  private failure: string | null = null;
  /** The failure is a write that failed (disk full): a later write may succeed, tried at most every retryMs. */
  private writeFailed = false;
  private writeRetryAt = 0;
  private draining = false;
  private retryAt = 0;
  private dirty = false;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Direct inserts not settled yet (close waits for them). */
  private readonly inserts = new Set<Promise<void>>();

  private constructor(o: JournalOptions) {
    this.o = {
      segmentBytes: 8 * 1024 * 1024,
      maxBacklogBytes: 64 * 1024 * 1024,
      drainEveryMs: 50,
      fsyncEveryMs: 200,
      retryMs: 500,
      batch: 500,
      ...o,
    };
  }

  /** Replays what processes that are gone left behind, claims a slot, and starts the drainer. */
  static async open(o: JournalOptions): Promise<AuditJournal> {
    const j = new AuditJournal(o);
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    await j.replayAbandoned();
    j.claimSlot();
    j.timers.push(setInterval(() => void j.drain(), j.o.drainEveryMs).unref());
    j.timers.push(setInterval(() => j.sync(), j.o.fsyncEveryMs).unref());
    return j;
  }

  /** Why the journal cannot take a request now, or null when it can. */
  notReady(): string | null {
    if (this.writeFailed && Date.now() >= this.writeRetryAt) this.retryWrite();
    if (!this.failure) this.lostFolder();
    if (this.failure) return this.failure;
    if (this.queueBytes > this.o.maxBacklogBytes)
      return `the store has not taken ${this.queueBytes} bytes of audit records (limit ${this.o.maxBacklogBytes})`;
    return null;
  }

  /** Makes `r`'s request durable before it is forwarded; throws JournalError when it cannot. */
  begin(r: AuditRecord): void {
    this.opened(r.id, beginLine(r));
  }

  /**
   * Makes an allowed egress connection durable before it opens (a crash stores it with error
   * `proxy_interrupted`); throws JournalError when it cannot.
   */
  beginEgress(r: EgressRecord): void {
    this.opened(r.id, egressBeginLine(r));
  }

  private opened(id: string, line: string): void {
    // notReady has checked the folder (one fstat): a folder removed since fails it.
    const why = this.notReady();
    if (why) throw new JournalError(why);
    const s = this.append(line, Buffer.byteLength(line));
    this.begun.set(id, s.seq);
    s.open++;
  }

  /** The request `id` began is over: its segment no longer waits for it. */
  private settle(id: string): void {
    const began = this.begun.get(id);
    if (began === undefined) return;
    this.begun.delete(id);
    const s = this.segments.get(began);
    if (s) s.open--;
  }

  /** Appends `r`'s final record and hands it to the store; what the store refuses is retried. */
  end(r: AuditRecord): void {
    this.settle(r.id);
    const line = endLine(r);
    const bytes = Buffer.byteLength(line);
    let s: Segment;
    // No check that the folder is still there (begin made one): a line written into a removed
    // segment is lost only to a crash, as a record held in memory for the store would be, and the
    // record goes to the store either way.
    try {
      s = this.append(line, bytes);
    } catch (err) {
      // Not in the journal: the store directly, and while it refuses, the drainer's queue in memory
      // (up to the backlog limit; past it the gateway refuses requests anyway).
      this.o.onError(err as Error, 'audit record not journaled; writing it to the store directly');
      const held: Pending = { entry: { kind: 'audit', record: r }, seq: -1, bytes };
      void this.o.store.insertAudits([r]).catch((e: Error) => {
        if (this.queueBytes > this.o.maxBacklogBytes) return this.o.onError(e, 'audit record lost');
        this.o.onError(e, 'audit record not yet stored; retrying');
        this.enqueue(held);
      });
      return;
    }
    this.toStore({ entry: { kind: 'audit', record: r }, seq: s.seq, bytes }, s);
  }

  /**
   * Appends an egress attempt's final record (denied, or its connection closed) and hands it to the
   * store, retried like an audit record; throws JournalError when it cannot be journaled (the caller
   * keeps it).
   */
  endEgress(r: EgressRecord): void {
    this.settle(r.id);
    const line = egressEndLine(r);
    const why = this.lostFolder();
    if (why) throw new JournalError(why);
    const bytes = Buffer.byteLength(line);
    const s = this.append(line, bytes);
    this.toStore({ entry: { kind: 'egress', record: r }, seq: s.seq, bytes }, s);
  }

  /** A journaled record goes to the store now, or behind those that wait for it. */
  private toStore(p: Pending, s: Segment): void {
    s.undrained++;
    // While earlier records wait for the store, this one waits behind them.
    if (this.queue.length) return this.enqueue(p);
    const insert = this.insert([p.entry]).then(
      () => this.taken([p]),
      (err: Error) => {
        this.o.onError(err, `${p.entry.kind} record not yet stored; retrying`);
        this.enqueue(p);
      },
    );
    this.inserts.add(insert);
    void insert.finally(() => this.inserts.delete(insert));
  }

  /** Audit records in one insert, egress records one by one (both idempotent by id). */
  private async insert(entries: readonly Entry[]): Promise<void> {
    const audits: AuditRecord[] = [];
    for (const e of entries) if (e.kind === 'audit') audits.push(e.record);
    if (audits.length === 1) await this.o.store.insertAudit(audits[0] as AuditRecord);
    else if (audits.length) await this.o.store.insertAudits(audits);
    for (const e of entries) if (e.kind === 'egress') await this.o.store.insertEgress(e.record);
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    this.queueBytes += p.bytes;
  }

  /**
   * Writes a line of `bytes` bytes whole into the current segment (a full one is rotated first)
   * and returns that segment, or cuts the segment back to where it was, marks the
   * journal failed and throws. The string is written as it is (no Buffer made for it); a short
   * write, which only a nearly full disk gives, is finished from the line's bytes.
   */
  private append(line: string, bytes: number): Segment {
    if (this.current.size >= this.o.segmentBytes) this.rotate();
    const c = this.current;
    try {
      let done = writeSync(c.fd, line);
      if (done < bytes) {
        const buf = Buffer.from(line);
        while (done < bytes) done += writeSync(c.fd, buf, done);
      }
    } catch (err) {
      this.failure = `the audit journal cannot be written (${codeOf(err)})`;
      this.writeFailed = true;
      this.writeRetryAt = Date.now() + this.o.retryMs;
      try {
        ftruncateSync(c.fd, c.size);
      } catch {
        // the segment keeps a cut line; replay skips it
      }
      throw new JournalError(this.failure);
    }
    c.size += bytes;
    this.dirty = true;
    return c;
  }

  /**
   * After a failed write: whether a line fits again, tried with a 4 KB probe (blank, so replay skips
   * it, and cut off again at once): a byte would fit in a half-used block long before a line does.
   */
  private retryWrite(): void {
    this.writeRetryAt = Date.now() + this.o.retryMs;
    const c = this.current;
    let fits: boolean;
    try {
      fits = writeSync(c.fd, PROBE) === PROBE.length;
    } catch {
      fits = false;
    }
    if (!fits) {
      try {
        ftruncateSync(c.fd, c.size);
      } catch {
        // what was written of the probe is blank; replay skips it
      }
      return;
    }
    try {
      ftruncateSync(c.fd, c.size);
    } catch {
      c.size += PROBE.length; // the blank probe stays; replay skips it
    }
    this.writeFailed = false;
    this.failure = null;
  }

  /** A segment deleted under the process takes lines into nothing: say so, and refuse from now on. */
  private lostFolder(): string | null {
    let gone: boolean;
    try {
      gone = fstatSync(this.current.fd).nlink === 0;
    } catch {
      gone = true;
    }
    if (!gone) return null;
    this.writeFailed = false;
    this.failure = `the audit journal's folder ${this.slot} was removed; restart the gateway to begin a new one`;
    return this.failure;
  }

  private rotate(): void {
    const old = this.current;
    closeSync(old.fd);
    this.segments.set(old.seq, { seq: old.seq, path: old.path, undrained: old.undrained, open: old.open });
    this.openSegment(old.seq + 1);
    this.collect();
  }

  private openSegment(seq: number): void {
    const path = join(this.slot, segmentName(seq));
    const fd = openSync(path, 'a', 0o600);
    this.current = { seq, path, fd, size: fstatSync(fd).size, undrained: 0, open: 0 };
    this.segments.set(seq, this.current);
  }

  /** Deletes closed segments whose records are all in the store and that began no open request. */
  private collect(): void {
    for (const s of [...this.segments.values()]) {
      if (s.seq === this.current.seq || s.undrained > 0 || s.open > 0) continue;
      this.segments.delete(s.seq);
      rmSync(s.path, { force: true });
    }
  }

  private taken(batch: readonly Pending[]): void {
    for (const p of batch) {
      const s = this.segments.get(p.seq);
      if (s) s.undrained--;
    }
    this.collect();
  }

  private sync(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    fdatasync(this.current.fd, () => undefined);
  }

  /** Retries what the store refused, a batch at a time, until it is all in or the store refuses again. */
  async drain(): Promise<void> {
    if (this.draining || !this.queue.length || Date.now() < this.retryAt) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.slice(0, this.o.batch);
        try {
          await this.insert(batch.map((p) => p.entry));
        } catch (err) {
          this.o.onError(err as Error, 'audit records not yet stored; retrying');
          this.retryAt = Date.now() + this.o.retryMs;
          return;
        }
        this.queue.splice(0, batch.length);
        for (const p of batch) this.queueBytes -= p.bytes;
        this.taken(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Slots whose process is gone: their records go into the store, then the slot is removed. */
  private async replayAbandoned(): Promise<void> {
    for (const name of readdirSync(this.o.dir)) {
      const slot = join(this.o.dir, name);
      if (!/^\d+$/.test(name) || this.held(slot)) continue;
      const files = readdirSync(slot)
        .filter((f) => SEGMENT.test(f))
        .sort();
      const { audits, egress } = entriesOf(files.map((f) => readFileSync(join(slot, f), 'utf8')).join('\n'));
      for (let i = 0; i < audits.length; i += this.o.batch)
        await this.o.store.insertAudits(audits.slice(i, i + this.o.batch));
      for (const r of egress) await this.o.store.insertEgress(r);
      rmSync(slot, { recursive: true, force: true });
    }
  }

  /** Some running process other than this one holds `slot` (or is claiming it). */
  private held(slot: string): boolean {
    for (const f of readdirSync(slot)) {
      if (f !== 'lock' && !f.startsWith('lock.')) continue;
      let pid: number;
      try {
        pid = Number(readFileSync(join(slot, f), 'utf8'));
      } catch {
        continue;
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== this.o.pid && this.o.isAlive(pid)) return true;
    }
    return false;
  }

  /** Takes the lowest free slot; its lock is made with link(2), which fails if another took it first. */
  private claimSlot(): void {
    for (let n = 0; n < 10_000; n++) {
      const slot = join(this.o.dir, String(n));
      try {
        mkdirSync(slot, { recursive: true, mode: 0o700 });
        if (readdirSync(slot).some((f) => SEGMENT.test(f))) continue; // left by a process still closing
        const mine = join(slot, `lock.${this.o.pid}`);
        writeFileSync(mine, String(this.o.pid), { mode: 0o600 });
        try {
          linkSync(mine, join(slot, 'lock'));
        } finally {
          unlinkSync(mine);
        }
      } catch {
        continue;
      }
      this.slot = slot;
      this.openSegment(1);
      return;
    }
    throw new JournalError(`no free slot under ${this.o.dir}`);
  }

  /** Stops the timers, retries what the store refused once, and releases the slot. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.inserts]);
    this.retryAt = 0;
    await this.drain();
    this.closed = true;
    closeSync(this.current.fd);
    const settled = this.queue.length === 0 && this.begun.size === 0;
    // With nothing left, the slot goes; otherwise the next start replays it.
    if (settled) rmSync(this.slot, { recursive: true, force: true });
    else rmSync(join(this.slot, 'lock'), { force: true });
  }
}
