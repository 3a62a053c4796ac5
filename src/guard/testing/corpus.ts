/**
 * Scoring a detector on the labelled evaluation corpus (test/fixtures/corpus, built by
 * bench/guard/make-corpus.ts), line by line: a planted value counts as found when a finding is
 * reported on its line; a reported line with no planted value on it is a false positive. Shared by
 * bench/guard-eval.ts and the regression test; not part of the build.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locate } from '../report.js';
import { scan } from '../scan.js';

export interface CorpusLabel {
  file: string;
  line: number;
  rule?: string;
  kind: 'secret' | 'pii' | 'negative';
  what?: string;
}

export interface Corpus {
  files: Map<string, string>;
  labels: CorpusLabel[];
}

/** A finding reduced to where it is and which rule (in the detector's own naming) reported it. */
export interface LineFinding {
  file: string;
  line: number;
  rule: string;
}

export interface Score {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface Evaluation {
  overall: Score;
  /** Keyed by the labelled rule; `fp` counts that rule's reports on lines with nothing planted. */
  byRule: Map<string, Score>;
  missed: CorpusLabel[];
  falsePositives: LineFinding[];
}

export function loadCorpus(dir: string): Corpus {
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as CorpusLabel[];
  const files = new Map<string, string>();
  for (const file of new Set(labels.map((l) => l.file)))
    files.set(file, readFileSync(join(dir, file), 'utf8'));
  return { files, labels };
}

/** Sluice's findings on the corpus, one per detection, at the line where each value starts. */
export function sluiceFindings(corpus: Corpus): LineFinding[] {
  return [...corpus.files].flatMap(([file, text]) =>
    locate(file, text, scan(text)).map((f) => ({ file, line: f.line, rule: f.rule })),
  );
}

const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
const score = (tp: number, fp: number, fn: number): Score => ({
  tp,
  fp,
  fn,
  precision: ratio(tp, tp + fp),
  recall: ratio(tp, tp + fn),
});

/**
 * Recall over planted values and precision over reported lines. With `sameRule`, a planted value
 * only counts as found by a finding of its own rule (for Sluice; other tools name rules differently).
 */
export function evaluate(corpus: Corpus, findings: LineFinding[], sameRule: boolean): Evaluation {
  const at = (file: string, line: number): string => `${file}:${line}`;
  const reported = new Map<string, LineFinding[]>();
  for (const f of findings)
    reported.set(at(f.file, f.line), [...(reported.get(at(f.file, f.line)) ?? []), f]);
  const planted = corpus.labels.filter((l) => l.kind !== 'negative');
  const plantedLines = new Set(planted.map((l) => at(l.file, l.line)));

  const missed = planted.filter((l) => {
    const here = reported.get(at(l.file, l.line)) ?? [];
    return !here.some((f) => !sameRule || f.rule === l.rule);
  });
  const falsePositives = findings.filter((f) => !plantedLines.has(at(f.file, f.line)));
  const fpLines = new Set(falsePositives.map((f) => at(f.file, f.line)));
  const tpLines = [...reported.keys()].filter((k) => plantedLines.has(k)).length;
  const found = planted.length - missed.length;
  const overall = {
    ...score(found, fpLines.size, missed.length),
    // Precision is per reported line: each line either holds a planted value or does not.
    precision: ratio(tpLines, tpLines + fpLines.size),
  };

  const byRule = new Map<string, Score>();
  const rules = new Set([
    ...planted.map((l) => l.rule ?? ''),
    ...(sameRule ? falsePositives.map((f) => f.rule) : []),
  ]);
  for (const rule of rules) {
    const mine = planted.filter((l) => l.rule === rule);
    const fn = missed.filter((l) => l.rule === rule).length;
    const fp = sameRule ? falsePositives.filter((f) => f.rule === rule).length : 0;
    byRule.set(rule, score(mine.length - fn, fp, fn));
  }
  return { overall, byRule, missed, falsePositives };
}
