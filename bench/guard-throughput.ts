/**
 * Throughput of the guard's scan() on one core, on two texts of ~20 MB each: generated source code
 * (TypeScript, Python, Go, YAML, JSON, Markdown with a realistic density of keywords and a few
 * planted secrets) and real code (the .js/.ts files of the installed node_modules). For each:
 * scan() as the gateway runs it; the same with the JS keyword walk (what a runtime without
 * WebAssembly SIMD gets); every rule forced over the whole text (the reference the pre-filter must
 * agree with); the keyword walk alone, JS and WebAssembly; and both scan() and secretlint
 * (recommended preset) on the same 2 MB, one call per file as each tool's CLI makes them: the first
 * 2 MB cut into ~64 KB pieces, and (real code) the first 2 MB of whole files. Both tools: best of
 * several runs after a warm-up, findings included.
 *
 * Run: node --import tsx bench/guard-throughput.ts [megabytes]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { KeywordAutomaton } from '../src/guard/keyword-automaton.js';
import { wasmWalker } from '../src/guard/keyword-walk-wasm.js';
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

/** Real .js/.ts files from node_modules, in a stable order, up to the target size. */
function realFiles(): string[] {
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
  return out;
}

/** Best of `runs` after a warm-up, in MB/s of `chars` (UTF-16 code units). */
function rate(chars: number, fn: () => number, runs = 5): { mbs: number; ms: number; result: number } {
  let result = fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { mbs: chars / MB / (best / 1000), ms: best, result };
}

const secretlintConfig = {
  rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }],
};

/** `text` cut into ~64 KB pieces at line ends, like the files a scanner's CLI reads one at a time. */
function pieces(text: string): string[] {
  const files: string[] = [];
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at + 65536);
    if (end < 0) end = text.length;
    files.push(text.slice(at, end));
    at = end + 1;
  }
  return files;
}

/** secretlint over each file in turn, best of `runs` after a warm-up, in MB/s of the files' total length. */
async function secretlintRate(
  files: string[],
  runs = 3,
): Promise<{ mbs: number; ms: number; result: number }> {
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
  let result = await lintAll();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await lintAll();
    best = Math.min(best, performance.now() - t0);
  }
  const chars = files.reduce((n, f) => n + f.length, 0);
  return { mbs: chars / MB / (best / 1000), ms: best, result };
}

/** scan() over each file in turn (one call per file, as the CLI and the gateway make them). */
function scanFiles(files: string[]): number {
  let found = 0;
  for (const f of files) found += scan(f).length;
  return found;
}

const keywords = [...new Set(detectionRules.flatMap((r) => r.keywords))];
const automaton = new KeywordAutomaton(keywords.map((keyword, i) => ({ keyword, values: [i] })));
const wasm = wasmWalker(automaton);
if (!wasm) throw new Error('this Node.js has no WebAssembly SIMD: the benchmark needs it');
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
    `  ${label.padEnd(52)} ${r.mbs.toFixed(1).padStart(7)} MB/s  (${r.ms.toFixed(1)} ms, ${r.result} ${what})`,
  );

/** Both tools on the same files, one call per file; returns scan() / secretlint. */
async function versus(label: string, files: string[]): Promise<number> {
  const chars = files.reduce((n, f) => n + f.length, 0);
  const slow = await secretlintRate(files);
  line(`secretlint, ${label}`, slow, 'findings');
  const mine = rate(chars, () => scanFiles(files));
  line(`scan(), ${label}`, mine, 'findings');
  const ratio = mine.mbs / slow.mbs;
  console.log(`  scan() / secretlint: ${ratio.toFixed(1)}x (target 10x: ${ratio >= 10 ? 'met' : 'not met'})`);
  return ratio;
}

async function measure(name: string, text: string, files: string[] = []): Promise<void> {
  console.log(`${name}: ${(text.length / MB).toFixed(1)} MB`);
  const fast = rate(text.length, () => scan(text).length);
  line('scan() (keyword pre-filter)', fast, 'findings');
  line(
    'scan() with the JS keyword walk (no WebAssembly)',
    rate(text.length, () => scan(text, { wasm: false }).length),
    'findings',
  );
  line(
    'scan() every rule over the whole text',
    rate(text.length, () => scan(text, { prefilter: false }).length, 1),
    'findings',
  );
  line(
    'keyword walk alone, JS',
    rate(text.length, () => keywordWalk(text)),
    'keyword hits',
  );
  line(
    'keyword walk alone, WebAssembly',
    rate(text.length, () => (wasm ? wasm.walk(text, 0, text.length).length / 2 : 0)),
    'keyword hits',
  );
  const sample = text.slice(0, SECRETLINT_SAMPLE);
  await versus(`first ${(sample.length / MB).toFixed(0)} MB in ~64 KB pieces`, pieces(sample));
  if (files.length > 0) {
    const chars = files.reduce((n, f) => n + f.length, 0);
    await versus(`first ${files.length} files (${(chars / MB).toFixed(1)} MB), each whole`, files);
  }
  console.log('');
}

const gen = generated();
console.log(
  `${detectionRules.length} rules; one core; MB = 2^20 UTF-16 code units; best of 5 after a warm-up\n`,
);
await measure(`generated source code (${gen.planted} planted secrets)`, gen.text);
const real = realFiles();
let head = 0;
const firstFiles = real.filter((f) => (head += f.length) <= SECRETLINT_SAMPLE);
await measure('real code (node_modules .js/.ts)', real.join('\n'), firstFiles);
