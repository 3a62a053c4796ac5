import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAllowlisted } from './allowlist.js';
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
    '[REDACTED:github-pat:3]',
    '4111 1111 1111 1111',
  ];
  for (const value of placeholders) it(`allows ${value}`, () => assert.ok(isAllowlisted(value)));

  it('does not allow random values', () => {
    for (let i = 0; i < 50; i++) assert.ok(!isAllowlisted(fake(ALNUM, 40, `allow-${i}`)));
  });
});
