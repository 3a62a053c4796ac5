import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ALNUM, fake } from './rules/fake.js';
import { detectionRules } from './rules/index.js';
import { GuardTimeoutError, prepareScan, scan, scanWithBudget } from './scan.js';
import type { DetectionRule } from './types.js';

const ghp = 'ghp_' + fake(ALNUM, 36, 'scan-test');
const awsId = 'AKIA' + 'QZ7RT2XWE5NMK3LP';

describe('scan', () => {
  it('finds secrets with offsets into the text, sorted by start', () => {
    const text = `a = "${ghp}"\nkey: ${awsId}\n`;
    const found = scan(text);
    assert.deepEqual(
      found.map((d) => [d.rule, d.kind, text.slice(d.start, d.end) === d.value]),
      [
        ['github-pat', 'secret', true],
        ['aws-access-key-id', 'secret', true],
      ],
    );
    assert.ok((found[0]?.start ?? 0) < (found[1]?.start ?? 0));
  });

  it('filters by kind and by disabled rule id', () => {
    const text = `${ghp} mail jane.doe@acme-corp.io`;
    assert.deepEqual(
      scan(text, { kinds: ['pii'] }).map((d) => d.rule),
      ['email'],
    );
    assert.deepEqual(
      scan(text, { disabledRules: ['email'] }).map((d) => d.rule),
      ['github-pat'],
    );
  });

  it('prefers a specific rule over a generic one on the same value', () => {
    const found = scan(`GITHUB_TOKEN="${ghp}"`);
    assert.deepEqual(
      found.map((d) => d.rule),
      ['github-pat'],
    );
  });

  it('drops documented examples and placeholders', () => {
    const text = [
      'AKIA' + 'IOSFODNN7EXAMPLE',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY',
      'ghp_' + 'x'.repeat(36),
      'API_KEY=${API_KEY}',
      'TOKEN=$TOKEN',
      'token = process.env.GITHUB_TOKEN',
      'password = os.environ["DB_PASSWORD"]',
      'password: changeme',
      'secret: <your-key>',
      'api_key: "[REDACTED:generic-api-key:1]"',
      'postgres://app:****@db/app',
    ].join('\n');
    assert.deepEqual(scan(text), []);
  });

  it('does not run a rule whose keyword is absent', () => {
    let calls = 0;
    const probe: DetectionRule = {
      id: 'probe',
      kind: 'secret',
      description: 'counts validate calls',
      keywords: ['zqx_'],
      pattern: /zqx_[a-z]{4}/,
      validate: () => {
        calls++;
        return true;
      },
      samples: { tp: [], fp: [] },
    };
    assert.deepEqual(scan('abcd efgh ijkl', { rules: [probe] }), []);
    assert.equal(calls, 0);
    assert.equal(scan('abcd zqx_ijkl', { rules: [probe] }).length, 1);
    assert.ok(calls > 0);
  });

  it('prepares a catalog up front, so a bad rule fails at start-up rather than on the first request', () => {
    const unbounded: DetectionRule = {
      id: 'unbounded',
      kind: 'secret',
      description: 'a pattern that could run away',
      keywords: ['zqx_'],
      pattern: /zqx_[a-z]+/,
      samples: { tp: [], fp: [] },
    };
    assert.throws(() => prepareScan([unbounded]), /rule unbounded: pattern has an unbounded quantifier/);
    assert.doesNotThrow(() => prepareScan());
  });

  it('throws GuardTimeoutError when the budget is spent', () => {
    let now = 0;
    const clock = () => (now += 10);
    assert.throws(() => scanWithBudget('x'.repeat(3 << 20), 5, { clock }), GuardTimeoutError);
    assert.doesNotThrow(() => scanWithBudget(`${ghp}`, 10_000));
  });

  it('returns the same findings as running every rule over the whole text (property)', () => {
    const samples = detectionRules.flatMap((r) => [...r.samples.tp, ...r.samples.fp]);
    const noise = fc.constantFrom(
      ' ',
      '\n',
      '=',
      '"',
      ':',
      '@',
      '-',
      '_',
      '.',
      '/',
      '0',
      '7',
      'a',
      'Z',
      'token',
      'pass',
      '://',
      '4111',
      '-',
      '+',
      'AC',
      'sk',
      'pat',
      'key-',
      'https://',
      'a@b.io',
      '536-22-',
      '123456',
      'é',
    );
    const piece = fc.oneof(fc.constantFrom(...samples), noise, fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), (pieces) => {
        const text = pieces.join('');
        assert.deepEqual(scan(text), scan(text, { prefilter: false }));
      }),
      { numRuns: 300, seed: 4 },
    );
    // Texts long enough for the WebAssembly walk, against the JS walk and the reference.
    fc.assert(
      fc.property(fc.array(piece, { minLength: 300, maxLength: 900 }), (pieces) => {
        const text = pieces.join('');
        const found = scan(text);
        assert.deepEqual(found, scan(text, { wasm: false }));
        assert.deepEqual(found, scan(text, { prefilter: false }));
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('finds a value whose keyword straddles the boundary between two pieces of a long text', () => {
    const piece = 1 << 20;
    for (const cut of [1, 2, 3, 4]) {
      // `ghp_` ends `cut` characters after the boundary; non-ASCII text on both sides.
      const text = 'é'.repeat(piece - 4 + cut - 1) + ' ' + ghp + ' ' + 'ü'.repeat(64) + ' ' + ghp;
      const found = scan(text);
      assert.deepEqual(
        found.map((d) => [d.rule, d.start]),
        [
          ['github-pat', piece - 4 + cut],
          ['github-pat', text.length - ghp.length],
        ],
      );
      assert.deepEqual(found, scan(text, { wasm: false }));
    }
  });
});
