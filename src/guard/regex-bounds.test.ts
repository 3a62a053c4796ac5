import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxMatchLength } from './regex-bounds.js';

describe('maxMatchLength', () => {
  const cases: [RegExp, number][] = [
    [/abc/, 3],
    [/a{2,5}b?/, 6],
    [/(?:ab|cde){1,3}/, 9],
    [/(?<![a-z])x[0-9a-f]{32}(?=\s)/, 33],
    [/[\]x]{4}\.\d/, 6],
    [/(ab)-\1/, 5],
    [/^a$|b{0,2}/, 2],
    [/a*/, Infinity],
    [/(?:a+b){1,2}/, Infinity],
    [/x{3,}/, Infinity],
  ];
  for (const [re, expected] of cases) {
    it(`${re} -> ${expected}`, () => assert.equal(maxMatchLength(re), expected));
  }
});
