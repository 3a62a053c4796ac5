/**
 * Stage forward: the request to the first of the org's upstreams that answers, until its status
 * line and headers arrive. Each upstream's adapter turns the request (in the Messages API's terms,
 * the body as the guard left it) into its cloud's request and signs it. A connection that fails, an
 * upstream that cannot be signed for, or an answer of 429, 5xx or 529 moves on to the next upstream
 * in the org's list; nothing has reached the client yet, so nothing is spliced. The last upstream's
 * answer, whatever it is, is the client's. The audit record names every upstream tried.
 */
import { errors as undiciErrors } from 'undici';
import { errors, SluiceError } from '../../errors/catalog.js';
import type { RequestContext, UpstreamRoute } from '../context.js';
import { ClientClosed, type Stage } from '../pipeline.js';
import type { ModelCall, RawAnswer, UpstreamPools } from '../upstreams/adapter.js';

/** An answer that the next upstream may do better on. */
export function failsOver(status: number): boolean {
  return status === 429 || status >= 500;
}

function callOf(ctx: RequestContext, route: UpstreamRoute): ModelCall {
  return {
    operation: ctx.route.operation ?? 'messages',
    path: ctx.call.path,
    headers: ctx.call.headers,
    body: ctx.body,
    stream: ctx.message?.stream ?? false,
    model: ctx.message?.model ?? null,
    modelId: route.modelId,
  };
}

/** Headers that carry a credential to an upstream (a SigV4 secret never leaves: only its signature). */
const CREDENTIAL_HEADERS = [
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
];

/** The credentials sent in `headers`: what an upstream could echo back. */
export function sentCredentials(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of CREDENTIAL_HEADERS) {
    const value = headers[name];
    if (!value) continue;
    out.push(value);
    const token = /^(?:Bearer|Basic)\s+(.+)$/i.exec(value)?.[1];
    if (token) out.push(token);
  }
  return out;
}

/** One upstream's raw answer (with the credentials it was sent), or the catalog error for why there is none. */
async function attempt(
  ctx: RequestContext,
  route: UpstreamRoute,
  call: ModelCall,
  pools: UpstreamPools,
  now: () => number,
): Promise<(RawAnswer & { secrets: string[] }) | SluiceError> {
  const { adapter } = route;
  let prepared;
  try {
    prepared = await adapter.prepare(call);
  } catch (err) {
    if (err instanceof SluiceError) return err;
    throw err;
  }
  ctx.upstreamSentAt ??= now();
  try {
    const answer = await pools.for(adapter).request({
      method: prepared.method,
      path: prepared.path,
      // The record's id travels with the request, so an upstream's logs can be matched to it.
      headers: { ...prepared.headers, 'x-sluice-request-id': ctx.id },
      body: prepared.body,
      signal: ctx.abort,
    });
    return {
      status: answer.statusCode,
      headers: answer.headers as RawAnswer['headers'],
      body: answer.body,
      secrets: sentCredentials(prepared.headers),
    };
  } catch (err) {
    if (ctx.abort.aborted) throw new ClientClosed();
    if (err instanceof undiciErrors.HeadersTimeoutError)
      return errors.upstreamTimeout(adapter.name, adapter.host);
    return errors.upstreamUnreachable(adapter.name, adapter.host);
  }
}

export function forward(pools: UpstreamPools, now: () => number): Stage {
  return async (ctx) => {
    // The client going away cancels the upstream request, before or after its answer began.
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) ctx.abort.abort();
    });
    let failure: SluiceError | null = null;
    for (const [i, route] of ctx.routes.entries()) {
      const call = callOf(ctx, route);
      const last = i === ctx.routes.length - 1;
      ctx.record.upstreamsTried.push(route.adapter.name);
      const local = route.adapter.local?.(call);
      if (local) {
        ctx.record.upstream = route.adapter.name;
        ctx.upstream = local;
        return;
      }
      const raw = await attempt(ctx, route, call, pools, now);
      if (raw instanceof SluiceError) {
        failure = raw;
        continue;
      }
      if (!last && failsOver(raw.status)) {
        await raw.body.dump?.().catch(() => undefined);
        continue;
      }
      ctx.record.upstream = route.adapter.name;
      ctx.upstream = { ...(await route.adapter.answer(raw, call)), secrets: raw.secrets };
      return;
    }
    throw failure ?? errors.internal(ctx.id);
  };
}
