/** The guard's public surface: scan, mask, redact, and the rule catalog. */
export { isAllowlisted } from './allowlist.js';
export { ScanCache, scanSegments } from './cache.js';
export { mask } from './mask.js';
export { PlaceholderVault, redact } from './redact.js';
export { detectionRules } from './rules/index.js';
export { GuardTimeoutError, prepareScan, scan, scanWithBudget } from './scan.js';
export type { ScanOptions } from './scan.js';
export type { Detection, DetectionKind, DetectionRule, ValueContext } from './types.js';
