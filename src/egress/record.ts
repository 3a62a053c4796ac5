/** Egress records: one per attempt of a known key's user, allowed or denied, written to the store. */
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
}

export class EgressRecorder {
  constructor(
    private readonly store: Store,
    private readonly deps: RecorderDeps,
    /** A record that could not be written (logged by the caller; the attempt itself is over). */
    private readonly onError: (err: Error) => void,
  ) {}

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
    // Inside a promise, so that a store (or id source) that throws instead of rejecting is caught too.
    Promise.resolve()
      .then(() =>
        this.store.insertEgress({
          id: this.deps.newId(),
          ...base,
          ...outcome,
          durationMs: this.deps.now() - started,
        }),
      )
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))));
  }
}
