import assert from 'node:assert/strict';
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { awsTestCredentials, startBedrockStandin } from '../testing/clouds.js';
import { startHarness, type Harness } from '../testing/harness.js';

const running: { close(): Promise<void> }[] = [];
after(async () => {
  for (const r of running) await r.close();
});
const codec = new EventStreamCodec(toUtf8, fromUtf8);

async function harness(org = '{ upstream: anthropic }', opts: Parameters<typeof startHarness>[1] = {}) {
  const h = await startHarness(org, opts);
  running.push(h);
  return h;
}

/** A request as Claude Code sends it in Bedrock's format (with the Sluice key as its bearer token). */
function bedrockCall(h: Harness, path: string, body: Record<string, unknown>) {
  return request(`${h.gateway.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.key}`,
      'content-type': 'application/json',
      'anthropic-beta': 'claude-code-20250219',
      'x-amz-user-agent': 'aws-sdk-js/3',
    },
    body: JSON.stringify(body),
  });
}

const bedrockBody = {
  anthropic_version: 'bedrock-2023-05-31',
  anthropic_beta: ['interleaved-thinking-2025-05-14'],
  max_tokens: 50,
  messages: [{ role: 'user', content: 'hi' }],
};

/** The Messages API events a Bedrock event stream carries, decoded by the AWS SDK's own codec. */
async function eventsOf(body: AsyncIterable<Uint8Array>): Promise<{ type: string }[]> {
  const out: { type: string }[] = [];
  for await (const frame of getChunkedStream(body)) {
    const m = codec.decode(frame);
    assert.equal(m.headers[':message-type']?.value, 'event');
    assert.equal(m.headers[':event-type']?.value, 'chunk');
    const { bytes } = JSON.parse(toUtf8(m.body)) as { bytes: string };
    out.push(JSON.parse(Buffer.from(bytes, 'base64').toString('utf8')) as { type: string });
  }
  return out;
}

