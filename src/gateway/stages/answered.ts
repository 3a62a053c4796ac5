/** Routes answered by the gateway itself: health, the client's probes, and not-served paths. */
import type { AuditJournal } from '../../store/journal.js';
import type { Store } from '../../store/types.js';
import { errors } from '../../errors/catalog.js';
import { reply, type Stage } from '../pipeline.js';

/**
 * `GET /healthz`: 200 `{"status":"ok"}` when requests can be served and recorded; otherwise 503
 * `{"status":"not ready","reason":…}` (the journal cannot write, the store refuses records, or it
 * does not answer).
 */
export function health(store: Store, journal: AuditJournal, now: () => number): Stage {
  return async (ctx) => {
    let reason = journal.notReady();
    if (!reason)
      try {
        await store.ping();
      } catch {
        reason = 'the store does not answer';
      }
    const [status, body] = reason ? [503, { status: 'not ready', reason }] : [200, { status: 'ok' }];
    reply(ctx.res, status, JSON.stringify(body), ctx.started, now);
  };
}

/** `HEAD /api/hello`: Claude Code's connectivity probe, answered locally. */
export function hello(now: () => number): Stage {
  return (ctx) => reply(ctx.res, 200, '', ctx.started, now);
}

/** `GET /inference-profiles` of a Bedrock-format client: none (the gateway maps model ids itself). */
export function inferenceProfiles(now: () => number): Stage {
  return (ctx) => reply(ctx.res, 200, '{"inferenceProfileSummaries":[]}', ctx.started, now);
}

/** A path the gateway does not serve (after the key was checked). */
export const notServed: Stage = (ctx) => {
  throw errors.notFound(ctx.req.method ?? 'GET', ctx.path);
};
