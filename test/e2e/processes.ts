/** Real processes for end-to-end tests: `sluice serve`, other sluice verbs, and the Claude Code CLI. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const main = resolve('src/cli/main.ts');
const tsx = import.meta.resolve('tsx');
const claude = resolve('node_modules/.bin/claude');

/** This process's environment without any ANTHROPIC_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('ANTHROPIC_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a sluice verb to completion. */
export function sluice(cwd: string, args: string[], env = cleanEnv()) {
  return spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd, env, encoding: 'utf8' });
}

/** A shell command line that runs a sluice verb from source (for settings such as `apiKeyHelper`). */
export function sluiceCommand(...args: string[]): string {
  return [process.execPath, '--import', tsx, main, ...args].map((a) => `'${a}'`).join(' ');
}

/** Starts a sluice verb without waiting for it (for verbs that wait on something, like `login`). */
export function startSluice(cwd: string, args: string[], env = cleanEnv()): ChildProcess {
  return spawn(process.execPath, ['--import', tsx, main, ...args], { cwd, env });
}

/** `sluice keys create` in `cwd`; returns the key (the last line it prints). */
export function createKeyCli(cwd: string, org: string, user: string): string {
  const r = sluice(cwd, ['keys', 'create', '--org', org, '--user', user]);
  if (r.status !== 0) throw new Error(`sluice keys create failed: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n').pop() as string;
}

export interface Served {
  child: ChildProcess;
  lines: string[];
  /** Everything the process wrote to stderr (its log). */
  stderr: () => string;
  /** Resolves once stderr matches `re` (log lines are written asynchronously). */
  stderrMatch(re: RegExp): Promise<void>;
  url: string;
  /** Resolves with the first stdout line matching `re`, already printed or still to come. */
  line(re: RegExp): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `sluice serve` and resolves once it says it is listening. */
export function serve(cwd: string, args: string[], env: Record<string, string>): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, main, 'serve', ...args], {
    cwd,
    env,
  });
  let err = '';
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    for (const w of waiting.filter((x) => x.re.test(err))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  const stderrMatch = (re: RegExp) =>
    re.test(err) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ re, resolve }));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  };
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  const line = (re: RegExp) =>
    new Promise<string>((resolveLine) => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return resolveLine(seen);
      const onLine = (l: string) => {
        if (!re.test(l)) return;
        rl.off('line', onLine);
        resolveLine(l);
      };
      rl.on('line', onLine);
    });
  rl.on('line', (l) => lines.push(l));
  return new Promise<Served>((resolveUp, reject) => {
    rl.on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m) resolveUp({ child, lines, url: m[1] as string, line, stderr: () => err, stderrMatch, stop });
    });
    child.once('exit', (code) =>
      reject(new Error(`serve exited ${code} before listening: ${lines.join('\n')}\n${err}`)),
    );
  });
}

/** Runs `claude -p PROMPT` against the gateway with a throwaway home; resolves with its exit and output. */
export async function runClaude(
  prompt: string,
  opts: {
    cwd: string;
    home: string;
    baseUrl: string;
    key: string;
    /** Extra environment; with it, telemetry is not switched off (DISABLE_TELEMETRY etc. unset). */
    env?: Record<string, string>;
    /** The model asked for (default `claude-test`). */
    model?: string;
    /**
     * How the client reaches the gateway, in place of ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY
     * (a cloud's format: CLAUDE_CODE_USE_BEDROCK and its base URL, ...).
     */
    route?: Record<string, string>;
  },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(claude, ['-p', prompt, '--model', opts.model ?? 'claude-test'], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: opts.home,
      ...(opts.route ?? { ANTHROPIC_BASE_URL: opts.baseUrl, ANTHROPIC_API_KEY: opts.key }),
      ...(opts.env ?? { DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, stdout, stderr };
}
