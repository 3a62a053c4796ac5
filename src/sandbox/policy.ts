/**
 * An org's sandbox policy applied to one request: may this person's org run a sandboxed session on
 * this repository, with which forge credentials, within which limits, and what becomes of the
 * transcript. Pure: the configuration in, a decision (or the reason for a refusal) out.
 */
import type { ForgeConfig, OrgConfig, SandboxPolicy, SluiceConfig } from '../control/config.js';
import { isUnder, matchesPattern, urlProblem } from './repository.js';

export class SandboxPolicyError extends Error {}

/** What happens to a session's transcript: kept (scrubbed of these kinds) or not, and why. */
export type TranscriptRule =
  { keep: false; why: string } | { keep: true; scrub: ('secret' | 'pii')[]; why: string };

export interface ResolvedSandbox {
  orgName: string;
  org: OrgConfig;
  policy: SandboxPolicy;
  forgeName: string;
  forge: ForgeConfig;
  /** The forge token, read from the variable the forge names. */
  token: string;
  /** The repository as requested, without a trailing slash. */
  repository: string;
  transcript: TranscriptRule;
}

/**
 * Transcripts follow the org's content logging: none under ZDR or `none`; under `redacted`,
 * secrets and personal data are replaced; under `full`, secrets still are (a transcript at rest
 * holds tool results, so it is scrubbed whenever it is kept).
 */
export function transcriptRule(org: Pick<OrgConfig, 'zdr' | 'contentLogging'>): TranscriptRule {
  if (org.zdr) return { keep: false, why: 'zero data retention: no session content is kept' };
  if (org.contentLogging === 'none') return { keep: false, why: 'contentLogging is none' };
  if (org.contentLogging === 'redacted')
    return {
      keep: true,
      scrub: ['secret', 'pii'],
      why: 'contentLogging is redacted: kept with secrets and personal data replaced',
    };
  return { keep: true, scrub: ['secret'], why: 'contentLogging is full: kept with secrets replaced' };
}

/** The policy for `org` running a session on `repository`, or a SandboxPolicyError saying why not. */
export function resolveSandbox(
  config: SluiceConfig,
  orgName: string,
  repository: string,
  env: Record<string, string | undefined>,
): ResolvedSandbox {
  const org = config.orgs[orgName];
  if (!org)
    throw new SandboxPolicyError(
      `no org "${orgName}" in the configuration (orgs: ${Object.keys(config.orgs).join(', ') || 'none'})`,
    );
  const policy = org.sandbox;
  if (!policy)
    throw new SandboxPolicyError(
      `org "${orgName}" has no sandbox policy (orgs.${orgName}.sandbox), so it may not run sandboxed sessions`,
    );
  if (!policy.enabled)
    throw new SandboxPolicyError(
      `sandboxed sessions are switched off for org "${orgName}" (orgs.${orgName}.sandbox.enabled)`,
    );
  const trimmed = repository.replace(/\/+$/, '');
  const problem = urlProblem(trimmed);
  if (problem) throw new SandboxPolicyError(`--repo ${repository}: ${problem}`);
  if (!policy.repositories.some((p) => matchesPattern(trimmed, p)))
    throw new SandboxPolicyError(
      `org "${orgName}" may not run sandboxed sessions on ${trimmed} (allowed: ${policy.repositories.join(', ')})`,
    );
  const forges = Object.entries(config.forges).filter(([, f]) => isUnder(trimmed, f.baseUrl));
  const [found] = forges;
  if (!found || forges.length > 1)
    throw new SandboxPolicyError(
      `${trimmed} lies under ${forges.length ? 'several forges' : 'no forge'} in forges:`,
    );
  const token = env[found[1].tokenEnv];
  if (!token)
    throw new SandboxPolicyError(
      `forges.${found[0]}.tokenEnv: ${found[1].tokenEnv} is not set in the environment of this command`,
    );
  return {
    orgName,
    org,
    policy,
    forgeName: found[0],
    forge: found[1],
    token,
    repository: trimmed,
    transcript: transcriptRule(org),
  };
}
