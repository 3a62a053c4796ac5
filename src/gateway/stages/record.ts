/**
 * Stage record: exactly one audit record per model request, whatever happened to it, ended in the
 * audit journal, which takes it to the store (and retries until the store has it).
 */
import { ContentChain, keptContent } from '../../control/content.js';
import type { AuditJournal } from '../../store/journal.js';
import { overheadMs } from '../context.js';
import type { Stage } from '../pipeline.js';

export interface RecordDeps {
  journal: AuditJournal;
  now: () => number;
  logger: { debug?(f: Record<string, unknown>, m: string): void };
  /** Each conversation's last stored requests, so the next is stored by delta (default: 64 MB held). */
  chain?: ContentChain;
}

export function record(deps: RecordDeps): Stage {
  const chain = deps.chain ?? new ContentChain(64 * 1024 * 1024);
  return (ctx) => {
    const r = ctx.record;
    const at = deps.now();
    r.latencyMs = at - ctx.started;
    r.overheadMs = overheadMs(ctx, at);
    if (ctx.org && keptContent(ctx.org) === 'none') {
      r.requestContent = null;
      r.responseContent = null;
    } else {
      const content = ctx.storedRequest ?? r.requestContent;
      if (content !== null) {
        // The conversation is the read stage's: the key and Claude Code's session id.
        const stored = chain.store(`${r.keyId ?? ''}\u0000${r.sessionId ?? ''}`, r.id, content, at);
        r.requestContent = stored.content;
        r.requestBase = stored.base;
      }
    }
    deps.journal.end(r);
    // One line per request at debug level: the audit record is the request log; stderr is for events.
    deps.logger.debug?.(
      { id: ctx.id, org: r.org, user: r.user, status: r.status, ms: Math.round(r.latencyMs) },
      'request',
    );
  };
}
