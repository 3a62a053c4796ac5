/** The one rule for what of a request's content an org may keep at rest. */
import type { OrgConfig } from './config.js';

/**
 * What the gateway may store of an org's requests and answers: nothing under zero data retention,
 * whatever `contentLogging` says; otherwise `redacted` keeps the request with every detected value
 * replaced, and `full` also keeps the answer.
 */
export function keptContent(org: OrgConfig): 'none' | 'redacted' | 'full' {
  return org.zdr ? 'none' : org.contentLogging;
}
