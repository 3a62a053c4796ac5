/**
 * kill -9 of the real `sluice serve` under load, then a restart on the same folder: every request
 * whose x-sluice-request-id a client saw, and every request that reached the upstream, has a record
 * (completed, or `gateway_interrupted` when the process died before it ended).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ask, createKeys, drive, recorded, serve, until, writeConfig, type Seen } from './harness.js';
import { startFaultyUpstream } from './upstream.js';

const STORAGE = 'sqlite:./.sluice/sluice.db';
const CONCURRENCY = 16;
/** The kill comes once this many answers have arrived. */
const KILL_AFTER = 150;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('faults: kill -9', () => {
  it(`under load (${CONCURRENCY} at a time, 4 hanging upstream): every request the client or upstream saw is on record after a restart`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-faults-kill-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const up = await startFaultyUpstream();
    cleanups.push(() => up.close());
    await writeConfig(dir, {
      storage: STORAGE,
      upstreams: { faulty: { url: up.url } },
      orgs: { acme: { upstream: 'faulty', extra: 'contentLogging: full' } },
    });
    const [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
    const gw = await serve(dir);
    cleanups.push(() => gw.stop());

    // In flight, paid for, when the kill comes: requests the upstream has and never answers.
    const HANGING = 4;
    const hangs = Array.from({ length: HANGING }, () =>
      ask(gw.url, key, { model: 'fault-hang', stream: true }).catch(() => null),
    );
    await until('the hanging requests reached the upstream', () => up.hangingIds.length === HANGING);
    const saw: Seen[] = [];
    let failed = 0;
    let killed = false;
    await drive(10_000, CONCURRENCY, async (i) => {
      if (killed) return;
      try {
        const seen = await ask(gw.url, key, { stream: i % 2 === 0, text: `request ${i}` });
        saw.push(seen);
      } catch {
        failed++; // the connection went with the process before any header
      }
      if (saw.length >= KILL_AFTER && !killed) {
        killed = true;
        gw.child.kill('SIGKILL');
      }
    });
    const { signal } = await gw.exited;
    assert.equal(signal, 'SIGKILL');
    assert.deepEqual(
      await Promise.all(hangs),
      [null, null, null, null],
      'the hanging clients lost their connection',
    );

    const again = await serve(dir);
    cleanups.push(() => again.stop());
    const after = await ask(again.url, key);
    assert.equal(after.status, 200, 'the restarted gateway serves');

    const seenIds = saw.map((s) => s.id).filter((id): id is string => id !== null);
    const all = await recorded(STORAGE, dir, [
      ...new Set([...seenIds, ...up.requestIds, after.id as string]),
    ]);
    assert.deepEqual(
      up.hangingIds.map((id) => all.get(id)?.errorType),
      Array(HANGING).fill('gateway_interrupted'),
      'a request the upstream had when the process died is on record as interrupted',
    );
    const interrupted = [...all.values()].filter((r) => r.errorType === 'gateway_interrupted');
    for (const r of interrupted)
      assert.equal(r.responseContent, null, 'an interrupted record keeps no content');
    for (const s of saw.filter((x) => !x.cut))
      assert.equal(
        all.get(s.id as string)?.status,
        s.status,
        'a completed request keeps what its client saw',
      );
    const cut = saw.filter((x) => x.cut).length;
    process.stderr.write(
      `faults: kill -9 with ${failed + cut + HANGING} requests in flight (${cut} answers cut): ${all.size} records, ${interrupted.length} interrupted\n`,
    );
    assert.deepEqual(
      readdirSync(join(dir, '.sluice/journal')),
      ['0'],
      'the dead slot was replayed and removed',
    );
  });
});
