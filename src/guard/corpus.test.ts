/** A regression guard on detection quality: the evaluation corpus must stay at or above 0.98. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, loadCorpus, sluiceFindings } from './testing/corpus.js';

describe('evaluation corpus (test/fixtures/corpus)', () => {
  const corpus = loadCorpus('test/fixtures/corpus');
  const result = evaluate(corpus, sluiceFindings(corpus), true);

  it('is the size the issue asks for', () => {
    const secrets = corpus.labels.filter((l) => l.kind === 'secret');
    assert.ok(secrets.length >= 150, `${secrets.length} planted secrets`);
    assert.ok(new Set(secrets.map((l) => l.rule)).size >= 40);
    assert.ok(corpus.labels.some((l) => l.kind === 'pii'));
    assert.ok(corpus.labels.filter((l) => l.kind === 'negative').length >= 100);
  });

  it('keeps overall recall and precision at or above 0.98', () => {
    const detail = [
      ...result.missed.map((m) => `missed ${m.file}:${m.line} ${m.rule}`),
      ...result.falsePositives.map((f) => `false positive ${f.file}:${f.line} ${f.rule}`),
    ].join('\n');
    assert.ok(result.overall.recall >= 0.98, `recall ${result.overall.recall}\n${detail}`);
    assert.ok(result.overall.precision >= 0.98, `precision ${result.overall.precision}\n${detail}`);
  });

  it('reports no labelled look-alike', () => {
    const negatives = new Set(
      corpus.labels.filter((l) => l.kind === 'negative').map((l) => `${l.file}:${l.line}`),
    );
    const hits = result.falsePositives.filter((f) => negatives.has(`${f.file}:${f.line}`));
    assert.deepEqual(hits, []);
  });
});