describe("a client in Bedrock's format", () => {
  it('is answered in the binary event stream; the upstream got a Messages request with every beta', async () => {
    const h = await harness();
    const res = await bedrockCall(h, '/model/claude-sonnet-4-5/invoke-with-response-stream', bedrockBody);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.amazon.eventstream');
    const events = await eventsOf(res.body);
    assert.equal(events[0]?.type, 'message_start');
    assert.equal(events.at(-1)?.type, 'message_stop');
    assert.ok(events.some((e) => e.type === 'content_block_delta'));
    const seen = h.standin.seen.at(-1);
    assert.equal(seen?.url, '/v1/messages');
    assert.equal(seen?.headers['anthropic-beta'], 'claude-code-20250219,interleaved-thinking-2025-05-14');
    assert.equal(seen?.headers['x-amz-user-agent'], undefined);
    const sent = JSON.parse(String(seen?.body)) as Record<string, unknown>;
    assert.equal(sent.model, 'claude-sonnet-4-5');
    assert.equal(sent.stream, true);
    assert.equal('anthropic_version' in sent || 'anthropic_beta' in sent, false);
    const [r] = await h.store.queryAudit({ limit: 1 });
    assert.equal(r?.path, '/model/claude-sonnet-4-5/invoke-with-response-stream');
    assert.equal(r?.model, 'claude-sonnet-4-5');
    assert.equal(r?.cacheReadInputTokens, 100);
  });

  it("a Bedrock model id is the Anthropic API's id upstream and in the record (so prices apply)", async () => {
    const h = await harness();
    const res = await bedrockCall(
      h,
      '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke',
      bedrockBody,
    );
    assert.equal(res.statusCode, 200);
    const answer = (await res.body.json()) as { content: unknown[] };
    assert.equal(answer.content.length, 1);
    assert.equal(
      (JSON.parse(String(h.standin.seen.at(-1)?.body)) as { model: string }).model,
      'claude-sonnet-4-5-20250929',
    );
    const [r] = await h.store.queryAudit({ limit: 1 });
    assert.equal(r?.model, 'claude-sonnet-4-5-20250929');
    assert.ok((r?.costUsd ?? 0) > 0);
  });

  it('to a Bedrock upstream, it is signed and re-framed both ways', async () => {
    const creds = awsTestCredentials();
    const aws = await startBedrockStandin({ region: 'eu-west-1', credentials: creds });
    running.push(aws);
    const h = await harness('{ upstream: aws }', {
      upstreams: `  aws: { provider: bedrock, region: eu-west-1, baseUrl: "${aws.url}" }`,
      cloud: { aws: () => async () => creds },
    });
    const res = await bedrockCall(
      h,
      '/model/us.anthropic.claude-opus-4-8/invoke-with-response-stream',
      bedrockBody,
    );
    const events = await eventsOf(res.body);
    assert.equal(events.at(-1)?.type, 'message_stop');
    assert.deepEqual(aws.refused, []);
    assert.equal(aws.seen.at(-1)?.url, '/model/us.anthropic.claude-opus-4-8/invoke-with-response-stream');
  });

  it('a gateway error is the Anthropic envelope, and the client still needs its Sluice key', async () => {
    const h = await harness('{ upstream: anthropic, models: [claude-haiku-4-5] }');
    const refused = await bedrockCall(h, '/model/claude-sonnet-4-5/invoke', bedrockBody);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['x-sluice-error'], 'model_not_allowed');
    assert.equal(((await refused.body.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
    const anonymous = await request(`${h.gateway.url}/model/claude-sonnet-4-5/invoke`, {
      method: 'POST',
      body: '{}',
    });
    assert.equal(anonymous.statusCode, 401);
    await anonymous.body.dump();
  });

  it('its start-up question for inference profiles is answered with none, without a key or a record', async () => {
    const h = await harness();
    const res = await request(`${h.gateway.url}/inference-profiles?type=SYSTEM_DEFINED`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { inferenceProfileSummaries: [] });
    assert.deepEqual(await h.store.queryAudit({}), []);
  });

  it('a body that is not JSON is a 400 that says so', async () => {
    const h = await harness();
    const res = await request(`${h.gateway.url}/model/claude-sonnet-4-5/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.key}` },
      body: '{"messages": [',
    });
    assert.equal(res.statusCode, 400);
    assert.match(((await res.body.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });
});

describe("a client in Vertex AI's format", () => {
  const path =
    '/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict';
  it('is served as a Messages request and answered with its server-sent events', async () => {
    const h = await harness();
    const res = await request(`${h.gateway.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.key}`,
        'anthropic-beta': 'claude-code-20250219',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        anthropic_version: 'vertex-2023-10-16',
        stream: true,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    assert.match(await res.body.text(), /event: message_stop/);
    const sent = JSON.parse(String(h.standin.seen.at(-1)?.body)) as Record<string, unknown>;
    assert.equal(sent.model, 'claude-sonnet-4-5-20250929');
    assert.equal('anthropic_version' in sent, false);
    assert.equal(h.standin.seen.at(-1)?.headers['anthropic-beta'], 'claude-code-20250219');
  });

  it('counts tokens for the model its body names', async () => {
    const h = await harness();
    const res = await request(
      `${h.gateway.url}/v1/projects/p/locations/global/publishers/anthropic/models/count-tokens:rawPredict`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${h.key}` },
        body: JSON.stringify({
          anthropic_version: 'vertex-2023-10-16',
          model: 'claude-sonnet-4-5@20250929',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      },
    );
    assert.equal(res.statusCode, 200);
    assert.ok(((await res.body.json()) as { input_tokens: number }).input_tokens > 0);
    assert.equal(h.standin.seen.at(-1)?.url, '/v1/messages/count_tokens');
  });
});

describe("a client in Foundry's format", () => {
  it('is the Messages API under /anthropic, with the Sluice key as its Foundry key', async () => {
    const h = await harness();
    const res = await request(`${h.gateway.url}/anthropic/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': h.key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(h.standin.seen.at(-1)?.url, '/v1/messages?beta=true');
  });
});
