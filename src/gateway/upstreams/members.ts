/**
 * The top-level members of a JSON object as byte spans, found without parsing the values: strings
 * are skipped with a native byte search for their closing quote, and only the bytes between them
 * are looked at. A Claude Code body is nearly all string content, so moving `model`, `stream` or
 * `anthropic_version` between body, path and headers costs a fraction of JSON.parse and
 * JSON.stringify, and leaves every other byte as the client sent it.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** One member, `"key": value`, as bytes [start, end) of the body. */
export interface Member {
  key: string;
  start: number;
  end: number;
  /** Where its value starts. */
  value: number;
}

function fail(at: number): never {
  throw new SyntaxError(`not a JSON object (at byte ${at})`);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The index just past the string that opens at `i`. */
function stringEnd(b: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    j = b.indexOf(QUOTE, j);
    if (j < 0) fail(i);
    let k = j - 1;
    while (b[k] === BACKSLASH) k--;
    // An even run of backslashes before the quote escapes only itself.
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j++;
  }
}

/** The index just past the value that starts at `i`. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c !== 0x7b && c !== 0x5b) {
    let j = i;
    while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && !isSpace(b[j])) j++;
    if (j === i) fail(i);
    return j;
  }
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const ch = b[j];
    if (ch === QUOTE) j = stringEnd(b, j) - 1;
    else if (ch === 0x7b || ch === 0x5b) depth++;
    else if ((ch === 0x7d || ch === 0x5d) && --depth === 0) return j + 1;
  }
  return fail(i);
}

/** The top-level members of the JSON object `b`, in order. */
export function topLevelMembers(b: Buffer): Member[] {
  let i = skipSpace(b, 0);
  if (b[i] !== 0x7b) fail(i);
  i = skipSpace(b, i + 1);
  const out: Member[] = [];
  if (b[i] === 0x7d) return out;
  for (;;) {
    if (b[i] !== QUOTE) fail(i);
    const keyEnd = stringEnd(b, i);
    const key = JSON.parse(b.toString('utf8', i, keyEnd)) as string;
    const colon = skipSpace(b, keyEnd);
    if (b[colon] !== 0x3a) fail(colon);
    const value = skipSpace(b, colon + 1);
    const end = valueEnd(b, value);
    out.push({ key, start: i, end, value });
    i = skipSpace(b, end);
    if (b[i] === 0x7d) return out;
    if (b[i] !== 0x2c) fail(i);
    i = skipSpace(b, i + 1);
  }
}

/** The value of a member, parsed (only short members are: `model`, `anthropic_beta`, ...). */
export function memberValue(b: Buffer, m: Member): unknown {
  return JSON.parse(b.toString('utf8', m.value, m.end));
}

/**
 * The object `b` with the members named in `drop` left out and `first` written before the rest
 * (values JSON-encoded); the kept members' bytes are copied as they are.
 */
export function rewriteMembers(
  b: Buffer,
  members: readonly Member[],
  drop: ReadonlySet<string>,
  first: Record<string, unknown>,
): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(first))
    if (value !== undefined) parts.push(Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(value)}`));
  for (const m of members) if (!drop.has(m.key)) parts.push(b.subarray(m.start, m.end));
  const out: Buffer[] = [Buffer.from('{')];
  parts.forEach((p, i) => out.push(...(i ? [Buffer.from(','), p] : [p])));
  out.push(Buffer.from('}'));
  return Buffer.concat(out);
}
