import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { KeywordAutomaton } from './keyword-automaton.js';
import { wasmWalker, type WasmWalker } from './keyword-walk-wasm.js';
import { detectionRules } from './rules/index.js';
import { prng } from './testing/prng.js';

/** The JS walk from the root at `from` over `text[from, to)`: every reporting `[index, k]`. */
function jsWalk(automaton: KeywordAutomaton, text: string, from: number, to: number): number[] {
  const { table, start, reportFrom, width } = automaton;
  const hits: number[] = [];
  let state = start;
  for (let i = from; i < to; i++) {
    state = table[state + (table[text.charCodeAt(i)] as number)] as number;
    if (state >= reportFrom) hits.push(i, (state - reportFrom) / width);
  }
  return hits;
}

function wasmWalk(walker: WasmWalker, text: string, from: number, to: number): number[] {
  const { hits, length } = walker.walk(text, from, to);
  return Array.from(hits.subarray(0, length));
}

function required(automaton: KeywordAutomaton): WasmWalker {
  const walker = wasmWalker(automaton);
  assert.ok(walker, 'this Node has WebAssembly with SIMD');
  return walker;
}

/**
 * Texts from keywords (in any case), their prefixes, digit runs, random ASCII and non-ASCII units,
 * repeated at random up to a length drawn so that every path of the walk is taken: one chain
 * (short texts), six chains over a short last chunk, and several full chunks (> 196608 characters).
 */
function texts(keywords: string[]): fc.Arbitrary<string> {
  const word = fc.constantFrom(...keywords);
  const piece = fc.oneof(
    word,
    word.map((k) => k.toUpperCase()),
    fc.tuple(word, fc.nat()).map(([k, n]) => k.slice(0, 1 + (n % k.length))),
    fc.stringMatching(/^[0-9]{1,8}$/),
    fc.string({ unit: 'binary-ascii', maxLength: 4 }),
    fc.constantFrom(
      ' ',
      '\n',
      'š',
      'é',
      '€',
      '😀',
      '\u0000',
      '\u007f',
      '\u00ff',
      '\uffff',
      '\ud800',
      'ǡc',
      'šk',
    ),
  );
  const length = fc.oneof(fc.nat(2000), fc.nat(20_000), fc.integer({ min: 190_000, max: 420_000 }));
  return fc
    .record({ pieces: fc.array(piece, { minLength: 1, maxLength: 40 }), length, seed: fc.nat() })
    .map(({ pieces, length, seed }) => {
      const next = prng(seed);
      const out: string[] = [];
      for (let total = 0; total < length;) {
        const p = pieces[Math.floor(next() * pieces.length)] as string;
        out.push(p);
        total += p.length + 1;
      }
      return out.join('');
    });
}

/** A text and a range in it, `from <= to`. */
function textAndRange(keywords: string[]): fc.Arbitrary<[string, number, number]> {
  return fc
    .tuple(
      texts(keywords),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    )
    .map(([text, a, b]) => {
      const [x, y] = [Math.floor(a * text.length), Math.floor(b * text.length)];
      return [text, Math.min(x, y), Math.max(x, y)];
    });
}

const catalog = [...new Set(detectionRules.flatMap((r) => r.keywords)), '0000'];

