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
