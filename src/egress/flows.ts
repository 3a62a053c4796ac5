/**
 * Where the policy model meets the wire: which data flow of `sluice explain` a contacted host
 * belongs to (from the host table in hosts.ts), and the egress policy an org's explain profile
 * implies.
 */
import { catalog } from '../policy/catalog/index.js';
import { evaluate } from '../policy/engine.js';
import type { Rule } from '../policy/rule.js';
import type { Destination, Flow, FlowId, Profile } from '../policy/types.js';
import { HOSTS, type HostFlow } from './hosts.js';
import { EgressPolicy } from './policy.js';

export type { HostFlow } from './hosts.js';

const matchers = HOSTS.map((h) => ({ ...h, policy: new EgressPolicy([h.pattern], []) }));

/** The flows (and what the host is used for) of `host:port`; empty for a host the model does not know. */
export function flowsFor(host: string, port: number): { flows: HostFlow[]; uses: string[] } {
  const { flows, uses } = hostInfo(host, port);
  return { flows, uses };
}

/** `flowsFor`, plus the inference route the host serves, if it is an inference host. */
export function hostInfo(
  host: string,
  port: number,
): { flows: HostFlow[]; uses: string[]; destination?: Destination } {
  const flows = new Set<HostFlow>();
  const uses: string[] = [];
  let destination: Destination | undefined;
  for (const m of matchers) {
    if (m.policy.decide(host, port).decision !== 'allow') continue;
    m.flows.forEach((f) => flows.add(f));
    uses.push(m.use);
    destination ??= m.destination;
  }
  return { flows: [...flows], uses, ...(destination ? { destination } : {}) };
}

/** One entry of a derived policy, with the reason it is there. */
export interface DerivedRule {
  list: 'allow' | 'deny';
  rule: string;
  why: string;
}

const INFERENCE_PRESET: Record<string, string> = {
  'aws-bedrock': 'bedrock',
  'google-vertex': 'vertex',
  'microsoft-foundry': 'foundry',
};

function flow(flows: Flow[], id: FlowId): Flow {
  return flows.find((f) => f.id === id) as Flow;
}

/**
 * The egress policy an explain profile implies for a client whose model route is the gateway:
 * what the client needs to run is allowed; the provider's inference hosts are allowed when the
 * profile routes to a cloud provider; Anthropic's API is denied (a direct connection would bypass
 * the gateway); non-essential traffic is allowed only while the profile leaves telemetry or error
 * reporting on. Anything else falls to the default deny.
 */
export function derivedEgress(
  profile: Profile,
  at: string,
  policyCatalog: readonly Rule[] = catalog,
): DerivedRule[] {
  const { flows } = evaluate(profile, policyCatalog, at);
  const rules: DerivedRule[] = [
    { list: 'allow', rule: 'claude-code-essential', why: 'sign-in, token refresh, installer and updater' },
  ];
  const inference = flow(flows, 'inference');
  const cloud = INFERENCE_PRESET[inference.destination];
  if (cloud)
    rules.push({
      list: 'allow',
      rule: cloud,
      why: `inference goes to ${inference.destination} (rules: ${inference.rules.join(', ')})`,
    });
  rules.push({
    list: 'deny',
    rule: 'anthropic-api',
    why:
      inference.destination === 'anthropic'
        ? 'the model route is the gateway; a direct connection to the API would bypass it'
        : `inference goes to ${inference.destination}, not to Anthropic's API`,
  });
  const telemetry = flow(flows, 'telemetry');
  const errors = flow(flows, 'error-reporting');
  const on = [telemetry, errors].filter((f) => f.enabled);
  if (on.length)
    rules.push({
      list: 'allow',
      rule: 'claude-code-nonessential',
      why: `the profile leaves ${on.map((f) => f.id).join(' and ')} on`,
    });
  else
    rules.push({
      list: 'deny',
      rule: 'claude-code-nonessential',
      why: `the profile turns telemetry and error reporting off (rules: ${[...telemetry.rules, ...errors.rules].join(', ')})`,
    });
  return rules;
}

/**
 * An org's effective egress lists, each entry with its reason: what its profile implies, plus what
 * it writes under `egress` (a written rule overrides the profile's opposite decision on the same
 * rule). Without a profile or a written `allow`, every host is allowed (and recorded). `at` is the
 * day the profile is evaluated at: rules with `validFrom`/`validUntil` change the result by date.
 * `routed` is the profile with the org's real route (control/route-profile.ts): given, the presets
 * follow the provider the gateway sends to, not the one the profile was written with.
 */
export function orgEgress(
  org: {
    zdr: boolean;
    profile?: Profile | undefined;
    egress?: { allow?: string[] | undefined; deny: string[] };
  },
  at: string,
  routed?: Profile,
  policyCatalog: readonly Rule[] = catalog,
): { allow: string[]; deny: string[]; rules: DerivedRule[] } {
  const written = org.egress?.allow ?? (org.profile ? [] : ['*']);
  const writtenDeny = org.egress?.deny ?? [];
  // What the org writes overrides what its profile implies for the same rule.
  const rules: DerivedRule[] = (
    org.profile ? derivedEgress(routed ?? { zdr: org.zdr, ...org.profile }, at, policyCatalog) : []
  ).filter((r) => !(r.list === 'deny' ? written : writtenDeny).includes(r.rule));
  for (const rule of written)
    rules.push({
      list: 'allow',
      rule,
      why: org.egress?.allow ? 'written in egress.allow' : 'no profile and no egress.allow: every host',
    });
  for (const rule of writtenDeny) rules.push({ list: 'deny', rule, why: 'written in egress.deny' });
  const pick = (list: 'allow' | 'deny') => [
    ...new Set(rules.filter((r) => r.list === list).map((r) => r.rule)),
  ];
  return { allow: pick('allow'), deny: pick('deny'), rules };
}
