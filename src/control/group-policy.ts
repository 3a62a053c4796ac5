/**
 * The org's policy as it applies to one caller's groups: a group may set the guard's actions and
 * content logging for its members in place of the org's. A caller in several groups that set the
 * same thing gets the strictest of them: for the guard `block` > `redact` > `log` > `off`, for
 * content the least kept (`none` < `redacted` < `full`). Zero data retention keeps nothing
 * whatever a group says (`keptContent` reads `zdr` first, and a group cannot change `zdr`).
 */
import type { OrgConfig } from './config.js';

type GuardAction = OrgConfig['guard']['secrets'];
type ContentLogging = OrgConfig['contentLogging'];

const GUARD_ORDER: readonly GuardAction[] = ['off', 'log', 'redact', 'block'];
const CONTENT_ORDER: readonly ContentLogging[] = ['none', 'redacted', 'full'];

/** What the caller's groups decided, and which group decided each (for explanations). */
export interface GroupPolicy {
  secrets?: { action: GuardAction; group: string };
  pii?: { action: GuardAction; group: string };
  contentLogging?: { mode: ContentLogging; group: string };
}

/** The strictest setting among the caller's configured groups that set one; empty when none does. */
export function groupPolicy(org: OrgConfig, groups: readonly string[]): GroupPolicy {
  const out: GroupPolicy = {};
  // Sorted, so a tie names the same group whatever order the key or the IdP listed them in.
  for (const name of [...new Set(groups)].sort()) {
    const group = org.groups && Object.hasOwn(org.groups, name) ? org.groups[name] : undefined;
    if (!group) continue;
    for (const kind of ['secrets', 'pii'] as const) {
      const action = group.guard?.[kind];
      const held = out[kind];
      if (action && (!held || GUARD_ORDER.indexOf(action) > GUARD_ORDER.indexOf(held.action)))
        out[kind] = { action, group: name };
    }
    const mode = group.contentLogging;
    const held = out.contentLogging;
    if (mode && (!held || CONTENT_ORDER.indexOf(mode) < CONTENT_ORDER.indexOf(held.mode)))
      out.contentLogging = { mode, group: name };
  }
  return out;
}

/** Each loaded org's variants by the groups that changed it; configs are replaced, never mutated, on reload. */
const variants = new WeakMap<OrgConfig, Map<string, OrgConfig>>();

/**
 * `org` with the caller's groups' guard actions and content logging in place of its own: the same
 * object when no group of the caller sets either, else one object per distinct outcome, so that
 * what is compiled once per org's guard (its allowlist) is compiled once per variant too.
 */
export function orgForGroups(org: OrgConfig, groups: readonly string[] | undefined): OrgConfig {
  if (!groups?.length || !org.groups) return org;
  const p = groupPolicy(org, groups);
  if (!p.secrets && !p.pii && !p.contentLogging) return org;
  const key = `${p.secrets?.action ?? ''}/${p.pii?.action ?? ''}/${p.contentLogging?.mode ?? ''}`;
  let known = variants.get(org);
  if (!known) variants.set(org, (known = new Map()));
  let variant = known.get(key);
  if (!variant) {
    variant = {
      ...org,
      contentLogging: p.contentLogging?.mode ?? org.contentLogging,
      guard: {
        ...org.guard,
        secrets: p.secrets?.action ?? org.guard.secrets,
        pii: p.pii?.action ?? org.guard.pii,
      },
    };
    known.set(key, variant);
  }
  return variant;
}
