/**
 * Throughput of the guard's scan() on ~20 MB of generated source-code-like text with a few planted
 * secrets, on one core: with the keyword pre-filter, without it (every rule over the whole text),
 * and the two pre-filter designs on their own (Aho–Corasick table walk vs one combined regex).
 *
 * A second line scans real code: the .js/.ts files of the installed node_modules, up to the same size.
 *
 * Run: node --import tsx bench/guard-throughput.ts [megabytes]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KeywordAutomaton } from '../src/guard/keyword-automaton.js';
import { detectionRules } from '../src/guard/rules/index.js';
import { scan } from '../src/guard/scan.js';

const targetMb = Number(process.argv[2] ?? 20);

let seed = 42;
const rand = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
const WORDS =
  'user order item request response config client server handler value result cache session account payment invoice token key path file stream buffer index count total status error message event queue worker job task retry timeout limit offset page'.split(
    ' ',
  );
const ident = (): string => pick(WORDS) + pick(WORDS).replace(/^./, (c) => c.toUpperCase());
const alnum = (n: number): string =>
  Array.from(
    { length: n },
    () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[rand(62)],
  ).join('');

const LINES: (() => string)[] = [
  () => `  const ${ident()} = await this.${ident()}.get(${ident()}, { timeout: ${rand(5000)} });`,
  () => `  if (${ident()}.length > ${rand(100)} && !${ident()}) return ${ident()};`,
  () =>
    `  // ${pick(WORDS)} the ${pick(WORDS)} before the ${pick(WORDS)} is ${pick(WORDS)}ed (see #${rand(9000)})`,
  () => `export function ${ident()}(${ident()}: string, ${ident()}?: number): Promise<${ident()}> {`,
  () => `  ${ident()}: ${pick(['string', 'number', 'boolean', 'Date', 'string[]'])};`,
  () => `import { ${ident()}, ${ident()} } from './${pick(WORDS)}/${pick(WORDS)}.js';`,
  () =>
    `    "${pick(WORDS)}_${pick(WORDS)}": ${pick(['true', 'false', 'null', String(rand(100000)), `"${pick(WORDS)}"`])},`,
  () => `def ${pick(WORDS)}_${pick(WORDS)}(self, ${pick(WORDS)}, ${pick(WORDS)}=None):`,
  () => `        return self._${pick(WORDS)}.${pick(WORDS)}(${pick(WORDS)}, retries=${rand(10)})`,
  () => `  ${pick(WORDS)}_${pick(WORDS)}: ${pick(WORDS)}-${rand(100)}`,
  () => ` * @param ${ident()} the ${pick(WORDS)} to ${pick(WORDS)}`,
  () => `  const url = \`https://api.${pick(WORDS)}.io/v${rand(3)}/${pick(WORDS)}s/\${${ident()}}\`;`,
  () => `  throw new Error(\`${pick(WORDS)} ${pick(WORDS)} failed: \${err.message}\`);`,
  () => `  const token = req.headers.authorization?.slice(7) ?? '';`,
  () => `  password: string;`,
  () => `}`,
  () => ``,
];

const parts: string[] = [];
let size = 0;
const target = targetMb * 1024 * 1024;
while (size < target) {
  const line = pick(LINES)();
  parts.push(line);
  size += line.length + 1;
}
const planted = [
  'GITHUB_TOKEN=ghp_' + alnum(36),
  'const key = "AKIA' + 'QWERTYUIOPASDFGH";'.replace(/[^A-Z2-7";]/g, 'Q'),
  'ANTHROPIC_API_KEY=sk-ant-api03-' + alnum(93) + 'AA',
  'DATABASE_URL=postgres://app:' + alnum(20) + '@db.internal:5432/app',
  'contact: jane.doe@acme-corp.io',
];
for (const s of planted) parts.splice(rand(parts.length), 0, s);
const text = parts.join('\n');
const mb = text.length / (1024 * 1024);

const realCode = (): string => {
  const out: string[] = [];
  let total = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (total >= target) return;
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
};

const time = (label: string, fn: () => number, runs = 3): void => {
  fn(); // warm up
  let best = Infinity;
  let result = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  console.log(
    `${label.padEnd(46)} ${(mb / (best / 1000)).toFixed(0).padStart(6)} MB/s  (${best.toFixed(0)} ms, ${result})`,
  );
};

console.log(
  `${mb.toFixed(1)} MB of generated source, ${detectionRules.length} rules, planted ${planted.length} secrets\n`,
);
time('scan() with keyword pre-filter', () => scan(text).length);
time('scan() every rule over the whole text', () => scan(text, { prefilter: false }).length, 1);
const real = realCode();
const realMb = real.length / (1024 * 1024);
{
  scan(real);
  const t0 = performance.now();
  const found = scan(real).length;
  const ms = performance.now() - t0;
  console.log(
    `${'scan() on real code (node_modules .js/.ts)'.padEnd(46)} ${(realMb / (ms / 1000)).toFixed(0).padStart(6)} MB/s  (${ms.toFixed(0)} ms for ${realMb.toFixed(1)} MB, ${found})`,
  );
}

const keywords = [...new Set(detectionRules.flatMap((r) => r.keywords))];
const automaton = new KeywordAutomaton(keywords.map((keyword, i) => ({ keyword, values: [i] })));
time('pre-filter only: Aho–Corasick table walk', () => {
  const { delta } = automaton;
  let row = 0;
  let hits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const entry = c < 128 ? (delta[row + c] as number) : 0;
    row = entry & -128;
    hits += entry & 1;
  }
  return hits;
});
const combined = new RegExp(keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
time('pre-filter only: one combined keyword regex', () => {
  let hits = 0;
  combined.lastIndex = 0;
  while (combined.exec(text) !== null) hits++;
  return hits;
});
time('pre-filter only: toLowerCase copy + indexOf each', () => {
  const lower = text.toLowerCase();
  let hits = 0;
  for (const k of keywords) for (let at = lower.indexOf(k); at >= 0; at = lower.indexOf(k, at + 1)) hits++;
  return hits;
});
