/**
 * Coverage-guided fuzzing of Sluice's parsers with jsfuzz (istanbul coverage, libFuzzer-style
 * mutations; Jazzer.js cannot run here, see docs/fuzzing.md). Each target in test/fuzz/targets/
 * exports `fuzz(data: Buffer)`, which throws when a property breaks. jsfuzz loads targets with
 * `require`, so a target is bundled by esbuild into one CommonJS file in a working folder, and run
 * from its seed corpus (test/fuzz/corpus/<target>/, read, never written) for a bounded time. An
 * input that throws, hangs (30 s) or takes more than 1 GB is written to the crash folder.
 *
 * Run:  npm run fuzz -- <target> [seconds]   fuzz one target (default 300 s; 0: until Ctrl-C), with
 *                                            a corpus that grows in .fuzz/<target>/ between runs
 *       npm run fuzz -- <target> --run FILE  run one input in-process, for a readable stack trace
 *       npm run fuzz -- --list               the targets
 * Example: npm run fuzz -- body 600
 * Exit codes: 0 no crash, 1 a crash (its file is named), 2 usage or runtime error.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TARGETS_DIR = join(ROOT, 'test/fuzz/targets');
export const CORPUS_DIR = join(ROOT, 'test/fuzz/corpus');
/** Where crashing inputs are kept (not committed): named in every failure. */
export const CRASH_DIR = join(ROOT, '.fuzz/crashes');
const JSFUZZ = createRequire(import.meta.url).resolve('jsfuzz');

/** The targets: test/fuzz/targets/<name>.ts, each with a seed corpus. */
export async function fuzzTargets(): Promise<string[]> {
  return (await readdir(TARGETS_DIR))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export interface FuzzResult {
  target: string;
  seconds: number;
  /** Inputs run, and the istanbul coverage count and corpus size jsfuzz last reported. */
  executions: number;
  coverage: number;
  corpus: number;
  /** The input that broke the target, kept in CRASH_DIR, and what jsfuzz printed about it. */
  crash: { file: string; output: string } | null;
}

export interface FuzzOptions {
  /** The working folder (bundle, growing corpus); a temporary one, removed afterwards, by default. */
  workDir?: string;
  /** Each line jsfuzz prints. */
  onLine?: (line: string) => void;
  /** Ends the run early (as when the time is up). */
  signal?: AbortSignal;
}

/** Bundles `target` and fuzzes it for `seconds` (0: until `signal` aborts). */
export async function fuzzTarget(
  target: string,
  seconds: number,
  options: FuzzOptions = {},
): Promise<FuzzResult> {
  const seeds = join(CORPUS_DIR, target);
  if (!(await fuzzTargets()).includes(target))
    throw new Error(`no fuzz target "${target}" in ${TARGETS_DIR}`);
  if (!existsSync(seeds) || (await readdir(seeds)).length === 0)
    throw new Error(`no seed corpus in ${seeds}`);
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), `sluice-fuzz-${target}-`)));
  try {
    await mkdir(work, { recursive: true });
    await rm(join(work, 'crash'), { force: true });
    await bundle(join(TARGETS_DIR, `${target}.ts`), work);
    const run = await runJsfuzz(work, seeds, seconds, options);
    const crash = existsSync(join(work, 'crash'))
      ? await keepCrash(target, join(work, 'crash'), run.output)
      : null;
    if (!crash && !run.stopped)
      throw new Error(`jsfuzz ended on its own without a crash:\n${run.output.slice(-40).join('\n')}`);
    return { target, seconds, ...run.stats, crash };
  } finally {
    if (!options.workDir) await rm(work, { recursive: true, force: true });
  }
}

/** Evaluates vendor.cjs beside the bundle with `vm`, out of reach of the require hook istanbul instruments through. */
const VENDOR_LOADER = `var __vendor = (() => {
  const fs = require('node:fs'), path = require('node:path'), vm = require('node:vm');
  const file = path.join(__dirname, 'vendor.cjs');
  const source = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(file, 'utf8') + '\\n})';
  const module = { exports: {} };
  vm.runInThisContext(source, { filename: file })(module.exports, require, module, file, __dirname);
  return (name) => module.exports[name];
})();`;

/**
 * Bundles a target for jsfuzz: Sluice's code into target.cjs, which jsfuzz instruments, and the
 * packages it imports (zod, yaml, ...) into vendor.cjs, which it does not: instrumenting a megabyte
 * of them took the whole time budget before the first input ran, and their branches would steer
 * the fuzzer away from ours.
 */
