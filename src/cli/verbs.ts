/** Every verb the CLI knows. Each verb lives in its own file and registers itself on the program. */
import type { Command } from 'commander';
import { registerExplain } from './explain.js';
import { registerScan } from './scan.js';

/** Adds every verb to `program`. */
export function registerVerbs(program: Command): void {
  registerExplain(program);
  registerScan(program);
}
