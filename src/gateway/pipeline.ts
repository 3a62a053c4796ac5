/** Runs a route's stages in order, ends the request with a catalog error when one throws, then records. */
import type { ServerResponse } from 'node:http';
import { errors, SluiceError } from '../errors/catalog.js';
import type { RequestContext } from './context.js';

/** One stage: reads and extends the context, or ends the request by throwing a `SluiceError`. */
export type Stage = (ctx: RequestContext) => void | Promise<void>;

/** The client went away before its request was whole: nothing to answer, and no upstream failure. */
export class ClientClosed extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosed';
  }
}

export interface PipelineLogger {
  error(fields: Record<string, unknown>, msg: string): void;
  warn?(fields: Record<string, unknown>, msg: string): void;
}

/**
 * Runs `stages` in order; a thrown error becomes the client's answer (when the status line has not
 * gone yet) and the record's status; `record` runs last, whatever happened.
 */
export async function runStages(
  ctx: RequestContext,
  stages: readonly Stage[],
  record: Stage | null,
  logger: PipelineLogger,
  now: () => number,
): Promise<void> {
  let thrown: unknown;
  try {
    for (const stage of stages) await stage(ctx);
  } catch (err) {
    thrown = err;
    endWithError(ctx, err, logger, now);
  } finally {
    for (const end of ctx.onEnd) end();
    try {
      if (record) await record(ctx);
    } finally {
      // The answer's last bytes go once its record is journaled (a kill -9 between the two would
      // otherwise leave a client with a whole answer and a record of an interrupted request).
      ctx.endAnswer?.();
    }
    // A failure on the gateway's or the upstream's side is worth one line to whoever runs it
    // (the record has the rest); never the request's content.
    const { status, errorType, org, upstreamsTried } = ctx.record;
    if (status >= 500)
      logger.warn?.(
        {
          id: ctx.id,
          status,
          code: thrown instanceof SluiceError ? thrown.code : errorType,
          org,
          upstreams: upstreamsTried,
        },
        'request answered with an error',
      );
  }
}

function endWithError(ctx: RequestContext, err: unknown, logger: PipelineLogger, now: () => number): void {
  if (err instanceof ClientClosed) {
    ctx.abort.abort();
    ctx.record.status = 499;
    ctx.record.errorType = 'client_closed';
    return;
  }
  const known = err instanceof SluiceError ? err : null;
  if (!known) logger.error({ id: ctx.id, err: (err as Error)?.name ?? String(err) }, 'request failed');
  ctx.abort.abort();
  if (ctx.res.headersSent) {
    // The answer has begun: the relay has said what it could; never let a cut answer look whole.
    if (!ctx.res.writableEnded) ctx.res.destroy();
    return;
  }
  const e = known ?? errors.internal(ctx.id);
  ctx.record.status = e.status;
  ctx.record.errorType = e.type;
  replyError(ctx.res, e, ctx.started, now, ctx.route.recorded ? ctx.id : undefined);
}

/** Answers with a JSON body and the gateway's overhead header. */
export function reply(
  res: ServerResponse,
  status: number,
  body: string,
  started: number,
  now: () => number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-sluice-overhead-ms': (now() - started).toFixed(2),
  });
  res.end(body);
}

/** Answers with a catalog error in the Anthropic envelope. */
export function replyError(
  res: ServerResponse,
  e: SluiceError,
  started: number,
  now: () => number,
  requestId?: string,
): void {
  const headers = requestId
    ? { ...e.responseHeaders(), 'x-sluice-request-id': requestId }
    : e.responseHeaders();
  reply(res, e.status, e.body(), started, now, headers);
}
