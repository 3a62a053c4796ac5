/**
 * Egress records: one per attempt of a known key's user, allowed or denied, written to the store.
 * A record the store refuses waits in a bounded backlog and is retried (inserts are idempotent by
 * id) until the store takes it; while the backlog is full, the proxy lets nothing new out
 * (`accepting` is false), so nothing leaves unrecorded. A process killed outright loses the
 * backlog it held: the store was refusing records at that moment, and the proxy log says so.
 */
import type { EgressRecord, Store } from '../store/types.js';

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
}

export class EgressRecorder {
  private readonly backlog: EgressRecord[] = [];
  private retrying: ReturnType<typeof setTimeout> | null = null;
  private draining: Promise<void> | null = null;
  private readonly maxBacklog: number;
  private readonly retryMs: number;

  constructor(
    private readonly store: Store,
    private readonly deps: RecorderDeps,
    /** The store refused a record (logged by the caller, no content; the record is kept and retried). */
    private readonly onError: (err: Error) => void,
  ) {
    this.maxBacklog = deps.maxBacklog ?? 10_000;
    this.retryMs = deps.retryMs ?? 1_000;
  }

  /** Whether a new attempt may go out: false while the records the store refused fill the backlog. */
  get accepting(): boolean {
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

  denied(a: Attempt, rule: string): void {
    this.write(a, { decision: 'deny', rule, bytesUp: 0, bytesDown: 0, error: null });
  }

  allowed(a: Attempt, rule: string, bytes: { up: number; down: number }, error: string | null): void {
    this.write(a, { decision: 'allow', rule, bytesUp: bytes.up, bytesDown: bytes.down, error });
  }

  private write(
    a: Attempt,
    outcome: Pick<EgressRecord, 'decision' | 'rule' | 'bytesUp' | 'bytesDown' | 'error'>,
  ): void {
    const { started, ...base } = a;
    const record: EgressRecord = {
      id: this.deps.newId(),
      ...base,
      ...outcome,
      durationMs: this.deps.now() - started,
    };
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
    this.onError(err instanceof Error ? err : new Error(String(err)));
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
