/**
 * The fault suite's parts: the real `sluice serve` as a child process (optionally as an unprivileged
 * user, and with test/faults/inject.mjs preloaded), its configuration, a client that keeps what it
 * saw of each answer, the records in the store, and a PostgreSQL schema of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, lstatSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createKey } from '../../src/control/keys.js';
import { CATALOG, type ErrorCode } from '../../src/errors/catalog.js';
import { openStore } from '../../src/store/index.js';
import { quoteIdent } from '../../src/store/postgres.js';
import type { AuditRecord } from '../../src/store/types.js';
import { cleanEnv } from '../e2e/processes.js';

const main = resolve('src/cli/main.ts');
const tsx = import.meta.resolve('tsx');
/** Node's arguments that run the sluice CLI from any folder. */
export const SLUICE = ['--import', tsx, main];
const injector = fileURLToPath(new URL('./inject.mjs', import.meta.url));

/** The user a child runs as when this suite runs as root (root ignores file modes). */
export const NOBODY = 65534;
export const asRoot = process.getuid?.() === 0;

export interface Served {
  child: ChildProcess;
  pid: number;
  url: string;
  /** What it printed on stdout so far, line by line. */
  lines: string[];
  /** Everything it wrote to stderr (its log). */
  stderr(): string;
  /** Resolves once stderr matches `re`. */
  stderrMatch(re: RegExp): Promise<void>;
  /** Its exit, whenever it comes. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Run as this uid/gid (the folder is handed to it first). */
  uid?: number;
  /** Preload test/faults/inject.mjs (SIGUSR2: an unhandled rejection; SIGHUP: an uncaught exception). */
  inject?: boolean;
  env?: Record<string, string>;
}

/** Hands `dir` and everything under it to `uid` (so a child running as it can write there). */
export function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  if (!lstatSync(dir).isDirectory()) return;
  for (const name of readdirSync(dir)) chownTree(join(dir, name), uid);
}

