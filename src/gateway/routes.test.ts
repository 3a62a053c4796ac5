import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTES, routeFor } from './routes.js';

describe('the route table', () => {
  it('finds each route by method and path, and anything else is the unknown route', () => {
    const cases: [string, string, string][] = [
      ['POST', '/v1/messages', 'messages'],
      ['POST', '/v1/messages/count_tokens', 'count_tokens'],
      ['GET', '/v1/models', 'models'],
      ['GET', '/healthz', 'health'],
      ['HEAD', '/api/hello', 'hello'],
      ['POST', '/v1/metrics', 'otlp'],
      ['DELETE', '/admin/v1/orgs/acme/keys/k', 'admin'],
      ['POST', '/v1/files', 'stores-content'],
      ['GET', '/v1/messages/batches/b1', 'stores-content'],
      ['POST', '/anthropic/v1/messages', 'foundry-messages'],
      ['POST', '/anthropic/v1/messages/count_tokens', 'foundry-count_tokens'],
      ['POST', '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke', 'bedrock-invoke'],
      ['POST', '/model/claude-sonnet-4-5/invoke-with-response-stream', 'bedrock-invoke'],
      ['POST', '/model/claude-sonnet-4-5/converse', 'unknown'],
      [
        'POST',
        '/v1/projects/p/locations/global/publishers/anthropic/models/claude-opus-4-8:streamRawPredict',
        'vertex-predict',
      ],
      [
        'POST',
        '/projects/p/locations/us-east5/publishers/anthropic/models/claude-opus-4-8:rawPredict',
        'vertex-predict',
      ],
      [
        'POST',
        '/v1/projects/p/locations/global/publishers/anthropic/models/count-tokens:rawPredict',
        'vertex-count-tokens',
      ],
      ['POST', '/v1/projects/p/locations/global/publishers/google/models/gemini:rawPredict', 'unknown'],
      ['GET', '/inference-profiles', 'bedrock-inference-profiles'],
      ['GET', '/v1/messages', 'unknown'],
      ['POST', '/v2/messages', 'unknown'],
    ];
    for (const [method, path, name] of cases)
      assert.equal(routeFor(method, path).name, name, `${method} ${path}`);
  });

  it('model traffic runs the stages in DESIGN.md order and is recorded', () => {
    const messages = ROUTES.find((r) => r.name === 'messages');
    assert.deepEqual(messages?.stages, [
      'authenticate',
      'authorize',
      'read',
      'route',
      'limit',
      'inspect',
      'journal',
      'forward',
      'relay',
      'account',
    ]);
    assert.equal(messages?.recorded, true);
    assert.equal(ROUTES.find((r) => r.name === 'stores-content')?.zdr, 'refuse');
  });
});
