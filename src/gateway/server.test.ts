import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness, type HarnessOptions } from './testing/harness.js';
import { MAX_LINE, SseUsageReader } from './usage.js';

const UPSTREAM_KEY = 'sk-ant-upstream-' + randomBytes(8).toString('hex');
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Setup = Harness;
async function setup(org: string, opts: HarnessOptions = {}): Promise<Setup> {
  const h = await startHarness(org, { upstreamKey: UPSTREAM_KEY, ...opts });
  cleanups.push(() => h.close());
  return h;
}

const client = (s: Setup) => new Anthropic({ baseURL: s.gateway.url, apiKey: s.key, maxRetries: 0 });
const plainOrg = '{ upstream: anthropic, contentLogging: none }';

describe('gateway with the official SDK', () => {
  it('create, stream + finalMessage, countTokens: forwarded with the upstream key, usage recorded', async () => {
    const s = await setup(plainOrg);
    const sdk = client(s);
    const msg = await sdk.messages.create({
      model: 'claude-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(msg.content[0]?.type === 'text' && msg.content[0].text, 'Hello from the stand-in.');

    const stream = sdk.messages.stream(
      { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
      {
        headers: {
          'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
          'x-claude-code-session-id': 'sess-42',
        },
      },
    );
    const final = await stream.finalMessage();
    assert.equal(final.content[0]?.type === 'text' && final.content[0].text, 'Hello from the stand-in.');
    assert.equal(final.usage.output_tokens, 6);

    const count = await sdk.messages.countTokens({
      model: 'claude-test',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const counted = s.standin.seen.at(-1);
    assert.equal(
      count.input_tokens,
      Math.ceil((counted?.body.length ?? 0) / 4),
      'the upstream counted, not the gateway',
    );

    const streamed = s.standin.seen[1];
    assert.equal(streamed?.headers['x-api-key'], UPSTREAM_KEY);
    assert.equal(streamed?.headers.authorization, undefined);
    assert.equal(streamed?.headers['anthropic-beta'], 'claude-code-20250219,interleaved-thinking-2025-05-14');
    assert.match(String(streamed?.headers['anthropic-version']), /^\d{4}-\d{2}-\d{2}$/);

    const records = await s.store.queryAudit({ org: 'acme' });
    assert.equal(records.length, 3);
    const rec = records.find((r) => r.sessionId === 'sess-42');
    assert.deepEqual(
      [
        rec?.stream,
        rec?.status,
        rec?.inputTokens,
        rec?.outputTokens,
        rec?.cacheCreationInputTokens,
        rec?.cacheReadInputTokens,
      ],
      [true, 200, 25, 6, 7, 100],
      'usage from message_start and the last (cumulative) message_delta',
    );
    assert.equal(rec?.user, 'dev@acme.test');
    assert.equal(rec?.requestContent, null, 'contentLogging none keeps no content');
    for (const line of s.logs)
      assert.ok(!line.includes(UPSTREAM_KEY) && !line.includes(s.key), 'no key in logs');
  });

  it('forwards the request body byte for byte', async () => {
    const s = await setup(plainOrg);
    const body =
      '{"model":"claude-test",  "max_tokens":5,"messages":[{"role":"user","content":"spaced  \\u00e9"}],"extra_field":{"x":1}}';
    const res = await fetch(`${s.gateway.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': s.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body,
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-sluice-overhead-ms'));
    assert.equal(s.standin.seen[0]?.body.toString('utf8'), body);
    assert.equal(s.standin.seen[0]?.url, '/v1/messages?beta=true');
    assert.equal(s.standin.seen[0]?.headers['anthropic-version'], '2023-06-01');
  });

  it('errors: Anthropic-shaped, with the right status, and one audit record each', async () => {
    const s = await setup(plainOrg);
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${s.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const cases: [Response, number, string, RegExp][] = [
      [await post({}, '{}'), 401, 'authentication_error', /set ANTHROPIC_API_KEY/],
      [
        await post({ authorization: 'Bearer sk-sluice-nope' }, '{}'),
        401,
        'authentication_error',
        /unknown or revoked/,
      ],
      [await post({ 'x-api-key': s.key }, '{not json'), 400, 'invalid_request_error', /not valid JSON/],
      [
        await post({ 'x-api-key': s.key }, '{"model":"m"}'),
        400,
        'invalid_request_error',
        /"messages" must be an array/,
      ],
      [
        await post(
          { 'x-api-key': s.key },
          JSON.stringify({ model: 'm', messages: [], pad: 'x'.repeat(33 * 1024 * 1024) }),
        ),
        413,
        'request_too_large',
        /larger than this gateway accepts/,
      ],
    ];
    for (const [res, status, type, message] of cases) {
      assert.equal(res.status, status);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, type);
      assert.match(body.error.message, message);
    }
    s.standin.failNext.push({ status: 429, type: 'rate_limit_error' });
    const limited = await post({ 'x-api-key': s.key }, '{"model":"m","max_tokens":1,"messages":[]}');
    assert.equal(limited.status, 429);
    assert.deepEqual(await limited.json(), {
      type: 'error',
      error: { type: 'rate_limit_error', message: 'scripted failure' },
    });
    const records = await s.store.queryAudit({ limit: 100 });
    assert.equal(records.length, 6, 'one record per request, failures included');
    assert.equal(records.filter((r) => r.status === 401 && r.org === null).length, 2);
  });

  it('a 5xx answer leaves one line on the log: request id, status, code, upstreams; never content', async () => {
    const down = await setup(plainOrg, { upstreamUrl: 'http://127.0.0.1:1' });
    const res = await fetch(`${down.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': down.key },
      body: '{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a private prompt"}]}',
    });
    assert.equal(res.status, 502);
    const id = res.headers.get('x-sluice-request-id');
    const relayed = await setup(plainOrg);
    relayed.standin.failNext.push({ status: 529, type: 'overloaded_error' });
    const overloaded = await fetch(`${relayed.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': relayed.key },
      body: '{"model":"m","max_tokens":1,"messages":[]}',
    });
    assert.equal(overloaded.status, 529);
    const lines = (h: Setup) => h.logs.filter((l) => l.includes('answered with an error'));
    assert.deepEqual(
      lines(down).map((l) => JSON.parse(l) as unknown),
      [
        {
          id,
          status: 502,
          code: 'upstream_unreachable',
          org: 'acme',
          upstreams: ['anthropic'],
          m: 'request answered with an error',
        },
      ],
    );
    assert.equal(lines(relayed).length, 1);
    assert.match(lines(relayed)[0] ?? '', /"status":529,"code":"overloaded_error"/);
    assert.ok(!down.logs.join('\n').includes('private prompt'));
  });

  it('an upstream that is down is a 502 naming it; a reset mid-stream becomes an SSE error event', async () => {
    const down = await setup(plainOrg, { upstreamUrl: 'http://127.0.0.1:1' });
    const res = await fetch(`${down.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': down.key },
      body: '{"model":"m","max_tokens":1,"messages":[]}',
    });
    assert.equal(res.status, 502);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /upstream "anthropic" \(127\.0\.0\.1:1\)/,
    );

    const s = await setup(plainOrg);
    s.standin.failNext.push({ resetMidStream: true });
    const streamed = await fetch(`${s.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': s.key },
      body: '{"model":"m","max_tokens":1,"stream":true,"messages":[]}',
    });
    const text = await streamed.text();
    assert.match(text, /event: content_block_delta/);
    assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  });

  it('ZDR: a canary prompt is found nowhere the gateway wrote; with full logging it is (the search is not blind)', async () => {
    for (const [org, expectFound] of [
      ['{ upstream: anthropic, zdr: true, contentLogging: full }', false],
      ['{ upstream: anthropic, zdr: false, contentLogging: full }', true],
    ] as const) {
      const s = await setup(org);
      const canary = `canary-${randomBytes(12).toString('hex')}`;
      await client(s).messages.create({
        model: 'claude-test',
        max_tokens: 8,
        messages: [{ role: 'user', content: canary }],
      });
      await s.store.close();
      let found = s.logs.some((l) => l.includes(canary));
      for (const name of await readdir(s.dir, { recursive: true })) {
        const path = join(s.dir, name);
        if ((await stat(path)).isFile() && (await readFile(path)).includes(canary)) found = true;
      }
      assert.equal(found, expectFound, `zdr=${!expectFound}`);
    }
  });

  it('contentLogging redacted stores the request with detected secrets replaced, even when the guard only logs', async () => {
    const s = await setup('{ upstream: anthropic, contentLogging: redacted, guard: { secrets: log } }');
    const token = 'ghp_' + randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36);
    await client(s).messages.create({
      model: 'claude-test',
      max_tokens: 8,
      messages: [{ role: 'user', content: `my token is ${token} ok` }],
    });
    const [rec] = await s.store.queryAudit({ org: 'acme' });
    assert.deepEqual(rec?.guard, { decision: 'log', rules: { 'github-pat': 1 } });
    assert.ok(rec?.requestContent?.includes('my token is [REDACTED:'), rec?.requestContent ?? 'no content');
    assert.ok(!rec?.requestContent?.includes(token), 'the stored copy holds no secret');
    assert.ok(s.standin.seen[0]?.body.includes(token), 'the guard only logs: forwarded as it came');
  });

  it('ZDR refuses routes that keep content server-side with a 403 that names the policy', async () => {
    const s = await setup('{ upstream: anthropic, zdr: true }');
    const res = await fetch(`${s.gateway.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { 'x-api-key': s.key },
      body: '{}',
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'permission_error');
    assert.match(body.error.message, /zero data retention for org "acme"/);
  });
});

/** Waits for a condition the test cannot be told about directly (a record written after the reply). */
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function openStream(s: Setup): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${s.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': s.key, 'content-type': 'application/json' },
    });
    req.on('response', resolve).on('error', reject);
    req.end('{"model":"m","max_tokens":1,"stream":true,"messages":[]}');
  });
}

describe('the streaming relay', () => {
  const toolReply = {
    content: [
      { type: 'text' as const, text: 'Reading the file.' },
      {
        type: 'tool_use' as const,
        id: 'toolu_1',
        name: 'Read',
        input: { file_path: '/repo/.env', limit: 20, nested: { quote: 'a "b" \\ c', list: [1, 2] } },
      },
    ],
    pings: 2,
    deltaSize: 5,
  };

  it('passes tool_use blocks, input_json_delta and pings through byte for byte', async () => {
    const s = await setup(plainOrg);
    s.standin.respond = () => toolReply;
    const body = '{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"x"}]}';
    const direct = await fetch(`${s.standin.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': UPSTREAM_KEY },
      body,
    });
    const viaGateway = await fetch(`${s.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': s.key },
      body,
    });
    const expected = await direct.text();
    assert.match(expected, /input_json_delta/);
    assert.match(expected, /event: ping/);
    assert.equal(await viaGateway.text(), expected);

    const final = await client(s)
      .messages.stream({ model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    const tool = final.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(tool?.type === 'tool_use' && tool.input, toolReply.content[1]?.input);
    assert.equal(final.stop_reason, 'tool_use');
  });

  it('aborts the upstream when the client goes away, and records it', { timeout: 20_000 }, async () => {
    const s = await setup(plainOrg);
    const upstreamClosed = new Promise<boolean>((resolve) => {
      s.standin.respond = () => ({ bulk: { bytes: Number.MAX_SAFE_INTEGER }, onClose: resolve });
    });
    const res = await openStream(s);
    await new Promise((r) => res.once('data', r));
    res.destroy();
    assert.equal(await upstreamClosed, false, 'the upstream stream was cut before it finished');
    const rec = await until(async () => (await s.store.queryAudit({ org: 'acme' }))[0], 'the record');
    assert.equal(rec.errorType, 'client_closed');
    assert.equal(rec.status, 200);
  });

  it('cancels the upstream request when the client goes away before the answer begins', async () => {
    // An upstream timeout far past the test's own: only the cancel can close the upstream request.
    const s = await setup(plainOrg, { timeoutMs: 600_000 });
    let asked!: () => void;
    const reached = new Promise<void>((r) => (asked = r));
    const upstreamClosed = new Promise<boolean>((resolve) => {
      s.standin.respond = () => {
        asked();
        return { hang: true, onClose: resolve };
      };
    });
    const req = httpRequest(`${s.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': s.key, 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end('{"model":"m","max_tokens":1,"stream":true,"messages":[]}');
    await reached;
    req.destroy();
    const closed = await Promise.race([
      upstreamClosed,
      new Promise<string>((r) => setTimeout(() => r('still open after 5 s'), 5_000).unref()),
    ]);
    assert.equal(closed, false, 'the upstream request was cut before it was answered');
    const rec = await until(async () => (await s.store.queryAudit({ org: 'acme' }))[0], 'the record');
    assert.equal(rec.status, 499);
    assert.equal(rec.errorType, 'client_closed');
  });

  it(
    'honours backpressure: a client that stops reading stops the upstream',
    { timeout: 20_000 },
    async () => {
      const s = await setup(plainOrg);
      const total = 256 * 1024 * 1024;
      const outcome = new Promise<string>((resolve) => {
        s.standin.respond = () => ({
          bulk: { bytes: total, onStalled: (written) => resolve(`stalled after ${written} bytes`) },
          onClose: (finished) => resolve(finished ? 'sent the whole stream' : 'closed'),
        });
      });
      const res = await openStream(s);
      res.pause();
      // Socket buffers on two loopback hops hold a few MB; a relay that ignored backpressure would
      // read the whole stream into memory and the upstream would never stall.
      const seen = await outcome;
      const written = Number(/stalled after (\d+)/.exec(seen)?.[1]);
      assert.ok(written > 0 && written < 64 * 1024 * 1024, seen);
      res.destroy();
    },
  );

  it('an upstream that does not answer in time is a 504 naming it', async () => {
    const s = await setup(plainOrg, { timeoutMs: 200 });
    s.standin.respond = () => ({ hang: true });
    const res = await fetch(`${s.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': s.key },
      body: '{"model":"m","max_tokens":1,"messages":[]}',
    });
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), {
      type: 'error',
      error: {
        type: 'timeout_error',
        message: `The upstream "anthropic" (${new URL(s.standin.url).host}) did not answer in time. Try again with a shorter request.`,
      },
    });
    const [rec] = await s.store.queryAudit({ org: 'acme' });
    assert.equal(rec?.status, 504);
  });
});

describe('SseUsageReader', () => {
  it('reads usage the same whatever the chunk boundaries', () => {
    const text =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1,"cache_read_input_tokens":9}}}\n\n' +
      ': comment\n\nevent: ping\ndata: {"type":"ping"}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":4}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":11}}\n\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const r = new SseUsageReader();
      r.push(bytes.subarray(0, cut));
      r.push(bytes.subarray(cut));
      assert.deepEqual(r.usage, {
        inputTokens: 5,
        outputTokens: 11,
        cacheCreationInputTokens: 0,
        cacheReadInputTokens: 9,
      });
    }
  });

  it('drops a byte order mark at the stream start, even cut across chunks, and reads CRLF lines', () => {
    const event = 'data: {"type":"message_start","message":{"usage":{"input_tokens":7}}}\r\n\r\n';
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(event)]);
    for (const cut of [1, 2, 3, 4]) {
      const r = new SseUsageReader();
      r.push(bytes.subarray(0, cut));
      r.push(bytes.subarray(cut));
      assert.equal(r.usage.inputTokens, 7, `cut at ${cut}`);
    }
    const notBom = new SseUsageReader();
    notBom.push(Buffer.from([0xef, 0xbb]));
    notBom.push(Buffer.from(event));
    assert.equal(notBom.usage.inputTokens, 0, 'two bytes of a mark are part of the first line');
  });

  it('caps a line in bytes: a longer one is skipped, not held', () => {
    // 'é' is two bytes: this line is under the cap in characters, over it in bytes.
    const pad = 'é'.repeat(MAX_LINE / 2);
    const long = `data: {"type":"message_delta","usage":{"output_tokens":99},"pad":"${pad}"}\n`;
    const r = new SseUsageReader();
    for (let at = 0; at < long.length; at += 1000) {
      r.push(Buffer.from(long.slice(at, at + 1000)));
      assert.ok(r.held <= MAX_LINE, `holds ${r.held} bytes`);
    }
    r.push(Buffer.from('data: {"type":"message_delta","usage":{"output_tokens":3}}\n'));
    assert.equal(r.usage.outputTokens, 3);
  });
});
