/**
 * Stage route: the org's model policy (and its groups'), then the upstreams that will be tried, in the org's order,
 * each with the id its cloud knows the model by. An upstream whose table has no id for the model
 * is left out; when none has one, the request ends with a 400 naming the tables to add it to.
 */
import { upstreamsOf } from '../../control/config.js';
import { errors } from '../../errors/catalog.js';
import type { UpstreamRoute } from '../context.js';
import type { Stage } from '../pipeline.js';
import type { UpstreamAdapter } from '../upstreams/adapter.js';
import { shortModelId } from '../upstreams/models.js';

/** Does the org's list name `model` (by the id asked for, or its short id)? */
export function modelAllowed(allowed: readonly string[], model: string): boolean {
  const short = shortModelId(model);
  return allowed.includes(model) || (short !== undefined && allowed.some((a) => shortModelId(a) === short));
}

export function route(adapters: ReadonlyMap<string, UpstreamAdapter>): Stage {
  return (ctx) => {
    const org = ctx.org;
    const orgName = ctx.key?.org;
    if (!org || !orgName) return;
    const model = ctx.route.operation === 'models' ? null : ctx.record.model;
    if (model !== null && org.models && !modelAllowed(org.models, model))
      throw errors.modelNotAllowed(orgName, model, org.models);
    // Each of the key's groups with a model list narrows the org's (a group no longer configured adds nothing).
    for (const group of ctx.key?.groups ?? []) {
      const known = org.groups && Object.hasOwn(org.groups, group) ? org.groups[group] : undefined;
      const models = model === null ? undefined : known?.models;
      if (model !== null && models && !modelAllowed(models, model))
        throw errors.groupModelNotAllowed(orgName, group, model, models);
    }
    const routes: UpstreamRoute[] = [];
    const tables: string[] = [];
    for (const name of upstreamsOf(org)) {
      const adapter = adapters.get(name);
      if (!adapter) continue;
      const modelId = model === null ? null : adapter.modelId(model);
      if (modelId === undefined) tables.push(adapter.modelTable);
      else routes.push({ adapter, modelId });
    }
    if (!routes.length) throw errors.unknownModel(model ?? '(none)', tables);
    ctx.routes = routes;
  };
}
