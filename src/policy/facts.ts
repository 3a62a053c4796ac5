/** What the engine derives from a profile before rules run, and how a rule's condition is tested. */
import type { Condition, Flag, TrainingState } from './rule.js';
import type { Plan, Profile, Provider } from './types.js';

export interface Facts {
  plan: Plan;
  /** The provider Claude Code will actually use. */
  provider: Provider;
  training: TrainingState;
  flags: Record<Flag, boolean>;
  env: Record<string, string>;
  at: number;
}

const FALSY = new Set(['0', 'false', 'no', 'off']);
const isSet = (v: string | undefined): v is string => v !== undefined && v !== '';
const isTruthy = (v: string | undefined): boolean => isSet(v) && !FALSY.has(v.trim().toLowerCase());
const isFalsyLooking = (v: string | undefined): boolean => isSet(v) && FALSY.has(v.trim().toLowerCase());

// Claude Code checks the provider switches in this order.
const PROVIDER_VARS: [string, Provider][] = [
  ['CLAUDE_CODE_USE_BEDROCK', 'bedrock'],
  ['CLAUDE_CODE_USE_VERTEX', 'vertex'],
  ['CLAUDE_CODE_USE_FOUNDRY', 'foundry'],
];

/** Parses an ISO date or date-time to epoch milliseconds; throws naming `field` otherwise. */
export function parseDate(value: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new RangeError(`${field}: expected an ISO date like 2025-10-08, got "${value}"`);
  return ms;
}

/** The settings `env` block overrides shell exports of the same variable, as in Claude Code. */
function effectiveEnv(profile: Profile): Record<string, string> {
  const fromSettings = profile.settings?.env;
  const settingsEnv: Record<string, string> = {};
  if (fromSettings && typeof fromSettings === 'object') {
    for (const [k, v] of Object.entries(fromSettings)) if (typeof v === 'string') settingsEnv[k] = v;
  }
  return { ...profile.env, ...settingsEnv };
}

function trainingState(profile: Profile, at: number): { state: TrainingState; keepsEarlier: boolean } {
  const current = profile.trainingOptIn;
  const changed = profile.trainingSettingChangedAt;
  let keepsEarlier = false;
  if (changed !== undefined && current !== undefined) {
    const changedAt = parseDate(changed, 'trainingSettingChangedAt');
    const started = profile.session?.startedAt;
    const resumed = profile.session?.resumedAt;
    const resumedSince = resumed !== undefined && parseDate(resumed, 'session.resumedAt') >= changedAt;
    const startedBefore = started !== undefined && parseDate(started, 'session.startedAt') < changedAt;
    // A change recorded after the evaluation date has not happened yet.
    keepsEarlier = changedAt > at || (startedBefore && !resumedSince);
  }
  const choice = keepsEarlier ? (profile.trainingOptInBefore ?? !current) : current;
  return { state: choice === true ? 'on' : choice === false ? 'off' : 'unset', keepsEarlier };
}

export function deriveFacts(profile: Profile, at: string): Facts {
  const atMs = parseDate(at, 'at');
  const env = effectiveEnv(profile);
  const picked = PROVIDER_VARS.filter(([name]) => isTruthy(env[name])).map(([, p]) => p);
  const provider = picked[0] ?? profile.provider;
  const cleanup = profile.settings?.cleanupPeriodDays;
  const { state, keepsEarlier } = trainingState(profile, atMs);
  return {
    plan: profile.plan,
    provider,
    training: state,
    env,
    at: atMs,
    flags: {
      zdr: profile.zdr === true,
      partnerProgram: profile.developmentPartnerProgram === true,
      hasMcpServers: (profile.mcpServers?.length ?? 0) > 0,
      sessionKeepsEarlierChoice: keepsEarlier,
      providerFromEnv: picked.length > 0 && provider !== profile.provider,
      multipleProvidersInEnv: picked.length > 1,
      cleanupPeriodInvalid: cleanup !== undefined && !(Number.isInteger(cleanup) && (cleanup as number) >= 1),
    },
  };
}

/** True when every part of `c` holds for `f`. */
export function matches(c: Condition, f: Facts): boolean {
  if (c.plans && !c.plans.includes(f.plan)) return false;
  if (c.providers && !c.providers.includes(f.provider)) return false;
  if (c.training && !c.training.includes(f.training)) return false;
  if (c.flags && !Object.entries(c.flags).every(([k, v]) => f.flags[k as Flag] === v)) return false;
  if (c.envSet && !c.envSet.some((n) => isSet(f.env[n]))) return false;
  if (c.envTruthy && !c.envTruthy.some((n) => isTruthy(f.env[n]))) return false;
  if (c.envFalsyLooking && !c.envFalsyLooking.some((n) => isFalsyLooking(f.env[n]))) return false;
  if (c.any && !c.any.some((sub) => matches(sub, f))) return false;
  if (c.not && matches(c.not, f)) return false;
  return true;
}
