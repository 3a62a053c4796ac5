/** The organization's own rules (`--policy FILE`): schema, the findings for broken rules, and managed settings that enforce them. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Profile } from '../policy/types.js';
import { finding } from './finding.js';
import { hostOf } from './checks.js';
import type { EffectiveEnvVar, EffectiveSettings, Finding, MachinePaths, McpServer } from './types.js';

const plans = ['free', 'pro', 'max', 'team', 'enterprise', 'api', 'gov'] as const;
const providers = ['anthropic', 'bedrock', 'vertex', 'foundry'] as const;

export const orgPolicySchema = z
  .object({
    /** Plans the organization allows. */
    allowedPlans: z.array(z.enum(plans)).min(1).optional(),
    /** Routes to the model the organization allows. */
    allowedProviders: z.array(z.enum(providers)).min(1).optional(),
    zdrRequired: z.boolean().optional(),
    /** No telemetry, error reports, feedback uploads or surveys. */
    nonEssentialTrafficForbidden: z.boolean().optional(),
    /** Longest time transcripts may stay on disk (becomes cleanupPeriodDays). */
    maxLocalRetentionDays: z.number().int().min(1).optional(),
    /** MCP server names allowed; any other configured server is a finding. */
    mcpAllowlist: z.array(z.string().min(1)).optional(),
    /** Permission rules that must be in the effective permissions.deny, for example `Read(./secrets/**)`. */
    requiredDenyRules: z.array(z.string().min(1)).optional(),
    /** The gateway every client must use (`ANTHROPIC_BASE_URL`). */
    gatewayUrl: z.string().url().optional(),
  })
  .strict();

export type OrgPolicy = z.infer<typeof orgPolicySchema>;

export class PolicyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyFileError';
  }
}

