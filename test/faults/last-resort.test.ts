/**
 * The last-resort handlers of `sluice serve` (src/cli/serve.ts), in the real process: a bug that
 * escapes every handler is made to happen by test/faults/inject.mjs (SIGUSR2: a rejection nobody
 * awaits; SIGHUP: an exception thrown from a callback).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ask, createKeys, recorded, serve, until, writeConfig, type Served } from './harness.js';
import { startFaultyUpstream, type FaultyUpstream } from './upstream.js';

const STORAGE = 'sqlite:./.sluice/sluice.db';
const SECRET = /PROMPT-CONTENT|AKIA/;

/** The log lines (pino JSON) whose message matches `re`. */
const logLines = (gw: Served, re: RegExp) =>
  gw
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { name?: string; frames?: string[] } })
    .filter((l) => re.test(l.msg));

describe('faults: a bug that escapes every handler', () => {
  let dir: string;
  let up: FaultyUpstream;
  let key: string;
  const served: Served[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-faults-last-'));
    up = await startFaultyUpstream();
    await writeConfig(dir, {
      storage: STORAGE,
      upstreams: { faulty: { url: up.url } },
      orgs: { acme: { upstream: 'faulty' } },
    });
    [key] = (await createKeys(STORAGE, dir, [['acme', 'dev@acme.test']])) as [string];
  });

  after(async () => {
    for (const s of served) await s.stop();
    await up?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an unhandled rejection is logged without its message, and the gateway keeps serving', async () => {
    const gw = await serve(dir, { inject: true });
    served.push(gw);
    assert.equal((await ask(gw.url, key)).status, 200);
    gw.child.kill('SIGUSR2');
    await gw.stderrMatch(/unhandled rejection/);
    const [line] = logLines(gw, /^unhandled rejection/);
    assert.equal(line?.msg, 'unhandled rejection (a bug): logged; still serving');
    assert.equal(line?.level, 50, 'logged as an error');
    assert.equal(line?.err?.name, 'TypeError');
    assert.ok(line?.err?.frames?.length, 'with its stack frames');
    assert.doesNotMatch(gw.stderr(), SECRET, 'never the message (it can quote a prompt)');
    const next = await ask(gw.url, key, { stream: true });
    assert.deepEqual([next.status, gw.child.exitCode], [200, null]);
    await gw.stop();
  });

  it('an uncaught exception: logged, the journal closed (a request in flight kept), exit 2', async () => {
    const gw = await serve(dir, { inject: true });
    served.push(gw);
    const done = await ask(gw.url, key);
    assert.equal(done.status, 200);
    // A request in flight when the process goes: the upstream has it and never answers.
    const seenBefore = up.requestIds.length;
    const inFlight = ask(gw.url, key, { model: 'fault-hang' }).catch((e: Error) => e);
    await until('the hanging request reached the upstream', () => up.requestIds.length > seenBefore);
    gw.child.kill('SIGHUP');
    const { code } = await gw.exited;
    assert.equal(code, 2);
    assert.ok((await inFlight) instanceof Error, 'the client in flight sees its connection end');
    const [line] = logLines(gw, /^uncaught exception/);
    assert.equal(line?.msg, 'uncaught exception (a bug): closing the audit journal, then exiting');
    assert.equal(line?.err?.name, 'RangeError');
    assert.doesNotMatch(gw.stderr(), SECRET);
    // Closed cleanly: every record reached the store, and the journal's slot was given back.
    assert.deepEqual(readdirSync(join(dir, '.sluice/journal')), []);
    const all = await recorded(STORAGE, dir, up.requestIds);
    const hung = all.get(up.requestIds.at(-1) as string);
    assert.deepEqual([hung?.model, hung?.status], ['fault-hang', 499]);
    assert.equal(all.get(done.id as string)?.status, 200);
  });
});
