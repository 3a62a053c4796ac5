/** Every verb the CLI knows. Each verb lives in its own file and registers itself on the program. */
import type { Command } from 'commander';
import { registerAdminLog } from './admin-log.js';
import { registerAudit } from './audit.js';
import { registerChecklist } from './checklist.js';
import { registerEgress } from './egress.js';
import { registerExplain } from './explain.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerLogin } from './login.js';
import { registerLogs } from './logs.js';
import { registerManagedSettings } from './managed-settings.js';
import { registerPrices } from './prices.js';
import { registerSandbox } from './sandbox.js';
import { registerScrub } from './scrub.js';
import { registerServe } from './serve.js';
import { registerSignin } from './signin.js';
import { registerStore } from './store.js';
import { registerScan } from './scan.js';
import { registerUsage } from './usage.js';

/** Adds every verb to `program`. */
export function registerVerbs(program: Command): void {
  registerAdminLog(program);
  registerAudit(program);
  registerChecklist(program);
  registerEgress(program);
  registerExplain(program);
  registerInit(program);
  registerKeys(program);
  registerLogin(program);
  registerLogs(program);
  registerPrices(program);
  registerSandbox(program);
  registerScrub(program);
  registerServe(program);
  registerSignin(program);
  registerStore(program);
  registerScan(program);
  registerManagedSettings(program);
  registerUsage(program);
}
