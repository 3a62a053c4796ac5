/** Inputs built to make a backtracking regex engine stall; each scan must finish quickly. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scan } from './scan.js';

const SIZE = 200 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

const cases: [string, string][] = [
  ['a', fill('a')],
  ['=', fill('=')],
  ['eyJ', fill('eyJ')],
  ['eyJ with dots', fill('eyJabcdefgh.')],
  ['AKIA', fill('AKIA')],
  ['-----BEGIN', fill('-----BEGIN ')],
  ['private key headers', fill('-----BEGIN RSA PRIVATE KEY-----\n')],
  ['password= with no value', fill('password=')],
  ['token: spaces', fill('token:    ')],
  ['digits', fill('0123456789')],
  ['digits with spaces', fill('4111 ')],
  ['@ signs', fill('a@')],
  ['dotted domain', 'x@' + fill('a.')],
  ['url schemes', fill('http://a:')],
  ['ssh-like', fill('git@github.com:')],
  ['hex', fill('0123456789abcdef')],
  ['slack prefixes', fill('xoxb-1-')],
  ['generic secret runs', 'secret=' + fill('Ab1')],
];

describe('adversarial inputs', () => {
  for (const [name, text] of cases) {
    it(`scans 200 KB of ${name} in bounded time`, () => {
      const t0 = performance.now();
      scan(text);
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `${name}: ${ms.toFixed(0)} ms`);
    });
  }
});
