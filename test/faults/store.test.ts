/**
 * Faults of the local data folder (SQLite store and audit journal), against the real `sluice serve`:
 * made read-only, removed while serving, full. A request is forwarded only when its record can be
 * made durable: otherwise the client gets store_unavailable, /healthz says not ready, nothing
 * reaches the upstream, and the gateway serves again once the folder can take writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { errors } from '../../src/errors/catalog.js';
import {
  asRoot,
  ask,
  createKeys,
  NOBODY,
  recorded,
  SLUICE,
  serve,
  skipLoudly,
  until,
  writeConfig,
  type Seen,
  type Served,
} from './harness.js';
import { startFaultyUpstream, type FaultyUpstream } from './upstream.js';

const STORAGE = 'sqlite:./.sluice/sluice.db';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(name: string) {
  const dir = await mkdtemp(join(tmpdir(), `sluice-faults-${name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const up = await startFaultyUpstream();
  cleanups.push(() => up.close());
  await writeConfig(dir, {
    storage: STORAGE,
    upstreams: { faulty: { url: up.url } },
    orgs: { acme: { upstream: 'faulty' } },
  });
  return { dir, up };
}

async function start(dir: string, uid?: number): Promise<Served> {
  const gw = await serve(dir, uid === undefined ? {} : { uid });
  cleanups.push(() => gw.stop());
  return gw;
}

const health = async (gw: Served) => {
  const res = await fetch(`${gw.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
};

/** A refusal for a record that cannot be made durable, exactly as the catalog words it. */
function assertRefused(seen: Seen, reason: string, up: FaultyUpstream): void {
  const e = errors.storeUnavailable(reason);
  assert.deepEqual([seen.status, seen.code, seen.body], [503, e.code, e.body()]);
  assert.ok(!up.requestIds.includes(seen.id as string), 'nothing was forwarded');
}

/** Every mode bit that allows writing, off (or back on), for the folder and all in it. */
function writable(path: string, on: boolean): void {
  const mode = statSync(path).mode & 0o777;
  chmodSync(path, on ? mode | 0o200 : mode & ~0o222);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) writable(join(path, f), on);
}

describe('faults: the data folder', () => {
  it('made read-only: serving goes on with records; a restart refuses to start (exit 2)', async () => {
    const { dir, up } = await setup('ro');
    const [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const uid = asRoot ? NOBODY : undefined;
    const gw = await start(dir, uid);
    const first = await ask(gw.url, key);
    assert.equal(first.status, 200);
    writable(join(dir, '.sluice'), false);
    // Open files stay writable: requests go on, each with its record.
    const during = await ask(gw.url, key, { stream: true });
    assert.equal(during.status, 200);
    assert.deepEqual(up.requestIds, [first.id, during.id]);
    assert.equal((await health(gw)).status, 200);
    await gw.stop();
    const all = await recorded(STORAGE, dir, [first.id as string, during.id as string]);
    assert.equal(all.size, 2);
    // A restart on a read-only folder refuses to start instead of serving without records.
    const again = spawnSync(process.execPath, [...SLUICE, 'serve', '--config', 'sluice.yaml'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-faults', HOME: dir },
      ...(uid !== undefined ? { uid, gid: uid } : {}),
      timeout: 60_000,
    });
    assert.equal(again.status, 2, again.stderr);
    // SQLite's word for it, or the open(2) refusal when the file's mode already keeps this user out.
    const file = join(dir, '.sluice', 'sluice.db');
    assert.ok(
      [
        `sluice: cannot open the store: attempt to write a readonly database; the user running sluice must be able to create and write ${file} and its folder (storage: in the configuration)\n`,
        `sluice: cannot open the store: EACCES: permission denied, open '${file}'; the user running sluice must be able to create and write ${file} and its folder (storage: in the configuration)\n`,
      ].includes(again.stderr),
      again.stderr,
    );
    writable(join(dir, '.sluice'), true);
  });

  it('removed while serving: 503 store_unavailable and /healthz not ready at once; a restart serves again', async () => {
    const { dir, up } = await setup('gone');
    const [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const gw = await start(dir);
    assert.equal((await ask(gw.url, key)).status, 200);
    const slot = join(dir, '.sluice/journal/0');
    rmSync(join(dir, '.sluice'), { recursive: true, force: true });
    const why = `the audit journal's folder ${slot} was removed; restart the gateway to begin a new one`;
    assert.deepEqual(await health(gw), { status: 503, body: { status: 'not ready', reason: why } });
    const refused = await ask(gw.url, key, { stream: true });
    assertRefused(refused, why, up);
    assert.equal(gw.child.exitCode, null, 'still up');
    await gw.stop();
    // The store went with the folder; a restart makes a new one and records from there on.
    const [key2] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const next = await start(dir);
    const served = await ask(next.url, key2);
    assert.equal(served.status, 200);
    await recorded(STORAGE, dir, [served.id as string]);
  });

  it('full: 503 store_unavailable while no line fits; once space is freed, served and every record kept', async (t) => {
    const { dir, up } = await setup('full');
    const data = join(dir, '.sluice');
    mkdirSync(data);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', data]);
    if (mounted.status !== 0)
      return skipLoudly(
        t,
        `cannot mount a tmpfs here (${mounted.stderr.toString().trim()}): full-disk fault test`,
        'SLUICE_REQUIRE_MOUNTS',
      );
    cleanups.push(() => spawnSync('umount', ['-l', data]));
    const [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const gw = await start(dir);
    const saw: Seen[] = [await ask(gw.url, key)];
    assert.equal(saw[0]?.status, 200);
    // Fill the disk to the last byte.
    const filler = join(data, 'filler');
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (let i = 0; i < 1000; i++) writeFileSync(filler, block, { flag: 'a' });
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    try {
      for (let i = 0; i < 1000; i++) writeFileSync(filler, Buffer.alloc(512, 1), { flag: 'a' });
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    // What room is left (a page's tail) takes a few more requests, each on record; then one is refused.
    const why = 'the audit journal cannot be written (ENOSPC)';
    for (let i = 0; i < 500 && saw.at(-1)?.status === 200; i++)
      saw.push(await ask(gw.url, key, { stream: i % 2 === 0, text: `request ${i} ${'x'.repeat(512)}` }));
    const refused = saw.at(-1) as Seen;
    assertRefused(refused, why, up);
    assert.deepEqual(await health(gw), { status: 503, body: { status: 'not ready', reason: why } });
    // Space comes back: the gateway serves again without a restart.
    rmSync(filler);
    await until('/healthz ready again', async () => (await health(gw)).status === 200);
    const after = await ask(gw.url, key);
    saw.push(after);
    assert.equal(after.status, 200);
    assert.equal(gw.child.exitCode, null);
    const all = await recorded(
      STORAGE,
      dir,
      saw.map((s) => s.id as string),
    );
    assert.deepEqual(
      saw.map((s) => all.get(s.id as string)?.status),
      saw.map((s) => s.status),
    );
    assert.deepEqual(saw.map((s) => s.status).slice(-2), [503, 200]);
    await gw.stop();
  });
});
