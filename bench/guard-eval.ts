/**
 * Precision and recall of the guard on the evaluation corpus (test/fixtures/corpus, built by
 * bench/guard/make-corpus.ts), per rule and overall, side by side with secretlint's recommended
 * preset on the same files. Line level: a planted value is found when its line is reported (for
 * Sluice, by its own rule); a reported line with nothing planted on it is a false positive.
 *
 * Run: node --import tsx bench/guard-eval.ts [--misses]
 */
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import {
  evaluate,
  loadCorpus,
  sluiceFindings,
  type Evaluation,
  type LineFinding,
} from '../src/guard/testing/corpus.js';

const CORPUS = 'test/fixtures/corpus';
const corpus = loadCorpus(CORPUS);

async function secretlintFindings(): Promise<LineFinding[]> {
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] };
  const out: LineFinding[] = [];
  for (const [file, content] of corpus.files) {
    const ext = /\.[^./]+$/.exec(file)?.[0] ?? '';
    const result = await lintSource({
      source: { content, filePath: file, ext, contentType: 'text' },
      options: { config, maskSecrets: true },
    });
    for (const m of result.messages) out.push({ file, line: m.loc.start.line, rule: m.ruleId });
  }
  return out;
}

const pct = (x: number): string => x.toFixed(3);
const sluice = evaluate(corpus, sluiceFindings(corpus), true);
const other = evaluate(corpus, await secretlintFindings(), false);

const planted = corpus.labels.filter((l) => l.kind !== 'negative');
console.log(
  `corpus: ${corpus.files.size} files, ${planted.length} planted values ` +
    `(${planted.filter((l) => l.kind === 'secret').length} secrets of ` +
    `${new Set(planted.filter((l) => l.kind === 'secret').map((l) => l.rule)).size} rule types, ` +
    `${planted.filter((l) => l.kind === 'pii').length} personal data), ` +
    `${corpus.labels.length - planted.length} labelled look-alikes\n`,
);
console.log(`${'rule'.padEnd(34)} planted   sluice P / R       secretlint R`);
const rules = [...sluice.byRule.keys()].sort();
for (const rule of rules) {
  const s = sluice.byRule.get(rule);
  const o = other.byRule.get(rule);
  if (!s) continue;
  console.log(
    `${rule.padEnd(34)} ${String(s.tp + s.fn).padStart(7)}   ${pct(s.precision)} / ${pct(s.recall)}    ${
      o ? pct(o.recall) : '    -'
    }`,
  );
}
const row = (name: string, e: Evaluation): void =>
  console.log(
    `${name.padEnd(12)} precision ${pct(e.overall.precision)}  recall ${pct(e.overall.recall)}  ` +
      `(found ${e.overall.tp}/${e.overall.tp + e.overall.fn}, false-positive lines ${e.overall.fp})`,
  );
console.log('\noverall');
row('sluice', sluice);
row('secretlint', other);

if (process.argv.includes('--misses')) {
  for (const m of sluice.missed) console.log(`missed   ${m.file}:${m.line} ${m.rule}`);
  for (const f of sluice.falsePositives) console.log(`false+   ${f.file}:${f.line} ${f.rule}`);
}
