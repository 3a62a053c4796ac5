/** The whole catalog, in application order: base rules first, refinements after (later rules win). */
import type { Rule } from '../rule.js';
import { analyticsRules } from './analytics.js';
import { checklistRules } from './checklist.js';
import { cloudExecutionRules } from './cloud-execution.js';
import { connectionRules } from './connections.js';
import { errorReportingRules } from './error-reporting.js';
import { feedbackRules } from './feedback.js';
import { localCacheRules } from './local-cache.js';
import { nonessentialRules } from './nonessential.js';
import { partnerProgramRules } from './partner-program.js';
import { retentionRules } from './retention.js';
import { routeRules } from './routes.js';
import { surveyRules } from './survey.js';
import { telemetryRules } from './telemetry.js';
import { thirdPartyRules } from './third-party.js';
import { thumbsFeedbackRules } from './thumbs-feedback.js';
import { trainingRules } from './training.js';
import { transitRules } from './transit.js';
import { zdrRules } from './zdr.js';

export { SRC } from './sources.js';

export const catalog: readonly Rule[] = [
  ...transitRules,
  ...routeRules,
  ...trainingRules,
  ...retentionRules,
  ...partnerProgramRules,
  ...telemetryRules,
  ...errorReportingRules,
  ...feedbackRules,
  ...thumbsFeedbackRules,
  ...surveyRules,
  ...nonessentialRules,
  ...localCacheRules,
  ...analyticsRules,
  ...thirdPartyRules,
  ...cloudExecutionRules,
  ...connectionRules,
  ...zdrRules,
  ...checklistRules,
];
