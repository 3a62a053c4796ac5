/**
 * kill -9 of the real `sluice serve` while its store refuses egress records (a trigger on
 * egress_records makes SQLite abort every insert), then a restart on the same folder once the store
 * takes them again: every egress attempt a client saw answered (a tunnel opened, a 403) has exactly
 * one record, and a tunnel still open at the kill is on record as `proxy_interrupted`.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/index.js';
import type { EgressRecord } from '../../src/store/types.js';
import { createKeys, serve, until, writeConfig, type Served } from './harness.js';
import { startFaultyUpstream } from './upstream.js';

const STORAGE = 'sqlite:./.sluice/sluice.db';
const TUNNELS = 24;
const DENIED = 12;
/** Tunnels still open when the process is killed. */
const HELD = 3;
const PAYLOAD = 1024;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function egressPort(gw: Served): Promise<number> {
  const line = await until('the egress proxy line', () =>
    gw.lines.find((l) => l.startsWith('sluice egress proxy listening')),
  );
  return Number(/:(\d+) /.exec(line)?.[1]);
}

/** Sends a CONNECT; resolves with the status the proxy answered and the socket (open on a 200). */
function connectThrough(
  port: number,
  key: string,
  target: string,
): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from(`dev:${key}`).toString('base64')}\r\n\r\n`,
      ),
    );
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ status: Number(head.subarray(9, 12).toString()), socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** A tunnel to the echo server: PAYLOAD bytes there and back, then closed by the client. */
async function echoThrough(port: number, key: string, echoPort: number): Promise<void> {
  const { status, socket } = await connectThrough(port, key, `127.0.0.1:${echoPort}`);
  assert.equal(status, 200);
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= PAYLOAD) socket.end();
    });
    socket.on('close', () =>
      got >= PAYLOAD ? resolve() : reject(new Error(`tunnel closed after ${got} bytes`)),
    );
    socket.write(Buffer.alloc(PAYLOAD, 1));
  });
}

describe('faults: egress records', () => {
  it('kill -9 while the store refuses them: after a restart every attempt a client saw has one record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-faults-egress-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const up = await startFaultyUpstream();
    cleanups.push(() => up.close());
    const echo: Server = createServer((s) => s.on('error', () => s.destroy()).pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => echo.close(r)));
    const echoPort = (echo.address() as AddressInfo).port;
    await writeConfig(dir, {
      storage: STORAGE,
      upstreams: { faulty: { url: up.url } },
      orgs: { acme: { upstream: 'faulty', extra: 'egress: { allow: ["127.0.0.1"] }' } },
      extra: 'egress: { host: 127.0.0.1, port: 0 }',
    });
    const [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const gw = await serve(dir);
    cleanups.push(() => gw.stop());
    const port = await egressPort(gw);

    // From here on the store refuses every egress record (audit records still go in).
    const db = new Database(join(dir, '.sluice/sluice.db'));
    cleanups.push(() => db.close());
    db.exec(
      `CREATE TRIGGER refuse_egress BEFORE INSERT ON egress_records BEGIN SELECT RAISE(ABORT, 'egress records refused'); END`,
    );
    for (let i = 0; i < TUNNELS; i++) await echoThrough(port, key, echoPort);
    const deniedHosts = Array.from({ length: DENIED }, (_v, i) => `denied-${i}.example.com`);
    for (const host of deniedHosts) {
      const { status, socket } = await connectThrough(port, key, `${host}:443`);
      assert.equal(status, 403);
      socket.destroy();
    }
    const held = await Promise.all(
      Array.from({ length: HELD }, () => connectThrough(port, key, `127.0.0.1:${echoPort}`)),
    );
    assert.deepEqual(
      held.map((h) => h.status),
      Array(HELD).fill(200),
    );
    // The store said no (logged by the journal, or by the proxy without one).
    await gw.stderrMatch(/egress record not (yet stored|written)/);
    gw.child.kill('SIGKILL');
    assert.equal((await gw.exited).signal, 'SIGKILL');
    for (const h of held) h.socket.destroy();

    // The store takes egress records again; the restart replays the dead process's journal.
    db.exec('DROP TRIGGER refuse_egress');
    const again = await serve(dir);
    cleanups.push(() => again.stop());
    // A tunnel still open at a clean stop: its record is written before the journal closes.
    const open = await connectThrough(await egressPort(again), key, `127.0.0.1:${echoPort}`);
    assert.equal(open.status, 200);
    await again.stop();
    open.socket.destroy();
    assert.deepEqual(readdirSync(join(dir, '.sluice/journal')), [], 'a clean stop leaves nothing to replay');
    const store = await openStore(STORAGE, dir);
    cleanups.push(() => store.close());
    const rows: EgressRecord[] = await store.queryEgress({ limit: 10_000 });
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'no record twice');
    const denied = rows.filter((r) => r.decision === 'deny');
    assert.deepEqual(
      denied.map((r) => r.host).sort(),
      [...deniedHosts].sort(),
      'every 403 a client saw has its record',
    );
    const allowed = rows.filter((r) => r.decision === 'allow');
    assert.equal(allowed.length, TUNNELS + HELD + 1, 'every tunnel a client saw open has its record');
    const interrupted = allowed.filter((r) => r.error === 'proxy_interrupted');
    assert.ok(interrupted.length >= HELD, `the ${HELD} tunnels open at the kill are interrupted`);
    const last = allowed.find(
      (r) =>
        r.time ===
        allowed
          .map((x) => x.time)
          .sort()
          .at(-1),
    );
    assert.notEqual(last?.error, 'proxy_interrupted', 'the one open at the clean stop is not');
    for (const r of allowed.filter((x) => x.error !== 'proxy_interrupted' && x !== last))
      assert.deepEqual(
        [r.bytesUp, r.bytesDown, r.error],
        [PAYLOAD, PAYLOAD, null],
        'a closed tunnel keeps its bytes',
      );
  });
});
