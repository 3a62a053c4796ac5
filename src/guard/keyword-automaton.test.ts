import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeywordAutomaton } from './keyword-automaton.js';

/** Every occurrence by brute force, with the automaton's folding (case; every digit reads as `0`). */
function naive(text: string, keywords: string[]): [number, number][] {
  const folded = text
    .toLowerCase()
    .replace(/[0-9]/g, '0')
    .replace(/[^ -~]/g, ' ');
  const found: [number, number][] = [];
  keywords.forEach((k, value) => {
    const key = k.replace(/[0-9]/g, '0');
    for (let at = folded.indexOf(key); at >= 0; at = folded.indexOf(key, at + 1))
      found.push([at + k.length - 1, value]);
  });
  return found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('KeywordAutomaton', () => {
  it('reports every occurrence of every keyword, overlapping ones included', () => {
    const keywords = ['ac', 'acc', 'cc', 'ghp_', '@', '://', 'r8_', '0000', 'sk-ant-api'];
    const automaton = new KeywordAutomaton(keywords.map((keyword, i) => ({ keyword, values: [i] })));
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'a',
            'A',
            'c',
            'C',
            'acc',
            'ghp_',
            'GHP_',
            '@',
            ':',
            '/',
            'r5_',
            '12345',
            'é',
            ' ',
            'sk-ant-api',
          ),
          {
            maxLength: 30,
          },
        ),
        (pieces) => {
          const text = pieces.join('');
          const got = automaton.occurrences(text).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          assert.deepEqual(got, naive(text, keywords));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('refuses upper-case and non-ASCII keywords', () => {
    assert.throws(() => new KeywordAutomaton([{ keyword: 'AKIA', values: [0] }]));
    assert.throws(() => new KeywordAutomaton([{ keyword: 'clé', values: [0] }]));
  });
});
