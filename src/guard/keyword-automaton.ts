/**
 * An Aho–Corasick automaton over the rules' keywords, compiled to a dense ASCII transition table
 * with ASCII case folded in, so one pass over the original text (no lower-cased copy) reports every
 * keyword occurrence. Each state carries the payload values (rule indexes) of the keywords ending there.
 *
 * Digits are folded too: every digit moves like `0`, so `r8_` is looked for as `r0_` (a superset,
 * never a miss) and the keyword `0000` fires on every digit of a run of four or more.
 */

const ALPHABET = 128;

/** One keyword and the values reported when it occurs. */
export interface KeywordEntry {
  keyword: string;
  values: number[];
}

/** A compiled automaton; the engine walks `delta` inline for speed. */
export class KeywordAutomaton {
  /**
   * `delta[row + charCode]` is the next row (state × 128) with bit 0 set when that state reports
   * values (`row = entry & -128`). Non-ASCII characters go back to row 0.
   */
  readonly delta: Int32Array;
  /** Values reported in `state` (= row / 128) are `values[outStart[state]] .. values[outStart[state + 1] - 1]`. */
  readonly outStart: Int32Array;
  readonly values: Int32Array;

  constructor(entries: KeywordEntry[]) {
    const children: Map<number, number>[] = [new Map()];
    const outputs: Set<number>[] = [new Set()];
    for (const { keyword, values } of entries) {
      if (keyword.length === 0 || /[^\x20-\x7e]|[A-Z]/.test(keyword)) {
        throw new Error(`keyword must be printable lower-case ASCII: ${JSON.stringify(keyword)}`);
      }
      let s = 0;
      for (let i = 0; i < keyword.length; i++) {
        const raw = keyword.charCodeAt(i);
        const c = raw >= 48 && raw <= 57 ? 48 : raw;
        let next = children[s]?.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          outputs.push(new Set());
          children[s]?.set(c, next);
        }
        s = next;
      }
      for (const v of values) outputs[s]?.add(v);
    }
    const count = children.length;
    const delta = new Int32Array(count * ALPHABET);
    const fail = new Int32Array(count);
    const queue: number[] = [];
    for (let c = 0; c < ALPHABET; c++) {
      const next = children[0]?.get(c);
      if (next !== undefined) {
        delta[c] = next;
        queue.push(next);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi] as number;
      for (const v of outputs[fail[s] as number] ?? []) outputs[s]?.add(v);
      for (let c = 0; c < ALPHABET; c++) {
        const next = children[s]?.get(c);
        if (next !== undefined) {
          fail[next] = delta[(fail[s] as number) * ALPHABET + c] as number;
          delta[s * ALPHABET + c] = next;
          queue.push(next);
        } else {
          delta[s * ALPHABET + c] = delta[(fail[s] as number) * ALPHABET + c] as number;
        }
      }
    }
    // Fold case (an upper-case letter moves like its lower-case twin) and digits (all move like 0).
    for (let s = 0; s < count; s++) {
      for (let c = 65; c <= 90; c++) delta[s * ALPHABET + c] = delta[s * ALPHABET + c + 32] as number;
      for (let c = 49; c <= 57; c++) delta[s * ALPHABET + c] = delta[s * ALPHABET + 48] as number;
    }
    for (let i = 0; i < delta.length; i++) {
      const next = delta[i] as number;
      delta[i] = next * ALPHABET + ((outputs[next]?.size ?? 0) > 0 ? 1 : 0);
    }
    this.delta = delta;
    this.outStart = new Int32Array(count + 1);
    const flat: number[] = [];
    for (let s = 0; s < count; s++) {
      this.outStart[s] = flat.length;
      flat.push(...[...(outputs[s] ?? [])].sort((a, b) => a - b));
    }
    this.outStart[count] = flat.length;
    this.values = Int32Array.from(flat);
  }
}
