/**
 * Bedrock's binary AWS event stream (application/vnd.amazon.eventstream) and the Messages API's
 * server-sent events, each turned into the other as bytes pass: framing and checksums by the AWS
 * SDK's own codec (@smithy/core), never buffering more than one message.
 *
 * On the wire each Bedrock message carries `:message-type` (`event` or `exception`); an event of
 * `:event-type` `chunk` holds `{"bytes":"<base64>"}`, the base64 of one Messages API event's JSON.
 */
import { EventStreamCodec, getChunkedStream, type Message } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export const EVENTSTREAM = 'application/vnd.amazon.eventstream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The Anthropic error type a Bedrock stream exception stands for. */
const EXCEPTION_TYPES: Record<string, string> = {
  throttlingException: 'rate_limit_error',
  serviceUnavailableException: 'overloaded_error',
  modelTimeoutException: 'timeout_error',
  validationException: 'invalid_request_error',
  internalServerException: 'api_error',
  modelStreamErrorException: 'api_error',
};

function header(m: Message, name: string): string | undefined {
  const h = m.headers[name];
  return h && h.type === 'string' ? h.value : undefined;
}

/** One server-sent event for the JSON text of a Messages API event. */
function sseOf(json: string): string {
  // The type leads every event the API writes; parse only when it does not.
  const type = /^\{\s*"type"\s*:\s*"([a-z_]+)"/.exec(json)?.[1] ?? readType(json);
  return `event: ${type}\ndata: ${json}\n\n`;
}

function readType(json: string): string {
  try {
    const t = (JSON.parse(json) as { type?: unknown }).type;
    return typeof t === 'string' && /^[a-z_]+$/.test(t) ? t : 'message';
  } catch {
    return 'message';
  }
}

/** The server-sent event a Bedrock stream message becomes ('' for a message with nothing to say). */
export function sseOfBedrockMessage(m: Message): string {
  const kind = header(m, ':message-type');
  const payload = toUtf8(m.body);
  if (kind === 'exception' || kind === 'error') {
    const exception = header(m, ':exception-type') ?? header(m, ':error-code') ?? 'internalServerException';
    let message = exception;
    try {
      message = (JSON.parse(payload) as { message?: string }).message ?? exception;
    } catch {
      // A payload that is not JSON: the exception's name says enough.
    }
    const type = EXCEPTION_TYPES[exception] ?? 'api_error';
    return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message: `Amazon Bedrock: ${message}` } })}\n\n`;
  }
  if (header(m, ':event-type') !== 'chunk') return '';
  const bytes = (JSON.parse(payload) as { bytes?: string }).bytes;
  return bytes ? sseOf(Buffer.from(bytes, 'base64').toString('utf8')) : '';
}

/** Bedrock's event stream as Messages API server-sent events, one event per message, as they arrive. */
export async function* bedrockToSse(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const frame of getChunkedStream(source)) {
    const sse = sseOfBedrockMessage(codec.decode(frame));
    if (sse) yield Buffer.from(sse);
  }
}

/** One Bedrock stream message holding the Messages API event `json`. */
export function bedrockChunk(json: string): Uint8Array {
  const body = fromUtf8(JSON.stringify({ bytes: Buffer.from(json).toString('base64') }));
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'chunk' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body,
  });
}

/** One Bedrock stream exception (`internalServerException`, `throttlingException`, ...). */
export function bedrockException(exception: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exception },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** The most one server-sent event may hold while it is re-framed. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;

/**
 * Server-sent events in, Bedrock stream messages out: each event's `data` becomes one chunk,
 * written when the event ends; comments and `event:` lines are the SSE framing and go.
 */
export class SseToBedrock {
  private line = '';
  private data: string[] = [];
  private held = 0;
  private readonly decoder = new TextDecoder();

  push(chunk: Buffer | string): Buffer {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: Uint8Array[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.endLine(this.line + text.slice(start, nl), out);
      this.line = '';
      start = nl + 1;
    }
    this.line += text.slice(start);
    if (this.held + this.line.length > MAX_EVENT_BYTES)
      throw new Error('server-sent event too large to re-frame');
    return Buffer.concat(out);
  }

  end(): Buffer {
    const out: Uint8Array[] = [];
    if (this.line) this.endLine(this.line, out);
    this.endLine('', out);
    return Buffer.concat(out);
  }

  private endLine(raw: string, out: Uint8Array[]): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      if (this.data.length) out.push(bedrockChunk(this.data.join('\n')));
      this.data = [];
      this.held = 0;
      return;
    }
    if (!line.startsWith('data:')) return;
    const data = line.slice(line.startsWith('data: ') ? 6 : 5);
    this.data.push(data);
    this.held += data.length;
  }
}
