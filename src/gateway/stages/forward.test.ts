import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { startStandin } from '../testing/standin.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { forward, UpstreamPools, upstreamHeaders } from './forward.js';

const standin = await startStandin('sk-ant-test');
const pools = new UpstreamPools();
after(async () => {
  await pools.close();
  await standin.close();
});
const body = '{"model":"claude-test","max_tokens":5,"messages":[]}';

describe('stage forward', () => {
  it("sends the upstream's key instead of the client's, and the body as it is in the context", async () => {
    const ctx = authorizedContext({
      body,
      url: '/v1/messages?beta=true',
      headers: {
        'x-api-key': 'sk-sluice-client',
        authorization: 'Bearer x',
        'anthropic-beta': 'b1',
        'accept-encoding': 'gzip',
      },
      config: testConfig('{ upstream: anthropic }', standin.url),
    });
    ctx.body = Buffer.from(body);
    await forward(pools, () => 5)(ctx);
    assert.equal(ctx.upstream?.status, 200);
    assert.equal(ctx.record.upstream, 'anthropic');
    assert.equal(ctx.upstreamSentAt, 5);
    for await (const _ of ctx.upstream?.body ?? []) void _;
    const seen = standin.seen.at(-1);
    assert.equal(seen?.url, '/v1/messages?beta=true');
    assert.equal(seen?.headers['x-api-key'], 'sk-ant-test');
    assert.equal(seen?.headers.authorization, undefined);
    assert.equal(seen?.headers['anthropic-beta'], 'b1');
    assert.equal(seen?.headers['accept-encoding'], 'identity');
    assert.equal(seen?.headers['x-sluice-request-id'], ctx.id, "the record's id travels upstream");
    assert.equal(seen?.body.toString(), body);
  });

  it('names the upstream and its host when it cannot be reached', async () => {
    const ctx = authorizedContext({
      body,
      config: testConfig('{ upstream: anthropic }', 'http://127.0.0.1:9'),
    });
    ctx.body = Buffer.from(body);
    await assert.rejects(Promise.resolve(forward(pools, () => 0)(ctx)), (e: SluiceError) => {
      assert.equal(e.code, 'upstream_unreachable');
      assert.match(e.message, /upstream "anthropic" \(127\.0\.0\.1:9\)/);
      return true;
    });
  });

  it('drops hop-by-hop headers and client credentials', () => {
    const up = testConfig().upstreams.anthropic;
    assert.ok(up);
    assert.deepEqual(
      upstreamHeaders(
        { connection: 'keep-alive', 'x-api-key': 'c', 'proxy-authorization': 'p', 'x-app': 'cli' },
        up,
      ),
      { 'x-app': 'cli', 'x-api-key': 'sk-ant-test', 'accept-encoding': 'identity' },
    );
  });
});
