/**
 * One audit record of an org with its request as the store keeps it. The gateway stores a request
 * only after the guard replaced every value it detected (logged ones too) by a placeholder such as
 * `[REDACTED:github-pat:1]`, so this shows placeholders, never the values; a response is not shown.
 */
import type { AuditRecord, Store } from '../store/types.js';

export interface RecordDetail {
  record: Omit<AuditRecord, 'requestContent' | 'responseContent' | 'requestBase'>;
  /** The request as stored (whole, rebuilt from its delta chain by the store); null when not kept. */
  request: string | null;
}

/** The record `id` of `org`, or undefined when there is none in that org (another org's is none too). */
export async function recordDetail(store: Store, org: string, id: string): Promise<RecordDetail | undefined> {
  const found = await store.getAudit(id);
  if (!found || found.org !== org) return undefined;
  const { requestContent, responseContent: _r, requestBase: _b, ...record } = found;
  return { record, request: requestContent };
}
