import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from './index.js';
import { AuditJournal, JournalError, recordsOf, type JournalOptions } from './journal.js';
import { auditRecord } from './store.suite.js';
import type { AuditRecord, EgressRecord, Store } from './types.js';

const root = await mkdtemp(join(tmpdir(), 'sluice-journal-'));
after(() => rm(root));
function rm(path: string) {
  spawnSync('umount', [path], { stdio: 'ignore' });
  rmSync(path, { recursive: true, force: true });
}

let n = 0;
async function setup(extra: Partial<JournalOptions> = {}) {
  const dir = join(root, `case-${n++}`);
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`, dir);
  const errors: string[] = [];
  const opts: JournalOptions = {
    dir: join(dir, 'journal'),
    store,
    pid: 1_000_000 + n,
    isAlive: () => false,
    onError: (_e, what) => void errors.push(what),
    ...extra,
  };
  return { dir, store, errors, opts, journal: await AuditJournal.open(opts) };
}

const ids = async (store: Store) => (await store.queryAudit({ limit: 10_000 })).map((r) => r.id).sort();

/** A store that refuses audit inserts while `down` is true, and otherwise is `real`. */
function flaky(real: Store): Store & { down: boolean } {
  const s = Object.create(real) as Store & { down: boolean };
  s.down = true;
  s.insertAudit = (r) => (s.down ? Promise.reject(new Error('store down')) : real.insertAudit(r));
  s.insertAudits = (rs) => (s.down ? Promise.reject(new Error('store down')) : real.insertAudits(rs));
  s.insertEgress = (r) => (s.down ? Promise.reject(new Error('store down')) : real.insertEgress(r));
  return s;
}

function egressRecord(overrides: Partial<EgressRecord> = {}): EgressRecord {
  return {
    id: 'egr_1',
    time: '2026-12-06T10:00:00.000Z',
    org: 'acme',
    user: 'dev@acme.test',
    host: 'registry.npmjs.org',
    port: 443,
    method: 'CONNECT',
    decision: 'allow',
    rule: 'npm',
    bytesUp: 0,
    bytesDown: 0,
    durationMs: 0,
    error: null,
    ...overrides,
  };
}

const egressIn = async (store: Store) =>
  (await store.queryEgress({ limit: 10_000 }))
    .map((r) => [r.id, r.decision, r.bytesDown, r.error] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));

describe('the audit journal', () => {
  it('takes a record to the store, and keeps no segment it no longer needs', async () => {
    const { store, journal, opts } = await setup({ segmentBytes: 300 });
    const records = Array.from({ length: 5 }, (_v, i) =>
      auditRecord({ id: `r${i}`, requestContent: 'x'.repeat(200) }),
    );
    for (const r of records) {
      journal.begin(r);
      journal.end(r);
    }
    await journal.close();
    assert.deepEqual(await ids(store), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(readdirSync(opts.dir), [], 'a settled journal leaves nothing behind');
  });

  it('files are readable by their owner only', async () => {
    const { journal, opts } = await setup();
    journal.begin(auditRecord({ id: 'p1' }));
    const [slot] = readdirSync(opts.dir);
    assert.equal(statSync(opts.dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(opts.dir, slot as string)).mode & 0o777, 0o700);
    for (const f of readdirSync(join(opts.dir, slot as string)))
      assert.equal(statSync(join(opts.dir, slot as string, f)).mode & 0o777, 0o600, f);
    journal.end(auditRecord({ id: 'p1' }));
    await journal.close();
  });

  it('after a kill, the next start stores what was ended and marks what was only begun as interrupted', async () => {
    const { store, opts } = await setup();
    const dead = flaky(store); // the first process's store never answered before it died
    const first = await AuditJournal.open({ ...opts, store: dead, pid: 42, isAlive: () => false });
    const finished = auditRecord({ id: 'done', status: 200, requestContent: 'redacted text' });
    const inFlight = auditRecord({ id: 'flying', status: 0, requestContent: 'never journaled at begin' });
    first.begin(finished);
    first.begin(inFlight);
    first.end(finished);
    // No close: the process is gone. A second process starts on the same folder.
    const second = await AuditJournal.open({ ...opts, pid: 43, isAlive: (pid) => pid === 43 });
    const stored = await store.queryAudit({});
    assert.deepEqual(stored.map((r) => [r.id, r.status, r.errorType, r.requestContent]).sort(), [
      ['done', 200, null, 'redacted text'],
      ['flying', 0, 'gateway_interrupted', null],
    ]);
    await second.close();
  });

  it("never replays a live process's slot", async () => {
    const { store, opts, journal } = await setup();
    const r = auditRecord({ id: 'live' });
    journal.begin(r);
    const other = await AuditJournal.open({ ...opts, pid: 7, isAlive: (pid) => pid === opts.pid });
    assert.deepEqual(await ids(store), [], 'the open request is not taken for interrupted');
    assert.equal(readdirSync(opts.dir).length, 2, 'each process has its own slot');
    journal.end(r);
    await journal.close();
    await other.close();
    assert.deepEqual(await ids(store), ['live']);
  });

  it('retries what the store refused until it takes it, and refuses new requests past the backlog limit', async () => {
    const { store, opts, errors } = await setup();
    const down = flaky(store);
    const journal = await AuditJournal.open({
      ...opts,
      store: down,
      maxBacklogBytes: 3500,
      drainEveryMs: 5,
      retryMs: 0,
    });
    for (let i = 0; i < 3; i++) {
      const r = auditRecord({ id: `q${i}`, requestContent: 'y'.repeat(500) });
      journal.begin(r);
      journal.end(r);
    }
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(journal.notReady(), null);
    const over = auditRecord({ id: 'q3', requestContent: 'y'.repeat(500) });
    journal.begin(over);
    journal.end(over);
    assert.match(
      journal.notReady() ?? '',
      /^the store has not taken \d+ bytes of audit records \(limit 3500\)$/,
    );
    assert.throws(() => journal.begin(auditRecord({ id: 'q4' })), JournalError);
    assert.ok(errors.includes('audit record not yet stored; retrying'));
    down.down = false;
    await journal.drain();
    assert.equal(journal.notReady(), null);
    assert.deepEqual(await ids(store), ['q0', 'q1', 'q2', 'q3']);
    await journal.close();
  });

  it('is not ready once its folder was removed, before any request tries it', async () => {
    const { opts, journal } = await setup();
    rmSync(opts.dir, { recursive: true, force: true });
    assert.match(journal.notReady() ?? '', /^the audit journal's folder .* was removed; restart the gateway/);
    await journal.close();
  });

  it('refuses to begin once its folder was removed, and says so', async () => {
    const { opts, journal, store } = await setup();
    rmSync(opts.dir, { recursive: true, force: true });
    assert.throws(
      () => journal.begin(auditRecord({ id: 'gone' })),
      (e: Error) =>
        e instanceof JournalError &&
        /^the audit journal's folder .* was removed; restart the gateway to begin a new one$/.test(e.message),
    );
    assert.match(journal.notReady() ?? '', /was removed; restart the gateway/, '/healthz says so too');
    // The record of a request refused for it still reaches the store.
    journal.end(auditRecord({ id: 'gone' }));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await ids(store), ['gone']);
    await journal.close();
  });

  it('on a full disk, refuses to begin and keeps the segment whole', async (t) => {
    const { dir, store } = await setup();
    const small = join(dir, 'small');
    mkdirSync(small);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    if (mounted.status !== 0) {
      const why = `cannot mount a tmpfs here (${mounted.stderr.toString().trim()}): full-disk journal test SKIPPED`;
      if (process.env.SLUICE_REQUIRE_MOUNTS === '1') assert.fail(why);
      process.stderr.write(`\n!!! ${why} !!!\n\n`);
      return t.skip(why);
    }
    let journal: AuditJournal | undefined;
    try {
      // Something else holds part of the disk, and lets go of it at the end.
      writeFileSync(join(small, 'filler'), Buffer.alloc(16 * 1024));
      journal = await AuditJournal.open({
        dir: join(small, 'j'),
        store,
        pid: 5,
        isAlive: () => false,
        onError: () => undefined,
        retryMs: 0,
      });
      let err: unknown;
      let i = 0;
      for (; i < 1000 && !err; i++) {
        try {
          const r = auditRecord({ id: `f${i}`, requestContent: 'z'.repeat(4000) });
          journal.begin(r);
        } catch (e) {
          err = e;
        }
      }
      assert.ok(err instanceof JournalError, String(err));
      assert.equal(err.message, 'the audit journal cannot be written (ENOSPC)');
      assert.equal(journal.notReady(), 'the audit journal cannot be written (ENOSPC)');
      const [slot] = readdirSync(join(small, 'j'));
      const text = readFileSync(join(small, 'j', slot as string, '00000001.jsonl'), 'utf8');
      assert.ok(text.endsWith('\n'), 'no cut line left behind');
      assert.equal(recordsOf(text).length, i - 1, 'every begin that returned is in the journal');
      // Space comes back: the journal is ready again without a restart, and takes requests.
      rmSync(join(small, 'filler'));
      assert.equal(journal.notReady(), null);
      journal.begin(auditRecord({ id: 'after-space-freed', requestContent: 'z'.repeat(4000) }));
    } finally {
      await journal?.close();
      spawnSync('umount', [small]);
    }
  });

  it('after a kill, replays a record whose line filled its segment (the next one is not yet open)', async () => {
    const { store, opts } = await setup();
    const dead = flaky(store);
    const first = await AuditJournal.open({ ...opts, store: dead, pid: 42, segmentBytes: 300 });
    for (let i = 0; i < 6; i++) {
      const r = auditRecord({ id: `s${i}`, status: 200, requestContent: 'w'.repeat(200) });
      first.begin(r);
      first.end(r);
    }
    await new Promise((r) => setImmediate(r));
    // No close: the process is gone, and its store had taken nothing.
    const second = await AuditJournal.open({ ...opts, pid: 43, isAlive: (pid) => pid === 43 });
    const stored = await store.queryAudit({});
    assert.deepEqual(
      stored.map((r) => [r.id, r.errorType]).sort(),
      ['s0', 's1', 's2', 's3', 's4', 's5'].map((id) => [id, null]),
    );
    await second.close();
  });

  it('egress: after a kill, stores denied and closed attempts, and one still open as proxy_interrupted', async () => {
    const { store, opts } = await setup();
    const dead = flaky(store);
    const first = await AuditJournal.open({ ...opts, store: dead, pid: 42 });
    first.endEgress(egressRecord({ id: 'egr_denied', decision: 'deny', rule: 'not-allowed' }));
    first.beginEgress(egressRecord({ id: 'egr_closed' }));
    first.endEgress(egressRecord({ id: 'egr_closed', bytesDown: 4096, durationMs: 12 }));
    first.beginEgress(egressRecord({ id: 'egr_open' }));
    await new Promise((r) => setImmediate(r));
    const second = await AuditJournal.open({ ...opts, pid: 43, isAlive: (pid) => pid === 43 });
    assert.deepEqual(await egressIn(store), [
      ['egr_closed', 'allow', 4096, null],
      ['egr_denied', 'deny', 0, null],
      ['egr_open', 'allow', 0, 'proxy_interrupted'],
    ]);
    await second.close();
  });

  it('egress: what the store refused is retried with audit records, and stored once', async () => {
    const { store, opts, errors } = await setup();
    const down = flaky(store);
    const journal = await AuditJournal.open({ ...opts, store: down, drainEveryMs: 5, retryMs: 0 });
    const a = auditRecord({ id: 'a1' });
    journal.begin(a);
    journal.end(a);
    for (let i = 0; i < 3; i++) journal.endEgress(egressRecord({ id: `egr_${i}`, decision: 'deny' }));
    await new Promise((r) => setImmediate(r));
    assert.ok(errors.includes('egress record not yet stored; retrying'), errors.join(', '));
    assert.deepEqual(await egressIn(store), []);
    down.down = false;
    await journal.drain();
    await journal.drain(); // a second pass finds nothing left: nothing is written twice
    assert.deepEqual(await ids(store), ['a1']);
    assert.deepEqual(
      (await egressIn(store)).map((r) => r[0]),
      ['egr_0', 'egr_1', 'egr_2'],
    );
    await journal.close();
    assert.deepEqual(readdirSync(opts.dir), [], 'a settled journal leaves nothing behind');
  });

  it('egress: refuses to begin or end when it cannot write, so the caller keeps the record', async () => {
    const { opts, journal } = await setup();
    rmSync(opts.dir, { recursive: true, force: true });
    const why = /^the audit journal's folder .* was removed; restart the gateway to begin a new one$/;
    assert.throws(
      () => journal.beginEgress(egressRecord({ id: 'egr_gone' })),
      (e: Error) => e instanceof JournalError && why.test(e.message),
    );
    assert.throws(
      () => journal.endEgress(egressRecord({ id: 'egr_gone' })),
      (e: Error) => e instanceof JournalError && why.test(e.message),
    );
    await journal.close();
  });

  it('recordsOf skips a line cut short', () => {
    const r: AuditRecord = auditRecord({ id: 'a' });
    const text = `${JSON.stringify({ e: r })}\n{"b":{"id":"cut`;
    assert.deepEqual(
      recordsOf(text).map((x) => x.id),
      ['a'],
    );
  });
});