describe('wasmWalker', () => {
  it("reports exactly the JS walk's hits over a range, with the real catalog", () => {
    const automaton = new KeywordAutomaton(catalog.map((keyword, i) => ({ keyword, values: [i] })));
    const walker = required(automaton);
    fc.assert(
      fc.property(textAndRange(catalog), ([text, from, to]) => {
        assert.deepEqual(wasmWalk(walker, text, from, to), jsWalk(automaton, text, from, to));
        assert.deepEqual(wasmWalk(walker, text, 0, text.length), jsWalk(automaton, text, 0, text.length));
      }),
      { numRuns: 100, seed: 11 },
    );
  });

  it('reports exactly the JS walk of a small automaton, shared values and a long keyword included', () => {
    // The 300-character keyword makes each chain warm up over 299 characters before its segment,
    // and its occurrences cross segment and chunk boundaries.
    const long = 'ab'.repeat(150);
    const keywords = ['ac', 'acc', 'cc', 'ghp_', '@', '://', 'r8_', '0000', 'sk-ant-api', long];
    const automaton = new KeywordAutomaton(keywords.map((keyword, i) => ({ keyword, values: [i, i % 3] })));
    const walker = required(automaton);
    fc.assert(
      fc.property(textAndRange([...keywords, 'ab'.repeat(400), 'b' + long]), ([text, from, to]) => {
        assert.deepEqual(wasmWalk(walker, text, from, to), jsWalk(automaton, text, from, to));
      }),
      { numRuns: 100, seed: 12 },
    );
    // Partial matches longer than a segment of a short last chunk (~1600 characters: 6 segments of 272).
    for (const n of [1500, 1600, 1700, 2000, 4000]) {
      const text = 'ab'.repeat(n / 2);
      assert.deepEqual(wasmWalk(walker, text, 0, n), jsWalk(automaton, text, 0, n));
    }
  });

  it('finds keywords next to non-ASCII characters, and none made of them', () => {
    const automaton = new KeywordAutomaton(
      ['ac', 'sk', 'token', '@'].map((keyword, i) => ({ keyword, values: [i] })),
    );
    const walker = required(automaton);
    // š (U+0161) and ǡ (U+01E1) end in the byte of 'a', ū (U+016B) in that of 'k', ţ (U+0163) in
    // that of 'c': a walk over truncated code units would see 'ac' and 'sk' in 'šc', 'sū', 'aţ'.
    const sample = 'šc sū aţ ǡc Šk €token€ 😀@😀 token😀 \ud83dtoken \u0000ac\u007f Ac€';
    for (const pad of [0, 1, 2000, 32_760, 196_600]) {
      const text = 'x'.repeat(pad) + sample + ' '.repeat(pad % 7);
      const hits = wasmWalk(walker, text, 0, text.length);
      assert.deepEqual(hits, jsWalk(automaton, text, 0, text.length));
      /** The index of the last character of `keyword` in the first `context` of the text. */
      const end = (context: string, keyword: string): number =>
        text.indexOf(context) + context.indexOf(keyword) + keyword.length - 1;
      assert.deepEqual(
        hits.filter((_, i) => i % 2 === 0),
        [
          end('€token', 'token'),
          end('😀@', '@'),
          end('token😀', 'token'),
          end('\ud83dtoken', 'token'),
          end('ac\u007f', 'ac'),
          end('Ac€', 'Ac'),
        ],
      );
    }
  });

  it('finds keywords across chunk boundaries, whatever the length of the last chunk', () => {
    const automaton = new KeywordAutomaton(
      ['token', 'ken', 'n', '@'].map((keyword, i) => ({ keyword, values: [i] })),
    );
    const walker = required(automaton);
    const chunk = 6 * 32768; // CHAINS * SEG in assembly/keyword-walk.ts
    for (const tail of [1, 3, 700, 1500, 5000, chunk]) {
      for (const shift of [-5, -3, -1, 0, 1]) {
        const text = 'x'.repeat(chunk + shift) + 'token@' + 'y'.repeat(Math.max(0, tail - shift - 6));
        assert.deepEqual(wasmWalk(walker, text, 0, text.length), jsWalk(automaton, text, 0, text.length));
      }
    }
  });

  it('starts from the root at `from` and reports nothing that ends at or after `to`', () => {
    const automaton = new KeywordAutomaton([{ keyword: 'token', values: [0] }]);
    const walker = required(automaton);
    const text = 'a token, tokens';
    assert.deepEqual(wasmWalk(walker, text, 0, text.length), [6, 0, 13, 0]);
    assert.deepEqual(wasmWalk(walker, text, 3, text.length), [13, 0]);
    assert.deepEqual(wasmWalk(walker, text, 0, 6), []);
    assert.deepEqual(wasmWalk(walker, text, 5, 5), []);
  });

  it('is undefined without WebAssembly', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--jitless',
        '--import',
        import.meta.resolve('tsx'),
        '--input-type=module',
        '-e',
        `import { wasmWalker } from ${JSON.stringify(import.meta.resolve('./keyword-walk-wasm.ts'))};
         import { KeywordAutomaton } from ${JSON.stringify(import.meta.resolve('./keyword-automaton.ts'))};
         console.log(String(wasmWalker(new KeywordAutomaton([{ keyword: 'ac', values: [0] }]))));`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout, 'undefined\n', r.stderr);
  });

  it('ships the module that assembly/keyword-walk.ts compiles to', () => {
    const script = fileURLToPath(import.meta.resolve('../../scripts/build-wasm.mjs'));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
