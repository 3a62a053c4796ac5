import assert from 'node:assert/strict';
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, it } from 'node:test';
import { bedrockChunk, bedrockException, bedrockToSse, SseToBedrock } from './eventstream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** `bytes` in pieces of `size`, as a network would hand them over. */
async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield Buffer.from(bytes.subarray(i, i + size));
}

async function text(gen: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const b of gen) out += b.toString('utf8');
  return out;
}

const start = '{"type":"message_start","message":{"usage":{"input_tokens":3}}}';
const delta =
  '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"h\u00e9llo \\n"}}';

describe("Bedrock's event stream and server-sent events", () => {
  it('decodes chunks split anywhere into one SSE event per message, as they arrive', async () => {
    const stream = Buffer.concat([bedrockChunk(start), bedrockChunk(delta)]);
    for (const size of [1, 7, 64, stream.length])
      assert.equal(
        await text(bedrockToSse(pieces(stream, size))),
        `event: message_start\ndata: ${start}\n\nevent: content_block_delta\ndata: ${delta}\n\n`,
        `pieces of ${size}`,
      );
  });

  it('a stream exception becomes an SSE error event of the matching Anthropic type', async () => {
    const out = await text(
      bedrockToSse(pieces(bedrockException('throttlingException', 'Too many tokens'), 10)),
    );
    assert.equal(
      out,
      'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Amazon Bedrock: Too many tokens"}}\n\n',
    );
  });

  it('a truncated stream is an error, not a short answer', async () => {
    const cut = bedrockChunk(start).subarray(0, 20);
    await assert.rejects(text(bedrockToSse(pieces(cut, 5))), /Truncated/);
  });

  it('re-frames SSE split anywhere into chunks the AWS codec reads back, pings and comments included or dropped', async () => {
    const sse = `event: message_start\ndata: ${start}\n\n: comment\n\nevent: ping\ndata: {"type":"ping"}\n\nevent: content_block_delta\r\ndata: ${delta}\r\n\r\n`;
    const encoder = new SseToBedrock();
    const frames: Buffer[] = [];
    for (let i = 0; i < sse.length; i += 5) frames.push(encoder.push(Buffer.from(sse.slice(i, i + 5))));
    frames.push(encoder.end());
    const decoded: string[] = [];
    for await (const frame of getChunkedStream(pieces(Buffer.concat(frames), 3))) {
      const { bytes } = JSON.parse(toUtf8(codec.decode(frame).body)) as { bytes: string };
      decoded.push(Buffer.from(bytes, 'base64').toString('utf8'));
    }
    assert.deepEqual(decoded, [start, '{"type":"ping"}', delta]);
  });
});
