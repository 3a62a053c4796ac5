/**
 * A faulty upstream for the fault suite, speaking the Messages API's wire format: the model a
 * request names picks the fault. `claude-test` gets a correct answer (JSON or SSE); the others:
 * - `fault-hang`: never sends a status line;
 * - `fault-reset-json`: a 200 whole answer whose connection is reset halfway through the body;
 * - `fault-reset-sse`: a stream reset after its first text delta;
 * - `fault-malformed-sse`: a stream with events that are not JSON, lines without `data:`, and no
 *   blank line before its end (`MALFORMED_SSE`, relayed as is);
 * - `fault-huge-json` / `fault-huge-sse`: HUGE_BYTES of text, honouring backpressure (the stream
 *   has no event boundary until its end).
 * `resets` counts the connections it reset, `requestIds` the x-sluice-request-id of each request.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const HUGE_BYTES = 48 * 1024 * 1024;

export const MALFORMED_SSE =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_f","type":"message","role":"assistant","content":[],"model":"fault-malformed-sse","usage":{"input_tokens":3,"output_tokens":1}}}\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"half\n\n' +
  'data: not json at all\n\n' +
  'just a line without a field name\n' +
  ': a comment\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}';

export interface FaultyUpstream {
  url: string;
  resets: number;
  requestIds: string[];
  /** x-sluice-request-id of each `fault-hang` request (never answered). */
  hangingIds: string[];
  close(): Promise<void>;
}

const message = (model: string, text: string) =>
  JSON.stringify({
    id: 'msg_faulty',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 3 },
  });

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function streamStart(model: string): string {
  return (
    sse('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_faulty',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 1 },
      },
    }) +
    sse('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    })
  );
}

const delta = (text: string) =>
  sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

const streamEnd =
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
  sse('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 3 },
  }) +
  sse('message_stop', { type: 'message_stop' });

/** Writes `bytes` of `piece` repeated, waiting for drain; false when the peer went away. */
async function pour(res: ServerResponse, piece: string, bytes: number): Promise<boolean> {
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (res.destroyed) return false;
    if (!res.write(piece))
      await new Promise<void>((r) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          r();
        };
        res.on('drain', done);
        res.on('close', done);
      });
  }
  return !res.destroyed;
}

export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  const state: FaultyUpstream = {
    url: '',
    resets: 0,
    requestIds: [],
    hangingIds: [],
    close: async () => undefined,
  };
  const reset = (res: ServerResponse) => {
    state.resets++;
    res.socket?.resetAndDestroy();
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    state.requestIds.push(String(req.headers['x-sluice-request-id'] ?? ''));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; stream?: boolean };
    const { model } = body;
    const json = { 'content-type': 'application/json', 'request-id': 'req_faulty' };
    const stream = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
    switch (model) {
      case 'fault-hang':
        state.hangingIds.push(String(req.headers['x-sluice-request-id'] ?? ''));
        return;
      case 'fault-reset-json': {
        const whole = message(model, 'x'.repeat(64 * 1024));
        res.writeHead(200, { ...json, 'content-length': String(whole.length) });
        res.write(whole.slice(0, whole.length / 2), () => reset(res));
        return;
      }
      case 'fault-reset-sse':
        res.writeHead(200, stream);
        res.write(streamStart(model) + delta('the first words'), () => reset(res));
        return;
      case 'fault-malformed-sse':
        res.writeHead(200, stream);
        res.end(MALFORMED_SSE);
        return;
      case 'fault-huge-json': {
        res.writeHead(200, json);
        const [head, tail] = message(model, '\u0000').split('\\u0000');
        res.write(head);
        if (await pour(res, 'x'.repeat(64 * 1024), HUGE_BYTES)) res.end(tail);
        return;
      }
      case 'fault-huge-sse': {
        res.writeHead(200, stream);
        res.write(
          `${streamStart(model)}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`,
        );
        if (await pour(res, 'x'.repeat(64 * 1024), HUGE_BYTES)) res.end(`"}}\n\n${streamEnd}`);
        return;
      }
      default:
        if (body.stream) {
          res.writeHead(200, stream);
          res.end(streamStart(model) + delta('Hello from ') + delta('the faulty upstream.') + streamEnd);
        } else {
          res.writeHead(200, json);
          res.end(message(model, 'Hello from the faulty upstream.'));
        }
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return state;
}
