/** Walks every rule in the catalog: its samples, its keywords, its id, and the safety of its pattern. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxMatchLength } from '../regex-bounds.js';
import { scan } from '../scan.js';
import { detectionRules } from './index.js';

const PII_IDS = ['email', 'phone', 'credit-card', 'iban', 'us-ssn'];
/** As the keyword automaton reads text: case-insensitive, every digit the same. */
const fold = (s: string): string => s.toLowerCase().replace(/[0-9]/g, '0');

describe('rule catalog', () => {
  it('has unique kebab-case ids and at least 60 secret rules', () => {
    const ids = detectionRules.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate rule id');
    for (const id of ids) assert.match(id, /^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    assert.ok(detectionRules.filter((r) => r.kind === 'secret').length >= 60);
  });

  it('names each PII rule after its kind', () => {
    assert.deepEqual(
      detectionRules
        .filter((r) => r.kind === 'pii')
        .map((r) => r.id)
        .sort(),
      [...PII_IDS].sort(),
    );
  });

  for (const rule of detectionRules) {
    describe(rule.id, () => {
      it('has lower-case ASCII keywords and no unbounded quantifier', () => {
        assert.ok(rule.keywords.length > 0, 'needs a keyword');
        for (const kw of rule.keywords) assert.match(kw, /^[\x20-\x40\x5b-\x7e]+$/, `keyword ${kw}`);
        assert.ok(Number.isFinite(maxMatchLength(rule.pattern)), 'unbounded quantifier');
        assert.ok(!rule.pattern.flags.includes('g') && !rule.pattern.flags.includes('y'), 'no g/y flags');
        assert.ok(rule.samples.tp.length > 0 && rule.samples.fp.length > 0, 'needs tp and fp samples');
      });

      it('detects every true positive, through its keyword', () => {
        for (const tp of rule.samples.tp) {
          assert.ok(
            rule.keywords.some((k) => fold(tp).includes(fold(k))),
            `no keyword in tp: ${tp.slice(0, 60)}`,
          );
          const found = scan(tp, { rules: [rule] });
          assert.equal(found.length, 1, `expected one finding in ${JSON.stringify(tp.slice(0, 200))}`);
          const m = new RegExp(rule.pattern.source, rule.pattern.flags).exec(tp);
          if (rule.keywordWithin !== undefined && m) {
            const head = tp.slice(
              m.index,
              m.index + rule.keywordWithin + Math.max(...rule.keywords.map((k) => k.length)),
            );
            assert.ok(
              rule.keywords.some((k) => fold(head).includes(fold(k))),
              `keyword not within ${rule.keywordWithin}`,
            );
          }
        }
      });

      it('ignores every false positive', () => {
        for (const fp of rule.samples.fp) {
          const found = scan(fp, { rules: [rule] });
          assert.deepEqual(
            found.map((d) => d.value),
            [],
            `false positive in ${JSON.stringify(fp.slice(0, 200))}`,
          );
        }
      });
    });
  }
});
