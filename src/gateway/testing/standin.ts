/**
 * A local upstream that speaks the Messages API wire format, for tests and benchmarks: JSON or
 * server-sent events with pings, text and tool-use blocks (`input_json_delta`), scripted errors,
 * resets mid-stream, a stream that never ends (for abort and backpressure tests) and a hang.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type ReplyBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

/** What the stand-in answers one Messages request with. */
export interface Reply {
  content?: ReplyBlock[];
  /** Streaming: pings written between every two deltas. */
  pings?: number;
  /** Streaming: characters per text or JSON delta (default 8). */
  deltaSize?: number;
  /**
   * Streaming: after message_start, write text deltas of `chunkBytes` until `bytes` are written,
   * honouring backpressure. `onStalled` is called once when a single wait for drain lasts longer
   * than `stallMs` (default 300): the reader downstream has stopped taking bytes.
   */
  bulk?: { bytes: number; chunkBytes?: number; stallMs?: number; onStalled?: (written: number) => void };
  /** Never answer (the upstream hangs before its status line). */
  hang?: boolean;
  /** Called when the connection closes; `finished` is false when the peer went away first. */
  onClose?: (finished: boolean) => void;
  /** Usage to report instead of the fixed figures (message_start's / the whole answer's). */
  usage?: Partial<typeof usage>;
}

export interface ParsedRequest {
  model: string;
  stream?: boolean;
  system?: unknown;
  messages: { role: string; content: unknown }[];
}

export interface Standin {
  url: string;
  seen: SeenRequest[];
  /** Scripted failures, taken in order before normal answers: an HTTP error, or a reset mid-stream. */
  failNext: { status?: number; type?: string; resetMidStream?: boolean }[];
  /** Decides the answer to each Messages request; the default says "Hello from the stand-in.". */
  respond: (request: ParsedRequest) => Reply;
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

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.write(text)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (drained: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(drained);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export const defaultReply = (): Reply => ({
  content: [{ type: 'text', text: 'Hello from the stand-in.' }],
});

export interface StandinOptions {
  /** A path prefix the API sits under (Microsoft Foundry's `/anthropic`). */
  prefix?: string;
  /** A bearer token accepted besides the key (Foundry's Entra ID tokens). */
  bearer?: string;
}

/** Starts the stand-in; it answers only requests carrying `apiKey` in x-api-key (or `bearer`). */
export async function startStandin(apiKey: string, options: StandinOptions = {}): Promise<Standin> {
  const seen: SeenRequest[] = [];
  const failNext: Standin['failNext'] = [];
  const state: Pick<Standin, 'respond'> = { respond: defaultReply };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_standin' });
      res.end(JSON.stringify(value));
    };
    const bearer = options.bearer && req.headers.authorization === `Bearer ${options.bearer}`;
    if (req.headers['x-api-key'] !== apiKey && !bearer)
      return json(401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
    const full = (req.url ?? '').split('?')[0] ?? '';
    const prefix = options.prefix ?? '';
    const path = full.startsWith(prefix) ? full.slice(prefix.length) : full;
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
    const request = JSON.parse(body.toString('utf8')) as ParsedRequest;
    const reply = state.respond(request);
    let finished = false;
    res.on('close', () => reply.onClose?.(finished));
    res.on('finish', () => (finished = true));
    if (reply.hang) return;
    const blocks = (reply.content ?? []).map((b, i) =>
      b.type === 'tool_use' ? { ...b, id: b.id ?? `toolu_standin_${i}` } : b,
    );
    const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
    if (!request.stream) {
      return json(200, {
        id: 'msg_standin',
        type: 'message',
        role: 'assistant',
        model: request.model,
        content: blocks,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 6, ...reply.usage },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const start = {
      id: 'msg_standin',
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, ...reply.usage },
    };
    if (!(await write(res, sse('message_start', { type: 'message_start', message: start })))) return;
    if (reply.bulk) {
      const size = reply.bulk.chunkBytes ?? 64 * 1024;
      const event = sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'x'.repeat(size) },
      });
      let written = 0;
      let stalled = false;
      while (written < reply.bulk.bytes) {
        const ok = res.write(event);
        written += event.length;
        if (ok) continue;
        const at = written;
        const timer = setTimeout(() => {
          if (!stalled) reply.bulk?.onStalled?.(at);
          stalled = true;
        }, reply.bulk.stallMs ?? 300);
        const drained = await write(res, '');
        clearTimeout(timer);
        if (!drained) return;
      }
    }
    const ping = sse('ping', { type: 'ping' });
    const between = ping.repeat(reply.pings ?? 1);
    const size = reply.deltaSize ?? 8;
    for (const [index, block] of blocks.entries()) {
      const startBlock = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
      res.write(
        sse('content_block_start', { type: 'content_block_start', index, content_block: startBlock }),
      );
      const parts =
        block.type === 'text'
          ? pieces(block.text, size).map((text) => ({ type: 'text_delta', text }))
          : pieces(JSON.stringify(block.input), size).map((partial_json) => ({
              type: 'input_json_delta',
              partial_json,
            }));
      for (const delta of parts) {
        res.write(between);
        if (!(await write(res, sse('content_block_delta', { type: 'content_block_delta', index, delta }))))
          return;
      }
      if (fail?.resetMidStream) {
        // Reset only once the bytes so far have left, so the client sees a stream that breaks.
        res.write(': about to fail\n\n', () => res.socket?.destroy());
        return;
      }
      res.write(sse('content_block_stop', { type: 'content_block_stop', index }));
    }
    res.write(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: 3 },
      }),
    );
    res.write(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: 6 },
      }),
    );
    res.end(sse('message_stop', { type: 'message_stop' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const standin: Standin = {
    url: `http://127.0.0.1:${port}`,
    seen,
    failNext,
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return standin;
}
