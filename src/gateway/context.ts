/** One request's state as it passes the stages: what each stage learned, and its audit record. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { OrgConfig, SluiceConfig } from '../control/config.js';
import type { Admission } from '../control/limits.js';
import type { SluiceError } from '../errors/catalog.js';
import type { PlaceholderVault } from '../guard/redact.js';
import type { AuditRecord, KeyRecord } from '../store/types.js';
import type { MessagesBody } from './body.js';
import type { SignedIn } from '../signin/tokens.js';
import type { Route } from './routes.js';
import type { UpstreamAdapter } from './upstreams/adapter.js';
import { emptyUsage, type Usage } from './usage.js';

/** The upstream's answer once its status line and headers arrived (set by `forward`). */
export interface UpstreamAnswer {
  /** The upstream's name in the config, and its host, for messages. */
  name: string;
  host: string;
  status: number;
  headers: Record<string, string | string[]>;
  body: AsyncIterable<Buffer>;
  /** The answer is a server-sent event stream. */
  sse: boolean;
  /** Credentials the gateway sent this upstream: scrubbed from the answer if the upstream echoes them. */
  secrets?: string[];
}

/** One upstream the request may go to, with the id its cloud knows the model by. */
export interface UpstreamRoute {
  adapter: UpstreamAdapter;
  modelId: string | null;
}

/**
 * How the answer is written for a client that speaks a cloud's format (Bedrock's event stream);
 * the Messages API's own clients get the bytes as they are.
 */
export interface AnswerEncoder {
  /** The content type of a streamed answer in the client's format. */
  readonly streamType: string;
  /** The client's bytes for a piece of the Messages API's server-sent events. */
  push(sse: Buffer | string): Buffer | string;
  /** What is left once the stream ended. */
  end(): Buffer | string;
  /** A stream cut short by a gateway error, in the client's format. */
  error(e: SluiceError): Buffer | string;
}

/** The request in the Messages API's terms, whatever format the client spoke (see stages/client-format.ts). */
export interface MessagesCall {
  /** The Messages API path and query it stands for (`/v1/messages?beta=true`). */
  path: string;
  /** The headers to pass on, `anthropic-beta` holding every beta the client asked for. */
  headers: IncomingHttpHeaders;
}

export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route;
  /** The configuration the request arrived under; it finishes under it, whatever is reloaded meanwhile. */
  readonly config: SluiceConfig;
  /** The path without its query. */
  readonly path: string;
  /** Monotonic time the request arrived (ms), for latency and overhead. */
  readonly started: number;
  /** Cancels the upstream request (the client went away, or the gateway gave up on it). */
  readonly abort: Cancel;
  /** Monotonic time the upstream request left, once it did. */
  upstreamSentAt: number | null;
  key: KeyRecord | null;
  /** The signed-in person, when the bearer is a Sluice-issued access token (company sign-in). */
  identity: SignedIn | null;
  org: OrgConfig | null;
  /** The request body as received, then as it is to be forwarded (redacted when the guard redacts). */
  body: Buffer | null;
  message: MessagesBody | null;
  /** Placeholders to restore in the answer (org `restore: true` and something was redacted). */
  restore: PlaceholderVault | null;
  /**
   * The request with every detected value replaced, as bytes, when the org keeps content: the
   * record stage stores it (by delta) as the record's `requestContent`.
   */
  storedRequest: Buffer | null;
  /** The request as the Messages API would have it (the client's own path and headers, for its clients). */
  call: MessagesCall;
  /** The org's upstreams that serve the model, in failover order (set by `route`). */
  routes: UpstreamRoute[];
  /** Set for a client that wants its answer in a cloud's format. */
  answerAs: AnswerEncoder | null;
  upstream: UpstreamAnswer | null;
  usage: Usage;
  /** The request's share of its org's budget reservations (set by `limit`, settled by `account`). */
  admission: Admission | null;
  /** Run when the request ends, whatever happened, before `record` (returns what it held). */
  readonly onEnd: (() => void)[];
  /**
   * Ends the client's answer: set by the relay and called by the pipeline once the request's
   * record is in the journal, so a client that saw a whole answer never outruns its record.
   */
  endAnswer?: () => void;
  record: AuditRecord;
}

/**
 * A request's cancel switch, passed to undici as its `signal` (undici takes an EventEmitter as well
 * as an AbortSignal): an AbortController is an EventTarget, whose listener bookkeeping cost the
 * gateway ~0.04 ms of CPU per request at 16 in flight (bench/gateway/ladder.ts, level 3, either way).
 * `abort()` fires once; undici then fails the request with its RequestAbortedError.
 */
export class Cancel extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

export function newContext(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  config: SluiceConfig,
  started: number,
  at: Date,
): RequestContext {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const id = `req_${randomUUID().replace(/-/g, '')}`;
  return {
    id,
    req,
    res,
    route,
    config,
    path,
    started,
    abort: new Cancel(),
    upstreamSentAt: null,
    key: null,
    identity: null,
    org: null,
    body: null,
    message: null,
    restore: null,
    storedRequest: null,
    call: { path: messagesPath(req.url ?? '/', route), headers: req.headers },
    routes: [],
    answerAs: null,
    upstream: null,
    usage: emptyUsage(),
    admission: null,
    onEnd: [],
    record: blankRecord(id, req, path, at),
  };
}

/** The client's path and query as the Messages API has it (Foundry's `/anthropic` prefix gone). */
function messagesPath(url: string, route: Route): string {
  return route.strip && url.startsWith(route.strip) ? url.slice(route.strip.length) : url;
}

function blankRecord(id: string, req: IncomingMessage, path: string, at: Date): AuditRecord {
  const session = req.headers['x-claude-code-session-id'];
  return {
    id,
    time: at.toISOString(),
    org: null,
    user: null,
    keyId: null,
    sessionId: typeof session === 'string' ? session.slice(0, 200) : null,
    method: req.method ?? 'GET',
    path,
    model: null,
    stream: false,
    status: 0,
    errorType: null,
    upstream: null,
    upstreamsTried: [],
    ...emptyUsage(),
    costUsd: null,
    priceNote: null,
    latencyMs: 0,
    overheadMs: 0,
    guard: { decision: 'none', rules: {} },
    requestContent: null,
    responseContent: null,
  };
}

/** Time in the gateway before the upstream request left (or until now, if it never left). */
export function overheadMs(ctx: RequestContext, now: number): number {
  return (ctx.upstreamSentAt ?? now) - ctx.started;
}
