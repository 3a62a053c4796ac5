/** The built-in rule catalog: every provider and topic file, in one array. */
import type { DetectionRule } from '../types.js';
import { aiRules } from './ai.js';
import { cloudRules } from './cloud.js';
import { codeHostingRules } from './code-hosting.js';
import { databaseRules } from './databases.js';
import { genericRules } from './generic.js';
import { infraRules } from './infra.js';
import { keyRules } from './keys.js';
import { messagingRules } from './messaging.js';
import { observabilityRules } from './observability.js';
import { paymentRules } from './payments.js';
import { piiRules } from './pii.js';
import { platformRules } from './platforms.js';
import { productivityRules } from './productivity.js';
import { registryRules } from './registries.js';

/** Specific rules first: on an exact tie between two rules, the earlier one wins. */
export const detectionRules: DetectionRule[] = [
  ...cloudRules,
  ...aiRules,
  ...codeHostingRules,
  ...messagingRules,
  ...paymentRules,
  ...registryRules,
  ...observabilityRules,
  ...platformRules,
  ...productivityRules,
  ...infraRules,
  ...keyRules,
  ...databaseRules,
  ...genericRules,
  ...piiRules,
];
