/** Reads token usage from a Messages response as its bytes pass, without holding the stream. */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export const emptyUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
});

type RawUsage = Partial<Record<string, number | null>>;

/** Applies an API `usage` object; later values replace earlier ones (message_delta is cumulative). */
export function applyUsage(into: Usage, raw: RawUsage | undefined): void {
  if (!raw) return;
  if (typeof raw.input_tokens === 'number') into.inputTokens = raw.input_tokens;
  if (typeof raw.output_tokens === 'number') into.outputTokens = raw.output_tokens;
  if (typeof raw.cache_creation_input_tokens === 'number')
    into.cacheCreationInputTokens = raw.cache_creation_input_tokens;
  if (typeof raw.cache_read_input_tokens === 'number')
    into.cacheReadInputTokens = raw.cache_read_input_tokens;
}

/** The longest SSE line kept (bytes) while looking for usage; longer (content) lines are skipped, not buffered. */
export const MAX_LINE = 64 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;
const DATA = Buffer.from('data:');
/** The event types whose lines are parsed; any other line is passed over without decoding it. */
const MARKERS = ['"message_start"', '"message_delta"', '"error"'].map((m) => Buffer.from(m));
/** A byte order mark, which a UTF-8 decoder drops from the start of a stream. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Incremental SSE reader: feed it chunks; it keeps only the current line and the usage so far.
 * It works on the bytes: a line is decoded only when it is a `data:` line that names one of the
 * few event types it reads, so a long answer's deltas cost a byte search each.
 */
export class SseUsageReader {
  readonly usage = emptyUsage();
  /** Text of an `event: error` payload, if the stream carried one. */
  errorType: string | null = null;
  /** Bytes of the current line held so far (at most MAX_LINE). */
  held = 0;
  /** The current line's bytes from earlier chunks (copies: a chunk is not kept). */
  private parts: Buffer[] = [];
  private skipping = false;
  /** The stream's first bytes while they may still be a byte order mark; null once known. */
  private start: Buffer | null = Buffer.alloc(0);

  push(chunk: Uint8Array): void {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.start) {
      // Usually the first chunk holds the first bytes whole: no copy.
      const begun = this.start.length ? Buffer.concat([this.start, buf]) : buf;
      if (begun.length < BOM.length && BOM.subarray(0, begun.length).equals(begun)) {
        this.start = begun;
        return;
      }
      this.start = null;
      buf = begun.subarray(0, BOM.length).equals(BOM) ? begun.subarray(BOM.length) : begun;
    }
    let from = 0;
    // Where each marker next occurs in this chunk (Infinity: nowhere after), found with one search
    // and reused by the lines before it.
    const next = [-1, -1, -1];
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, from)) {
      if (this.parts.length || this.skipping) this.endLine(this.line(buf, from, nl));
      else if (nl - from <= MAX_LINE) this.inChunk(buf, from, nl, next);
      from = nl + 1;
    }
    // A chunk that ends a line (as an SSE event's chunk does) leaves nothing to hold.
    if (from === buf.length) return;
    const rest = this.line(buf, from, buf.length);
    if (rest) this.parts = [Buffer.from(rest)];
  }

  /**
   * A whole line `buf[from, to)`: parsed when it is a `data:` line naming an event type read here
   * (only events that carry usage or errors; deltas are passed over cheaply). `next` holds where
   * each marker next occurs in `buf`, shared by the lines of one chunk.
   */
  private inChunk(buf: Buffer, from: number, to: number, next: number[]): void {
    const end = to > from && buf[to - 1] === CR ? to - 1 : to;
    if (end - from < DATA.length) return;
    for (let i = 0; i < DATA.length; i++) if (buf[from + i] !== DATA[i]) return;
    let named = false;
    for (let k = 0; k < MARKERS.length && !named; k++) {
      const m = MARKERS[k] as Buffer;
      if ((next[k] as number) < from) {
        const at = buf.indexOf(m, from);
        next[k] = at < 0 ? Infinity : at;
      }
      named = (next[k] as number) + m.length <= end;
    }
    if (named) this.parse(buf.toString('utf8', from + DATA.length, end));
  }

  /** The current line with `buf[from, to)` added, or null while it is skipped (past MAX_LINE). */
  private line(buf: Buffer, from: number, to: number): Buffer | null {
    if (this.skipping) return null;
    if (this.held + to - from > MAX_LINE) {
      this.skipping = true;
      this.parts = [];
      this.held = 0;
      return null;
    }
    this.held += to - from;
    const piece = buf.subarray(from, to);
    return this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
  }

  /** A line that spanned chunks, joined (null: skipped): read as a line within one chunk is. */
  private endLine(whole: Buffer | null): void {
    this.parts = [];
    this.held = 0;
    this.skipping = false;
    if (whole) this.inChunk(whole, 0, whole.length, [-1, -1, -1]);
  }

  /** A `data:` payload that names an event type read here. */
  private parse(data: string): void {
    try {
      const event = JSON.parse(data) as {
        type?: string;
        message?: { usage?: RawUsage };
        usage?: RawUsage;
        error?: { type?: string };
      };
      if (event.type === 'message_start') applyUsage(this.usage, event.message?.usage);
      else if (event.type === 'message_delta') applyUsage(this.usage, event.usage);
      else if (event.type === 'error') this.errorType = event.error?.type ?? 'error';
    } catch {
      // Not JSON we understand: the bytes still pass through untouched.
    }
  }
}
