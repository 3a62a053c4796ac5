import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicModelId, shortModelId, upstreamModelId } from './models.js';

describe('model ids by route', () => {
  it("finds a model by any route's id: Bedrock's in any region or as an ARN, Vertex AI's, dated", () => {
    for (const id of [
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'claude-sonnet-4-5@20250929',
    ])
      assert.equal(shortModelId(id), 'claude-sonnet-4-5', id);
    assert.equal(shortModelId('claude-test'), undefined);
  });

  it("a cloud-format id becomes the Anthropic API's; an id the API takes stays", () => {
    assert.equal(anthropicModelId('us.anthropic.claude-opus-4-1-20250805-v1:0'), 'claude-opus-4-1-20250805');
    assert.equal(anthropicModelId('claude-opus-4-5@20251101'), 'claude-opus-4-5-20251101');
    assert.equal(anthropicModelId('claude-opus-4-5'), 'claude-opus-4-5');
    assert.equal(anthropicModelId('claude-test'), 'claude-test');
  });

  it("each upstream's id: its table first (by the id asked for, then the short id), then the defaults", () => {
    assert.equal(
      upstreamModelId('bedrock', {}, 'claude-sonnet-4-5-20250929'),
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    assert.equal(
      upstreamModelId(
        'bedrock',
        { 'claude-sonnet-4-5': 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0' },
        'claude-sonnet-4-5-20250929',
      ),
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    assert.equal(upstreamModelId('vertex', {}, 'claude-haiku-4-5'), 'claude-haiku-4-5@20251001');
    assert.equal(upstreamModelId('foundry', {}, 'claude-haiku-4-5-20251001'), 'claude-haiku-4-5');
    assert.equal(upstreamModelId('anthropic', {}, 'claude-haiku-4-5'), 'claude-haiku-4-5');
    assert.equal(
      upstreamModelId('anthropic', {}, 'us.anthropic.claude-haiku-4-5-20251001-v1:0'),
      'claude-haiku-4-5-20251001',
    );
  });

  it('an unknown model has no cloud id, but the Anthropic API takes it and Bedrock takes its own form', () => {
    assert.equal(upstreamModelId('vertex', {}, 'claude-test'), undefined);
    assert.equal(upstreamModelId('foundry', {}, 'claude-test'), undefined);
    assert.equal(upstreamModelId('bedrock', {}, 'claude-test'), undefined);
    assert.equal(upstreamModelId('anthropic', {}, 'claude-test'), 'claude-test');
    assert.equal(upstreamModelId('bedrock', {}, 'us.anthropic.claude-next-9'), 'us.anthropic.claude-next-9');
    assert.equal(
      upstreamModelId('bedrock', {}, 'claude-mythos-5'),
      undefined,
      'a model Bedrock does not serve',
    );
  });
});
