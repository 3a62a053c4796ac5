/** Every verb the CLI knows. Each verb lives in its own file and registers itself on the program. */
import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerExplain } from './explain.js';
import { registerManagedSettings } from './managed-settings.js';
import { registerScrub } from './scrub.js';
import { registerScan } from './scan.js';

/** Adds every verb to `program`. */
export function registerVerbs(program: Command): void {
  registerAudit(program);
  registerExplain(program);
  registerScrub(program);
  registerScan(program);
  registerManagedSettings(program);
}
