/**
 * An Aho–Corasick automaton over the rules' keywords, compiled to a dense transition table over
 * character classes, so one pass over the original text (no lower-cased copy) reports every keyword
 * occurrence. Each reporting state carries the payload values of the keywords ending there.
 *
 * Case and digits are folded: an upper-case letter moves like its lower-case twin and every digit
 * moves like `0`, so `r8_` is looked for as `r0_` (a superset, never a miss) and the keyword `0000`
 * fires on every digit of a run of four or more. Characters that occur in no keyword (and every
 * non-ASCII character) share class 0, which always leads back to the root.
 */

const CODE_UNITS = 1 << 16;

/** One keyword and the values reported when it occurs. */
export interface KeywordEntry {
  keyword: string;
  values: number[];
}

/** A compiled automaton; the engine walks `table` inline for speed (see `walk` in scan.ts). */
export class KeywordAutomaton {
  /**
   * One array, so the walk touches a single typed array: `table[c]` (c < 65536) is the class of
   * code unit `c`; a state is an offset `s` into the rest, and `table[s + class]` is the next
   * state. The walk starts at `start`; exactly the states at or above `reportFrom` report values.
   */
  readonly table: Int32Array;
  readonly start: number;
  /** Classes per state. */
  readonly width: number;
  readonly reportFrom: number;
  /** A reporting state `s` reports `values[outStart[k]] .. values[outStart[k + 1] - 1]`, `k = (s - reportFrom) / width`. */
  readonly outStart: Int32Array;
  readonly values: Int32Array;

  constructor(entries: KeywordEntry[]) {
    const { classOf, width } = characterClasses(entries);

    // The trie, over classes.
    const children: Map<number, number>[] = [new Map()];
    const outputs: Set<number>[] = [new Set()];
    for (const { keyword, values } of entries) {
      let s = 0;
      for (let i = 0; i < keyword.length; i++) {
        const c = classOf[keyword.charCodeAt(i)] as number;
        let child = children[s]?.get(c);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          outputs.push(new Set());
          children[s]?.set(c, child);
        }
        s = child;
      }
      for (const v of values) outputs[s]?.add(v);
    }
    // Failure links, breadth first, folded into a complete transition function.
    const count = children.length;
    const delta = new Int32Array(count * width);
    const fail = new Int32Array(count);
    const queue: number[] = [];
    for (const [c, child] of children[0] ?? []) {
      delta[c] = child;
      queue.push(child);
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi] as number;
      for (const v of outputs[fail[s] as number] ?? []) outputs[s]?.add(v);
      for (let c = 0; c < width; c++) {
        const child = children[s]?.get(c);
        const viaFail = delta[(fail[s] as number) * width + c] as number;
        if (child === undefined) delta[s * width + c] = viaFail;
        else {
          fail[child] = viaFail;
          delta[s * width + c] = child;
          queue.push(child);
        }
      }
    }
    // Renumber: silent states first (the root stays 0), reporting states last.
    const reports = (s: number): boolean => (outputs[s]?.size ?? 0) > 0;
    const order = [...Array(count).keys()].sort((a, b) => Number(reports(a)) - Number(reports(b)) || a - b);
    const rank = new Int32Array(count);
    order.forEach((s, i) => (rank[s] = i));
    const table = new Int32Array(CODE_UNITS + count * width);
    table.set(classOf);
    for (let s = 0; s < count; s++) {
      for (let c = 0; c < width; c++) {
        table[CODE_UNITS + (rank[s] as number) * width + c] =
          CODE_UNITS + (rank[delta[s * width + c] as number] as number) * width;
      }
    }
    const firstReporting = order.findIndex(reports);
    const reporting = firstReporting < 0 ? [] : order.slice(firstReporting);
    const outStart = new Int32Array(reporting.length + 1);
    const flat: number[] = [];
    reporting.forEach((s, k) => {
      outStart[k] = flat.length;
      flat.push(...[...(outputs[s] ?? [])].sort((a, b) => a - b));
    });
    outStart[reporting.length] = flat.length;

    this.table = table;
    this.start = CODE_UNITS;
    this.width = width;
    this.reportFrom = CODE_UNITS + (firstReporting < 0 ? count : firstReporting) * width;
    this.outStart = outStart;
    this.values = Int32Array.from(flat);
  }

  /** Every `[end, value]` reported over `text` (`end` is the index of a keyword's last character); for tests. */
  occurrences(text: string): [number, number][] {
    const found: [number, number][] = [];
    const { table, reportFrom, outStart, values, width } = this;
    let s = this.start;
    for (let i = 0; i < text.length; i++) {
      s = table[s + (table[text.charCodeAt(i)] as number)] as number;
      if (s < reportFrom) continue;
      const k = (s - reportFrom) / width;
      for (let o = outStart[k] as number; o < (outStart[k + 1] as number); o++)
        found.push([i, values[o] as number]);
    }
    return found;
  }
}

/**
 * Character classes: each character a keyword uses (case-folded, digits as one) gets its own class;
 * every other character is class 0. `width` is the number of classes.
 */
function characterClasses(entries: KeywordEntry[]): { classOf: Uint8Array; width: number } {
  const fold = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c >= 48 && c <= 57 ? 48 : c);
  const classOf = new Uint8Array(CODE_UNITS);
  const classOfFolded = new Map<number, number>();
  for (const { keyword } of entries) {
    if (keyword.length === 0 || /[^\x20-\x7e]|[A-Z]/.test(keyword)) {
      throw new Error(`keyword must be printable lower-case ASCII: ${JSON.stringify(keyword)}`);
    }
    for (let i = 0; i < keyword.length; i++) {
      const f = fold(keyword.charCodeAt(i));
      if (!classOfFolded.has(f)) classOfFolded.set(f, classOfFolded.size + 1);
    }
  }
  for (let c = 0; c < 128; c++) classOf[c] = classOfFolded.get(fold(c)) ?? 0;
  const width = classOfFolded.size + 1;
  return { classOf, width };
}
