/** From a machine's effective configuration to the policy engine's Profile, stating what had to be assumed. */
import type { Profile, Provider } from '../policy/types.js';
import { isCredentialName, isLiteralSecret } from './redact.js';
import type { EffectiveEnvVar, EffectiveSettings, Inspector, McpServer, ProfileFlags } from './types.js';

/** The client's reading of a boolean variable (`1`, `true`, `yes`, `on`). */
export function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/** The route the client uses: the first `CLAUDE_CODE_USE_*` set, else the Anthropic API. */
export function providerOf(env: Record<string, EffectiveEnvVar>): Provider {
  if (isTruthy(env.CLAUDE_CODE_USE_BEDROCK?.value)) return 'bedrock';
  if (isTruthy(env.CLAUDE_CODE_USE_VERTEX?.value)) return 'vertex';
  if (isTruthy(env.CLAUDE_CODE_USE_FOUNDRY?.value)) return 'foundry';
  return 'anthropic';
}

/** True when `ANTHROPIC_BASE_URL` points somewhere other than Anthropic's API (a gateway). */
export function gatewayBaseUrl(env: Record<string, EffectiveEnvVar>): string | undefined {
  const url = env.ANTHROPIC_BASE_URL?.value?.trim();
  if (!url) return undefined;
  try {
    return new URL(url).hostname === 'api.anthropic.com' ? undefined : url;
  } catch {
    return url;
  }
}

/** What sends an API credential instead of a claude.ai login. */
export function apiCredentialSources(
  env: Record<string, EffectiveEnvVar>,
  settings: EffectiveSettings,
): string[] {
  const out: string[] = [];
  if (env.ANTHROPIC_API_KEY?.value) out.push('ANTHROPIC_API_KEY');
  if (env.ANTHROPIC_AUTH_TOKEN?.value) out.push('ANTHROPIC_AUTH_TOKEN');
  if (typeof settings.values.apiKeyHelper === 'string' && settings.values.apiKeyHelper)
    out.push('apiKeyHelper');
  return out;
}

export function buildProfile(input: {
  settings: EffectiveSettings;
  env: Record<string, EffectiveEnvVar>;
  servers: McpServer[];
  flags: ProfileFlags;
  at: string;
  inspector: Inspector;
  /** The company gateway the client is signed in to and governed by (audit/gateway-signin.ts). */
  signedInGateway?: string;
}): { profile: Profile; assumptions: string[] } {
  const { settings, env, flags } = input;
  const assumptions: string[] = [];
  let plan = flags.plan;
  if (!plan) {
    const creds = [
      ...apiCredentialSources(env, settings),
      ...(gatewayBaseUrl(env) ? ['ANTHROPIC_BASE_URL'] : []),
      ...(input.signedInGateway ? [`a sign-in to the gateway ${input.signedInGateway}`] : []),
    ];
    plan = creds.length ? 'api' : 'pro';
    assumptions.push(
      creds.length
        ? `plan assumed "api" because ${creds.join(', ')} is configured; pass --plan to say otherwise`
        : 'plan assumed "pro" (no API key, token, apiKeyHelper or gateway configured); pass --plan to say otherwise',
    );
  }
  if (flags.zdr === undefined)
    assumptions.push('zero data retention assumed off; pass --zdr if your organization has it');
  if (flags.trainingOptIn === undefined && ['free', 'pro', 'max'].includes(plan)) {
    assumptions.push('consumer training choice unknown; pass --training-opt-in or --no-training-opt-in');
  }
  // The engine needs names and switch values, never credentials: mask those before they leave the audit.
  const profileEnv = Object.fromEntries(
    Object.entries(env).map(([name, v]) => [
      name,
      isCredentialName(name) && isLiteralSecret(v.value) ? input.inspector.mask(v.value) : v.value,
    ]),
  );
  const profile: Profile = {
    plan,
    provider: providerOf(env),
    env: profileEnv,
    settings: settings.values,
    mcpServers: input.servers.filter((s) => s.active).map((s) => s.name),
    at: input.at,
  };
  if (flags.clientVersion !== undefined) profile.clientVersion = flags.clientVersion;
  if (flags.zdr !== undefined) profile.zdr = flags.zdr;
  if (flags.trainingOptIn !== undefined) profile.trainingOptIn = flags.trainingOptIn;
  if (flags.developmentPartnerProgram !== undefined)
    profile.developmentPartnerProgram = flags.developmentPartnerProgram;
  return { profile, assumptions };
}
