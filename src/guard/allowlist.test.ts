import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowMatcher, allowPatternError, isAllowlisted } from './allowlist.js';
import { ALNUM, fake } from './rules/fake.js';

describe('isAllowlisted', () => {
  const placeholders = [
    'AKIA' + 'IOSFODNN7EXAMPLE',
    'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY',
    'xxxxxxxxxxxxxxxx',
    'ghp_' + 'a'.repeat(36),
    'your-key',
    '<your-key>',
    '${API_KEY}',
    '$API_KEY',
    '{{ api_key }}',
    'process.env.API_KEY',
    'os.environ["API_KEY"]',
    'changeme',
    'example-token-123',
    'placeholder',
    'dummy_secret',
    'REDACTED',
    '****',
    'AKIA' + 'X'.repeat(16),
    'sk-ant-xxxx',
    'xxxx-xxxx-xxxx-xxxx',
    '[REDACTED:github-pat:3]',
    '4111 1111 1111 1111',
    'db-password',
    'my-top-secret',
    'password-for-30001',
    'pass%2Bword',
    'mypass',
    '{ENCODED_PASSWORD}',
    'your-access-token',
    'tiger',
    'DE89 3704 0044 0532 0130 00',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.' +
      'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  ];
  for (const value of placeholders) it(`allows ${value}`, () => assert.ok(isAllowlisted(value)));

  it('does not allow chosen passwords that merely contain a word', () => {
    for (const value of ['Summer2024!Password', 'pa55word-x9Q', 'hunter2', 'correct horse battery staple'])
      assert.ok(!isAllowlisted(value), value);
  });

  it('does not allow a real key that happens to hold xxxx (about 1 in 25,000 random keys)', () => {
    // Found by the soak (bench/soak.ts): an AWS key with XXXX in its body went out in the clear.
    const body = fake(ALNUM.toUpperCase().replace(/[a-z]/g, ''), 12, 'xxxx-key');
    for (const value of [
      'AKIA' + body.slice(0, 6) + 'XXXX' + body.slice(6),
      'ghp_' + fake(ALNUM, 16, 'xxxx-pat') + 'xXxX' + fake(ALNUM, 16, 'xxxx-pat-2'),
    ])
      assert.ok(!isAllowlisted(value), value);
  });

  it('does not allow random values', () => {
    for (let i = 0; i < 50; i++) assert.ok(!isAllowlisted(fake(ALNUM, 40, `allow-${i}`)));
  });
});

describe('allowMatcher', () => {
  it('matches whole values, literally or with * for any run of characters', () => {
    const allowed = allowMatcher(['*@acme-corp.io', 'sk-test-*', 'a.b+c@x.io', '*-*-fixture']);
    assert.ok(allowed('jane.doe@acme-corp.io'));
    assert.ok(allowed('sk-test-' + fake(ALNUM, 20, 'allow-test')));
    assert.ok(allowed('a.b+c@x.io'));
    assert.ok(allowed('db-user-fixture'));
    assert.ok(!allowed('jane.doe@acme-corp.io.evil.com'), 'the whole value must match');
    assert.ok(!allowed('abxbc@x.io'), '. and + are literal');
    assert.ok(!allowed('live-sk-test-1'));
  });

  it('allows nothing without entries', () => assert.ok(!allowMatcher([])('anything')));

  it('matches a many-star entry against a near miss in linear steps, not exponential', () => {
    const glob = '*a'.repeat(40) + '*b';
    assert.ok(!allowMatcher([glob])('a'.repeat(2000)));
    assert.ok(allowMatcher([glob])('a'.repeat(2000) + 'b'));
  });

  it('refuses entries that would allow everything', () => {
    assert.equal(allowPatternError('*'), 'would allow every value; set the kind to off instead');
    assert.equal(allowPatternError('**'), 'would allow every value; set the kind to off instead');
    assert.equal(allowPatternError(''), 'must be 1 to 256 characters');
    assert.equal(allowPatternError('*@acme-corp.io'), undefined);
  });
});
