/**
 * Faults of the upstream, against the real `sluice serve`: refused, hanging, reset mid-answer,
 * malformed SSE, huge answers. Each request's client sees the catalog's error (or the upstream's
 * bytes as they were), the gateway serves the next request, and every request has one record.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errors } from '../../src/errors/catalog.js';
import type { AuditRecord } from '../../src/store/types.js';
import { ask, createKeys, recorded, serve, writeConfig, type Seen, type Served } from './harness.js';
import { HUGE_BYTES, MALFORMED_SSE, startFaultyUpstream, type FaultyUpstream } from './upstream.js';

const STORAGE = 'sqlite:./.sluice/sluice.db';
const HANG_TIMEOUT_MS = 1_500;

/** A port nothing listens on (taken, then given back). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Peak resident memory of a process, bytes (VmHWM). */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

describe('faults: the upstream', () => {
  let dir: string;
  let up: FaultyUpstream;
  let gw: Served;
  let key: string;
  let nowhereKey: string;
  let restoringKey: string;
  let host: string;
  let downHost: string;
  const saw: Seen[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-faults-up-'));
    up = await startFaultyUpstream();
    host = new URL(up.url).host;
    downHost = `127.0.0.1:${await deadPort()}`;
    await writeConfig(dir, {
      storage: STORAGE,
      upstreams: {
        faulty: { url: up.url, timeoutMs: HANG_TIMEOUT_MS },
        down: { url: `http://${downHost}` },
      },
      orgs: {
        acme: { upstream: 'faulty' },
        nowhere: { upstream: 'down' },
        restoring: { upstream: 'faulty', extra: 'restore: true' },
      },
    });
    [key, nowhereKey, restoringKey] = (await createKeys(STORAGE, dir, [
      ['acme', 'dev@acme.test'],
      ['nowhere', 'dev@nowhere.test'],
      ['restoring', 'dev@restoring.test'],
    ])) as [string, string, string];
    gw = await serve(dir);
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** One request through the gateway, kept for the record count at the end. */
  const send = async (k: string, a: Parameters<typeof ask>[2]) => {
    const seen = await ask(gw.url, k, a);
    saw.push(seen);
    assert.ok(seen.id, `every answer names its request (${JSON.stringify(seen).slice(0, 300)})`);
    return seen;
  };

  /** The gateway is still up: a correct request right after is answered in full. */
  const stillServing = async () => {
    const next = await send(key, { stream: true });
    assert.equal(next.status, 200);
    assert.match(next.body, /the faulty upstream\./);
    assert.equal(gw.child.exitCode, null);
  };

  const recordOf = async (seen: Seen): Promise<AuditRecord> =>
    (await recorded(STORAGE, dir, [seen.id as string])).get(seen.id as string) as AuditRecord;

  it('refusing connections: 502 upstream_unreachable, and the next request is served', async () => {
    const seen = await send(nowhereKey, {});
    const e = errors.upstreamUnreachable('down', downHost);
    assert.deepEqual([seen.status, seen.code, seen.body], [502, e.code, e.body()]);
    const r = await recordOf(seen);
    assert.deepEqual([r.status, r.errorType], [502, 'api_error']);
    await stillServing();
  });

  it('hanging before its status line: 504 upstream_timeout once its timeoutMs has passed', async () => {
    const seen = await send(key, { model: 'fault-hang' });
    const e = errors.upstreamTimeout('faulty', host);
    assert.deepEqual([seen.status, seen.code, seen.body], [504, e.code, e.body()]);
    assert.ok(
      seen.ms >= HANG_TIMEOUT_MS - 50 && seen.ms < HANG_TIMEOUT_MS + 5_000,
      `answered in ${seen.ms} ms`,
    );
    const r = await recordOf(seen);
    assert.deepEqual([r.status, r.errorType], [504, 'timeout_error']);
    await stillServing();
  });

  it('reset mid-stream: the stream ends with an upstream_stream_error event', async () => {
    const seen = await send(key, { model: 'fault-reset-sse', stream: true });
    assert.equal(seen.status, 200);
    assert.match(seen.body, /the first words/);
    assert.ok(
      seen.body.endsWith(errors.upstreamStream('faulty', host).sseEvent()),
      `the stream's end: ${seen.body.slice(-300)}`,
    );
    const r = await recordOf(seen);
    assert.deepEqual([r.status, r.errorType], [200, 'upstream_stream_error']);
    await stillServing();
  });

  it('reset in the middle of a whole answer: the client sees the connection fail, never a short 200', async () => {
    const seen = await send(key, { model: 'fault-reset-json' });
    assert.equal(seen.status, 200);
    assert.ok(seen.cut, 'the body ends in a failed connection');
    const r = await recordOf(seen);
    assert.deepEqual([r.status, r.errorType], [200, 'upstream_stream_error']);
    await stillServing();
  });

  it('malformed SSE: relayed byte for byte (the client judges it), and recorded', async () => {
    const seen = await send(key, { model: 'fault-malformed-sse', stream: true });
    assert.deepEqual([seen.status, seen.cut, seen.body], [200, false, MALFORMED_SSE]);
    const r = await recordOf(seen);
    assert.equal(r.status, 200);
    await stillServing();
  });

  it(`huge answers (${HUGE_BYTES >> 20} MB, whole and streamed with restore): relayed in full, not held whole`, async () => {
    const before = peakRss(gw.pid);
    const whole = await send(key, { model: 'fault-huge-json' });
    assert.equal(whole.status, 200);
    const parsed = JSON.parse(whole.body) as { content: { text: string }[] };
    assert.equal(parsed.content[0]?.text.length, HUGE_BYTES);
    // A secret in the prompt makes a placeholder, so the restoring org's answer passes the restorer.
    const streamed = await send(restoringKey, {
      model: 'fault-huge-sse',
      stream: true,
      text: 'my key is AKIAIOSFODNN7EXAMPLF, keep it',
    });
    assert.equal(streamed.status, 200);
    assert.ok(streamed.body.length > HUGE_BYTES, `got ${streamed.body.length} bytes`);
    assert.ok(streamed.body.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'));
    const grew = peakRss(gw.pid) - before;
    process.stderr.write(
      `faults: huge answers grew the gateway's peak RSS by ${(grew / 2 ** 20).toFixed(0)} MB\n`,
    );
    assert.ok(grew < HUGE_BYTES, `peak RSS grew by ${grew} bytes for ${HUGE_BYTES}-byte answers`);
    for (const seen of [whole, streamed]) assert.equal((await recordOf(seen)).status, 200);
    await stillServing();
  });

  it('every request has exactly one audit record, found by its x-sluice-request-id', async () => {
    const ids = saw.map((s) => s.id as string);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    const all = await recorded(STORAGE, dir, ids);
    assert.deepEqual([...all.keys()].sort(), [...ids].sort(), 'no record without a request, none missing');
    assert.deepEqual(
      up.requestIds.filter((id) => !all.has(id)),
      [],
      'what reached the upstream is on record',
    );
    assert.equal(gw.child.exitCode, null);
    // Nothing escaped to the last-resort handler.
    assert.doesNotMatch(gw.stderr(), /unhandled rejection|uncaught exception/);
  });
});
