import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { after, describe, it } from 'node:test';
import { awsTestCredentials, startBedrockStandin, type CloudStandin } from '../testing/clouds.js';
import { startHarness, type Harness } from '../testing/harness.js';

const creds = awsTestCredentials();
const running: { close(): Promise<void> }[] = [];
after(async () => {
  for (const r of running) await r.close();
});

/** A gateway whose org `acme` goes to a Bedrock stand-in (`aws`), then to `fallback` if listed. */
async function setup(
  org = '{ upstream: aws }',
  extra = '',
  signWith = creds,
): Promise<{ h: Harness; aws: CloudStandin }> {
  const aws = await startBedrockStandin({
    region: 'us-east-1',
    credentials: creds,
    apiKey: 'bedrock-api-key',
  });
  const h = await startHarness(org, {
    upstreams: `  aws: { provider: bedrock, region: us-east-1, baseUrl: "${aws.url}"${extra} }`,
    cloud: { aws: () => async () => signWith, pingEveryMs: 60_000 },
  });
  running.push(aws, h);
  return { h, aws };
}

const sdk = (h: Harness) => new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 });
const ask = {
  model: 'claude-sonnet-4-5',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'hi' }],
};

/** The error message the gateway wrote (the SDK's own message quotes it as JSON). */
const said = (e: unknown) =>
  String((e as { error?: { error?: { message?: string } } }).error?.error?.message);

async function lastRecord(h: Harness) {
  const [r] = await h.store.queryAudit({ limit: 1 });
  assert.ok(r);
  return r;
}

