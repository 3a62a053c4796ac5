/**
 * The scanning engine. One pass of a keyword automaton (in WebAssembly for texts of a kilobyte or
 * more, see keyword-walk-wasm.ts; in JS below that, or where WebAssembly SIMD is missing) finds
 * where each rule could match: a keyword hit whose neighbours fit the rule's `keywordContext` makes
 * the positions just before it candidate match starts. Each rule then tries its sticky regex only at
 * those candidates, on the original text (no copies), finding exactly what its regex would find
 * over the whole text; cost grows with the text and the hits, not with the number of rules.
 * Candidates pass the rule's entropy floor and validator and the shared allowlist; overlaps keep the
 * most specific.
 */
import { isAllowlisted } from './allowlist.js';
import { shannonEntropy } from './entropy.js';
import { KeywordAutomaton } from './keyword-automaton.js';
import { wasmWalker, type WasmWalker } from './keyword-walk-wasm.js';
import { maxMatchLength } from './regex-bounds.js';
import { detectionRules } from './rules/index.js';
import type { Detection, DetectionKind, DetectionRule } from './types.js';

export interface ScanOptions {
  /** Only rules of these kinds (default: all). */
  kinds?: DetectionKind[];
  /** The rule catalog (default: every built-in rule); compiled once per array, so pass the same array each time. */
  rules?: DetectionRule[];
  /** Rule ids to skip. */
  disabledRules?: string[];
  /** Give up with `GuardTimeoutError` once `clock()` passes this instant (checked between chunks and rules). */
  deadline?: number;
  /** Milliseconds clock for `deadline` (default `Date.now`). */
  clock?: () => number;
  /** `false` runs every rule over the whole text: the reference the pre-filter is tested against. */
  prefilter?: boolean;
  /** `false` walks the keywords in JS even where the WebAssembly walk would run (for tests and benchmarks). */
  wasm?: boolean;
}

/** Thrown when a scan exceeds its time budget; the gateway refuses the request rather than pass it unscanned. */
export class GuardTimeoutError extends Error {
  readonly code = 'guard_timeout';
  constructor(readonly scannedChars: number) {
    super(`content inspection exceeded its time budget after ${scannedChars} characters`);
    this.name = 'GuardTimeoutError';
  }
}

/** Characters the keyword pass handles between deadline checks. */
const CHUNK = 1 << 20;
/**
 * Texts at least this long take the WebAssembly walk; below it the JS walk is faster (copying the
 * text into the module and calling it cost about a microsecond).
 */
const WASM_FROM = 1024;

interface CompiledRule {
  rule: DetectionRule;
  /** The pattern with `g`, run over the whole text when the pre-filter is off (the reference). */
  global: RegExp;
  /**
   * Sticky, tried at a candidate start `s` on the original text: `[^]{0,within}?(pattern)` finds the
   * leftmost match starting in `[s, s + within]`, or the bare pattern when `within` is 0.
   */
  sticky: RegExp;
  /** Group of `sticky` holding the whole match and the one holding the value. */
  matchGroup: number;
  valueGroup: number;
  /** Every match starts at most this many characters before one of its keyword occurrences. */
  within: number;
}

interface Catalog {
  rules: CompiledRule[];
  automaton: KeywordAutomaton;
  /** The automaton's WebAssembly walk: built on first use, `null` where WebAssembly SIMD is missing. */
  wasm: WasmWalker | null | undefined;
  /** The longest keyword's length: pieces of a long text overlap by one less. */
  longestKeyword: number;
  /** Scratch for findCandidates, reused by every scan (allocating it cost more than a short text's walk). */
  candidates: Candidates;
  /** The automaton reports (rule, keyword) pairs: the rule and the keyword's length. */
  pairRule: Int32Array;
  pairLength: Int32Array;
  within: Int32Array;
  /** 128 entries per rule: 0 where that ASCII character may not sit just before / after a keyword. */
  beforeOk: Uint8Array;
  afterOk: Uint8Array;
  allEnabled: Uint8Array;
  /** Enabled-rule sets already built, by kinds and disabled rules. */
  enabledBy: Map<string, Uint8Array>;
  rank: Map<string, { i: number; generic: number }>;
}

