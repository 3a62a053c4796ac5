/**
 * The scanning engine. One pass of a keyword automaton finds where each rule could match; each rule
 * then runs its regex only in windows around its keyword hits (sized from the regex's longest
 * match), so cost grows with the text and the hits, not with the number of rules. Candidates pass
 * the rule's entropy floor and validator and the shared allowlist; overlaps keep the most specific.
 */
import { isAllowlisted } from './allowlist.js';
import { shannonEntropy } from './entropy.js';
import { KeywordAutomaton } from './keyword-automaton.js';
import { maxMatchLength } from './regex-bounds.js';
import { detectionRules } from './rules/index.js';
import type { Detection, DetectionKind, DetectionRule } from './types.js';

export interface ScanOptions {
  /** Only rules of these kinds (default: all). */
  kinds?: DetectionKind[];
  /** The rule catalog (default: every built-in rule). */
  rules?: DetectionRule[];
  /** Rule ids to skip. */
  disabledRules?: string[];
  /** Give up with `GuardTimeoutError` once `clock()` passes this instant (checked between chunks and rules). */
  deadline?: number;
  /** Milliseconds clock for `deadline` (default `Date.now`). */
  clock?: () => number;
  /** `false` runs every rule over the whole text: the reference the pre-filter is tested against. */
  prefilter?: boolean;
}

/** Thrown when a scan exceeds its time budget; the gateway refuses the request rather than pass it unscanned. */
export class GuardTimeoutError extends Error {
  readonly code = 'guard_timeout';
  constructor(readonly scannedChars: number) {
    super(`content inspection exceeded its time budget after ${scannedChars} characters`);
    this.name = 'GuardTimeoutError';
  }
}

/** Context a window keeps beyond a rule's longest match, for lookarounds and word boundaries. */
const MARGIN = 16;
/** The pseudo-keyword for `digit-run` rules (the automaton folds every digit to `0`). */
const DIGIT_RUN = '0000';
/** Characters the keyword pass handles between deadline checks. */
const CHUNK = 1 << 20;

interface CompiledRule {
  rule: DetectionRule;
  re: RegExp;
  /** A window spans [hit - before, hit + after], hit being the last character of a keyword. */
  before: number;
  after: number;
  group: number;
}

interface Catalog {
  rules: CompiledRule[];
  automaton: KeywordAutomaton;
}

const catalogs = new WeakMap<DetectionRule[], Catalog>();

function compile(rules: DetectionRule[]): Catalog {
  const cached = catalogs.get(rules);
  if (cached) return cached;
  const byKeyword = new Map<string, number[]>();
  const compiled = rules.map((rule, index): CompiledRule => {
    const keywords = rule.trigger === 'digit-run' ? [...rule.keywords, DIGIT_RUN] : rule.keywords;
    for (const kw of keywords) byKeyword.set(kw, [...(byKeyword.get(kw) ?? []), index]);
    const maxKeyword = Math.max(1, ...keywords.map((k) => k.length));
    const longest = maxMatchLength(rule.pattern);
    if (!Number.isFinite(longest)) throw new Error(`rule ${rule.id}: pattern has an unbounded quantifier`);
    const group = rule.secretGroup ?? 0;
    const flags = [...new Set(rule.pattern.flags.replace('y', '') + 'g' + (group > 0 ? 'd' : ''))].join('');
    // A match whose keyword starts within k characters of its start begins at most k + keyword before the hit.
    const within = rule.keywordWithin !== undefined && !rule.trigger ? rule.keywordWithin : longest;
    const before = within + maxKeyword + MARGIN;
    return { rule, re: new RegExp(rule.pattern.source, flags), before, after: longest + MARGIN, group };
  });
  const automaton = new KeywordAutomaton([...byKeyword].map(([keyword, values]) => ({ keyword, values })));
  const catalog = { rules: compiled, automaton };
  catalogs.set(rules, catalog);
  return catalog;
}

/** Every detection in `text`, sorted by start, overlaps resolved (specific over generic, then longest). */
export function scan(text: string, options: ScanOptions = {}): Detection[] {
  const catalog = compile(options.rules ?? detectionRules);
  const clock = options.clock ?? Date.now;
  const deadline = options.deadline ?? Infinity;
  const disabled = new Set(options.disabledRules ?? []);
  const enabled = catalog.rules.map(
    (c) => !disabled.has(c.rule.id) && (!options.kinds || options.kinds.includes(c.rule.kind)),
  );
  const windows =
    options.prefilter === false
      ? enabled.map((on) => (on && text.length > 0 ? [0, text.length] : []))
      : findWindows(catalog, text, enabled, deadline, clock);
  const found: Detection[] = [];
  for (let r = 0; r < catalog.rules.length; r++) {
    const w = windows[r];
    if (!w || w.length === 0) continue;
    if (clock() > deadline) throw new GuardTimeoutError(text.length);
    runRule(catalog.rules[r] as CompiledRule, text, w, found);
  }
  return resolveOverlaps(found, catalog);
}

