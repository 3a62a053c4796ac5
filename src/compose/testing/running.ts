/** A whole running Sluice from a configuration file in a temporary folder, for the compose tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../control/config.js';
import { createKey } from '../../control/keys.js';
import { startSluice, type RunningSluice, type SluiceDeps } from '../sluice.js';

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** Polls `probe` until it gives a value (a condition, not a fixed sleep); fails after 10 s. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Running {
  sluice: RunningSluice;
  dir: string;
  file: string;
  /** A Sluice key of dev@acme.test in org acme. */
  key: string;
  logs: LogLine[];
  /** Resolves with the first log line (already written or to come) that `match` accepts. */
  logged(match: (l: LogLine) => boolean): Promise<LogLine>;
  /** Rewrites the configuration file. */
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts Sluice from `text` (written to `sluice.yaml` in a fresh folder); `${UP}` is the upstream key. */
export async function startFromFile(
  text: string,
  env: Record<string, string>,
  extra: Partial<SluiceDeps> = {},
): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-compose-'));
  const file = join(dir, 'sluice.yaml');
  await writeFile(file, text);
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; found: (l: LogLine) => void }>();
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    const line = { level, msg, fields };
    logs.push(line);
    for (const w of waiters)
      if (w.match(line)) {
        waiters.delete(w);
        w.found(line);
      }
  };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const sluice = await startSluice(await loadConfig(file, env), {
    configDir: dir,
    logger,
    actor: 'config:sluice.yaml',
    pid: process.pid,
    isAlive: () => false,
    loadConfig: () => loadConfig(file, env),
    ...extra,
    // Any watchFile given means: watch this configuration file.
    ...(extra.watchFile ? { watchFile: file } : {}),
  });
  const { key } = await createKey(
    sluice.store,
    { org: 'acme', user: 'dev@acme.test', role: 'member' },
    new Date(),
  );
  return {
    sluice,
    dir,
    file,
    key,
    logs,
    logged: (match) => {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((found) => waiters.add({ match, found }));
    },
    write: (t) => writeFile(file, t),
    close: async () => {
      await sluice.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An upstream whose answers wait until the test lets them go (`hold`), then answer a fixed message. */
export interface GatedUpstream {
  url: string;
  /** Requests arrived and not yet answered. */
  waiting: number;
  /** The next request waits until the returned function is called; resolves `arrived` when it came. */
  hold(): { arrived: Promise<void>; release: () => void };
  close(): Promise<void>;
}

export async function startGatedUpstream(apiKey: string): Promise<GatedUpstream> {
  let gate: { arrived: () => void; released: Promise<void> } | null = null;
  const state = { waiting: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-api-key'] !== apiKey) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}');
        return;
      }
      const g = gate;
      gate = null;
      state.waiting++;
      g?.arrived();
      void (g?.released ?? Promise.resolve()).then(() => {
        state.waiting--;
        const body = JSON.stringify({
          id: 'msg_gated',
          type: 'message',
          role: 'assistant',
          model: 'claude-test',
          content: [{ type: 'text', text: 'ok' }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 5 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get waiting() {
      return state.waiting;
    },
    hold() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedP = new Promise<void>((r) => (arrived = r));
      const released = new Promise<void>((r) => (release = r));
      gate = { arrived, released };
      return { arrived: arrivedP, release };
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
