import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { plantedEnv } from '../gateway/testing/planted.js';
import {
  keepTranscripts,
  receiveTranscripts,
  safeName,
  scrubTranscript,
  sweepTranscripts,
} from './transcript.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'sluice-transcript-'));
  dirs.push(d);
  return d;
};

/** Sends `frames` to the receiver at `path` as the runner does; resolves with what it answered. */
function handOver(path: string, frames: Buffer[], endIt = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('close', () => resolve(answer));
    s.on('error', reject);
    for (const f of frames) s.write(f);
    if (endIt) s.end();
    else s.destroy();
  });
}

const frame = (file: string, text: string) =>
  Buffer.concat([
    Buffer.from(JSON.stringify({ file, bytes: Buffer.byteLength(text) }) + '\n'),
    Buffer.from(text),
  ]);

describe('session transcripts', () => {
  it('scrubs every string of every JSON line, keeping each line JSON; personal data only when asked', () => {
    const { secrets } = plantedEnv();
    const gh = secrets.find((s) => s.rule === 'github-pat')?.value as string;
    const line = JSON.stringify({
      type: 'user',
      message: {
        content: [
          { type: 'tool_result', content: `GITHUB_TOKEN=${gh}\nmail ada.lovelace@analytical-engines.co.uk` },
        ],
      },
    });
    const secretsOnly = scrubTranscript(`${line}\nnot json ${gh}\n`, ['secret']);
    const [first, second] = secretsOnly.text.split('\n');
    assert.ok(!secretsOnly.text.includes(gh));
    assert.match(JSON.stringify(JSON.parse(first as string)), /GITHUB_TOKEN=\[REDACTED:github-pat:1\]/);
    assert.match(
      first as string,
      /ada\.lovelace@analytical-engines\.co\.uk/,
      'personal data stays under full logging',
    );
    assert.equal(second, 'not json [REDACTED:github-pat:1]');
    assert.equal(secretsOnly.redactions['github-pat'], 2);
    const both = scrubTranscript(line, ['secret', 'pii']);
    assert.ok(!both.text.includes('ada.lovelace@analytical-engines.co.uk'));
    assert.equal(both.redactions.email, 1);
  });

  it('receives a complete hand-over and acknowledges it', async () => {
    const dir = await temp();
    const receiver = await receiveTranscripts(join(dir, 't.sock'), 1024 * 1024);
    const answer = await handOver(join(dir, 't.sock'), [
      frame('-workspace-w/a.jsonl', '{"a":1}\n'),
      frame('-workspace-w/a/subagents/b.jsonl', '{"b":2}\n'),
    ]);
    assert.equal(answer, 'ok\n');
    const got = await receiver.finish();
    assert.deepEqual(
      got.files.map((f) => [f.name, f.bytes.toString()]),
      [
        ['-workspace-w/a.jsonl', '{"a":1}\n'],
        ['-workspace-w/a/subagents/b.jsonl', '{"b":2}\n'],
      ],
    );
    assert.equal(got.complete, true);
  });

  it('keeps nothing of a hand-over that breaks off, lies about its length, or is too large', async () => {
    const dir = await temp();
    const cut = await receiveTranscripts(join(dir, 'a.sock'), 1024);
    await handOver(join(dir, 'a.sock'), [frame('x.jsonl', '{"a":1}\n').subarray(0, 20)]);
    assert.deepEqual(await cut.finish(), { files: [], complete: false, truncated: false });
    const liar = await receiveTranscripts(join(dir, 'b.sock'), 1024);
    await handOver(join(dir, 'b.sock'), [Buffer.from('{"file":"x","bytes":-5}\n')]);
    assert.equal((await liar.finish()).files.length, 0);
    const big = await receiveTranscripts(join(dir, 'c.sock'), 100);
    await handOver(join(dir, 'c.sock'), [frame('x.jsonl', 'x'.repeat(200))]);
    assert.deepEqual(await big.finish(), { files: [], complete: false, truncated: true });
    const none = await receiveTranscripts(join(dir, 'd.sock'), 100);
    assert.deepEqual(await none.finish(), { files: [], complete: false, truncated: false });
  });

  it('keeps scrubbed files private under safe names, and removes sessions past retention', async () => {
    const dir = join(await temp(), 'acme');
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    const kept = await keepTranscripts(
      dir,
      's1',
      [{ name: '../../etc/-workspace-w/x.jsonl', bytes: Buffer.from(`{"t":"${token}"}\n`) }],
      ['secret'],
    );
    assert.deepEqual(await readdir(kept.folder), ['etc__-workspace-w__x.jsonl']);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(kept.folder)).mode & 0o777, 0o700);
    const file = join(kept.folder, 'etc__-workspace-w__x.jsonl');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(!(await readFile(file, 'utf8')).includes(token));
    await mkdir(join(dir, 's0'));
    await utimes(join(dir, 's0'), new Date('2026-01-01'), new Date('2026-01-01'));
    assert.equal(await sweepTranscripts(dir, new Date('2026-02-01')), 1);
    assert.deepEqual(await readdir(dir), ['s1']);
    assert.equal(safeName('a/../b c/.jsonl'), 'a__b_c__.jsonl');
  });
});
