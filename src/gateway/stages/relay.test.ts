import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlaceholderVault } from '../../guard/redact.js';
import type { UpstreamAnswer } from '../context.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { KEEP_MAX_BYTES, relay } from './relay.js';

const logs: string[] = [];
const stage = relay({
  now: () => 3,
  logger: { warn: (_f, m) => void logs.push(m), error: (_f, m) => void logs.push(m) },
});

function answer(chunks: (string | Error)[], sse: boolean, status = 200): UpstreamAnswer {
  return {
    name: 'anthropic',
    host: 'up.test',
    status,
    headers: { 'content-type': sse ? 'text/event-stream' : 'application/json', 'content-length': '1' },
    sse,
    secrets: ['sk-ant-upstream-relay-test'],
    body: (async function* () {
      for (const c of chunks) {
        if (c instanceof Error) throw c;
        yield Buffer.from(c);
      }
    })(),
  };
}
const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

describe('stage relay', () => {
  it('passes a stream on and reads its usage', async () => {
    const ctx = authorizedContext();
    ctx.upstream = answer(
      [
        ev('message_start', { message: { usage: { input_tokens: 10, output_tokens: 1 } } }),
        ev('message_delta', { usage: { output_tokens: 7 } }),
      ],
      true,
    );
    await stage(ctx);
    assert.equal(ctx.res.statusCode, 200);
    assert.equal(ctx.res.headers['content-length'], undefined, 'framing is the gateway’s own');
    assert.equal(ctx.res.headers['x-sluice-overhead-ms'], '3.00');
    assert.equal(ctx.res.headers['x-sluice-request-id'], ctx.id, 'the record the client can ask about');
    assert.match(ctx.res.text, /message_delta/);
    assert.deepEqual([ctx.record.inputTokens, ctx.record.outputTokens], [10, 7]);
  });

  it('ends a stream that fails midway with an SSE error event naming the upstream', async () => {
    const ctx = authorizedContext();
    ctx.upstream = answer([ev('message_start', { message: {} }), new Error('reset')], true);
    await stage(ctx);
    assert.equal(ctx.record.errorType, 'upstream_stream_error');
    assert.ok(ctx.res.writableEnded);
    assert.match(
      ctx.res.text,
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The upstream \\"anthropic\\" \(up\.test\) failed mid-stream\. Try again\."\}\}\n\n$/,
    );
  });

  it('cuts a whole answer that fails midway so that it never looks complete', async () => {
    const ctx = authorizedContext();
    ctx.upstream = answer(['{"content":[{"type":"text","te', new Error('reset')], false);
    await stage(ctx);
    assert.equal(ctx.record.errorType, 'upstream_stream_error');
    assert.ok(ctx.res.destroyed, 'the connection is destroyed, not ended');
    assert.ok(!ctx.res.writableFinished);
  });

  it("reads a whole answer's usage and an error answer's type", async () => {
    const ok = authorizedContext();
    ok.upstream = answer(['{"usage":{"input_tokens":4,', '"output_tokens":2}}'], false);
    await stage(ok);
    assert.deepEqual([ok.record.inputTokens, ok.record.outputTokens], [4, 2]);
    const bad = authorizedContext();
    bad.upstream = answer(['{"type":"error","error":{"type":"overloaded_error","message":"x"}}'], false, 529);
    await stage(bad);
    assert.equal(bad.record.status, 529);
    assert.equal(bad.record.errorType, 'overloaded_error');
  });

  it("never relays or keeps the upstream's credential, even when the upstream echoes it", async () => {
    const ctx = authorizedContext({ config: testConfig('{ upstream: anthropic, contentLogging: full }') });
    const echo =
      '{"type":"error","error":{"type":"authentication_error","message":"invalid key sk-ant-upstream-relay-test"}}';
    ctx.upstream = answer([echo.slice(0, 80), echo.slice(80)], false, 401);
    logs.length = 0;
    await stage(ctx);
    assert.ok(!ctx.res.text.includes('sk-ant-upstream'), ctx.res.text);
    assert.match(ctx.res.text, /invalid key \[REDACTED:upstream-credential\]/);
    assert.ok(!ctx.record.responseContent?.includes('sk-ant-upstream'));
    assert.equal(ctx.record.errorType, 'authentication_error');
    assert.deepEqual(logs, ['the upstream echoed its credential; replaced']);
  });

  it('keeps the answer only under full content logging', async () => {
    for (const [org, kept] of [
      ['{ upstream: anthropic, contentLogging: full }', true],
      ['{ upstream: anthropic, contentLogging: redacted }', false],
      ['{ upstream: anthropic, contentLogging: full, zdr: true }', false],
    ] as const) {
      const ctx = authorizedContext({ config: testConfig(org) });
      ctx.upstream = answer(['{"content":[]}'], false);
      await stage(ctx);
      assert.equal(ctx.record.responseContent, kept ? '{"content":[]}' : null, org);
    }
  });

  it('restores placeholders in a whole answer, and passes one past the cap as it is', async () => {
    const vault = new PlaceholderVault();
    const placeholder = vault.placeholder('aws-access-key-id', 'AKIAQYLPMN5HHHFPZAM2');
    const ctx = authorizedContext();
    ctx.restore = vault;
    ctx.upstream = answer([`{"content":[{"type":"text","text":"key ${placeholder}"}]}`], false);
    await stage(ctx);
    assert.match(ctx.res.text, /key AKIAQYLPMN5HHHFPZAM2/);

    const big = authorizedContext();
    big.restore = vault;
    const filler = 'x'.repeat(1024 * 1024);
    const parts = [
      `{"content":[{"type":"text","text":"${placeholder}`,
      ...Array.from({ length: KEEP_MAX_BYTES / filler.length + 1 }, () => filler),
      '"}]}',
    ];
    big.upstream = answer(parts, false);
    logs.length = 0;
    await stage(big);
    assert.equal(big.res.text, parts.join(''), 'passed byte for byte, unrestored');
    assert.deepEqual(logs, ['answer too large to restore placeholders; passed as is']);
  });
});
