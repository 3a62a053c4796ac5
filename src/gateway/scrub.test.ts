import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SCRUBBED, SecretScrubber } from './scrub.js';

const KEY = 'sk-ant-api03-REALUPSTREAMKEY-0123456789';

/** Feeds `text` in pieces cut at `cuts`, and returns what came out. */
function through(secrets: string[], text: string, cuts: number[]): string {
  const s = new SecretScrubber(secrets);
  const bytes = Buffer.from(text);
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(s.push(bytes.subarray(from, c)));
    from = c;
  }
  out.push(s.end());
  return Buffer.concat(out).toString();
}

describe('SecretScrubber', () => {
  it('replaces a credential wherever chunks split it, and passes everything else byte for byte', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.array(fc.nat(200), { maxLength: 8 }),
        (before, after, cuts) => {
          const text = `${before}{"error":{"message":"bad key ${KEY}"}}${after}${KEY}`;
          const expected = text.split(KEY).join(SCRUBBED);
          assert.equal(through([KEY], text, cuts), expected);
          assert.equal(through([KEY], before + after, cuts), before + after);
        },
      ),
    );
  });

  it('holds back only a tail that could begin a credential', () => {
    const s = new SecretScrubber([KEY]);
    assert.equal(s.push(Buffer.from('data: {"x":1}\n\n')).toString(), 'data: {"x":1}\n\n', 'nothing held');
    assert.equal(s.push(Buffer.from('text sk-an')).toString(), 'text ');
    assert.equal(s.push(Buffer.from('d more')).toString(), 'sk-and more', 'released once it is not one');
    assert.equal(s.end().length, 0);
  });

  it('ignores values too short to be a credential', () => {
    const s = new SecretScrubber(['k', 'short']);
    assert.equal(s.active, false);
    assert.equal(s.push(Buffer.from('k short')).toString(), 'k short');
  });
});
