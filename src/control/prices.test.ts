import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worstCost } from './limits.js';
import { familyOf, PriceBook } from './prices.js';

const at = () => new Date('2026-12-01T00:00:00.000Z');
const usage = (
  inputTokens: number,
  outputTokens: number,
  cacheCreationInputTokens = 0,
  cacheReadInputTokens = 0,
) => ({
  inputTokens,
  outputTokens,
  cacheCreationInputTokens,
  cacheReadInputTokens,
});

describe('prices', () => {
  it('the default client model of today is priced by the dataset (it was refused: no price)', () => {
    const q = new PriceBook({}, at).quote('claude-opus-5-5');
    assert.equal(q.source, 'dataset');
    assert.equal(q.note, null);
    assert.deepEqual(q.price, { input: 4, output: 20, cacheWrite: 5, cacheRead: 0.2 });
  });

  it('dated ids find their model; cost uses the cache-write and cache-read prices', () => {
    const book = new PriceBook({}, at);
    assert.equal(book.quote('claude-sonnet-4-5-20250929').entry, 'claude-sonnet-4-5');
    // 10k of each: 3 input + 15 output + 3.75 cache write + 0.3 cache read per million.
    const small = book.cost('claude-sonnet-4-5-20250929', usage(1e4, 1e4, 1e4, 1e4), at());
    assert.ok(Math.abs(small - (3 + 15 + 3.75 + 0.3) / 100) < 1e-12, String(small));
    // Past 200k input tokens (cached ones count) the dataset's long-context tier applies.
    const long = book.cost('claude-sonnet-4-5-20250929', usage(1e5, 1e5, 1e5, 1e5), at());
    assert.ok(Math.abs(long - (6 + 22.5 + 7.5 + 0.6) / 10) < 1e-12, String(long));
  });

  it('configured prices override the dataset, cache prices included, by id or prefix', () => {
    const book = new PriceBook(
      { 'claude-opus-5-5': { input: 1, output: 2, cacheWrite: 3, cacheRead: 4 } },
      at,
    );
    const q = book.quote('claude-opus-5-5-20261101');
    assert.equal(q.source, 'config');
    assert.equal(q.entry, 'claude-opus-5-5');
    assert.equal(book.cost(q.model, usage(1e6, 1e6, 1e6, 1e6), at()), 10);
  });

  it('an unknown model is charged at the dearest price of its family, with a note', () => {
    const book = new PriceBook({}, at);
    const q = book.quote('claude-opus-9-1');
    assert.equal(q.source, 'family');
    assert.equal(q.entry, 'opus*');
    // The dearest opus in the dataset: claude-3-opus and claude-opus-4 at 15/75.
    assert.deepEqual(q.price, { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 });
    assert.equal(
      q.note,
      'model "claude-opus-9-1" has no known price: charged at the dearest opus price ($15 in / $75 out per million tokens); add it under prices: to set its own',
    );
    assert.equal(book.quote('mystery-model').entry, 'claude*');
  });

  it('admission reserves at the dearest long-context tier', () => {
    const book = new PriceBook({}, at);
    const q = book.quote('claude-sonnet-4-5');
    assert.equal(q.price.input, 3);
    assert.equal(q.worst.input, 6);
    // 1M input tokens at the dearer of input and cache write, long-context tier: $7.50.
    assert.equal(worstCost(q.worst, { inputBytes: 2e6, maxTokens: 0 }, 2), 7.5);
  });

  it('families', () => {
    assert.equal(familyOf('claude-opus-5-5'), 'opus');
    assert.equal(familyOf('claude-3-5-haiku-20241022'), 'haiku');
    assert.equal(familyOf('anthropic.claude-sonnet-4-5-v1:0'), 'sonnet');
    assert.equal(familyOf('gpt-5'), null);
  });
});