/** Starts `sluice serve --config sluice.yaml` in `dir`; resolves once it says it is listening. */
export function serve(dir: string, options: ServeOptions = {}): Promise<Served> {
  if (options.uid !== undefined) chownTree(dir, options.uid);
  const env = cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-faults', ...options.env });
  if (options.inject) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${injector}`.trim();
  if (options.uid !== undefined) env.HOME = dir;
  const child = spawn(process.execPath, ['--import', tsx, main, 'serve', '--config', 'sluice.yaml'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  return new Promise<Served>((resolveUp, reject) => {
    rl.on('line', (l) => {
      lines.push(l);
      const m = /^sluice gateway listening on (http:\/\/\S+)/.exec(l);
      if (!m) return;
      resolveUp({
        child,
        pid: child.pid as number,
        url: m[1] as string,
        lines,
        stderr: () => err,
        stderrMatch: (re) =>
          re.test(err) ? Promise.resolve() : new Promise<void>((r) => waiting.push({ re, resolve: r })),
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`serve exited ${code ?? signal} before listening: ${lines.join('\n')}\n${err}`)),
    );
  });
}

export interface ConfigParts {
  storage: string;
  /** name -> base URL (and a timeout for its answer, ms). */
  upstreams: Record<string, { url: string; timeoutMs?: number }>;
  /** name -> its upstream (and more of the org's YAML, as a flow mapping's inside). */
  orgs: Record<string, { upstream: string; extra?: string }>;
  /** More top-level YAML. */
  extra?: string;
}

export async function writeConfig(dir: string, c: ConfigParts): Promise<void> {
  const ups = Object.entries(c.upstreams).map(
    ([name, u]) =>
      `  ${name}: { provider: anthropic, baseUrl: "${u.url}", apiKey: "\${ANTHROPIC_API_KEY}"${u.timeoutMs ? `, timeoutMs: ${u.timeoutMs}` : ''} }`,
  );
  const orgs = Object.entries(c.orgs).map(
    ([name, o]) => `  ${name}: { upstream: ${o.upstream}${o.extra ? `, ${o.extra}` : ''} }`,
  );
  await writeFile(
    join(dir, 'sluice.yaml'),
    [
      'server: { host: 127.0.0.1, port: 0 }',
      `storage: "${c.storage}"`,
      'upstreams:',
      ...ups,
      'orgs:',
      ...orgs,
      c.extra ?? '',
    ].join('\n'),
  );
}

/**
 * Keys for `[org, user]` pairs, made as `sluice keys create` makes them (in-process: a child per key
 * would cost seconds each on a shared machine).
 */
export async function createKeys(
  storage: string,
  cwd: string,
  who: readonly (readonly [string, string])[],
): Promise<string[]> {
  const store = await openStore(storage, cwd);
  try {
    const keys: string[] = [];
    for (const [org, user] of who)
      keys.push((await createKey(store, { org, user, role: 'member' }, new Date())).key);
    return keys;
  } finally {
    await store.close();
  }
}

/** What a client saw of one answer. */
export interface Seen {
  status: number;
  /** x-sluice-request-id, when the answer carried one. */
  id: string | null;
  /** x-sluice-error: the catalog code of a refusal. */
  code: string | null;
  body: string;
  /** The body ended in a failed connection instead of its end. */
  cut: boolean;
  ms: number;
}

export interface Ask {
  model?: string;
  stream?: boolean;
  text?: string;
  /** Give up after this long (a bound, not an expectation). */
  timeoutMs?: number;
}

/** One Messages request, as a client would send it; never throws for what the gateway answered. */
export async function ask(url: string, key: string, a: Ask = {}): Promise<Seen> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: a.model ?? 'claude-test',
      max_tokens: 32,
      stream: a.stream ?? false,
      messages: [{ role: 'user', content: a.text ?? 'hello' }],
    }),
    signal: AbortSignal.timeout(a.timeoutMs ?? 60_000),
  });
  let body = '';
  let cut = false;
  try {
    body = await res.text();
  } catch {
    cut = true;
  }
  return {
    status: res.status,
    id: res.headers.get('x-sluice-request-id'),
    code: res.headers.get('x-sluice-error'),
    body,
    cut,
    ms: performance.now() - started,
  };
}

/** Every audit record in the store `storage` names (a SQLite path is relative to `cwd`), by id. */
export async function records(storage: string, cwd: string): Promise<Map<string, AuditRecord>> {
  const store = await openStore(storage, cwd);
  try {
    return new Map((await store.queryAudit({ limit: 1_000_000 })).map((r) => [r.id, r]));
  } finally {
    await store.close();
  }
}

/** Polls `probe` until it returns something truthy, at most `tries` times; throws naming `what`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  tries = 400,
  everyMs = 25,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not so after ${tries} tries${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Waits until every id in `ids` has a record in the store; resolves with them. */
export function recorded(storage: string, cwd: string, ids: readonly string[]) {
  return until(`records for ${ids.length} requests`, async () => {
    const all = await records(storage, cwd);
    return ids.every((id) => all.has(id)) && all;
  });
}

export const PG_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A PostgreSQL schema of its own, with the URL a config names it by (its connections carry
 * `application_name`, so a test can find and kill the gateway's backends); null when PostgreSQL
 * cannot be reached (the caller skips loudly).
 */
export async function pgSchema(): Promise<{
  url: string;
  app: string;
  client: pg.Client;
  drop(): Promise<void>;
} | null> {
  const schema = `sluice_faults_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  } catch {
    await client.end().catch(() => undefined);
    return null;
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  return {
    url: url.toString(),
    app: schema,
    client,
    drop: async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await client.end();
    },
  };
}

/** Skips loudly: a line on stderr that a reader of the run cannot miss, failing where `requireVar` is 1. */
export function skipLoudly(t: { skip(why: string): void }, why: string, requireVar: string): void {
  if (process.env[requireVar] === '1') throw new Error(`${why} (${requireVar}=1)`);
  process.stderr.write(`\n!!! ${why}: SKIPPED !!!\n\n`);
  t.skip(why);
}

/** Runs `one(i)` for i in 0..n-1, `concurrency` at a time. */
export async function drive(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

/**
 * Answers a client sees in a fault: a success, or a catalog error whose status, type and code agree
 * (the text of each is checked where the test knows its arguments).
 */
export function catalogShaped(seen: Seen): boolean {
  if (seen.status === 200) return true;
  if (!seen.code || !(seen.code in CATALOG)) return false;
  const entry = CATALOG[seen.code as ErrorCode];
  try {
    const body = JSON.parse(seen.body) as { type: string; error: { type: string; message: string } };
    return (
      entry.status === seen.status &&
      body.type === 'error' &&
      body.error.type === entry.type &&
      body.error.message.length > 0
    );
  } catch {
    return false;
  }
}
