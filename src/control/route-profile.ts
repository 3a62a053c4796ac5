/**
 * An org's route as the gateway enforces it, as a profile for the policy engine: the provider of
 * the first upstream in the org's list (the one that answers unless it fails), the org's zero data
 * retention, and the rest of the org's written `profile` (plan `api` when it names none: the
 * gateway holds an API key). `sluice explain --config --org` and the egress presets both use it,
 * so the flows they print are the ones the gateway sends.
 */
import type { Profile, Provider } from '../policy/types.js';
import { upstreamsOf, type OrgConfig, type SluiceConfig } from './config.js';

const USE_VARS: Record<string, Provider> = {
  CLAUDE_CODE_USE_BEDROCK: 'bedrock',
  CLAUDE_CODE_USE_VERTEX: 'vertex',
  CLAUDE_CODE_USE_FOUNDRY: 'foundry',
};

export interface RouteProfile {
  /** The org's upstreams in failover order, with their providers. */
  upstreams: { name: string; provider: Provider }[];
  profile: Profile;
  /** What was changed from the written profile, and where failover may send inference instead. */
  notes: string[];
}

/** The upstreams of `org`, in order, each with its provider. */
export function orgRoute(config: Pick<SluiceConfig, 'upstreams'>, org: OrgConfig) {
  return upstreamsOf(org).flatMap((name) => {
    const up = config.upstreams[name];
    return up ? [{ name, provider: up.provider as Provider }] : [];
  });
}

export function routeProfile(
  config: Pick<SluiceConfig, 'upstreams'>,
  orgName: string,
  org: OrgConfig,
): RouteProfile {
  const upstreams = orgRoute(config, org);
  const first = upstreams[0] ?? { name: '(none)', provider: 'anthropic' as Provider };
  const written = org.profile;
  const notes: string[] = [];
  if (written && written.provider !== first.provider)
    notes.push(
      `orgs.${orgName}.profile says provider ${written.provider}; the gateway sends org ${orgName}'s requests to upstream "${first.name}" (${first.provider}), so that is the route shown.`,
    );
  const env = { ...written?.env };
  // The client's own format (CLAUDE_CODE_USE_*) would otherwise name the route; the gateway's decides it.
  for (const [name, provider] of Object.entries(USE_VARS))
    if (env[name] !== undefined && provider !== first.provider) {
      delete env[name];
      notes.push(
        `${name} in the profile is the clients' format, not the route: the gateway sends to ${first.provider}. Non-essential traffic the client's format turns off is not shown as off.`,
      );
    }
  for (const other of upstreams.slice(1))
    if (other.provider !== first.provider)
      notes.push(
        `if "${first.name}" fails, requests fail over to "${other.name}" (${other.provider}): explain that route with --provider ${other.provider}.`,
      );
  const profile: Profile = {
    ...written,
    plan: written?.plan ?? 'api',
    provider: first.provider,
    zdr: org.zdr,
    ...(written?.env || Object.keys(env).length ? { env } : {}),
  };
  return { upstreams, profile, notes };
}
