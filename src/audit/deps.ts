/** The real guard and policy engine, bound for the audit (tests may pass their own `AuditDeps`). */
import { mask } from '../guard/mask.js';
import { scan } from '../guard/scan.js';
import { catalog } from '../policy/catalog/index.js';
import { evaluate } from '../policy/engine.js';
import type { AuditDeps } from './types.js';

export const defaultDeps: AuditDeps = {
  inspector: { scan, mask },
  evaluate: (profile, at) => evaluate(profile, catalog, at),
};
