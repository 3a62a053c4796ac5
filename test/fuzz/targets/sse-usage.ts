/**
 * Fuzz target: the usage reader of streamed answers (`SseUsageReader`). An input is the bytes of a
 * stream, read as it comes and again after a line just short of the reader's line cap (by the
 * input's first byte), so lines at and over the cap occur. Properties:
 * - it never throws, and never holds more than its line cap;
 * - whatever the chunking, it finds what a plain line-by-line reading of the whole stream finds:
 *   usage from `message_start` and `message_delta` events and the type of an `error` event, in
 *   lines of at most the cap (in bytes) that name their event type as written (the reader's cheap
 *   filter).
 */
import { applyUsage, emptyUsage, MAX_LINE, SseUsageReader } from '../../../src/gateway/usage.js';
import { chunkings } from '../chunkings.js';

export function fuzz(data: Buffer): void {
  check(Buffer.alloc(0), data);
  check(Buffer.from(`data: ${'x'.repeat(MAX_LINE - 6 - (data[0] ?? 0))}`), data);
}

/** Reads `prefix` (one chunk) then `data`, cut every way `chunkings` knows. */
function check(prefix: Buffer, data: Buffer): void {
  const want = reference(Buffer.concat([prefix, data]));
  for (const chunks of [[data], ...chunkings(data)]) {
    const reader = new SseUsageReader();
    for (const chunk of [prefix, ...chunks]) {
      reader.push(chunk);
      if (!(reader.held <= MAX_LINE)) throw new Error(`the reader holds ${reader.held} bytes of a line`);
    }
    const got = JSON.stringify([reader.usage, reader.errorType]);
    if (got !== want) throw new Error(`in ${chunks.length} chunks: ${got}; read whole: ${want}`);
  }
}

const TYPES = ['"message_start"', '"message_delta"', '"error"'];

function reference(stream: Buffer): string {
  const usage = emptyUsage();
  let errorType: unknown = null;
  // A UTF-8 decoder drops a byte order mark at the stream's start; lines are split on the newline
  // byte (never part of a multi-byte character) and capped in bytes.
  const body = stream.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? stream.subarray(3) : stream;
  const lines: Buffer[] = [];
  for (let from = 0, nl = body.indexOf(10); nl !== -1; from = nl + 1, nl = body.indexOf(10, from))
    lines.push(body.subarray(from, nl)); // a last line not ended by a newline is never complete
  for (const bytes of lines) {
    if (bytes.length > MAX_LINE) continue;
    const whole = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const line = whole.endsWith('\r') ? whole.slice(0, -1) : whole;
    if (!line.startsWith('data:') || !TYPES.some((t) => line.includes(t))) continue;
    let event: { type?: unknown; message?: { usage?: never }; usage?: never; error?: { type?: unknown } };
    try {
      event = JSON.parse(line.slice(5)) as typeof event;
    } catch {
      continue;
    }
    if (event?.type === 'message_start') applyUsage(usage, event.message?.usage);
    else if (event?.type === 'message_delta') applyUsage(usage, event.usage);
    else if (event?.type === 'error') errorType = event.error?.type ?? 'error';
  }
  return JSON.stringify([usage, errorType]);
}
