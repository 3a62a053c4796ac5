import assert from 'node:assert/strict';
import { readFile, stat, chmod, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { redactLine, stringValues } from './jsonl.js';
import { scrubFile, scrubMachine } from './scrub.js';
import { CANARY, fixture, testInspector, type Fixture } from './testing/machine.js';
import { DOTENV, transcriptLines } from './testing/transcript.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));
const TRANSCRIPT = 'home/.claude/projects/-home-dev-app/7f3c2a10-5b1e-4c8e-9a77-0d2f6b1e4c55.jsonl';

describe('jsonl string values', () => {
  it('finds values, not keys, with exact offsets through escapes', () => {
    const line = '{"a":"x\\"y","b":[1,"z\\u00e9"],"c":{"d" : "e"}}';
    const values = [...stringValues(line)];
    assert.deepEqual(
      values.map((v) => v.value),
      ['x"y', 'zé', 'e'],
    );
    for (const v of values) assert.equal(JSON.parse(line.slice(v.start, v.end)), v.value);
  });

  it('changes only the strings that hold secrets, byte for byte elsewhere', () => {
    const line = `{"n":1.50,"u":"caf\\u00e9","s":"key=${CANARY.aws}","t":"ok"}`;
    const r = redactLine(line, testInspector)!;
    assert.equal(r.text, '{"n":1.50,"u":"caf\\u00e9","s":"key=[REDACTED:aws-access-key]","t":"ok"}');
    assert.deepEqual(r.counts, { 'aws-access-key': 1 });
    assert.equal(redactLine('not json ' + CANARY.aws, testInspector), null);
  });
});

describe('scrub', () => {
  it('redacts a real-shape transcript in place: lines parse, secrets gone, the rest intact, idempotent', async () => {
    const f = await fixture();
    fixtures.push(f);
    const lines = transcriptLines();
    const file = await f.write(TRANSCRIPT, lines.join('\n') + '\n', 3);
    await chmod(file, 0o600);
    const before = await stat(file);
    const history = await f.write(
      'home/.claude/history.jsonl',
      `{"display":"token ${CANARY.github}","timestamp":1}\nnot json\n`,
    );

    const dry = await scrubMachine(f.machine, testInspector, { dryRun: true });
    assert.deepEqual(
      dry.files.map((x) => x.status),
      ['would-redact', 'would-redact'],
    );
    assert.equal(await readFile(file, 'utf8'), lines.join('\n') + '\n');

    const report = await scrubMachine(f.machine, testInspector);
    const t = report.files.find((x) => x.file === file)!;
    assert.equal(t.status, 'redacted');
    assert.deepEqual(t.lines, [3]);
    assert.deepEqual(t.redactions, { 'aws-access-key': 2, 'github-pat': 2 });
    const h = report.files.find((x) => x.file === history)!;
    assert.deepEqual(h.unparseableLines, [2]);
    assert.ok(
      !JSON.stringify(report).includes(CANARY.aws) && !JSON.stringify(report).includes(CANARY.github),
    );

    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(CANARY.aws) && !text.includes(CANARY.github));
    const after = text.trimEnd().split('\n');
    assert.equal(after.length, lines.length);
    after.forEach((l, i) => {
      const parsed = JSON.parse(l);
      if (i !== 2) assert.equal(l, lines[i]);
      else {
        const original = JSON.parse(lines[i]!);
        assert.equal(parsed.uuid, original.uuid);
        assert.equal(parsed.parentUuid, original.parentUuid);
        assert.deepEqual(parsed.toolUseResult.file.filePath, original.toolUseResult.file.filePath);
        assert.equal(parsed.message.content[0].type, 'tool_result');
        assert.equal(parsed.message.content[0].tool_use_id, 'toolu_01');
        assert.equal(
          parsed.toolUseResult.file.content,
          DOTENV.replace(CANARY.aws, '[REDACTED:aws-access-key]').replace(
            CANARY.github,
            '[REDACTED:github-pat]',
          ),
        );
      }
    });
    const s = await stat(file);
    assert.equal(s.mode & 0o777, 0o600);
    assert.equal(s.mtimeMs, before.mtimeMs);
    assert.ok((await readFile(history, 'utf8')).endsWith('\nnot json\n'));
    assert.deepEqual(
      (await readdir(dirname(file))).filter((n) => n.endsWith('.tmp')),
      [],
    );

    const again = await scrubMachine(f.machine, testInspector);
    assert.deepEqual(
      again.files.map((x) => x.status),
      ['clean', 'clean'],
    );
    assert.equal(await readFile(file, 'utf8'), text);
  });

  it('keeps a last line without a newline and CRLF endings exact', async () => {
    const f = await fixture();
    fixtures.push(f);
    const file = await f.write('x.jsonl', `{"a":"${CANARY.aws}"}\r\n{"b":"c"}`);
    await scrubFile(file, testInspector);
    assert.equal(await readFile(file, 'utf8'), '{"a":"[REDACTED:aws-access-key]"}\r\n{"b":"c"}');
  });

  it('--expired removes transcripts past the effective retention and scrubs the rest', async () => {
    const f = await fixture();
    fixtures.push(f);
    await f.write('home/.claude/settings.json', { cleanupPeriodDays: 10 });
    const old = await f.write('home/.claude/projects/-p/old.jsonl', '{"type":"summary"}\n', 11);
    const young = await f.write('home/.claude/projects/-p/young.jsonl', '{"type":"summary"}\n', 9);
    const dry = await scrubMachine(f.machine, testInspector, { expired: true, dryRun: true });
    assert.deepEqual(
      dry.files.filter((x) => x.status === 'would-remove').map((x) => x.file),
      [old],
    );
    await stat(old);
    const r = await scrubMachine(f.machine, testInspector, { expired: true });
    assert.deepEqual(
      r.files.map((x) => `${x.file === old ? 'old' : 'young'}:${x.status}`),
      ['old:removed', 'young:clean'],
    );
    await assert.rejects(stat(old));
    await stat(young);
    assert.equal(r.retentionDays, 10);
    void join;
  });
});
