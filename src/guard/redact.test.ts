import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlaceholderVault, redact } from './redact.js';
import { ALNUM, fake } from './rules/fake.js';
import { scan } from './scan.js';

const a = 'ghp_' + fake(ALNUM, 36, 'redact-a');
const b = 'ghp_' + fake(ALNUM, 36, 'redact-b');

describe('redact', () => {
  it('replaces each value with a stable, numbered placeholder', () => {
    const text = `one=${a} two=${b} again=${a} mail=jane.doe@acme-corp.io`;
    const vault = new PlaceholderVault();
    const out = redact(text, scan(text), vault);
    assert.equal(
      out,
      'one=[REDACTED:github-pat:1] two=[REDACTED:github-pat:2] again=[REDACTED:github-pat:1] mail=[REDACTED:email:1]',
    );
    assert.ok(!out.includes(a) && !out.includes(b));
    assert.equal(vault.size, 3);
  });

  it('keeps numbering across turns of one conversation', () => {
    const vault = new PlaceholderVault();
    const first = `x=${b}`;
    redact(first, scan(first), vault);
    const second = `y=${a} z=${b}`;
    assert.equal(redact(second, scan(second), vault), 'y=[REDACTED:github-pat:2] z=[REDACTED:github-pat:1]');
  });

  it('restores placeholders it issued and leaves others alone', () => {
    const vault = new PlaceholderVault();
    const text = `token ${a} and ${b}`;
    const redacted = redact(text, scan(text), vault);
    assert.equal(vault.restore(redacted), text);
    assert.equal(
      vault.restore('see [REDACTED:github-pat:9] and [REDACTED:github-pat:1]'),
      `see [REDACTED:github-pat:9] and ${a}`,
    );
  });

  it('leaves a text without detections unchanged', () => {
    assert.equal(redact('nothing here', [], new PlaceholderVault()), 'nothing here');
  });
});
