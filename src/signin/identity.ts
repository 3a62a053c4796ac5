/** From an IdP's claims to a Sluice identity: email, groups, and the org and role the config maps them to. */
import type { SignInConfig } from '../control/config.js';
import type { Role } from '../store/types.js';

export interface Identity {
  subject: string;
  email: string;
  name: string | null;
  groups: string[];
  org: string;
  role: Role;
}

/** Why a person may not sign in, in words for the browser page and the admin log. */
export class IdentityRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'IdentityRefused';
  }
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** Reads a claim by name, or by JSON Pointer (`/realm_access/roles`). */
function claim(claims: Record<string, unknown>, name: string): unknown {
  if (!name.startsWith('/')) return claims[name];
  let at: unknown = claims;
  for (const part of name.slice(1).split('/')) {
    if (!at || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return at;
}

/** The email and subject the claims name, unchecked (to look the person up before mapping them). */
export function claimedPerson(
  claims: Record<string, unknown>,
  cfg: SignInConfig,
): { email: string; subject: string } | null {
  const email = claim(claims, cfg.emailClaim);
  const subject = claims.sub;
  return typeof email === 'string' && typeof subject === 'string' ? { email, subject } : null;
}

/**
 * The identity `claims` (an id_token's) stand for under `cfg`, or IdentityRefused saying why not.
 * `extraGroups` (SCIM's) count for `map` too; the identity's `groups` are the IdP's alone.
 */
export function identityFrom(
  claims: Record<string, unknown>,
  cfg: SignInConfig,
  extraGroups: readonly string[] = [],
): Identity {
  const subject = claims.sub;
  if (typeof subject !== 'string' || !subject)
    throw new IdentityRefused('the identity provider sent no subject');
  const email = claim(claims, cfg.emailClaim);
  if (typeof email !== 'string' || !email.includes('@'))
    throw new IdentityRefused(`the identity provider sent no email (claim "${cfg.emailClaim}")`);
  const verified = claims.email_verified;
  if (verified !== undefined && verified !== true && verified !== 'true')
    throw new IdentityRefused(`the email ${email} is not verified at the identity provider`);
  const domain = domainOf(email);
  if (cfg.allowedEmailDomains.length && !cfg.allowedEmailDomains.some((d) => d.toLowerCase() === domain))
    throw new IdentityRefused(`email domain ${domain} may not sign in here`);
  const raw = claim(claims, cfg.groupsClaim);
  const groups = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.map(String) : [];
  const all = [...groups, ...extraGroups];
  const rule = cfg.map.find(
    (r) =>
      (!r.groups || r.groups.some((g) => all.includes(g))) &&
      (!r.emailDomain || r.emailDomain.toLowerCase() === domain),
  );
  if (!rule)
    throw new IdentityRefused(
      `${email} is in no group or domain that signin.map gives access to; ask your administrator`,
    );
  const name = typeof claims.name === 'string' ? claims.name : null;
  return { subject, email, name, groups, org: rule.org, role: rule.role };
}
