/** Every finding kind the audit can report: its id, default severity and a one-line description (SARIF rules, docs). */
import type { Severity } from './types.js';

export interface FindingKind {
  id: string;
  severity: Severity | 'varies';
  title: string;
}

export const FINDING_KINDS: FindingKind[] = [
  {
    id: 'secret-in-transcript',
    severity: 'high',
    title: 'A secret is stored in plaintext in a local transcript or the prompt history',
  },
  {
    id: 'secret-in-settings',
    severity: 'high',
    title: 'A secret is written in a settings file or MCP configuration',
  },
  {
    id: 'secrets-readable',
    severity: 'high',
    title: 'No permissions.deny rule keeps .env-style files from the Read tool',
  },
  {
    id: 'login-forced-with-gateway',
    severity: 'high',
    title: 'A forced first-party login is combined with API credentials or a gateway',
  },
  {
    id: 'bypass-permissions-allowed',
    severity: 'varies',
    title: 'Permission prompts can be bypassed (high when defaultMode is bypassPermissions)',
  },
  {
    id: 'stale-transcript',
    severity: 'medium',
    title: 'Transcripts older than the effective cleanupPeriodDays are still on disk',
  },
  {
    id: 'mcp-third-party',
    severity: 'medium',
    title: 'An MCP server receives tool inputs and may send them to a third party',
  },
  { id: 'telemetry-on', severity: 'medium', title: 'Telemetry or error reporting to Anthropic is enabled' },
  {
    id: 'pii-in-transcript',
    severity: 'medium',
    title: 'Personal data is stored in a local transcript or the prompt history',
  },
  {
    id: 'history-unswept',
    severity: 'varies',
    title: 'history.jsonl is never swept by the client (medium when it holds secrets)',
  },
  {
    id: 'queued-telemetry',
    severity: 'low',
    title: 'Telemetry events are queued on disk waiting to be sent',
  },
  {
    id: 'gateway-governed',
    severity: 'info',
    title: 'Claude Code is signed in to a company gateway and takes its managed settings from it',
  },
  {
    id: 'gateway-sign-in-missing',
    severity: 'low',
    title: 'Managed settings force a gateway sign-in, but the client is not signed in to that gateway',
  },
  {
    id: 'gateway-sign-in-unused',
    severity: 'low',
    title: 'The client holds a gateway sign-in that no machine-managed setting makes it use',
  },
  {
    id: 'settings-unreadable',
    severity: 'medium',
    title: 'A settings or MCP file cannot be read, so the client cannot apply it',
  },
  {
    id: 'settings-malformed',
    severity: 'medium',
    title: 'A settings or MCP file is not a valid JSON object, so the client skips it',
  },
  {
    id: 'policy-allowed-plans',
    severity: 'high',
    title: 'The plan is not allowed by the organization policy',
  },
  {
    id: 'policy-allowed-providers',
    severity: 'high',
    title: 'The route to the model is not allowed by the organization policy',
  },
  { id: 'policy-zdr-required', severity: 'high', title: 'The policy requires zero data retention' },
  {
    id: 'policy-non-essential-traffic-forbidden',
    severity: 'medium',
    title: 'The policy forbids non-essential traffic',
  },
  {
    id: 'policy-max-local-retention-days',
    severity: 'medium',
    title: 'Local retention is longer than the policy allows',
  },
  { id: 'policy-mcp-allowlist', severity: 'high', title: 'An MCP server is not in the policy allowlist' },
  {
    id: 'policy-required-deny-rules',
    severity: 'high',
    title: 'Required permissions.deny rules are missing',
  },
  { id: 'policy-gateway-url', severity: 'high', title: 'The client does not use the required gateway' },
];

export function kindOf(id: string): FindingKind {
  return FINDING_KINDS.find((k) => k.id === id) ?? { id, severity: 'varies', title: id };
}
