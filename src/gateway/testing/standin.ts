/** A local upstream that speaks the Messages API wire format, for tests and benchmarks. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface Standin {
  url: string;
  seen: SeenRequest[];
  /** Scripted failures, taken in order before normal answers: an HTTP error, or a reset mid-stream. */
  failNext: { status?: number; type?: string; resetMidStream?: boolean }[];
  close(): Promise<void>;
}

const usage = {
  input_tokens: 25,
  output_tokens: 1,
  cache_creation_input_tokens: 7,
  cache_read_input_tokens: 100,
};

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Starts the stand-in; it answers only requests carrying `apiKey` in x-api-key. */
export async function startStandin(apiKey: string): Promise<Standin> {
  const seen: SeenRequest[] = [];
  const failNext: Standin['failNext'] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_standin' });
      res.end(JSON.stringify(value));
    };
    if (req.headers['x-api-key'] !== apiKey)
      return json(401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v1/models')
      return json(200, { data: [{ id: 'claude-test', display_name: 'Claude Test' }] });
    if (path === '/v1/messages/count_tokens') return json(200, { input_tokens: Math.ceil(body.length / 4) });
    if (path !== '/v1/messages')
      return json(404, { type: 'error', error: { type: 'not_found_error', message: path } });
    const fail = failNext.shift();
    if (fail?.status)
      return json(fail.status, {
        type: 'error',
        error: { type: fail.type ?? 'api_error', message: 'scripted failure' },
      });
    const request = JSON.parse(body.toString('utf8')) as { model: string; stream?: boolean };
    const text = 'Hello from the stand-in.';
    if (!request.stream) {
      return json(200, {
        id: 'msg_standin',
        type: 'message',
        role: 'assistant',
        model: request.model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { ...usage, output_tokens: 6 },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(
      sse('message_start', {
        type: 'message_start',
        message: {
          id: 'msg_standin',
          type: 'message',
          role: 'assistant',
          model: request.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      }),
    );
    res.write(
      sse('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
    );
    res.write(sse('ping', { type: 'ping' }));
    for (const part of ['Hello ', 'from the ', 'stand-in.']) {
      res.write(
        sse('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: part },
        }),
      );
    }
    if (fail?.resetMidStream) {
      // Reset only once the bytes so far have left, so the client sees a stream that breaks.
      res.write(': about to fail\n\n', () => res.socket?.destroy());
      return;
    }
    res.write(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
    res.write(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 3 },
      }),
    );
    res.write(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 6 },
      }),
    );
    res.end(sse('message_stop', { type: 'message_stop' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    failNext,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
