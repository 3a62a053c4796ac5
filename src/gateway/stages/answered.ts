/** Routes answered by the gateway itself: health, the client's connectivity probe, and not-served paths. */
import type { Store } from '../../store/types.js';
import { errors } from '../../errors/catalog.js';
import { reply, type Stage } from '../pipeline.js';

/** `GET /healthz`: 200 when the store answers, else 503. */
export function health(store: Store, now: () => number): Stage {
  return async (ctx) => {
    try {
      await store.ping();
      reply(ctx.res, 200, '{"status":"ok"}', ctx.started, now);
    } catch {
      reply(ctx.res, 503, '{"status":"store unreachable"}', ctx.started, now);
    }
  };
}

/** `HEAD /api/hello`: Claude Code's connectivity probe, answered locally. */
export function hello(now: () => number): Stage {
  return (ctx) => reply(ctx.res, 200, '', ctx.started, now);
}

/** A path the gateway does not serve (after the key was checked). */
export const notServed: Stage = (ctx) => {
  throw errors.notFound(ctx.req.method ?? 'GET', ctx.path);
};
