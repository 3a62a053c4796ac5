/**
 * Throughput of the guard's scan() on one core, on two texts of ~20 MB each: generated source code
 * (TypeScript, Python, Go, YAML, JSON, Markdown with a realistic density of keywords and a few
 * planted secrets) and real code (the .js/.ts files of the installed node_modules). For each:
 * scan() as the gateway runs it, every rule forced over the whole text (the reference the
 * pre-filter must agree with), the keyword walk alone, and secretlint (recommended preset) on a
 * smaller sample of the same text, cut into file-sized pieces as its CLI would see them.
 *
 * Run: node --import tsx bench/guard-throughput.ts [megabytes]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { KeywordAutomaton } from '../src/guard/keyword-automaton.js';
import { ALNUM, fake } from '../src/guard/rules/fake.js';
import { detectionRules } from '../src/guard/rules/index.js';
import { scan } from '../src/guard/scan.js';
import { prng, sourceText } from './guard/source-text.js';

const MB = 1024 * 1024;
const targetMb = Number(process.argv[2] ?? 20);
const SECRETLINT_SAMPLE = 2 * MB;

function generated(): { text: string; planted: number } {
  const lines = sourceText(targetMb * MB, 42).split('\n');
  const planted = [
    'GITHUB_TOKEN=ghp_' + fake(ALNUM, 36, 'bench-gh'),
    '  accessKeyId: "AKIA' + 'QZ7RT2XWE5NMK3LP",',
    'ANTHROPIC_API_KEY=sk-ant-api03-' + fake(ALNUM, 93, 'bench-ant') + 'AA',
    'DATABASE_URL=postgres://app:' + fake(ALNUM, 20, 'bench-pg') + '@db.internal:5432/app',
    '# maintainer: jane.doe@acme-corp.io',
  ];
  const r = prng(7);
  for (const s of planted) lines.splice(Math.floor(r() * lines.length), 0, s);
  return { text: lines.join('\n'), planted: planted.length };
}

function realCode(): string {
  const out: string[] = [];
  let total = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (total >= targetMb * MB) return;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (/\.(?:js|mjs|cjs|ts)$/.test(name) && st.size < 4_000_000) {
        const src = readFileSync(path, 'utf8');
        out.push(src);
        total += src.length;
      }
    }
  };
  walk('node_modules');
  return out.join('\n');
}

/** Best of `runs` after a warm-up, in MB/s of `text.length` (UTF-16 code units). */
function rate(text: string, fn: () => number, runs = 5): { mbs: number; ms: number; result: number } {
  let result = fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { mbs: text.length / MB / (best / 1000), ms: best, result };
}

const secretlintConfig = {
  rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }],
};

/** secretlint over `text` cut into ~64 KB files at line ends; returns MB/s and the findings. */
async function secretlintRate(text: string): Promise<{ mbs: number; ms: number; result: number }> {
  const files: string[] = [];
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at + 65536);
    if (end < 0) end = text.length;
    files.push(text.slice(at, end));
    at = end + 1;
  }
  const lintAll = async (): Promise<number> => {
    let found = 0;
    for (const [i, content] of files.entries()) {
      const result = await lintSource({
        source: { content, filePath: `file${i}.ts`, ext: '.ts', contentType: 'text' },
        options: { config: secretlintConfig, maskSecrets: true },
      });
      found += result.messages.length;
    }
    return found;
  };
  await lintAll();
  const t0 = performance.now();
  const result = await lintAll();
  const ms = performance.now() - t0;
  return { mbs: text.length / MB / (ms / 1000), ms, result };
}

const keywords = [...new Set(detectionRules.flatMap((r) => r.keywords)), '0000'];
const automaton = new KeywordAutomaton(keywords.map((keyword, i) => ({ keyword, values: [i] })));
function keywordWalk(text: string): number {
  const { table, start, reportFrom } = automaton;
  let state = start;
  let hits = 0;
  for (let i = 0; i < text.length; i++) {
    state = table[state + (table[text.charCodeAt(i)] as number)] as number;
    if (state >= reportFrom) hits++;
  }
  return hits;
}

const line = (label: string, r: { mbs: number; ms: number; result: number }, what: string): void =>
  console.log(
    `  ${label.padEnd(40)} ${r.mbs.toFixed(1).padStart(7)} MB/s  (${r.ms.toFixed(0)} ms, ${r.result} ${what})`,
  );

async function measure(name: string, text: string): Promise<void> {
  console.log(`${name}: ${(text.length / MB).toFixed(1)} MB`);
  const fast = rate(text, () => scan(text).length);
  line('scan() (keyword pre-filter)', fast, 'findings');
  line(
    'scan() every rule over the whole text',
    rate(text, () => scan(text, { prefilter: false }).length, 1),
    'findings',
  );
  line(
    'keyword walk alone',
    rate(text, () => keywordWalk(text)),
    'keyword hits',
  );
  const sample = text.slice(0, SECRETLINT_SAMPLE);
  const slow = await secretlintRate(sample);
  line(`secretlint on the first ${(sample.length / MB).toFixed(0)} MB`, slow, 'findings');
  const mine = rate(sample, () => scan(sample).length);
  line(`scan() on the same ${(sample.length / MB).toFixed(0)} MB`, mine, 'findings');
  console.log(`  scan() / secretlint: ${(mine.mbs / slow.mbs).toFixed(0)}x\n`);
}

const gen = generated();
console.log(
  `${detectionRules.length} rules; one core; MB = 2^20 UTF-16 code units; best of 5 after a warm-up\n`,
);
await measure(`generated source code (${gen.planted} planted secrets)`, gen.text);
await measure('real code (node_modules .js/.ts)', realCode());