async function bundle(entry: string, work: string): Promise<void> {
  const packages = new Set<string>();
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  } as const;
  const vendor: Plugin = {
    name: 'vendor',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, ({ path }) => {
        if (path.startsWith('node:') || builtinModules.includes(path)) return { external: true };
        packages.add(path);
        return { path, namespace: 'vendor' };
      });
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, ({ path }) => ({
        contents: `module.exports = __vendor(${JSON.stringify(path)});`,
      }));
    },
  };
  await build({
    ...common,
    entryPoints: [entry],
    outfile: join(work, 'target.cjs'),
    plugins: [vendor],
    banner: { js: VENDOR_LOADER },
  });
  const names = [...packages].map((p) => JSON.stringify(p));
  await writeFile(join(work, 'vendor.cjs'), '');
  if (names.length)
    await build({
      ...common,
      stdin: {
        contents: `module.exports = {${names.map((n) => `${n}: require(${n})`).join(', ')}};`,
        resolveDir: ROOT,
      },
      outfile: join(work, 'vendor.cjs'),
    });
}

/** Copies a crashing input to CRASH_DIR under its hash. */
async function keepCrash(target: string, file: string, output: string[]): Promise<FuzzResult['crash']> {
  const input = await readFile(file);
  const kept = join(CRASH_DIR, `${target}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`);
  await mkdir(CRASH_DIR, { recursive: true });
  await copyFile(file, kept);
  const from = output.findIndex((l) => l.startsWith('====='));
  return { file: kept, output: output.slice(from < 0 ? -30 : from).join('\n') };
}

const STATS = /^#(\d+) (?:NEW|PULSE)\s+cov: (\d+) corp: (\d+)/;

/** Runs jsfuzz in `work` (its own process group, so the worker goes with it) until time is up. */
function runJsfuzz(
  work: string,
  seeds: string,
  seconds: number,
  options: FuzzOptions,
): Promise<{
  stats: Pick<FuzzResult, 'executions' | 'coverage' | 'corpus'>;
  output: string[];
  stopped: boolean;
}> {
  // jsfuzz's versifier (on by default) stalls its parent on JSON inputs: about 2 inputs a second, not 2,000.
  const args = [
    JSFUZZ,
    'target.cjs',
    'corpus',
    seeds,
    '--exact-artifact-path',
    'crash',
    '--versifier',
    'false',
  ];
  const child = spawn(process.execPath, [...args, '--rss-limit-mb', '1024', '--timeout', '30'], {
    cwd: work,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const stats = { executions: 0, coverage: 0, corpus: 0 };
  let stopped = false;
  const stop = () => {
    stopped = true;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = seconds > 0 ? setTimeout(stop, seconds * 1000) : undefined;
  options.signal?.addEventListener('abort', stop, { once: true });
  let partial = '';
  const take = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      if (output.length > 400) output.splice(0, output.length - 200);
      const m = STATS.exec(line);
      if (m) Object.assign(stats, { executions: +m[1]!, coverage: +m[2]!, corpus: +m[3]! });
      options.onLine?.(line);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      resolve({ stats, output, stopped });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [target, ...rest] = argv;
  if (!target || target === '--help' || target === '-h') {
    console.log(
      'Usage: npm run fuzz -- <target> [seconds] | <target> --run FILE | --list\nExample: npm run fuzz -- body 600',
    );
    return target ? 0 : 2;
  }
  if (target === '--list') {
    console.log((await fuzzTargets()).join('\n'));
    return 0;
  }
  if (rest[0] === '--run') {
    const { fuzz } = (await import(pathToFileURL(join(TARGETS_DIR, `${target}.ts`)).href)) as {
      fuzz: (data: Buffer) => void;
    };
    try {
      fuzz(await readFile(rest[1] ?? ''));
    } catch (err) {
      console.log(err instanceof Error ? err.stack : err);
      return 1;
    }
    console.log('no property broken');
    return 0;
  }
  const seconds = Number(rest[0] ?? 300);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(`seconds: expected a number >= 0, got ${rest[0]}`);
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  const result = await fuzzTarget(target, seconds, {
    workDir: join(ROOT, '.fuzz', target),
    onLine: (line) => console.log(line),
    signal: abort.signal,
  });
  const summary = `${target}: ${result.executions} inputs, coverage ${result.coverage}, corpus ${result.corpus}`;
  if (!result.crash) {
    console.log(`${summary}; no crash (growing corpus in .fuzz/${target}/corpus)`);
    return 0;
  }
  console.log(`${summary}\nCRASH: ${result.crash.file}\n${result.crash.output}`);
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
