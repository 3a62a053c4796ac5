/** Stage account: the request's cost on its audit record, charged to the org's budgets and rate limits. */
import type { Limits } from '../../control/limits.js';
import type { Stage } from '../pipeline.js';

export function account(limits: Limits, clock: () => Date, onError: (err: Error) => void): Stage {
  return async (ctx) => {
    const key = ctx.key;
    const org = ctx.org;
    if (!key || !org) return;
    ctx.record.priceNote = limits.priceFor(ctx.record.model, org)?.note ?? null;
    try {
      ctx.record.costUsd = await limits.account(
        key.org,
        org,
        key.user,
        ctx.record.model,
        ctx.usage,
        clock(),
        ctx.admission ?? undefined,
        key.groups ?? [],
      );
    } catch (err) {
      onError(err as Error);
    }
  };
}
