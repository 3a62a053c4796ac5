/**
 * Restore: placeholders the model writes back are turned into the real values on the way to the
 * client, in text and in `tool_use` inputs, so an edit that rewrites a config file keeps its real
 * key while the model never saw it. Streamed deltas may split a placeholder anywhere, so each
 * content block holds back the shortest tail that could still become one, and releases it with the
 * next delta or before the block's `content_block_stop`. Events with nothing to restore pass
 * through byte for byte.
 */
import { StringDecoder } from 'node:string_decoder';
import type { PlaceholderVault } from '../guard/redact.js';

const MARK = '[REDACTED:';
/** A tail that may still grow into a placeholder: `[`, `[RED`, `[REDACTED:aws-key:1`, ... */
const PARTIAL = /^\[REDACTED:[a-z0-9-]{0,64}(?::\d{0,9})?$/;

/** Splits `text` into what can be emitted now and a tail that could be the start of a placeholder. */
export function holdBack(text: string): [string, string] {
  const at = text.lastIndexOf('[');
  if (at < 0 || text.length - at > MARK.length + 76) return [text, ''];
  const tail = text.slice(at);
  if (tail.length <= MARK.length ? MARK.startsWith(tail) : PARTIAL.test(tail))
    return [text.slice(0, at), tail];
  return [text, ''];
}

const jsonEscape = (v: string) => JSON.stringify(v).slice(1, -1);

interface Delta {
  type: string;
  /** Strings in the API's events; anything in a stream that does not follow it. */
  text?: unknown;
  partial_json?: unknown;
}

/** The longest event the restorer holds while waiting for its end; past it the stream passes as it comes. */
export const MAX_EVENT_CHARS = 1024 * 1024;

/**
 * Rewrites a server-sent event stream, restoring placeholders in text and input_json deltas. It
 * holds at most one unfinished event of MAX_EVENT_CHARS; a stream without event boundaries is
 * passed on unrestored from there (what was held back is released first).
 */
export class SseRestorer {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Gave up restoring: an event outgrew MAX_EVENT_CHARS. */
  private passing = false;
  /** Held-back tails per content block index, with the delta type they belong to. */
  private readonly held = new Map<number, { type: string; tail: string }>();
  /** How many placeholders were restored. */
  restored = 0;

  constructor(private readonly vault: PlaceholderVault) {}

  push(chunk: Buffer): string {
    if (this.passing) return this.decoder.write(chunk);
    this.pending += this.decoder.write(chunk);
    let out = '';
    for (;;) {
      const end = this.pending.indexOf('\n\n');
      if (end < 0) break;
      const event = this.pending.slice(0, end + 2);
      this.pending = this.pending.slice(end + 2);
      out += this.event(event);
    }
    if (this.pending.length > MAX_EVENT_CHARS) out += this.giveUp();
    return out;
  }

  /** Releases what is held back, then everything from here on as it comes. */
  private giveUp(): string {
    this.passing = true;
    let out = '';
    for (const [index, { type, tail }] of this.held) out += this.delta(index, type, tail);
    this.held.clear();
    out += this.pending;
    this.pending = '';
    return out;
  }

  /** What is left at the end of the stream (an unterminated event, as it came). */
  end(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest;
  }

  private event(raw: string): string {
    const dataAt = raw.indexOf('data: ');
    if (dataAt < 0) return raw;
    const lineEnd = raw.indexOf('\n', dataAt);
    let data: { type?: string; index?: number; delta?: Delta } | null;
    try {
      data = JSON.parse(raw.slice(dataAt + 6, lineEnd)) as typeof data;
    } catch {
      return raw;
    }
    // What is not an event object (`null`, a number) is not ours to read: it passes as it came.
    if (!data || typeof data !== 'object') return raw;
    const index = data.index ?? 0;
    if (data.type === 'content_block_stop') return this.release(index) + raw;
    if (data.type !== 'content_block_delta' || !data.delta) return raw;
    const type = data.delta.type;
    if (type !== 'text_delta' && type !== 'input_json_delta') return raw;
    // A tail belongs to its own delta type: released as such, never joined to another type's text.
    const released = this.held.get(index)?.type === type ? '' : this.release(index);
    return released + this.restoreDelta(raw, index, type, data.delta);
  }

  /** The held-back tail of block `index` as a delta event of its own type ('' when none). */
  private release(index: number): string {
    const held = this.held.get(index);
    this.held.delete(index);
    return held ? this.delta(index, held.type, held.tail) : '';
  }

  /** A delta event with placeholders restored, holding back a tail that may still become one. */
  private restoreDelta(raw: string, index: number, type: string, delta: Delta): string {
    const piece = (type === 'text_delta' ? delta.text : delta.partial_json) ?? '';
    if (typeof piece !== 'string') return raw;
    const before = this.held.get(index)?.tail ?? '';
    if (!before && !piece.includes('[')) return raw;
    const [now, tail] = holdBack(before + piece);
    if (tail) this.held.set(index, { type, tail });
    else this.held.delete(index);
    const restored = this.restore(now, type);
    if (restored === piece && !before && !tail) return raw;
    return restored ? this.delta(index, type, restored, true) : '';
  }

  private restore(text: string, type: string): string {
    if (!text.includes(MARK)) return text;
    return this.vault.restore(text, (v) => {
      this.restored++;
      return type === 'input_json_delta' ? jsonEscape(v) : v;
    });
  }

  private delta(index: number, type: string, text: string, restored = false): string {
    const value = restored ? text : this.restore(text, type);
    const delta = type === 'text_delta' ? { type, text: value } : { type, partial_json: value };
    return `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index, delta })}\n\n`;
  }
}

/** Restores placeholders in a non-streamed Messages response body; returns the body unchanged otherwise. */
export function restoreMessage(body: string, vault: PlaceholderVault): { body: string; restored: number } {
  if (!body.includes(MARK)) return { body, restored: 0 };
  let message: { content?: unknown };
  try {
    message = JSON.parse(body) as typeof message;
  } catch {
    return { body, restored: 0 };
  }
  let restored = 0;
  const text = (value: string): string =>
    value.includes(MARK)
      ? vault.restore(value, (v) => {
          restored++;
          return v;
        })
      : value;
  // Keys too: the guard redacts keys (of a tool's input, say), so the model may write them back.
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), walk(v)]));
    return value;
  };
  try {
    if (Array.isArray(message.content))
      for (const block of message.content as Record<string, unknown>[]) {
        if (block?.type === 'text') block.text = walk(block.text);
        if (block?.type === 'tool_use') block.input = walk(block.input);
      }
    return restored ? { body: JSON.stringify(message), restored } : { body, restored: 0 };
  } catch (err) {
    // Nested deeper than the stack can walk or serialize (JSON.parse has no such limit): the
    // answer goes on as it came, placeholders and all, rather than failing.
    if (err instanceof RangeError) return { body, restored: 0 };
    throw err;
  }
}