/** Parses YAML or JSON policy text; errors name the file, the key and what was expected. */
export function parsePolicy(text: string, file: string): OrgPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyFileError(`${file}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = orgPolicySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const extra = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `  ${i.path.join('.') || '(root)'}: ${i.message}${extra}`;
    });
    throw new PolicyFileError(`${file}: invalid policy\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export async function loadPolicy(file: string): Promise<OrgPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyFileError(
      `${file}: cannot read policy: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parsePolicy(text, file);
}

export interface PolicyCheckInput {
  policy: OrgPolicy;
  profile: Profile;
  planAssumed: boolean;
  settings: EffectiveSettings;
  env: Record<string, EffectiveEnvVar>;
  servers: McpServer[];
  retentionDays: number;
  paths: MachinePaths;
  policyFile: string;
}

/** One finding (`policy-<rule>`) per broken rule of the organization's policy. */
export function checkPolicy(input: PolicyCheckInput): Finding[] {
  const { policy, profile, env, paths, policyFile } = input;
  const out: Finding[] = [];
  const fail: Fail = (rule, severity, message, fix, file, ...key) =>
    void out.push(
      finding({ id: `policy-${rule}`, severity, message, fix, ...(file ? { file } : {}) }, ...key),
    );
  const fixManaged = `Run \`sluice managed-settings --policy ${policyFile} --out ${paths.managedSettings}\`.`;

  if (policy.allowedPlans && !policy.allowedPlans.includes(profile.plan)) {
    fail(
      'allowed-plans',
      'high',
      `Plan "${profile.plan}"${input.planAssumed ? ' (assumed; pass --plan)' : ''} is not among the allowed plans: ${policy.allowedPlans.join(', ')}.`,
      'Sign in with an allowed plan or route through the organization gateway.',
    );
  }
  if (policy.allowedProviders && !policy.allowedProviders.includes(profile.provider)) {
    fail(
      'allowed-providers',
      'high',
      `Route "${profile.provider}" is not among the allowed routes: ${policy.allowedProviders.join(', ')}.`,
      fixManaged,
    );
  }
  if (policy.zdrRequired && profile.zdr !== true) {
    fail(
      'zdr-required',
      'high',
      'The policy requires zero data retention, and this setup does not have it (pass --zdr if the organization has a ZDR agreement).',
      'Use a ZDR-enabled commercial organization (Claude for Enterprise or API keys on the direct platform) or the ZDR gateway.',
    );
  }
  if (policy.nonEssentialTrafficForbidden && !env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC?.value) {
    fail(
      'non-essential-traffic-forbidden',
      'medium',
      'The policy forbids non-essential traffic, but CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is not set.',
      fixManaged,
    );
  }
  if (policy.maxLocalRetentionDays !== undefined && input.retentionDays > policy.maxLocalRetentionDays) {
    const origin = input.settings.origins.cleanupPeriodDays;
    fail(
      'max-local-retention-days',
      'medium',
      `Transcripts are kept ${input.retentionDays} days (cleanupPeriodDays${origin ? ` from ${origin.scope} settings` : ', default'}); the policy allows ${policy.maxLocalRetentionDays}.`,
      fixManaged,
      origin?.file,
    );
  }
  checkClientRules(input, fail, fixManaged);
  return out;
}

type Fail = (
  rule: string,
  severity: Finding['severity'],
  message: string,
  fix: string,
  file?: string,
  ...key: string[]
) => void;

/** The rules on what the client may run and where it sends: MCP servers, deny rules, the gateway. */
function checkClientRules(input: PolicyCheckInput, fail: Fail, fixManaged: string): void {
  const { policy, env } = input;
  if (policy.mcpAllowlist) {
    for (const s of input.servers.filter((s) => s.active && !policy.mcpAllowlist!.includes(s.name))) {
      fail(
        'mcp-allowlist',
        'high',
        `MCP server "${s.name}" (${s.scope} scope) is not in the policy's mcpAllowlist.`,
        `Remove it, or add it to mcpAllowlist after review; ${fixManaged}`,
        s.file,
        s.name,
        s.scope,
      );
    }
  }
  if (policy.requiredDenyRules) {
    const deny = new Set(
      (input.settings.lists['permissions.deny'] ?? []).map((i) => normalizeRule(String(i.value))),
    );
    const missing = policy.requiredDenyRules.filter((r) => !deny.has(normalizeRule(r)));
    if (missing.length) {
      fail(
        'required-deny-rules',
        'high',
        `Required permissions.deny rules are missing: ${missing.join(', ')}.`,
        fixManaged,
        undefined,
        ...missing,
      );
    }
  }
  if (policy.gatewayUrl) {
    const actual = env.ANTHROPIC_BASE_URL?.value;
    if (!actual || trimSlash(actual) !== trimSlash(policy.gatewayUrl)) {
      fail(
        'gateway-url',
        'high',
        `Clients must use the gateway ${hostOf(policy.gatewayUrl)}, but ANTHROPIC_BASE_URL is ${actual ? hostOf(actual) : 'not set'}.`,
        fixManaged,
      );
    }
  }
}

const normalizeRule = (rule: string) => rule.replace(/\s+/g, '');
const trimSlash = (url: string) => url.trim().replace(/\/+$/, '');

/** Rules that keep .env-style files from the Read tool. */
export const DOTENV_DENY_RULES = ['Read(./.env)', 'Read(./.env.*)', 'Read(**/.env)', 'Read(**/.env.*)'];

const PROVIDER_VARS: Record<Exclude<Profile['provider'], 'anthropic'>, string> = {
  bedrock: 'CLAUDE_CODE_USE_BEDROCK',
  vertex: 'CLAUDE_CODE_USE_VERTEX',
  foundry: 'CLAUDE_CODE_USE_FOUNDRY',
};

/**
 * The `managed-settings.json` that makes clients follow `policy`, and notes on the rules settings cannot
 * enforce (plan, ZDR: those live in the organization's account or the gateway).
 */
export function managedSettingsFor(policy: OrgPolicy): {
  settings: Record<string, unknown>;
  notes: string[];
} {
  const env: Record<string, string> = {};
  const notes: string[] = [];
  const settings: Record<string, unknown> = {};
  if (policy.gatewayUrl) env.ANTHROPIC_BASE_URL = policy.gatewayUrl;
  if (policy.nonEssentialTrafficForbidden) {
    Object.assign(env, {
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_FEEDBACK_COMMAND: '1',
      // The older name, for clients that predate DISABLE_FEEDBACK_COMMAND.
      DISABLE_BUG_COMMAND: '1',
      CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    });
    // Non-essential traffic does not cover the WebFetch domain check, which sends hostnames to api.anthropic.com.
    settings.skipWebFetchPreflight = true;
  }
  if (policy.allowedProviders) {
    const allowed = policy.allowedProviders;
    const thirdParty = allowed.filter((p) => p !== 'anthropic') as (keyof typeof PROVIDER_VARS)[];
    // A managed "0" beats a user's export; with one allowed cloud route, select it.
    for (const [provider, name] of Object.entries(PROVIDER_VARS)) {
      if (!allowed.includes(provider as Profile['provider'])) env[name] = '0';
    }
    if (!allowed.includes('anthropic') && thirdParty.length === 1) env[PROVIDER_VARS[thirdParty[0]!]] = '1';
    if (!allowed.includes('anthropic') && thirdParty.length > 1) {
      notes.push(
        `allowedProviders: several cloud routes allowed (${thirdParty.join(', ')}); each machine must select one.`,
      );
    }
  }
  if (Object.keys(env).length) settings.env = env;
  if (policy.maxLocalRetentionDays !== undefined) settings.cleanupPeriodDays = policy.maxLocalRetentionDays;
  const deny = [...(policy.requiredDenyRules ?? [])];
  for (const rule of DOTENV_DENY_RULES)
    if (!deny.some((r) => normalizeRule(r) === normalizeRule(rule))) deny.push(rule);
  settings.permissions = { deny, disableBypassPermissionsMode: 'disable' };
  if (policy.mcpAllowlist) {
    settings.allowedMcpServers = policy.mcpAllowlist.map((serverName) => ({ serverName }));
    settings.allowManagedMcpServersOnly = true;
  }
  if (policy.allowedPlans)
    notes.push(
      'allowedPlans: settings cannot choose a plan; enforce it in the admin console or the gateway.',
    );
  if (policy.zdrRequired)
    notes.push('zdrRequired: ZDR is an organization agreement; settings cannot switch it on.');
  if (policy.maxLocalRetentionDays !== undefined) {
    notes.push(
      'maxLocalRetentionDays: ~/.claude/history.jsonl is never swept by cleanupPeriodDays; schedule `sluice scrub`.',
    );
  }
  return { settings, notes };
}
