/** Stage record: exactly one audit record per model request, whatever happened to it. */
import { keptContent } from '../../control/content.js';
import type { Store } from '../../store/types.js';
import { overheadMs } from '../context.js';
import type { Stage } from '../pipeline.js';

export interface RecordDeps {
  store: Store;
  now: () => number;
  logger: {
    debug?(f: Record<string, unknown>, m: string): void;
    error(f: Record<string, unknown>, m: string): void;
  };
}

export function record(deps: RecordDeps): Stage {
  return async (ctx) => {
    const r = ctx.record;
    const at = deps.now();
    r.latencyMs = at - ctx.started;
    r.overheadMs = overheadMs(ctx, at);
    if (ctx.org && keptContent(ctx.org) === 'none') {
      r.requestContent = null;
      r.responseContent = null;
    }
    try {
      await deps.store.insertAudit(r);
    } catch (err) {
      deps.logger.error({ id: ctx.id, err: (err as Error).message }, 'audit record not written');
    }
    // One line per request at debug level: the audit record is the request log; stderr is for events.
    deps.logger.debug?.(
      { id: ctx.id, org: r.org, user: r.user, status: r.status, ms: Math.round(r.latencyMs) },
      'request',
    );
  };
}