const catalogs = new WeakMap<DetectionRule[], Catalog>();

/** 128 flags: which ASCII characters the regex character class `cls` admits (all when absent). */
function classTable(cls: string | undefined): Uint8Array {
  const table = new Uint8Array(128).fill(1);
  if (cls === undefined) return table;
  const re = new RegExp(`^${cls}$`);
  for (let c = 0; c < 128; c++) table[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
  return table;
}

function compile(rules: DetectionRule[]): Catalog {
  const cached = catalogs.get(rules);
  if (cached) return cached;
  const byKeyword = new Map<string, number[]>();
  const pairRule: number[] = [];
  const pairLength: number[] = [];
  const beforeOk = new Uint8Array(rules.length * 128);
  const afterOk = new Uint8Array(rules.length * 128);
  const compiled = rules.map((rule, index): CompiledRule => {
    for (const kw of rule.keywords) {
      byKeyword.set(kw, [...(byKeyword.get(kw) ?? []), pairRule.length]);
      pairRule.push(index);
      pairLength.push(kw.length);
    }
    beforeOk.set(classTable(rule.keywordContext?.before), index * 128);
    afterOk.set(classTable(rule.keywordContext?.after), index * 128);
    const longest = maxMatchLength(rule.pattern);
    if (!Number.isFinite(longest)) throw new Error(`rule ${rule.id}: pattern has an unbounded quantifier`);
    const { source } = rule.pattern;
    if (/\\[1-9]|\\k</.test(source)) throw new Error(`rule ${rule.id}: back-references are not supported`);
    const group = rule.secretGroup ?? 0;
    const flags = rule.pattern.flags.replace(/[gyd]/g, '');
    const within = rule.keywordWithin ?? longest;
    const wrap = within > 0;
    return {
      rule,
      global: new RegExp(source, flags + 'g' + (group > 0 ? 'd' : '')),
      sticky: wrap
        ? new RegExp(`[^]{0,${within}}?(${source})`, flags + 'yd')
        : new RegExp(source, flags + 'y' + (group > 0 ? 'd' : '')),
      matchGroup: wrap ? 1 : 0,
      valueGroup: group + (wrap ? 1 : 0),
      within,
    };
  });
  const automaton = new KeywordAutomaton([...byKeyword].map(([keyword, values]) => ({ keyword, values })));
  const catalog: Catalog = {
    rules: compiled,
    automaton,
    wasm: undefined,
    longestKeyword: Math.max(0, ...[...byKeyword.keys()].map((k) => k.length)),
    candidates: {
      lists: new Array<number[] | undefined>(rules.length).fill(undefined),
      openFirst: new Int32Array(rules.length),
      openLast: new Int32Array(rules.length).fill(-1),
      touched: [],
    },
    pairRule: Int32Array.from(pairRule),
    pairLength: Int32Array.from(pairLength),
    within: Int32Array.from(compiled, (c) => c.within),
    beforeOk,
    afterOk,
    allEnabled: new Uint8Array(rules.length).fill(1),
    enabledBy: new Map(),
    rank: new Map(rules.map((r, i) => [r.id, { i, generic: r.generic ? 1 : 0 }])),
  };
  catalogs.set(rules, catalog);
  return catalog;
}

/** Every detection in `text`, sorted by start, overlaps resolved (specific over generic, then longest). */
export function scan(text: string, options: ScanOptions = {}): Detection[] {
  const catalog = compile(options.rules ?? detectionRules);
  const clock = options.clock ?? Date.now;
  const deadline = options.deadline ?? Infinity;
  const enabled = enabledRules(catalog, options);
  const found: Detection[] = [];
  if (text.length === 0) return found;
  if (options.prefilter === false) {
    for (let r = 0; r < catalog.rules.length; r++) {
      if (enabled[r] === 0) continue;
      if (clock() > deadline) throw new GuardTimeoutError(text.length);
      runEverywhere(catalog.rules[r] as CompiledRule, text, found);
    }
  } else {
    const candidates = findCandidates(catalog, text, enabled, deadline, clock, options.wasm !== false);
    for (const { rule, ranges } of candidates) {
      if (clock() > deadline) throw new GuardTimeoutError(text.length);
      runAtCandidates(catalog.rules[rule] as CompiledRule, text, ranges, found);
    }
  }
  return resolveOverlaps(found, catalog);
}

/**
 * Compiles the rules (by default the built-in catalog) and their WebAssembly walk now, which the
 * first scan would otherwise do (~40 ms): the gateway calls it before it listens.
 */
export function prepareScan(rules: DetectionRule[] = detectionRules): void {
  wasmWalkerOf(compile(rules));
}

/** `scan` with a time budget in milliseconds; throws `GuardTimeoutError` when it is exceeded. */
export function scanWithBudget(text: string, budgetMs: number, options: ScanOptions = {}): Detection[] {
  const clock = options.clock ?? Date.now;
  return scan(text, { ...options, clock, deadline: clock() + budgetMs });
}

function enabledRules(catalog: Catalog, options: ScanOptions): Uint8Array {
  const { kinds, disabledRules } = options;
  if (!kinds && (!disabledRules || disabledRules.length === 0)) return catalog.allEnabled;
  // The gateway scans many small strings per request with the same options: build each set once.
  const key = `${kinds?.join(',') ?? '*'}|${disabledRules?.join(',') ?? ''}`;
  let enabled = catalog.enabledBy.get(key);
  if (!enabled) {
    const disabled = new Set(disabledRules ?? []);
    enabled = Uint8Array.from(catalog.rules, (c) =>
      !disabled.has(c.rule.id) && (!kinds || kinds.includes(c.rule.kind)) ? 1 : 0,
    );
    if (catalog.enabledBy.size > 256) catalog.enabledBy.clear();
    catalog.enabledBy.set(key, enabled);
  }
  return enabled;
}

/** Characters per call of `walk`; the hit buffer has room for a hit at every one of them. */
const STRIDE = 1 << 14;
const hitBuffer = new Int32Array(2 * STRIDE + 1);

/**
 * The automaton over `text[from, to)`: writes each reporting `(index, k)` pair to `hits` (`k` the
 * reporting state's index, see KeywordAutomaton.outStart) and returns how many entries it wrote; the
 * state carries over in `hits[2 * STRIDE]`. Kept tiny, with its tables as parameters, so V8 compiles
 * the same tight loop every time.
 */
function walk(
  text: string,
  from: number,
  to: number,
  table: Int32Array,
  reportFrom: number,
  width: number,
  hits: Int32Array,
): number {
  let state = hits[2 * STRIDE] as number;
  let h = 0;
  for (let i = from; i < to; i++) {
    state = table[state + (table[text.charCodeAt(i)] as number)] as number;
    if (state >= reportFrom) {
      hits[h] = i;
      hits[h + 1] = (state - reportFrom) / width;
      h += 2;
    }
  }
  hits[2 * STRIDE] = state;
  return h;
}

/** Per rule, the candidate ranges being collected in one scan; emptied again when the scan ends. */
interface Candidates {
  lists: (number[] | undefined)[];
  /** The open range of each rule (`openLast` -1 when none), flushed into `lists` when a candidate lands past it. */
  openFirst: Int32Array;
  openLast: Int32Array;
  /** The rules with an open range. */
  touched: number[];
}

/**
 * One keyword pass: for each rule with candidates, in rule order, the sorted, merged `[first, last]`
 * ranges of positions where one of its matches could start. Long texts take the WebAssembly walk,
 * in pieces of CHUNK characters that overlap by the longest keyword less one, so an occurrence
 * across a boundary is taken from the piece it ends in and from no other.
 */
function findCandidates(
  catalog: Catalog,
  text: string,
  enabled: Uint8Array,
  deadline: number,
  clock: () => number,
  allowWasm: boolean,
): { rule: number; ranges: number[] }[] {
  const found = catalog.candidates;
  try {
    const n = text.length;
    const walker = allowWasm && n >= WASM_FROM ? wasmWalkerOf(catalog) : null;
    if (walker) {
      const overlap = catalog.longestKeyword - 1;
      for (let from = 0; from < n; from += CHUNK) {
        if (from > 0 && clock() > deadline) throw new GuardTimeoutError(from);
        const to = Math.min(n, from + CHUNK);
        const { hits, length } = walker.walk(text, Math.max(0, from - overlap), to);
        addCandidates(catalog, text, hits, length, from, enabled, found);
      }
    } else {
      const { table, start, reportFrom, width } = catalog.automaton;
      const hits = hitBuffer;
      hits[2 * STRIDE] = start;
      for (let from = 0; from < n; from += STRIDE) {
        if (from % CHUNK === 0 && from > 0 && clock() > deadline) throw new GuardTimeoutError(from);
        const h = walk(text, from, Math.min(n, from + STRIDE), table, reportFrom, width, hits);
        if (h > 0) addCandidates(catalog, text, hits, h, 0, enabled, found);
      }
    }
    return takeRanges(found);
  } finally {
    for (const r of found.touched) {
      found.openLast[r] = -1;
      found.lists[r] = undefined;
    }
    found.touched.length = 0;
  }
}

/** Each touched rule's ranges, the open one closed, in rule order. */
function takeRanges(found: Candidates): { rule: number; ranges: number[] }[] {
  const { lists, openFirst, openLast } = found;
  return found.touched
    .sort((a, b) => a - b)
    .map((rule) => {
      const ranges = lists[rule] ?? [];
      ranges.push(openFirst[rule] as number, openLast[rule] as number);
      if (!isSorted(ranges)) sortRanges(ranges);
      return { rule, ranges };
    });
}

function wasmWalkerOf(catalog: Catalog): WasmWalker | null {
  if (catalog.wasm === undefined) catalog.wasm = wasmWalker(catalog.automaton) ?? null;
  return catalog.wasm;
}

/**
 * Turns the keyword hits in `hits[0, count)` (`(index, k)` pairs) that end at or after `minIndex` into
 * candidate match starts: a hit of a rule's keyword starting at `s` makes `[s - within, s]`
 * candidates, unless the rule's `keywordContext` excludes the keyword's neighbours.
 */
function addCandidates(
  catalog: Catalog,
  text: string,
  hits: Int32Array,
  count: number,
  minIndex: number,
  enabled: Uint8Array,
  found: Candidates,
): void {
  const { outStart, values } = catalog.automaton;
  const { pairRule, pairLength, within, beforeOk, afterOk } = catalog;
  const { lists, openFirst, openLast, touched } = found;
  const n = text.length;
  for (let h = 0; h < count; h += 2) {
    const i = hits[h] as number;
    if (i < minIndex) continue;
    const k = hits[h + 1] as number;
    const end = outStart[k + 1] as number;
    for (let o = outStart[k] as number; o < end; o++) {
      const p = values[o] as number;
      const r = pairRule[p] as number;
      if (enabled[r] === 0) continue;
      const start = i - (pairLength[p] as number) + 1;
      if (start > 0) {
        const c = text.charCodeAt(start - 1);
        if (c < 128 && beforeOk[(r << 7) + c] === 0) continue;
      }
      if (i + 1 < n) {
        const c = text.charCodeAt(i + 1);
        if (c < 128 && afterOk[(r << 7) + c] === 0) continue;
      }
      const w = within[r] as number;
      const first = start > w ? start - w : 0;
      const last = openLast[r] as number;
      if (last < 0) {
        touched.push(r);
        openFirst[r] = first;
        openLast[r] = start;
      } else if (first <= last + 1 && start + 1 >= (openFirst[r] as number)) {
        if (first < (openFirst[r] as number)) openFirst[r] = first;
        if (start > last) openLast[r] = start;
      } else {
        (lists[r] ??= []).push(openFirst[r] as number, last);
        openFirst[r] = first;
        openLast[r] = start;
      }
    }
  }
}

function isSorted(ranges: number[]): boolean {
  for (let j = 2; j < ranges.length; j += 2)
    if ((ranges[j] as number) < (ranges[j - 2] as number)) return false;
  return true;
}

/** Keywords of different lengths can report starts out of order: sort the pairs by first position. */
function sortRanges(ranges: number[]): void {
  const pairs: [number, number][] = [];
  for (let j = 0; j < ranges.length; j += 2) pairs.push([ranges[j] as number, ranges[j + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  ranges.length = 0;
  for (const [a, b] of pairs) ranges.push(a, b);
}

/**
 * Finds what the rule's global regex would find over the whole text, trying only candidate starts:
 * every match starts in a candidate range, so the leftmost match at or after the last match's end is
 * the leftmost candidate where the sticky regex matches.
 */
function runAtCandidates(c: CompiledRule, text: string, ranges: number[], out: Detection[]): void {
  const re = c.sticky;
  const step = c.within + 1;
  let resume = 0;
  for (let j = 0; j < ranges.length; j += 2) {
    const last = ranges[j + 1] as number;
    let s = Math.max(ranges[j] as number, resume);
    while (s <= last) {
      re.lastIndex = s;
      const m = re.exec(text);
      if (m === null) {
        s += step;
        continue;
      }
      const [start, end] =
        c.matchGroup === 0 ? [m.index, m.index + m[0].length] : (m.indices?.[c.matchGroup] ?? [s, s]);
      const d = toDetection(c.rule, m, c.valueGroup);
      if (d) out.push(d);
      resume = end > start ? end : start + 1;
      s = resume;
    }
  }
}

/** The reference: the rule's regex over the whole text. */
function runEverywhere(c: CompiledRule, text: string, out: Detection[]): void {
  const re = c.global;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null) return;
    if (m[0].length === 0) re.lastIndex++;
    const d = toDetection(c.rule, m, c.rule.secretGroup ?? 0);
    if (d) out.push(d);
  }
}

function toDetection(rule: DetectionRule, m: RegExpExecArray, group: number): Detection | undefined {
  const value = m[group];
  if (value === undefined || value.length === 0) return undefined;
  const start = group === 0 ? m.index : (m.indices?.[group]?.[0] ?? m.index);
  if (rule.minEntropy !== undefined && shannonEntropy(value) < rule.minEntropy) return undefined;
  if (rule.validate && !rule.validate(value, { text: m.input, start, end: start + value.length }))
    return undefined;
  if (isAllowlisted(value)) return undefined;
  return { rule: rule.id, kind: rule.kind, start, end: start + value.length, value };
}

/** Keeps, within each cluster of overlapping detections, the specific over the generic, then the longest. */
function resolveOverlaps(found: Detection[], catalog: Catalog): Detection[] {
  if (found.length < 2) return found;
  const rank = (d: Detection) => catalog.rank.get(d.rule) ?? { i: 0, generic: 0 };
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Detection[] = [];
  let cluster: Detection[] = [];
  let clusterEnd = -1;
  const flush = (): void => {
    if (cluster.length === 1) kept.push(cluster[0] as Detection);
    else if (cluster.length > 1) {
      const byPreference = [...cluster].sort(
        (a, b) =>
          rank(a).generic - rank(b).generic ||
          b.end - b.start - (a.end - a.start) ||
          a.start - b.start ||
          rank(a).i - rank(b).i,
      );
      const chosen: Detection[] = [];
      for (const d of byPreference) {
        if (chosen.every((k) => d.end <= k.start || d.start >= k.end)) chosen.push(d);
      }
      kept.push(...chosen.sort((a, b) => a.start - b.start));
    }
    cluster = [];
  };
  for (const d of found) {
    if (d.start >= clusterEnd) {
      flush();
      clusterEnd = d.end;
    } else clusterEnd = Math.max(clusterEnd, d.end);
    cluster.push(d);
  }
  flush();
  return kept;
}
