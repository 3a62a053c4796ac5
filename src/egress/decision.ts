/**
 * Whether one egress attempt may go, and to which address: the org's policy for the day (its
 * profile is evaluated per UTC day, so a catalog rule's `validFrom` takes effect without a
 * restart), then the name resolved once and every address checked. The connection goes to the
 * address that was checked, so DNS rebinding cannot slip a private address past the check.
 */
import type { OrgConfig, SluiceConfig } from '../control/config.js';
import { routeProfile } from '../control/route-profile.js';
import { catalog } from '../policy/catalog/index.js';
import type { Rule } from '../policy/rule.js';
import { canonicalAddress, isNeverADestination, nonPublicRange } from './addresses.js';
import { orgEgress } from './flows.js';
import { EgressPolicy, type Decision } from './policy.js';

/** The addresses a name resolves to (the proxy's DNS, a parameter so tests need no resolver). */
export type Lookup = (host: string) => Promise<string[]>;

/** Every org's egress policy on one UTC day, computed when first asked for that day. */
export class OrgPolicies {
  private day = '';
  private policies = new Map<string, EgressPolicy>();
  private readonly orgs: ReadonlyMap<string, OrgConfig>;

  constructor(
    private readonly config: Pick<SluiceConfig, 'orgs' | 'upstreams'>,
    private readonly policyCatalog: readonly Rule[] = catalog,
  ) {
    this.orgs = new Map(Object.entries(config.orgs));
  }

  /** The policy of `org` on the UTC day of `at`; undefined for an org the config does not name. */
  on(org: string, at: Date): EgressPolicy | undefined {
    const day = at.toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.policies = new Map();
    }
    let policy = this.policies.get(org);
    if (policy) return policy;
    const config = this.orgs.get(org);
    if (!config) return undefined;
    // The presets follow the org's real route: the provider the gateway sends its requests to.
    const routed = routeProfile(this.config, org, config).profile;
    const { allow, deny } = orgEgress(config, day, routed, this.policyCatalog);
    policy = new EgressPolicy(allow, deny);
    this.policies.set(org, policy);
    return policy;
  }
}

export type EgressDecision = Decision & {
  /** For an allowed attempt: the checked address to connect to. */
  address?: string;
};

const deny = (rule: string): EgressDecision => ({ decision: 'deny', rule, explicit: false });

/** The addresses to choose from, each in its one spelling; empty when the name does not resolve. */
async function addressesOf(host: string, lookup: Lookup): Promise<string[]> {
  const literal = canonicalAddress(host);
  if (literal) return [literal];
  let resolved: string[];
  try {
    resolved = await lookup(host);
  } catch {
    return [];
  }
  const spelled = resolved.map(canonicalAddress);
  // An answer that is not an address at all is no answer.
  return spelled.every((a) => a !== undefined) ? (spelled as string[]) : [];
}

/**
 * The policy's decision on host:port, then the address to connect to. A host allowed only by a
 * wildcard or a preset must resolve to public unicast addresses only; one written out in an allow
 * rule may resolve to a private one (an internal registry), but never to an unspecified,
 * multicast or broadcast address.
 */
export async function decideEgress(
  policy: EgressPolicy | undefined,
  host: string,
  port: number,
  lookup: Lookup,
): Promise<EgressDecision> {
  if (!policy) return deny('unknown-org');
  const d = policy.decide(host, port);
  if (d.decision === 'deny') return d;
  const addresses = await addressesOf(host, lookup);
  if (addresses.length === 0) return deny('dns-failure');
  const refused = d.explicit
    ? addresses.some(isNeverADestination)
    : addresses.some((a) => nonPublicRange(a) !== null);
  if (refused) return deny('private-address');
  return { ...d, address: addresses[0] as string };
}
