/**
 * An audit record as the benches write them (metadata of a streamed Claude Code request, no
 * content), with `over` on top; a fresh random id each call.
 */
import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../src/store/types.js';

export const auditRecord = (over: Partial<AuditRecord> = {}): AuditRecord => ({
  id: `req_${randomBytes(16).toString('hex')}`,
  org: 'org0',
  user: 'u0@org0.test',
  keyId: 'key_0',
  sessionId: 'sess-0',
  method: 'POST',
  path: '/v1/messages',
  model: 'claude-sonnet-4-5',
  stream: true,
  status: 200,
  errorType: null,
  upstream: 'anthropic',
  upstreamsTried: ['anthropic'],
  inputTokens: 1200,
  outputTokens: 300,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 40000,
  costUsd: 0.0123,
  latencyMs: 2300,
  overheadMs: 0.4,
  guard: { decision: 'none', rules: {} },
  requestContent: null,
  responseContent: null,
  time: new Date().toISOString(),
  ...over,
});
