/** What the engine derives from a profile before rules run, and how a rule's condition is tested. */
import type { ClientRange, Condition, Flag, TrainingState } from './rule.js';
import type { Plan, Profile, Provider } from './types.js';

export interface Facts {
  plan: Plan;
  /** The provider Claude Code will actually use. */
  provider: Provider;
  training: TrainingState;
  flags: Record<Flag, boolean>;
  env: Record<string, string>;
  at: number;
  /** The client version the rules are evaluated for (x.y.z). */
  client: Version;
}

export type Version = readonly [number, number, number];

const FALSY = new Set(['0', 'false', 'no', 'off']);
const isSet = (v: string | undefined): v is string => v !== undefined && v !== '';
const isTruthy = (v: string | undefined): boolean => isSet(v) && !FALSY.has(v.trim().toLowerCase());
const isFalsyLooking = (v: string | undefined): boolean => isSet(v) && FALSY.has(v.trim().toLowerCase());

/** The variable that makes Claude Code use each cloud provider, in the order the client checks them. */
export const PROVIDER_VARIABLES: Record<Exclude<Provider, 'anthropic'>, string> = {
  bedrock: 'CLAUDE_CODE_USE_BEDROCK',
  vertex: 'CLAUDE_CODE_USE_VERTEX',
  foundry: 'CLAUDE_CODE_USE_FOUNDRY',
};
const PROVIDER_ORDER = Object.entries(PROVIDER_VARIABLES) as [Exclude<Provider, 'anthropic'>, string][];

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** Why `value` is not an ISO calendar date (or date-time), or undefined when it is one. */
export function dateProblem(value: string): string | undefined {
  const generic = `expected an ISO date like 2025-10-08, got ${JSON.stringify(value)}`;
  const m = DATE_RE.exec(value);
  if (!m || Number.isNaN(Date.parse(value))) return generic;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return generic;
  // Date.parse rolls 2025-02-30 over into March; a calendar has no such day.
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) return `${generic} (${MONTHS[month - 1]} ${year} has ${days} days)`;
  return undefined;
}

/** Parses an ISO calendar date or date-time to epoch milliseconds; throws naming `field` otherwise. */
export function parseDate(value: string, field: string): number {
  const problem = dateProblem(value);
  if (problem) throw new RangeError(`${field}: ${problem}`);
  return Date.parse(value);
}

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)$/;

/** Parses a Claude Code version (x.y.z); throws naming `field` otherwise. */
export function parseVersion(value: string, field: string): Version {
  const m = VERSION_RE.exec(value.trim());
  if (!m) throw new RangeError(`${field}: expected a Claude Code version like 2.1.330, got "${value}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** True when `v` lies in `range` (`from` inclusive, `until` exclusive). */
export function inRange(v: Version, range: ClientRange): boolean {
  if (range.from && compareVersions(v, parseVersion(range.from, 'clients.from')) < 0) return false;
  if (range.until && compareVersions(v, parseVersion(range.until, 'clients.until')) >= 0) return false;
  return true;
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

/**
 * The provider in effect: the first CLAUDE_CODE_USE_* that is true; else the profile's provider, unless
 * the profile names a cloud provider and sets its variable to something else ("0"), which leaves the
 * client on the Claude API.
 */
function routeOf(profile: Profile, env: Record<string, string>) {
  const picked = PROVIDER_ORDER.filter(([, name]) => isTruthy(env[name])).map(([p]) => p);
  const named = profile.provider === 'anthropic' ? undefined : PROVIDER_VARIABLES[profile.provider];
  const off = picked.length === 0 && named !== undefined && isSet(env[named]);
  const provider: Provider = picked[0] ?? (off ? 'anthropic' : profile.provider);
  const variable = provider === 'anthropic' ? undefined : PROVIDER_VARIABLES[provider];
  return {
    provider,
    providerFromEnv: picked.length > 0 && provider !== profile.provider,
    multipleProvidersInEnv: picked.length > 1,
    providerVariableSet: variable !== undefined && isTruthy(env[variable]),
    providerVariableOff: off,
  };
}

export function deriveFacts(profile: Profile, at: string, client: Version): Facts {
  const atMs = parseDate(at, 'at');
  const env = effectiveEnv(profile);
  const { provider, ...routeFlags } = routeOf(profile, env);
  const cleanup = profile.settings?.cleanupPeriodDays;
  const { state, keepsEarlier } = trainingState(profile, atMs);
  const changeGiven = profile.trainingSettingChangedAt !== undefined;
  const historyGiven = profile.trainingOptInBefore !== undefined || profile.session !== undefined;
  return {
    plan: profile.plan,
    provider,
    training: state,
    env,
    at: atMs,
    client,
    flags: {
      zdr: profile.zdr === true,
      partnerProgram: profile.developmentPartnerProgram === true,
      hasMcpServers: (profile.mcpServers?.length ?? 0) > 0,
      sessionKeepsEarlierChoice: keepsEarlier,
      ...routeFlags,
      cleanupPeriodInvalid: cleanup !== undefined && !(Number.isInteger(cleanup) && (cleanup as number) >= 1),
      trainingChoiceGiven: profile.trainingOptIn !== undefined,
      trainingHistoryGiven: changeGiven || historyGiven,
      trainingHistoryIncomplete:
        (historyGiven && !changeGiven) || (changeGiven && profile.trainingOptIn === undefined),
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
