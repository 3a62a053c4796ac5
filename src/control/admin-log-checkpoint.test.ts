import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AdminLogEntry } from '../store/types.js';
import { entryHash, GENESIS } from './admin-log.js';
import {
  checkpointLines,
  describeVerdict,
  judgeAdminLog,
  signCheckpoint,
  type Checkpoint,
} from './admin-log-checkpoint.js';
import { loadOrCreateSigningKey, type SigningKey } from './admin-log-key.js';

const T = '2026-11-22T10:00:00.000Z';

/** A chain of `n` entries, as the store would hold it. */
function chain(n: number): AdminLogEntry[] {
  const entries: AdminLogEntry[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const e = { seq, time: T, actor: 'test', action: 'key.created', target: `key_${seq}`, details: {} };
    const hash = entryHash(prev, e);
    entries.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return entries;
}

let dir: string;
let gw1: SigningKey;
let gw2: SigningKey;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-checkpoint-'));
  gw1 = await loadOrCreateSigningKey(join(dir, 'gw1.key'));
  gw2 = await loadOrCreateSigningKey(join(dir, 'gw2.key'));
});
after(() => rm(dir, { recursive: true, force: true }));

const entryCheckpoint = (key: SigningKey, e: AdminLogEntry, signer = 'gw-1') =>
  signCheckpoint(key, { covers: 'entry', seq: e.seq, head: e.hash, time: T, signer });
const file = (...cps: Checkpoint[]) => cps.map((c) => JSON.stringify(c)).join('\n') + '\n';

describe('admin log checkpoints', () => {
  it('a signature covers every field: changing any one makes it a bad signature', () => {
    const [e] = chain(1);
    assert.ok(e);
    const c = entryCheckpoint(gw1, e);
    const ok = judgeAdminLog([e], [{ path: 'f', text: file(c) }], [gw1]);
    assert.equal(describeVerdict(ok), 'admin log intact: 1 entry, each covered by a signed checkpoint\n');
    const changed: Partial<Checkpoint>[] = [
      { covers: 'head' },
      { seq: 2 },
      { head: 'f'.repeat(64) },
      { time: '2027-01-01T00:00:00.000Z' },
      { signer: 'gw-2' },
    ];
    for (const change of changed) {
      const v = judgeAdminLog([e], [{ path: 'f', text: file({ ...c, ...change }) }], [gw1]);
      assert.deepEqual(
        v.problems.map((p) => p.kind),
        ['bad-signature', 'uncovered'],
        JSON.stringify(change),
      );
    }
  });

  it('reads checkpoints alone on a line or inside a log line, skips other lines, flags broken ones', () => {
    const [e1, e2] = chain(2);
    assert.ok(e1 && e2);
    const c1 = entryCheckpoint(gw1, e1);
    const c2 = entryCheckpoint(gw1, e2);
    const text = [
      '{"level":30,"msg":"sluice gateway listening"}',
      'not json at all',
      JSON.stringify(c1),
      JSON.stringify({ level: 30, time: 1, adminLogCheckpoint: c2, msg: 'admin log checkpoint' }),
      JSON.stringify({ ...c2, seq: 'two' }),
      '',
    ].join('\n');
    assert.deepEqual(
      checkpointLines(text).map((l) => [l.line, l.checkpoint?.seq]),
      [
        [3, 1],
        [4, 2],
        [5, undefined],
      ],
    );
    const v = judgeAdminLog([e1, e2], [{ path: 'log', text }], [gw1]);
    assert.equal(describeVerdict(v), 'admin log checkpoints in log, line 5: not a well-formed checkpoint\n');
  });

  it("an operator's head checkpoint vouches for every entry up to it, and for none after", () => {
    const entries = chain(4);
    const head = signCheckpoint(gw1, {
      covers: 'head',
      seq: 3,
      head: entries[2]?.hash ?? '',
      time: T,
      signer: 'ops',
    });
    const v = judgeAdminLog(entries, [{ path: 'f', text: file(head) }], [gw1]);
    assert.equal(
      describeVerdict(v),
      'admin log entry 4 is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n',
    );
  });

  it('an entry cut and appended again by the gateway conflicts with the checkpoint of the original', () => {
    const entries = chain(3);
    const [, , third] = entries;
    assert.ok(third);
    const original = entryCheckpoint(gw1, third);
    const replaced = { ...third, target: 'key_other' };
    replaced.hash = entryHash(third.prevHash, replaced);
    const v = judgeAdminLog(
      [...entries.slice(0, 2), replaced],
      [
        {
          path: 'f',
          text: file(
            ...entries.slice(0, 2).map((e) => entryCheckpoint(gw1, e)),
            original,
            entryCheckpoint(gw1, replaced),
          ),
        },
      ],
      [gw1],
    );
    assert.equal(
      describeVerdict(v),
      `admin log rewritten at entry 3: its hash differs from the one gw-1 signed at ${T}\n`,
    );
  });

  it('two gateways on one store: each signs its own entries; verify needs both keys and both files', () => {
    const entries = chain(4);
    const one = file(...[entries[0], entries[2]].map((e) => entryCheckpoint(gw1, e as AdminLogEntry)));
    const two = file(
      ...[entries[1], entries[3]].map((e) => entryCheckpoint(gw2, e as AdminLogEntry, 'gw-2')),
    );
    const sources = [
      { path: 'gw1.checkpoints', text: one },
      { path: 'gw2.checkpoints', text: two },
    ];
    assert.equal(
      describeVerdict(judgeAdminLog(entries, sources, [gw1, gw2])),
      'admin log intact: 4 entries, each covered by a signed checkpoint\n',
    );
    assert.equal(
      describeVerdict(judgeAdminLog(entries, sources.slice(0, 1), [gw1, gw2])),
      'admin log entry 2 is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n' +
        'admin log entry 4 is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n',
    );
    assert.equal(
      describeVerdict(judgeAdminLog(entries, sources, [gw1])),
      `admin log checkpoints in gw2.checkpoints, lines 1-2: signed by key ${gw2.id}, which is not trusted here (trusted: ${gw1.id})\n` +
        'admin log entry 2 is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n' +
        'admin log entry 4 is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n',
    );
  });
});
