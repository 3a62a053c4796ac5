/**
 * Egress records: one per attempt of a known key's user, allowed or denied. With the audit journal
 * (as `sluice serve` runs it), a record goes through it: an allowed connection is begun there
 * before it opens, and every final record is appended before the client is answered, so a
 * process killed outright loses none (the journal replays them, a connection still open as
 * `proxy_interrupted`); the journal retries what the store refuses.
 *
 * Without a journal, or while it cannot write, a record goes to the store directly; one the store
 * refuses waits in a bounded backlog and is retried (inserts are idempotent by id) until the store
 * takes it. While neither the journal nor the store can take records (the backlog is full), the
 * proxy lets nothing new out (`refusal` says why), so nothing leaves unrecorded.
 */
import type { EgressRecord, Store } from '../store/types.js';

/** The durable local journal (src/store/journal.ts); each method throws when it cannot write. */
export interface EgressJournal {
  /** Why it cannot take records now, or null. */
  notReady(): string | null;
  beginEgress(r: EgressRecord): void;
  endEgress(r: EgressRecord): void;
}

/** Who tried to reach what, and when (wall clock for the record, monotonic for the duration). */
export interface Attempt {
  time: string;
  org: string;
  user: string;
  host: string;
  port: number;
  method: string;
  /** Monotonic milliseconds when the request arrived. */
  started: number;
}

export interface RecorderDeps {
  /** Monotonic milliseconds. */
  now: () => number;
  /** A new record id. */
  newId: () => string;
  /** Records held while the store refuses them; past this, no new attempt is admitted (default 10,000). */
  maxBacklog?: number;
  /** How long to wait before retrying the backlog after the store refused a record (default 1 s). */
  retryMs?: number;
  /** The journal records go through first (none: the store directly). */
  journal?: EgressJournal;
}

type Outcome = Pick<EgressRecord, 'decision' | 'rule' | 'bytesUp' | 'bytesDown' | 'error'>;

export class EgressRecorder {
  private readonly backlog: EgressRecord[] = [];
  private retrying: ReturnType<typeof setTimeout> | null = null;
  private draining: Promise<void> | null = null;
  private readonly maxBacklog: number;
  private readonly retryMs: number;
  /** Allowed connections whose end has not been reported yet, and who waits for there to be none. */
  private open = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly deps: RecorderDeps,
    /** A record not written where it should be (logged by the caller, no content; `what` says what happens to it). */
    private readonly onError: (err: Error, what: string) => void,
  ) {
    this.maxBacklog = deps.maxBacklog ?? 10_000;
    this.retryMs = deps.retryMs ?? 1_000;
  }

  /** Whether a new attempt may go out: the journal can take its record, or the backlog has room. */
  get accepting(): boolean {
    if (this.deps.journal && this.deps.journal.notReady() === null) return true;
    return this.backlog.length < this.maxBacklog;
  }

  /** Records waiting for the store. */
  get waiting(): number {
    return this.backlog.length;
  }

  /** Tries once more to write what waits (at close); resolves when the store took it all or refused again. */
  async flush(): Promise<void> {
    if (this.retrying) clearTimeout(this.retrying);
    this.retrying = null;
    await (this.draining ?? this.drain());
  }

  /** A denied attempt: its record is journaled (or on its way to the store) when this returns. */
  denied(a: Attempt, rule: string): void {
    this.write(
      this.record(this.deps.newId(), a, { decision: 'deny', rule, bytesUp: 0, bytesDown: 0, error: null }),
    );
  }

  /**
   * An allowed attempt about to go out: begun in the journal first (a crash stores it as
   * `proxy_interrupted`); returns what to call, once, when the connection is over.
   */
  allowed(a: Attempt, rule: string): (bytes: { up: number; down: number }, error: string | null) => void {
    const id = this.deps.newId();
    const journal = this.deps.journal;
    if (journal)
      try {
        journal.beginEgress(
          this.record(id, a, { decision: 'allow', rule, bytesUp: 0, bytesDown: 0, error: null }),
        );
      } catch (err) {
        // Its final record goes to the store directly (admission checked that the backlog has room).
        this.onError(asError(err), 'egress connection not journaled; its record goes to the store directly');
      }
    this.open++;
    let ended = false;
    return (bytes, error) => {
      if (ended) return;
      ended = true;
      this.write(
        this.record(id, a, { decision: 'allow', rule, bytesUp: bytes.up, bytesDown: bytes.down, error }),
      );
      if (--this.open === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
  }

  /**
   * Resolves, with how many are still open, once every allowed connection has reported its end or
   * after `ms` (at shutdown, after their sockets were destroyed: their records come a few ticks later).
   */
  async ended(ms: number): Promise<number> {
    if (this.open === 0) return 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
    return this.open;
  }

  private record(id: string, a: Attempt, outcome: Outcome): EgressRecord {
    const { started, ...base } = a;
    return { id, ...base, ...outcome, durationMs: this.deps.now() - started };
  }

  private write(record: EgressRecord): void {
    if (this.deps.journal)
      try {
        return this.deps.journal.endEgress(record);
      } catch (err) {
        this.onError(asError(err), 'egress record not journaled; writing it to the store directly');
      }
    // Behind what already waits, so records reach the store in order once it is back.
    if (this.backlog.length) return void this.backlog.push(record);
    // Inside a promise, so that a store that throws instead of rejecting is caught too.
    Promise.resolve()
      .then(() => this.store.insertEgress(record))
      .catch((err: unknown) => {
        this.refused(err);
        this.backlog.push(record);
        this.schedule();
      });
  }

  private refused(err: unknown): void {
    this.onError(asError(err), 'egress record not written');
  }

  private schedule(): void {
    if (this.retrying || this.draining) return;
    this.retrying = setTimeout(() => {
      this.retrying = null;
      void this.drain();
    }, this.retryMs);
    this.retrying.unref?.();
  }

  /** Writes the backlog in order until it is empty or the store refuses again (then retries later). */
  private drain(): Promise<void> {
    // The callback runs after the assignment, always (promise callbacks never run synchronously).
    this.draining = this.writeBacklog().then((done) => {
      this.draining = null;
      if (!done) this.schedule();
    });
    return this.draining;
  }

  private async writeBacklog(): Promise<boolean> {
    try {
      while (this.backlog.length) {
        await this.store.insertEgress(this.backlog[0]!);
        this.backlog.shift();
      }
      return true;
    } catch (err) {
      this.refused(err);
      return false;
    }
  }
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));