/** `scan` with a time budget in milliseconds; throws `GuardTimeoutError` when it is exceeded. */
export function scanWithBudget(text: string, budgetMs: number, options: ScanOptions = {}): Detection[] {
  const clock = options.clock ?? Date.now;
  return scan(text, { ...options, clock, deadline: clock() + budgetMs });
}

/** One keyword pass: per rule, the merged [start, end) windows its regex must search. */
function findWindows(
  catalog: Catalog,
  text: string,
  enabled: boolean[],
  deadline: number,
  clock: () => number,
): number[][] {
  const { delta, outStart, values } = catalog.automaton;
  const n = text.length;
  const count = catalog.rules.length;
  const windows: number[][] = catalog.rules.map(() => []);
  const before = Int32Array.from(catalog.rules, (c, r) => (enabled[r] ? c.before : -1));
  const after = Int32Array.from(catalog.rules, (c) => c.after);
  // The open window of each rule, flushed into `windows` when a hit lands past its end.
  const openStart = new Float64Array(count).fill(-1);
  const openEnd = new Float64Array(count).fill(-1);
  let row = 0;
  for (let from = 0; from < n; from += CHUNK) {
    if (from > 0 && clock() > deadline) throw new GuardTimeoutError(from);
    const to = Math.min(n, from + CHUNK);
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      const entry = c < 128 ? (delta[row + c] as number) : 0;
      row = entry & -128;
      if ((entry & 1) === 0) continue;
      const state = row >> 7;
      const last = outStart[state + 1] as number;
      for (let k = outStart[state] as number; k < last; k++) {
        const r = values[k] as number;
        const b = before[r] as number;
        if (b < 0) continue;
        const ws = i > b ? i - b : 0;
        const we = Math.min(n, i + (after[r] as number));
        if ((openEnd[r] as number) >= ws) openEnd[r] = we;
        else {
          if ((openEnd[r] as number) >= 0)
            (windows[r] as number[]).push(openStart[r] as number, openEnd[r] as number);
          openStart[r] = ws;
          openEnd[r] = we;
        }
      }
    }
  }
  for (let r = 0; r < count; r++) {
    if ((openEnd[r] as number) >= 0)
      (windows[r] as number[]).push(openStart[r] as number, openEnd[r] as number);
  }
  return windows;
}

/** Runs one rule's regex over its windows, growing a window when a match reaches its edge. */
function runRule(c: CompiledRule, text: string, windows: number[], out: Detection[]): void {
  const n = text.length;
  const re = c.re;
  let i = 0;
  while (i < windows.length) {
    const ws = windows[i] as number;
    let we = windows[i + 1] as number;
    i += 2;
    let subject = we >= n ? text : text.slice(0, we);
    re.lastIndex = ws;
    for (;;) {
      const m = re.exec(subject);
      if (m === null) break;
      const end = m.index + m[0].length;
      if (we < n && end > we - MARGIN) {
        // The window may have cut this match short: grow it, absorb the windows it now reaches, retry.
        we = Math.min(n, end + c.after);
        while (i < windows.length && (windows[i] as number) <= we) {
          we = Math.max(we, windows[i + 1] as number);
          i += 2;
        }
        subject = we >= n ? text : text.slice(0, we);
        re.lastIndex = m.index;
        continue;
      }
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const d = toDetection(c, m);
      if (d) out.push(d);
    }
  }
}

function toDetection(c: CompiledRule, m: RegExpExecArray): Detection | undefined {
  const { rule, group } = c;
  const value = m[group];
  if (value === undefined || value.length === 0) return undefined;
  const start = group === 0 ? m.index : (m.indices?.[group]?.[0] ?? m.index);
  if (rule.minEntropy !== undefined && shannonEntropy(value) < rule.minEntropy) return undefined;
  if (rule.validate && !rule.validate(value)) return undefined;
  if (isAllowlisted(value)) return undefined;
  return { rule: rule.id, kind: rule.kind, start, end: start + value.length, value };
}

/** Keeps, within each cluster of overlapping detections, the specific over the generic, then the longest. */
function resolveOverlaps(found: Detection[], catalog: Catalog): Detection[] {
  if (found.length < 2) return found;
  const order = new Map(catalog.rules.map((c, i) => [c.rule.id, { i, generic: c.rule.generic ? 1 : 0 }]));
  const rank = (d: Detection) => order.get(d.rule) ?? { i: 0, generic: 0 };
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
