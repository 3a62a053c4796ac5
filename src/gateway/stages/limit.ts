/**
 * Stage limit: the org's budgets and rate limits, checked before anything is sent; a request's
 * worst-case cost is reserved against its budgets until it ends. Fails closed.
 */
import type { Limits } from '../../control/limits.js';
import { errors, SluiceError } from '../../errors/catalog.js';
import type { Stage } from '../pipeline.js';

export function limit(limits: Limits, clock: () => Date, onError: (err: Error) => void): Stage {
  return async (ctx) => {
    const key = ctx.key;
    const org = ctx.org;
    if (!key || !org) return;
    const size = { inputBytes: ctx.body?.length ?? 0, maxTokens: ctx.message?.maxTokens ?? null };
    try {
      const admission = await limits.check(
        key.org,
        org,
        key.user,
        ctx.record.model,
        clock(),
        size,
        key.groups ?? [],
      );
      ctx.admission = admission;
      ctx.onEnd.push(() => limits.release(admission));
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      // A limit that cannot be checked is not waived.
      onError(err as Error);
      throw errors.limitsUnavailable(key.org);
    }
  };
}
