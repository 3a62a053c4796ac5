/**
 * The longest string a regular expression can match, read from its source. Infinity means an
 * unbounded quantifier (`*`, `+`, `{n,}`): the rules test refuses those, and the engine sizes the
 * window it scans around a keyword hit from the finite bound.
 */

interface Cursor {
  src: string;
  pos: number;
  groups: number[];
  unicode: boolean;
}

/** Maximum match length of `pattern` in UTF-16 code units (lookarounds count as zero). */
export function maxMatchLength(pattern: RegExp): number {
  const cur: Cursor = {
    src: pattern.source,
    pos: 0,
    groups: [],
    unicode: pattern.unicode || pattern.flags.includes('v'),
  };
  const len = alternation(cur);
  if (cur.pos < cur.src.length) throw new Error(`unexpected ')' at ${cur.pos} in /${cur.src}/`);
  return len;
}

function alternation(cur: Cursor): number {
  let best = sequence(cur);
  while (cur.src[cur.pos] === '|') {
    cur.pos++;
    best = Math.max(best, sequence(cur));
  }
  return best;
}

function sequence(cur: Cursor): number {
  let total = 0;
  while (cur.pos < cur.src.length && cur.src[cur.pos] !== '|' && cur.src[cur.pos] !== ')') {
    const atomLen = atom(cur);
    total += atomLen * quantifier(cur);
  }
  return total;
}

/** Reads an optional quantifier and returns its upper bound (1 when there is none). */
function quantifier(cur: Cursor): number {
  const c = cur.src[cur.pos];
  let max = 1;
  if (c === '*' || c === '+') {
    cur.pos++;
    max = Infinity;
  } else if (c === '?') {
    cur.pos++;
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(cur.src.slice(cur.pos));
    if (!m) return 1;
    cur.pos += m[0].length;
    max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
  } else {
    return 1;
  }
  if (cur.src[cur.pos] === '?') cur.pos++;
  return max;
}

function atom(cur: Cursor): number {
  const c = cur.src[cur.pos];
  if (c === '(') return group(cur);
  if (c === '[') {
    cur.pos++;
    if (cur.src[cur.pos] === '^') cur.pos++;
    while (cur.pos < cur.src.length && cur.src[cur.pos] !== ']') cur.pos += cur.src[cur.pos] === '\\' ? 2 : 1;
    cur.pos++;
    return 1;
  }
  if (c === '\\') return escape(cur);
  cur.pos++;
  if (c === '^' || c === '$') return 0;
  const code = c === undefined ? 0 : c.charCodeAt(0);
  // A surrogate pair is one "character" in unicode mode, two code units either way.
  if (code >= 0xd800 && code <= 0xdbff) {
    cur.pos++;
    return 2;
  }
  return 1;
}

function group(cur: Cursor): number {
  const rest = cur.src.slice(cur.pos, cur.pos + 4);
  let lookaround = false;
  let capture = true;
  if (rest.startsWith('(?:')) {
    cur.pos += 3;
    capture = false;
  } else if (/^\(\?<?[=!]/.test(rest)) {
    cur.pos += rest[2] === '<' ? 4 : 3;
    lookaround = true;
    capture = false;
  } else if (rest.startsWith('(?<')) {
    cur.pos = cur.src.indexOf('>', cur.pos) + 1;
  } else {
    cur.pos++;
  }
  const index = cur.groups.length;
  if (capture) cur.groups.push(Infinity);
  const len = alternation(cur);
  if (cur.src[cur.pos] !== ')') throw new Error(`unterminated group in /${cur.src}/`);
  cur.pos++;
  if (capture) cur.groups[index] = len;
  return lookaround ? 0 : len;
}

function escape(cur: Cursor): number {
  const next = cur.src[cur.pos + 1] ?? '';
  cur.pos += 2;
  if (next === 'b' || next === 'B') return 0;
  if (/[1-9]/.test(next)) {
    let digits = next;
    while (/\d/.test(cur.src[cur.pos] ?? '')) digits += cur.src[cur.pos++];
    return cur.groups[Number(digits) - 1] ?? Infinity;
  }
  if (next === 'k') {
    cur.pos = cur.src.indexOf('>', cur.pos) + 1;
    return Infinity;
  }
  if (next === 'x') cur.pos += 2;
  else if (next === 'c') cur.pos += 1;
  else if (next === 'u') {
    if (cur.src[cur.pos] === '{') cur.pos = cur.src.indexOf('}', cur.pos) + 1;
    else cur.pos += 4;
    return 2;
  } else if (next === 'p' || next === 'P') {
    if (cur.src[cur.pos] === '{') cur.pos = cur.src.indexOf('}', cur.pos) + 1;
    return cur.unicode ? 2 : 1;
  }
  return 1;
}
