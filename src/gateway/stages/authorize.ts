/**
 * Stage authorize: the key's org and its route policy (zero data retention refuses some routes); the
 * key's groups go on the audit record (their models and budgets apply in stages route and limit),
 * and their guard actions and content logging replace the org's for this request
 * (control/group-policy.ts), so `inspect`, `relay` and `record` apply them as the org's own.
 */
import { orgForGroups } from '../../control/group-policy.js';
import { errors } from '../../errors/catalog.js';
import type { Stage } from '../pipeline.js';

export const authorize: Stage = (ctx) => {
  const key = ctx.key;
  const orgs = ctx.config.orgs;
  if (!key || !Object.hasOwn(orgs, key.org)) throw errors.badKey();
  const org = orgs[key.org] ?? null;
  if (org?.zdr && ctx.route.zdr === 'refuse') throw errors.zdrForbidden(key.org, ctx.path);
  ctx.org = org && orgForGroups(org, key.groups);
  // The record names the key's groups, configured or not: they say who the request was made as.
  if (key.groups?.length) ctx.record.groups = [...key.groups];
};
