/**
 * Stage journal: before anything is forwarded, the request is begun in the local audit journal
 * (src/store/journal.ts), so that a request that reaches the upstream is on record even if the
 * gateway dies mid-answer. A journal that cannot write refuses the request: nothing unrecorded
 * leaves.
 */
import { errors } from '../../errors/catalog.js';
import { JournalError, type AuditJournal } from '../../store/journal.js';
import type { Stage } from '../pipeline.js';

export function journal(j: AuditJournal): Stage {
  return (ctx) => {
    try {
      j.begin(ctx.record);
    } catch (err) {
      if (err instanceof JournalError) throw errors.storeUnavailable(err.message);
      throw err;
    }
  };
}
