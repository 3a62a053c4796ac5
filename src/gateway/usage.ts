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

/** The longest SSE line kept while looking for usage; longer (content) lines are skipped, not buffered. */
export const MAX_LINE = 64 * 1024;

/** Incremental SSE reader: feed it chunks; it keeps only the current line and the usage so far. */
export class SseUsageReader {
  readonly usage = emptyUsage();
  /** Text of an `event: error` payload, if the stream carried one. */
  errorType: string | null = null;
  private line = '';
  private skipping = false;
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.take(text.slice(start, nl));
      this.endLine();
      start = nl + 1;
    }
    this.take(text.slice(start));
  }

  private take(part: string): void {
    if (this.skipping) return;
    if (this.line.length + part.length > MAX_LINE) {
      this.skipping = true;
      this.line = '';
      return;
    }
    this.line += part;
  }

  private endLine(): void {
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    this.skipping = false;
    // Only events that carry usage or errors are parsed; deltas are passed over cheaply.
    if (!line.startsWith('data:')) return;
    if (!line.includes('"message_start"') && !line.includes('"message_delta"') && !line.includes('"error"'))
      return;
    try {
      const event = JSON.parse(line.slice(5)) as {
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
