import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../control/config.js';
import type { SluiceError } from '../../errors/catalog.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { startHarness } from '../testing/harness.js';
import { startStandin } from '../testing/standin.js';
import { passedHeaders, UpstreamPools } from '../upstreams/adapter.js';
import { buildAdapters } from '../upstreams/index.js';
import { forward } from './forward.js';
import { route } from './route.js';

const standin = await startStandin('sk-ant-test');
const spare = await startStandin('sk-ant-spare');
const pools = new UpstreamPools();
after(async () => {
  await pools.close();
  await standin.close();
  await spare.close();
});
const body = '{"model":"claude-test","max_tokens":5,"messages":[]}';

/** Two Anthropic upstreams: `first` at `firstUrl`, then the spare stand-in. */
function failoverConfig(firstUrl: string) {
  return parseConfig(
    `upstreams:
  first: { provider: anthropic, baseUrl: "${firstUrl}", apiKey: sk-ant-test, timeoutMs: 2000 }
  spare: { provider: anthropic, baseUrl: "${spare.url}", apiKey: sk-ant-spare, timeoutMs: 2000 }
orgs:
  acme: { upstream: [first, spare] }
`,
    'test.yaml',
    {},
  );
}

/** A context for `body` through `route` and `forward`, as the pipeline runs them. */
async function forwarded(config = testConfig('{ upstream: anthropic }', standin.url)) {
  const ctx = authorizedContext({ body, url: '/v1/messages?beta=true', config });
  ctx.body = Buffer.from(body);
  ctx.record.model = 'claude-test';
  await route(buildAdapters(config))(ctx);
  await forward(pools, () => 5)(ctx);
  return ctx;
}

describe('stage forward', () => {
  it("sends the upstream's key instead of the client's, and the body as it is in the context", async () => {
    const config = testConfig('{ upstream: anthropic }', standin.url);
    const ctx = authorizedContext({
      body,
      url: '/v1/messages?beta=true',
      headers: {
        'x-api-key': 'sk-sluice-client',
        authorization: 'Bearer x',
        'anthropic-beta': 'b1',
        'accept-encoding': 'gzip',
      },
      config,
    });
    ctx.body = Buffer.from(body);
    ctx.record.model = 'claude-test';
    await route(buildAdapters(config))(ctx);
    await forward(pools, () => 5)(ctx);
    assert.equal(ctx.upstream?.status, 200);
    assert.equal(ctx.record.upstream, 'anthropic');
    assert.deepEqual(ctx.record.upstreamsTried, ['anthropic']);
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
    await assert.rejects(
      forwarded(testConfig('{ upstream: anthropic }', 'http://127.0.0.1:9')),
      (e: SluiceError) => {
        assert.equal(e.code, 'upstream_unreachable');
        assert.match(e.message, /upstream "anthropic" \(127\.0\.0\.1:9\)/);
        return true;
      },
    );
  });

  it('drops hop-by-hop headers, client credentials and AWS SDK headers', () => {
    assert.deepEqual(
      passedHeaders({
        connection: 'keep-alive',
        'x-api-key': 'c',
        'proxy-authorization': 'p',
        'x-app': 'cli',
        'x-amz-date': 'd',
        'amz-sdk-request': 'attempt=1',
      }),
      { 'x-app': 'cli', 'accept-encoding': 'identity' },
    );
  });
});

describe('failover along the org list', () => {
  it('an upstream that refuses the connection is passed over for the next one', async () => {
    const ctx = await forwarded(failoverConfig('http://127.0.0.1:9'));
    assert.equal(ctx.upstream?.status, 200);
    assert.equal(ctx.record.upstream, 'spare');
    assert.deepEqual(ctx.record.upstreamsTried, ['first', 'spare']);
    for await (const _ of ctx.upstream?.body ?? []) void _;
    assert.equal(spare.seen.at(-1)?.headers['x-api-key'], 'sk-ant-spare');
  });

  for (const [status, type] of [
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [503, 'api_error'],
    [529, 'overloaded_error'],
  ] as const)
    it(`an answer of ${status} moves on to the next upstream, and its body is not relayed`, async () => {
      standin.failNext.push({ status, type });
      const before = spare.seen.length;
      const ctx = await forwarded(failoverConfig(standin.url));
      assert.equal(ctx.upstream?.status, 200);
      assert.deepEqual(ctx.record.upstreamsTried, ['first', 'spare']);
      assert.equal(spare.seen.length, before + 1);
      for await (const _ of ctx.upstream?.body ?? []) void _;
    });

  it('an upstream that takes the connection and drops it before answering is passed over', async () => {
    const dropper: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const { port } = dropper.address() as { port: number };
    try {
      const ctx = await forwarded(failoverConfig(`http://127.0.0.1:${port}`));
      assert.equal(ctx.upstream?.status, 200);
      assert.deepEqual(ctx.record.upstreamsTried, ['first', 'spare']);
      for await (const _ of ctx.upstream?.body ?? []) void _;
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });

  it('never after the first byte: a stream that breaks is not spliced with another upstream', async () => {
    const h = await startHarness('{ upstream: [anthropic, spare] }', {
      upstreams: `  spare: { provider: anthropic, baseUrl: "${spare.url}", apiKey: sk-ant-spare }`,
    });
    try {
      h.standin.failNext.push({ resetMidStream: true });
      const before = spare.seen.length;
      const client = new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 });
      const stream = client.messages.stream({
        model: 'claude-test',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      });
      await assert.rejects(stream.finalMessage(), /failed mid-stream/);
      assert.equal(spare.seen.length, before, 'the spare upstream was not asked');
      const [r] = await h.store.queryAudit({ limit: 1 });
      assert.equal(r?.upstream, 'anthropic');
      assert.deepEqual(r?.upstreamsTried, ['anthropic']);
      assert.equal(r?.errorType, 'upstream_stream_error');
    } finally {
      await h.close();
    }
  });

  it('a 400 is the client\u2019s answer: a request the upstream refused is not resent elsewhere', async () => {
    standin.failNext.push({ status: 400, type: 'invalid_request_error' });
    const before = spare.seen.length;
    const ctx = await forwarded(failoverConfig(standin.url));
    assert.equal(ctx.upstream?.status, 400);
    assert.equal(ctx.record.upstream, 'first');
    assert.deepEqual(ctx.record.upstreamsTried, ['first']);
    assert.equal(spare.seen.length, before);
    for await (const _ of ctx.upstream?.body ?? []) void _;
  });

  it('the last upstream\u2019s failure is the client\u2019s answer', async () => {
    standin.failNext.push({ status: 529, type: 'overloaded_error' });
    spare.failNext.push({ status: 529, type: 'overloaded_error' });
    const ctx = await forwarded(failoverConfig(standin.url));
    assert.equal(ctx.upstream?.status, 529);
    assert.equal(ctx.record.upstream, 'spare');
    assert.deepEqual(ctx.record.upstreamsTried, ['first', 'spare']);
    for await (const _ of ctx.upstream?.body ?? []) void _;
  });
});
