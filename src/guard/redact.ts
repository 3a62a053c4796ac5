/**
 * Replaces detected values with stable placeholders `[REDACTED:<rule-id>:<n>]` and puts them back.
 * One vault per conversation: the same value always gets the same placeholder, numbered per rule
 * in first-seen order, so a model can still tell two different secrets apart.
 */
import type { Detection } from './types.js';

const PLACEHOLDER = /\[REDACTED:([a-z0-9-]{1,64}):(\d{1,9})\]/g;

/** The value ↔ placeholder map of one conversation. */
export class PlaceholderVault {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  /** The placeholder for `value`, allocating the next number for `rule` on first sight. */
  placeholder(rule: string, value: string): string {
    const known = this.byValue.get(value);
    if (known) return known;
    const n = (this.counters.get(rule) ?? 0) + 1;
    this.counters.set(rule, n);
    const placeholder = `[REDACTED:${rule}:${n}]`;
    this.byValue.set(value, placeholder);
    this.byPlaceholder.set(placeholder, value);
    return placeholder;
  }

  /**
   * `text` with every placeholder this vault issued replaced by its value (passed through `encode`,
   * for example to escape it inside a JSON string); unknown ones stay.
   */
  restore(text: string, encode: (value: string) => string = (v) => v): string {
    return text.replace(PLACEHOLDER, (p) => {
      const value = this.byPlaceholder.get(p);
      return value === undefined ? p : encode(value);
    });
  }

  /** How many distinct values the vault holds. */
  get size(): number {
    return this.byValue.size;
  }
}

/** `text` with each detection's value replaced by its placeholder (detections sorted, non-overlapping, as `scan` returns them). */
export function redact(text: string, detections: readonly Detection[], vault: PlaceholderVault): string {
  let out = '';
  let at = 0;
  for (const d of detections) {
    if (d.start < at) continue;
    out += text.slice(at, d.start) + vault.placeholder(d.rule, d.value);
    at = d.end;
  }
  return out + text.slice(at);
}
