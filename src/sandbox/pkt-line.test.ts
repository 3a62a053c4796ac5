import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLUSH, pkt, PktLineError, readFetchRequest, readPushHead, readReport, refusal } from './pkt-line.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

describe('pkt-line', () => {
  it('frames payloads with their length in four hex digits', () => {
    assert.equal(pkt('ok\n').toString(), '0007ok\n');
    assert.equal(FLUSH.toString(), '0000');
  });

  it('reads a push command list however it is split, and says where the pack starts', () => {
    const head = Buffer.concat([
      pkt(`shallow ${A}\n`),
      pkt(`${A} ${B} refs/heads/claude/s1\0report-status side-band-64k agent=git/2.39\n`),
      pkt(`${Z} ${B} refs/tags/v1\n`),
      FLUSH,
    ]);
    const body = Buffer.concat([head, Buffer.from('PACK....')]);
    for (let cut = 0; cut < head.length; cut++)
      assert.equal(readPushHead(body.subarray(0, cut)), null, `cut ${cut}`);
    const parsed = readPushHead(body);
    assert.deepEqual(parsed, {
      updates: [
        { oldOid: A, newOid: B, ref: 'refs/heads/claude/s1' },
        { oldOid: Z, newOid: B, ref: 'refs/tags/v1' },
      ],
      capabilities: ['report-status', 'side-band-64k', 'agent=git/2.39'],
      length: head.length,
    });
  });

  it('refuses what is not a command list', () => {
    assert.throws(() => readPushHead(Buffer.from('PACK')), PktLineError);
    assert.throws(() => readPushHead(Buffer.concat([pkt('hello\n'), FLUSH])), /not a ref update command/);
    assert.throws(
      () => readPushHead(Buffer.concat([pkt(`${A} ${B} main\n`), FLUSH])),
      /not a ref update command/,
    );
    assert.throws(
      () => readPushHead(Buffer.concat([pkt(`push-cert\0report-status\n`), FLUSH])),
      /signed pushes are not supported/,
    );
  });

  it('a refusal reads back as a report with every ref refused, with and without side-band', () => {
    const updates = [{ oldOid: A, newOid: B, ref: 'refs/heads/main' }];
    for (const caps of [
      ['report-status'],
      ['report-status', 'side-band-64k'],
      ['report-status-v2', 'side-band'],
    ]) {
      const report = readReport(refusal(updates, caps, 'sluice: not this\nbranch'), caps);
      assert.deepEqual(report, {
        unpack: 'ok',
        refs: [{ ref: 'refs/heads/main', ok: false, reason: 'sluice: not this branch' }],
      });
    }
    assert.equal(refusal(updates, ['side-band-64k'], 'x').length, 0, 'no report asked for, none sent');
  });

  it('counts the wants and haves of a fetch, and names its protocol v2 command', () => {
    const v2 = Buffer.concat([
      pkt('command=fetch\n'),
      pkt('agent=git/2.39\n'),
      Buffer.from('0001'),
      pkt(`want ${A}\n`),
      pkt(`have ${B}\n`),
      pkt(`have ${A}\n`),
      pkt('done\n'),
      FLUSH,
    ]);
    assert.deepEqual(readFetchRequest(v2), { command: 'fetch', wants: 1, haves: 2 });
    const v0 = Buffer.concat([pkt(`want ${A} multi_ack\n`), FLUSH, pkt('done\n')]);
    assert.deepEqual(readFetchRequest(v0), { command: 'fetch', wants: 1, haves: 0 });
  });
});
