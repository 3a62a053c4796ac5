/** JSON string values inside one JSONL line, located exactly, so a line can be inspected and rewritten in place. */
import type { Detection } from '../guard/types.js';
import type { Inspector } from './types.js';

export interface StringValue {
  /** Offsets of the quoted token in the line, quotes included. */
  start: number;
  end: number;
  /** The decoded string. */
  value: string;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The string values (not object keys) of a line that is valid JSON, in order. */
export function* stringValues(line: string): Generator<StringValue> {
  let i = line.indexOf('"');
  while (i !== -1) {
    let j = i + 1;
    while (j < line.length) {
      const c = line.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) break;
      else j++;
    }
    const end = j + 1;
    let k = end;
    while (k < line.length && isSpace(line.charCodeAt(k))) k++;
    if (line.charCodeAt(k) !== 0x3a) yield { start: i, end, value: JSON.parse(line.slice(i, end)) as string };
    i = line.indexOf('"', end);
  }
}

export function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** Detections in a line: in each decoded string value when the line is JSON, else in the raw text. */
export function scanLine(
  line: string,
  inspector: Inspector,
  kinds?: ('secret' | 'pii')[],
): { detections: Detection[]; json: boolean } {
  const options = kinds ? { kinds } : undefined;
  if (!line.trim()) return { detections: [], json: true };
  if (!isJson(line)) return { detections: inspector.scan(line, options), json: false };
  const detections: Detection[] = [];
  for (const s of stringValues(line)) detections.push(...inspector.scan(s.value, options));
  return { detections, json: true };
}

/** The placeholder written over a secret at rest; it names the rule and matches no detector. */
export function placeholder(rule: string): string {
  return `[REDACTED:${rule}]`;
}

/**
 * `line` with the secrets inside its JSON string values replaced by placeholders. Everything outside the
 * changed strings stays byte-identical. Returns null for a line that is not JSON (left as is).
 */
export function redactLine(
  line: string,
  inspector: Inspector,
): { text: string; counts: Record<string, number> } | null {
  if (!line.trim()) return { text: line, counts: {} };
  if (!isJson(line)) return null;
  const counts: Record<string, number> = {};
  let out = '';
  let at = 0;
  for (const s of stringValues(line)) {
    const found = inspector.scan(s.value, { kinds: ['secret'] }).sort((a, b) => a.start - b.start);
    if (!found.length) continue;
    let value = '';
    let cursor = 0;
    for (const d of found) {
      if (d.start < cursor) continue;
      value += s.value.slice(cursor, d.start) + placeholder(d.rule);
      cursor = d.end;
      counts[d.rule] = (counts[d.rule] ?? 0) + 1;
    }
    value += s.value.slice(cursor);
    out += line.slice(at, s.start) + JSON.stringify(value);
    at = s.end;
  }
  return { text: out + line.slice(at), counts };
}
