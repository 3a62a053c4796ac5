import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { recordAdmin } from './admin-log.js';
import type { Checkpoint } from './admin-log-checkpoint.js';
import { loadOrCreateSigningKey } from './admin-log-key.js';
import {
  adminLogSettings,
  attachCheckpoints,
  startCheckpoints,
  type AdminLogSettings,
  type CheckpointDeps,
} from './admin-log-publish.js';
import { configSchema } from './config.js';

const T = new Date('2026-11-22T10:00:00Z');
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A store in a temp folder and the default admin-log settings next to it. */
async function setup(adminLog: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-publish-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const store = await openStore('sqlite:./s.db', dir);
  cleanups.push(() => store.close());
  const config = configSchema.parse({ upstreams: {}, orgs: {}, adminLog });
  return { dir, store, settings: adminLogSettings(config.adminLog, dir, 'gw-test') };
}

/** A logger that keeps what it is given. */
function recorder() {
  const info: { obj: object; msg: string }[] = [];
  const errors: string[] = [];
  return {
    info,
    errors,
    logger: {
      info: (obj: object, msg: string) => info.push({ obj, msg }),
      error: (_o: object, m: string) => errors.push(m),
    },
  };
}

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
const lines = async (s: AdminLogSettings) =>
  (await readFile(s.checkpointFile, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Checkpoint);

describe('publishing admin log checkpoints', () => {
  it('signs each append before recordAdmin returns: a 0600 file in a 0700 folder, and the log stream', async () => {
    const { store, settings } = await setup();
    const log = recorder();
    const signing = attachCheckpoints(store, settings, { now: () => T, logger: log.logger, stream: true });
    const first = await recordAdmin(store, T, 'test', 'org.created', 'acme');
    assert.deepEqual(
      (await lines(settings)).map((c) => [c.covers, c.seq, c.head, c.signer, c.time]),
      [['entry', 1, first.hash, 'gw-test', T.toISOString()]],
    );
    await recordAdmin(store, T, 'test', 'org.created', 'beta');
    const written = await lines(settings);
    assert.equal(written.length, 2);
    assert.deepEqual(
      log.info.map((l) => [l.msg, (l.obj as { adminLogCheckpoint: Checkpoint }).adminLogCheckpoint]),
      written.map((c) => ['admin log checkpoint', c]),
      'the stream carries the same signed checkpoints',
    );
    assert.deepEqual(
      [
        await mode(settings.checkpointFile),
        await mode(settings.keyFile),
        await mode(join(settings.keyFile, '..')),
      ],
      ['600', '600', '700'],
    );
    await signing.stop();
    await recordAdmin(store, T, 'test', 'org.created', 'gamma');
    assert.equal((await lines(settings)).length, 2, 'after stop, appends are no longer signed');
    assert.deepEqual(log.errors, []);
  });

  it('makes the key once and reuses it; refuses a key other users can read', async () => {
    const { store, settings } = await setup();
    const made = await loadOrCreateSigningKey(settings.keyFile);
    const again = await loadOrCreateSigningKey(settings.keyFile);
    assert.deepEqual([made.created, again.created, again.id], [true, false, made.id]);
    await chmod(settings.keyFile, 0o644);
    await assert.rejects(startCheckpoints(store, settings, { now: () => T, logger: recorder().logger }), {
      message: `admin log signing key: ${settings.keyFile} can be read by other users (mode 644): run chmod 600 ${settings.keyFile}`,
    });
  });

  it('a checkpoint file that cannot be written is logged; the stream keeps its copy; the action completes', async () => {
    const { store, settings } = await setup();
    await mkdir(settings.checkpointFile, { recursive: true });
    const log = recorder();
    attachCheckpoints(store, settings, { now: () => T, logger: log.logger, stream: true });
    const entry = await recordAdmin(store, T, 'test', 'org.created', 'acme');
    assert.equal(entry.seq, 1);
    assert.deepEqual(
      log.info.map((l) => (l.obj as { adminLogCheckpoint: Checkpoint }).adminLogCheckpoint.head),
      [entry.hash],
    );
    assert.equal(log.errors.length, 1);
    assert.ok(
      log.errors[0]?.startsWith(
        `admin log entry 1 has no checkpoint in ${settings.checkpointFile} (EISDIR: `,
      ),
      log.errors[0],
    );
    assert.ok(log.errors[0]?.endsWith('): verify reports it until sluice admin-log checkpoint covers it'));
  });

  it('serve start logs the public key, and an error when the store is behind its checkpoints', async () => {
    const { dir, store, settings } = await setup();
    const first = recorder();
    const stop = await startCheckpoints(store, settings, { now: () => T, logger: first.logger });
    await recordAdmin(store, T, 'test', 'org.created', 'acme');
    await recordAdmin(store, T, 'test', 'org.created', 'beta');
    await stop();
    const key = await loadOrCreateSigningKey(settings.keyFile);
    assert.deepEqual(first.info[0], {
      obj: { adminLogKey: { id: key.id, publicKey: key.text, file: settings.keyFile } },
      msg: 'admin log signing key created',
    });
    const db = new Database(join(dir, 's.db'));
    db.prepare('DELETE FROM admin_log WHERE seq = 2').run();
    db.close();
    const second = recorder();
    await (
      await startCheckpoints(store, settings, { now: () => T, logger: second.logger })
    )();
    assert.equal(second.info[0]?.msg, 'admin log signing key');
    assert.deepEqual(second.errors, [
      `admin log truncated: it ends at entry 1, but gw-test signed a checkpoint of entry 2 at ${T.toISOString()} (see sluice admin-log verify)`,
    ]);
  });
});

/** A webhook receiver on a local port that answers with `statuses` in turn (then 200). */
async function receiver(statuses: number[]) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints` };
}

async function webhookCase(
  statuses: number[],
  webhook: Record<string, unknown>,
  deps: Partial<CheckpointDeps> = {},
) {
  const hook = await receiver(statuses);
  const { store, settings } = await setup({ webhook: { url: hook.url, ...webhook } });
  const log = recorder();
  const waits: number[] = [];
  const signing = attachCheckpoints(store, settings, {
    now: () => T,
    logger: log.logger,
    wait: async (ms) => void waits.push(ms),
    ...deps,
  });
  return { hook, store: store as Store, settings, log, waits, signing };
}

describe('the checkpoint webhook', () => {
  it('POSTs each checkpoint as JSON with the configured headers, retrying with doubling waits', async () => {
    const { hook, store, settings, log, waits, signing } = await webhookCase([503, 502], {
      headers: { authorization: 'Bearer audit-token' },
    });
    await recordAdmin(store, T, 'test', 'org.created', 'acme');
    await signing.settled();
    const [written] = await lines(settings);
    assert.deepEqual(
      hook.got.map((g) => [g.headers['content-type'], g.headers.authorization, JSON.parse(g.body)]),
      Array(3).fill(['application/json', 'Bearer audit-token', written]),
    );
    assert.deepEqual(waits, [1000, 2000]);
    assert.deepEqual(log.errors, []);
  });

  it('gives up after `attempts` and says so, without the url', async () => {
    const { hook, store, log, signing } = await webhookCase([500, 500, 500], { attempts: 2 });
    await recordAdmin(store, T, 'test', 'org.created', 'acme');
    await signing.settled();
    assert.equal(hook.got.length, 2);
    assert.deepEqual(log.errors, [
      'admin log checkpoint of entry 1 not delivered to adminLog.webhook: it answered 500 (2 attempts)',
    ]);
  });

  it('stop abandons a delivery waiting to retry, and says so', async () => {
    let waiting!: () => void;
    const started = new Promise<void>((r) => (waiting = r));
    const { store, log, signing } = await webhookCase(
      [500],
      {},
      {
        wait: (_ms, signal) =>
          new Promise((_resolve, reject) => {
            waiting();
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      },
    );
    await recordAdmin(store, T, 'test', 'org.created', 'acme');
    await started;
    await signing.stop();
    assert.deepEqual(log.errors, [
      'admin log checkpoint of entry 1 not delivered to adminLog.webhook: the process stopped before it answered',
    ]);
  });

  it('never sends a ${VAR} an admin verb left unset', async () => {
    const { hook, store, log, signing } = await webhookCase([], {
      headers: { authorization: 'Bearer ${AUDIT_TOKEN}' },
    });
    await recordAdmin(store, T, 'test', 'org.created', 'acme');
    await signing.settled();
    assert.deepEqual(hook.got, []);
    assert.deepEqual(log.errors, [
      'admin log checkpoint of entry 1 not delivered to adminLog.webhook: its url or headers name an environment variable that is not set',
    ]);
  });
});
