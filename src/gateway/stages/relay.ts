/**
 * Stage relay: the upstream's answer to the client as it arrives, with backpressure. On the way it
 * reads usage (message_start and the last message_delta of a stream, `usage` of a whole answer),
 * restores placeholders where the org asked for it, and keeps the answer where the org's content
 * logging allows; every buffer it holds is bounded. An upstream that fails after the status line
 * ends a stream with an SSE `error` event, and cuts a whole answer short so that it never looks
 * complete. A client that asked in a cloud's format (`ctx.answerAs`) gets a stream re-framed for it
 * as the last step, after usage and restore have read the Messages API's own events.
 */
import type { ServerResponse } from 'node:http';
import { keptContent } from '../../control/content.js';
import { errors } from '../../errors/catalog.js';
import type { PlaceholderVault } from '../../guard/redact.js';
import { overheadMs, type AnswerEncoder, type RequestContext, type UpstreamAnswer } from '../context.js';
import type { Stage } from '../pipeline.js';
import { restoreMessage, SseRestorer } from '../restore.js';
import { SecretScrubber } from '../scrub.js';
import { applyUsage, SseUsageReader } from '../usage.js';

/** Response headers not relayed (framing is the gateway's own). */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
/** The most of an answer kept, for usage of a whole answer and for content logging. */
export const KEEP_MAX_BYTES = 8 * 1024 * 1024;

export interface RelayDeps {
  now: () => number;
  logger: {
    warn(f: Record<string, unknown>, m: string): void;
    error(f: Record<string, unknown>, m: string): void;
  };
}

/** What the relay holds of an answer while it passes: usage, a bounded copy, restore state. */
class AnswerTap {
  readonly usage: SseUsageReader | null;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private readonly keepAll: boolean;
  private readonly restorer: SseRestorer | null;
  /** A whole (not streamed) answer whose placeholders are restored once it is complete. */
  private restoreWhole: PlaceholderVault | null;
  private readonly scrub: SecretScrubber;

  constructor(
    ctx: RequestContext,
    up: UpstreamAnswer,
    private readonly warn: RelayDeps['logger']['warn'],
  ) {
    this.usage = up.sse ? new SseUsageReader() : null;
    this.keepAll = ctx.org !== null && keptContent(ctx.org) === 'full';
    this.restorer = ctx.restore && up.sse ? new SseRestorer(ctx.restore) : null;
    this.restoreWhole = ctx.restore && !up.sse && up.status < 300 ? ctx.restore : null;
    this.scrub = new SecretScrubber(up.secrets ?? []);
  }

  /** The bytes to send the client for `raw` (nothing yet while a whole answer is held for restore). */
  push(raw: Buffer, id: string): Buffer | string {
    const chunk = this.scrub.push(raw);
    return chunk.length ? this.take(chunk, id) : '';
  }

  private take(chunk: Buffer, id: string): Buffer | string {
    this.usage?.push(chunk);
    if (!this.usage || this.keepAll) {
      if (this.keptBytes < KEEP_MAX_BYTES) this.kept.push(chunk);
      this.keptBytes += chunk.length;
    }
    if (this.restoreWhole) {
      if (this.keptBytes <= KEEP_MAX_BYTES) return '';
      // Past the cap the answer passes unrestored: what was held, then the rest as it comes.
      this.restoreWhole = null;
      this.warn({ id, heldBytes: KEEP_MAX_BYTES }, 'answer too large to restore placeholders; passed as is');
      return Buffer.concat(this.kept);
    }
    return this.restorer ? this.restorer.push(chunk) : chunk;
  }

  /** What is left to send once the upstream's answer ended. */
  end(id: string): string {
    const rest = this.scrub.end();
    const last = rest.length ? this.take(rest, id) : '';
    if (this.restorer) return last.toString() + this.restorer.end();
    if (this.restoreWhole) return restoreMessage(this.text(), this.restoreWhole).body;
    return last.toString();
  }

  /** Credentials the upstream echoed (and that were replaced). */
  get echoed(): number {
    return this.scrub.replaced;
  }

