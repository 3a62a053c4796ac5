/**
 * Routes (b), (c) and (d) of bench/gateway.ts, each its own process: the pass-through floor,
 * `sluice serve` on a SQLite store in a temporary folder, and Portkey's open-source gateway
 * (`@portkey-ai/gateway`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** The org settings the benchmark runs Sluice with (a YAML flow mapping), for a content logging mode. */
export const sluiceOrg = (contentLogging: 'none' | 'redacted' | 'full' = 'none'): string =>
  `{ upstream: anthropic, contentLogging: ${contentLogging}, guard: { secrets: redact, pii: log } }`;
export const SLUICE_ORG = sluiceOrg('none');

const TSX = import.meta.resolve('tsx');

/**
 * The CPUs servers under test run on (`taskset -c`), or null to leave placement to the kernel.
 * Set by bench/gateway.ts: the load generator and the stand-in keep the other core.
 */
export const placement: { serverCpus: string | null } = { serverCpus: null };

/** `node args` as a child process (pinned to `placement.serverCpus`); resolves with the first stdout match of `ready`. */
export async function spawnNode(
  args: string[],
  ready: RegExp,
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Running & { match: RegExpExecArray; pid: number }> {
  const [cmd, argv] = placement.serverCpus
    ? ['taskset', ['-c', placement.serverCpus, process.execPath, ...args]]
    : [process.execPath, args];
  const proc = spawn(cmd, argv, {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const match = await new Promise<RegExpExecArray>((resolveMatch, reject) => {
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`)));
    proc.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
      const m = ready.exec(out);
      if (m) resolveMatch(m);
    });
  });
  // BENCH_SERVER_STDOUT: a file to append the servers' stdout to (what --trace-gc prints, say).
  if (process.env.BENCH_SERVER_STDOUT)
    proc.stdout.on('data', (d: Buffer) => appendFileSync(process.env.BENCH_SERVER_STDOUT as string, d));
  proc.stdout.resume();
  return {
    url: '',
    match,
    pid: proc.pid as number,
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(process.env.BENCH_PROFILE_DIR ? 'SIGINT' : 'SIGTERM');
        await exited;
      }
    },
  };
}

/**
 * `--cpu-prof` where BENCH_PROFILE_DIR names a folder for the profiles of the servers under test, and
 * BENCH_NODE_FLAGS (space-separated) for flags NODE_OPTIONS does not take, such as `--trace-gc`.
 */
const profileArgs = (): string[] => [
  ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

/** (b): the pass-through proxy as its own process. */
export async function startPassThroughProcess(upstreamUrl: string): Promise<Running & { pid: number }> {
  const p = await spawnNode(
    [...profileArgs(), '--import', TSX, resolve('bench/gateway/pass-through.ts'), upstreamUrl],
    /listening on (http:\S+)/,
  );
  return { url: p.match[1] as string, pid: p.pid, close: p.close };
}

/** The pass-through with a gateway's steps added up to `level` (ladder.ts), as its own process. */
export async function startLadderProcess(
  upstreamUrl: string,
  level: number,
): Promise<Running & { pid: number }> {
  const p = await spawnNode(
    [...profileArgs(), '--import', TSX, resolve('bench/gateway/ladder.ts'), upstreamUrl, String(level)],
    /listening on (http:\S+)/,
  );
  return { url: p.match[1] as string, pid: p.pid, close: p.close };
}

/** (c): `sluice serve` as its own process: key check, guard, one audit record per request on SQLite. */
export async function startSluice(
  upstreamUrl: string,
  upstreamKey: string,
  org = SLUICE_ORG,
  /** The checkout whose `sluice serve` runs (bench/gateway.ts --compare: another build's). */
  root = '.',
): Promise<Running & { key: string; dir: string; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  await writeFile(
    join(dir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./bench.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${upstreamUrl}", apiKey: "\${ANTHROPIC_API_KEY}", timeoutMs: 60000 }
orgs:
  acme: ${org}
`,
  );
  const main = resolve(root, 'src/cli/main.ts');
  const created = spawnSync(
    process.execPath,
    ['--import', TSX, main, 'keys', 'create', '--org', 'acme', '--user', 'bench@acme.test'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`sluice keys create failed: ${created.stderr}`);
  const key = created.stdout.trimEnd().split('\n').pop() as string;
  // BENCH_PROFILE_DIR=/tmp/prof writes a CPU profile of `sluice serve` there when it exits.
  const p = await spawnNode([...profileArgs(), '--import', TSX, main, 'serve'], /listening on (http:\S+)/, {
    cwd: dir,
    env: { ANTHROPIC_API_KEY: upstreamKey },
  });
  return {
    url: p.match[1] as string,
    key,
    dir,
    pid: p.pid,
    close: async () => {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * (d): Portkey's gateway as a child process (`start-server.js --port=N --headless`, with
 * portkey-fetch-shim.mjs preloaded so that its streamed answers work at all); resolves once
 * `GET /` answers. Its stdout (a spinner and a banner) is discarded and the tail of stderr is kept
 * for the error message should it exit; PK_DEBUG=1 in the environment passes both through instead.
 */
export async function startPortkey(timeoutMs = 30_000): Promise<Running & { pid: number }> {
  const port = await freePort();
  const bin = resolve('node_modules/@portkey-ai/gateway/build/start-server.js');
  const shim = resolve('bench/gateway/portkey-fetch-shim.mjs');
  const args = ['--import', shim, bin, `--port=${port}`, '--headless'];
  const proc = spawn(
    placement.serverCpus ? 'taskset' : process.execPath,
    placement.serverCpus ? ['-c', placement.serverCpus, process.execPath, ...args] : args,
    {
      stdio: process.env.PK_DEBUG ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  let err = '';
  let exited: number | null | undefined;
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exit = new Promise<void>((r) =>
    proc.once('exit', (code) => {
      exited = code;
      r();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`portkey exited with ${exited}: ${err}`);
    try {
      const res = await request(`${url}/`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.text();
      if (res.statusCode === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      proc.kill('SIGTERM');
      throw new Error(`portkey did not answer on ${url} within ${timeoutMs} ms: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: proc.pid as number,
    close: async () => {
      if (exited === undefined) {
        proc.kill('SIGTERM');
        await exit;
      }
    },
  };
}
