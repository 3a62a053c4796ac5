/**
 * Stage inspect: the guard over what reaches the model (see ../inspect.ts), with the org's actions.
 * Sets the body to forward (redacted where the org redacts), the audit record's guard decision and
 * its stored copy (every detected value replaced), and the placeholders to restore in the answer.
 * Fails closed unless the org chose to fail open.
 */
import { keptContent } from '../../control/content.js';
import { groupPolicy } from '../../control/group-policy.js';
import type { OrgConfig } from '../../control/config.js';
import { errors } from '../../errors/catalog.js';
import type { ScanCache } from '../../guard/cache.js';
import { BodyError } from '../body.js';
import type { RequestContext } from '../context.js';
import { inspect as inspectBody, priorOf } from '../inspect.js';
import type { Stage } from '../pipeline.js';

/** Does this org's guard scan at all (for actions, or for a stored copy that must hold no value)? */
export function guardScans(org: OrgConfig): boolean {
  return org.guard.secrets !== 'off' || org.guard.pii !== 'off' || keptContent(org) !== 'none';
}

export interface InspectDeps {
  cache: ScanCache;
  /** Wall-clock milliseconds, for the scan's deadline. */
  now: () => number;
  warn: (fields: Record<string, unknown>, msg: string) => void;
}

export function inspect(deps: InspectDeps): Stage {
  return (ctx) => {
    const org = ctx.org;
    if (!org || !ctx.body || !ctx.message || !guardScans(org)) return;
    const orgName = ctx.key?.org ?? '?';
    let result;
    try {
      result = inspectBody(
        ctx.body,
        ctx.message.content,
        org,
        deps.cache,
        deps.now() + org.guard.timeoutMs,
        priorOf(ctx.message),
      );
      ctx.message.resume.results = result.results;
    } catch (err) {
      if (err instanceof BodyError) throw errors.malformedJson(err.message);
      return failed(ctx, org, orgName, err as Error, deps);
    }
    ctx.record.guard = { decision: result.decision, rules: result.rules };
    // The stored copy never holds a detected value, whatever the actions.
    if (keptContent(org) !== 'none') ctx.storedRequest = result.storedBytes();
    if (result.decision === 'block')
      throw errors.guardBlocked(orgName, result.rules, result.blockedRules, blockingGroups(ctx));
    if (org.restore && result.vault.size > 0) ctx.restore = result.vault;
    ctx.body = result.forwarded;
  };
}

/** The caller's groups that made the guard block (control/group-policy.ts), for the message. */
function blockingGroups(ctx: RequestContext): string[] {
  const base =
    ctx.key && Object.hasOwn(ctx.config.orgs, ctx.key.org) ? ctx.config.orgs[ctx.key.org] : undefined;
  if (!base || !ctx.key?.groups?.length) return [];
  const p = groupPolicy(base, ctx.key.groups);
  const by = [p.secrets, p.pii].filter((x) => x?.action === 'block').map((x) => x!.group);
  return [...new Set(by)];
}

/** The scan overran or failed: refuse, or forward unscanned where the org fails open. */
function failed(ctx: RequestContext, org: OrgConfig, orgName: string, err: Error, deps: InspectDeps): void {
  const reason =
    err.name === 'GuardTimeoutError'
      ? `the scan ran past its ${org.guard.timeoutMs} ms budget`
      : 'the scanner failed';
  if (!org.guard.failOpen) {
    ctx.record.guard = { decision: 'error', rules: {} };
    throw errors.guardFailed(orgName, reason);
  }
  ctx.record.guard = { decision: 'fail-open', rules: {} };
  deps.warn({ id: ctx.id, org: orgName }, `guard failed open: ${reason}; forwarded unscanned`);
}