  text(): string {
    return Buffer.concat(this.kept).toString('utf8');
  }

  get keepsAnswer(): boolean {
    return this.keepAll;
  }
}

/** The encoder a streamed answer passes through, for a client in a cloud's format. */
function encoderFor(ctx: RequestContext, up: UpstreamAnswer): AnswerEncoder | null {
  return ctx.answerAs && up.sse && up.status < 300 ? ctx.answerAs : null;
}

function writeHead(ctx: RequestContext, up: UpstreamAnswer, now: number): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(up.headers)) if (!DROP_RESPONSE.has(name)) headers[name] = value;
  const encoder = encoderFor(ctx, up);
  if (encoder) headers['content-type'] = encoder.streamType;
  headers['x-sluice-overhead-ms'] = overheadMs(ctx, now).toFixed(2);
  headers['x-sluice-request-id'] = ctx.id;
  ctx.res.writeHead(up.status, headers);
  ctx.record.status = up.status;
}

/** After the answer: usage and error type onto the record, and the answer where it may be kept. */
function finish(ctx: RequestContext, up: UpstreamAnswer, tap: AnswerTap): void {
  const text = tap.text();
  if (tap.keepsAnswer) ctx.record.responseContent = text;
  if (tap.usage) {
    if (tap.usage.errorType) ctx.record.errorType = tap.usage.errorType;
    Object.assign(ctx.usage, tap.usage.usage);
  } else if (up.status >= 400) {
    try {
      ctx.record.errorType = (JSON.parse(text) as { error?: { type?: string } }).error?.type ?? null;
    } catch {
      ctx.record.errorType = 'upstream_error';
    }
  } else {
    try {
      applyUsage(ctx.usage, (JSON.parse(text) as { usage?: Record<string, number> }).usage);
    } catch {
      // Not JSON (or cut at the kept-bytes cap): no usage to read.
    }
  }
  Object.assign(ctx.record, ctx.usage);
}

export function relay(deps: RelayDeps): Stage {
  return async (ctx) => {
    const up = ctx.upstream;
    if (!up) return;
    writeHead(ctx, up, deps.now());
    const tap = new AnswerTap(ctx, up, deps.logger.warn.bind(deps.logger));
    const encoder = encoderFor(ctx, up);
    const client = (bytes: Buffer | string) => (encoder && bytes.length ? encoder.push(bytes) : bytes);
    try {
      for await (const chunk of up.body) {
        const out = client(tap.push(chunk, ctx.id));
        if (out.length && !ctx.res.write(out)) await waitDrain(ctx.res);
      }
      const tail = client(tap.end(ctx.id));
      if (tail.length) ctx.res.write(tail);
      if (encoder) ctx.res.write(encoder.end());
      // Ended by the pipeline once the record is journaled (context.ts endAnswer).
      ctx.endAnswer = () => ctx.res.end();
    } catch (err) {
      failedMidAnswer(ctx, up, err as Error, deps, encoder);
    } finally {
      finish(ctx, up, tap);
      if (tap.echoed)
        deps.logger.warn({ id: ctx.id, upstream: up.name }, 'the upstream echoed its credential; replaced');
    }
  };
}

/** The upstream or the client failed after the status line went out. */
function failedMidAnswer(
  ctx: RequestContext,
  up: UpstreamAnswer,
  err: Error,
  deps: RelayDeps,
  encoder: AnswerEncoder | null,
): void {
  if (ctx.abort.aborted || ctx.res.destroyed) {
    ctx.record.errorType = 'client_closed';
    return;
  }
  deps.logger.error({ id: ctx.id, err: err.name }, 'upstream failed mid-response');
  ctx.record.errorType = 'upstream_stream_error';
  if (up.sse) {
    // Tell a stream's reader in the stream's own terms.
    const e = errors.upstreamStream(up.name, up.host);
    ctx.res.end(encoder ? encoder.error(e) : e.sseEvent());
  } else {
    // A whole answer cut short must not end like a complete one: the client sees the connection fail.
    ctx.res.destroy();
  }
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