describe('a Bedrock upstream', () => {
  it('streams: signed with SigV4, model and betas translated, the event stream read back as SSE with usage', async () => {
    const { h, aws } = await setup();
    const stream = sdk(h).messages.stream(ask, {
      headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
    });
    const events: string[] = [];
    for await (const e of stream) events.push(e.type);
    const message = await stream.finalMessage();
    assert.deepEqual(
      message.content,
      [{ type: 'text', text: 'Hello from the stand-in.', citations: undefined }].map(
        ({ citations: _, ...b }) => b,
      ),
    );
    assert.equal(events[0], 'message_start');
    assert.equal(events.at(-1), 'message_stop');
    assert.deepEqual(aws.refused, []);
    const sent = aws.seen.at(-1);
    assert.equal(
      sent?.url,
      '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream',
    );
    assert.match(
      String(sent?.headers.authorization),
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/`),
    );
    const body = JSON.parse(String(sent?.body)) as Record<string, unknown>;
    assert.equal(body.anthropic_version, 'bedrock-2023-05-31');
    assert.deepEqual(body.anthropic_beta, ['interleaved-thinking-2025-05-14']);
    assert.equal('model' in body || 'stream' in body, false);
    const r = await lastRecord(h);
    assert.equal(r.status, 200);
    assert.equal(r.upstream, 'aws');
    assert.deepEqual(r.upstreamsTried, ['aws']);
    assert.equal(r.model, 'claude-sonnet-4-5');
    assert.deepEqual(
      [r.inputTokens, r.outputTokens, r.cacheCreationInputTokens, r.cacheReadInputTokens],
      [25, 6, 7, 100],
    );
  });

  it('answers a whole (not streamed) request through InvokeModel, usage read from the JSON', async () => {
    const { h, aws } = await setup();
    const message = await sdk(h).messages.create(ask);
    assert.equal(message.content[0]?.type, 'text');
    assert.match(String(aws.seen.at(-1)?.url), /\/invoke$/);
    assert.equal((await lastRecord(h)).outputTokens, 6);
  });

  it('carries a tool_use turn whole: input_json_delta pieces arrive as the client wrote them', async () => {
    const { h, aws } = await setup();
    aws.inner.respond = () => ({
      content: [{ type: 'tool_use', name: 'Read', input: { file_path: '/tmp/x/.env' } }],
    });
    const message = await sdk(h).messages.stream(ask).finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual((message.content[0] as { input: unknown }).input, { file_path: '/tmp/x/.env' });
  });

  it('uses a Bedrock API key as a bearer token when one is configured', async () => {
    const { h, aws } = await setup('{ upstream: aws }', ', apiKey: bedrock-api-key');
    await sdk(h).messages.create(ask);
    assert.equal(aws.seen.at(-1)?.headers.authorization, 'Bearer bedrock-api-key');
  });

  it('counts tokens with Bedrock CountTokens and lists its models itself', async () => {
    const { h, aws } = await setup();
    const counted = await sdk(h).messages.countTokens({ model: ask.model, messages: ask.messages });
    assert.ok(counted.input_tokens > 0);
    assert.match(String(aws.seen.at(-1)?.url), /\/count-tokens$/);
    const models = await sdk(h).models.list();
    assert.ok(models.data.some((m) => m.id === 'claude-sonnet-4-5'));
  });

  it('refused credentials: a 502 that says the gateway, not the key, needs fixing, and names no secret', async () => {
    const wrong = { ...awsTestCredentials() };
    const { h } = await setup('{ upstream: aws }', '', wrong);
    await assert.rejects(sdk(h).messages.create(ask), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 502);
      assert.match(said(e), /credentials for Amazon Bedrock \(upstream "aws"/);
      assert.match(said(e), /InvalidSignatureException/);
      assert.ok(!e.message.includes(wrong.secretAccessKey) && !e.message.includes(wrong.accessKeyId));
      return true;
    });
    assert.equal((await lastRecord(h)).errorType, 'api_error');
  });

  for (const [status, name, message, code, type] of [
    [
      429,
      'ThrottlingException',
      'Too many requests, please wait before trying again.',
      429,
      'rate_limit_error',
    ],
    [
      403,
      'AccessDeniedException',
      "You don't have access to the model with the specified model ID.",
      429,
      'rate_limit_error',
    ],
    [400, 'ValidationException', 'The provided model identifier is invalid.', 400, 'invalid_request_error'],
    [503, 'ServiceUnavailableException', 'Service unavailable.', 529, 'overloaded_error'],
  ] as const)
    it(`${name} comes back as ${code} ${type}, with Bedrock's reason`, async () => {
      const { h, aws } = await setup();
      aws.failNext.push({ status, name, message });
      await assert.rejects(sdk(h).messages.create(ask), (e: InstanceType<typeof Anthropic.APIError>) => {
        assert.equal(e.status, code);
        assert.equal((e.error as { error?: { type?: string } }).error?.type, type);
        assert.ok(e.message.includes(message), e.message);
        return true;
      });
    });

  it('a model with no Bedrock id is a 400 naming the table to add it to', async () => {
    const { h } = await setup();
    await assert.rejects(
      sdk(h).messages.create({ ...ask, model: 'claude-test' }),
      (e: InstanceType<typeof Anthropic.APIError>) => {
        assert.equal(e.status, 400);
        assert.match(said(e), /model "claude-test".*not in upstreams\.aws\.models/);
        return true;
      },
    );
  });

  it('a table entry overrides the default id', async () => {
    const { h, aws } = await setup(
      '{ upstream: aws }',
      ', models: { claude-test: "eu.anthropic.claude-test-v1:0" }',
    );
    await sdk(h).messages.create({ ...ask, model: 'claude-test' });
    assert.equal(aws.seen.at(-1)?.url, '/model/eu.anthropic.claude-test-v1%3A0/invoke');
  });

  it('throttled, it fails over to the next upstream in the list, and the record names both', async () => {
    const { h, aws } = await setup('{ upstream: [aws, anthropic] }');
    aws.failNext.push({ status: 429, name: 'ThrottlingException', message: 'Too many requests.' });
    const message = await sdk(h).messages.create(ask);
    assert.equal(message.content[0]?.type, 'text');
    assert.equal(h.standin.seen.at(-1)?.headers['x-api-key'], h.upstreamKey);
    const r = await lastRecord(h);
    assert.equal(r.upstream, 'anthropic');
    assert.deepEqual(r.upstreamsTried, ['aws', 'anthropic']);
  });

  it("an org's model policy refuses a model it does not list, naming the policy, not to be retried", async () => {
    const { h, aws } = await setup('{ upstream: aws, models: [claude-haiku-4-5] }');
    const before = aws.seen.length;
    await assert.rejects(sdk(h).messages.create(ask), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 429);
      assert.equal(e.headers?.get('x-should-retry'), 'false');
      assert.match(
        said(e),
        /org "acme" does not allow model "claude-sonnet-4-5" \(its model policy, orgs\.acme\.models, lists claude-haiku-4-5\)/,
      );
      return true;
    });
    assert.equal(aws.seen.length, before);
    await sdk(h).messages.create({ ...ask, model: 'claude-haiku-4-5-20251001' });
  });
});
