import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mask } from './mask.js';
import { detectionRules } from './rules/index.js';
import { scan } from './scan.js';

describe('mask', () => {
  it('shows the first four characters and the length', () => {
    assert.equal(mask('ghp_' + 'k7Qz'.repeat(9)), 'ghp_…(40 chars)');
  });

  it('shows nothing of a short value', () => {
    assert.equal(mask('hunter2'), '…(7 chars)');
    assert.equal(mask(''), '…(0 chars)');
  });

  it('never contains the whole value (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (value) => {
        const preview = mask(value);
        assert.ok(!preview.replace(/…\(\d+ chars\)$/, '').includes(value));
      }),
    );
  });

  it('never reveals a detected value in any rule sample', () => {
    for (const rule of detectionRules) {
      for (const tp of rule.samples.tp) {
        for (const d of scan(tp)) assert.ok(!mask(d.value).includes(d.value), `${rule.id} preview leaks`);
      }
    }
  });
});
