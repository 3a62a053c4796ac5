/** The policy part as a library: the catalog, the pure engine, profile validation and renderings. */
export { catalog } from './catalog/index.js';
export { evaluate, FLOW_IDS } from './engine.js';
export { parseProfile, ProfileError, PLANS, PROVIDERS } from './profile.js';
export { compareRoutes, type RouteRow } from './routes.js';
export { renderMarkdown, renderMermaid, renderTable } from './render.js';
export type { Condition, Effect, Rule } from './rule.js';
export type * from './types.js';
