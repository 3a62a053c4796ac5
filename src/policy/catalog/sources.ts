/** The seed passages the rules cite: seed file, section heading, and the public page the seed copies. */
import type { Source } from '../types.js';

const DATA_USAGE = 'https://code.claude.com/docs/en/data-usage';
const ZDR_DOC = 'https://code.claude.com/docs/en/zero-data-retention';
const ZDR_HELP =
  'https://privacy.claude.com/en/articles/8956058-i-have-a-zero-data-retention-agreement-with-anthropic-what-products-does-it-apply-to';
const ROUTE_ARTICLE = 'https://devtools.shingoirie.com/blog/en/claude-code-api-web-bedrock-training-risk/';

const docs = (section: string): Source => ({
  seed: 'claude-code-docs-data-usage.md',
  section,
  url: DATA_USAGE,
});
const summary = (section: string): Source => ({
  seed: 'claude-code-data-usage-summary.md',
  section,
  url: DATA_USAGE,
});
const zdr = (section: string): Source => ({
  seed: 'claude-code-docs-zero-data-retention.md',
  section,
  url: ZDR_DOC,
});
const route = (section: string): Source => ({
  seed: 'training-risk-by-access-route-article.md',
  section,
  url: ROUTE_ARTICLE,
});
const reference = (section: string, url: string): Source => ({
  seed: 'reference/claude-code-network.md',
  section,
  url,
});

export const SRC = {
  trainingPolicy: docs('Data training policy'),
  consumerChoice: summary('Consumer Users (Free, Pro, Max Plans)'),
  commercialTraining: summary('Commercial Users (Team, Enterprise, API, Third-party Platforms, Claude Gov)'),
  partnerProgram: docs('Development Partner Program'),
  surveys: docs('Session quality surveys'),
  retention: docs('Data retention'),
  retentionSummary: summary('Data Retention Periods'),
  dataAccess: docs('Data access'),
  localFlow: docs('Local Claude Code: Data flow and dependencies'),
  flowSummary: summary('Data Flow & Security'),
  cloudSummary: summary('Cloud Execution (Claude Code on the Web)'),
  defaultsSummary: summary('API Provider Default Behavior'),
  cloudExecution: docs('Cloud execution: Data flow and dependencies'),
  telemetry: docs('Telemetry services'),
  telemetrySummary: summary('Telemetry Services'),
  feedbackSummary: summary('Feedback & Telemetry'),
  providerDefaults: docs('Default behaviors by API provider'),
  zdrIntro: zdr('Zero data retention'),
  zdrScope: zdr('ZDR scope'),
  zdrCovers: zdr('What ZDR covers'),
  zdrNotCovered: zdr('What ZDR does not cover'),
  zdrDisabled: zdr('Features disabled under ZDR'),
  zdrViolations: zdr('Data retention for policy violations'),
  zdrRequest: zdr('Request ZDR'),
  zdrProducts: {
    seed: 'zdr-products-help-article.md',
    section: 'I have a zero data retention agreement with Anthropic. What products does it apply to?',
    url: ZDR_HELP,
  },
  routeBottomLine: route('SECTION 01: The Bottom Line: Your Access Route Changes Everything'),
  routeWeb: route('SECTION 02: Data Handling for Web Usage (Free / Pro / Team / Enterprise)'),
  routeApi: route('SECTION 03: Data Handling via the API'),
  routeBedrock: route('SECTION 04: What Changes When You Use AWS Bedrock'),
  routeOptOut: route('SECTION 05: Step-by-Step Opt-Out Settings'),
  routeCorporate: route('SECTION 07: How the Safe Route Differs Between Solo and Corporate Use'),
  routeMcp: route('SECTION 08: How I Decide What to Delegate to Claude Code'),
  routeChecklist: route('SECTION 09: Pre-Adoption Checklist'),
  envVars: reference(
    '3.1 Anthropic-bound telemetry and nonessential traffic',
    'https://code.claude.com/docs/en/env-vars',
  ),
  hosts: reference(
    '1.8 Hosts Claude Code contacts (firewall allowlist)',
    'https://code.claude.com/docs/en/network-config',
  ),
  versionDrift: reference(
    'Short list of UNCONFIRMED or version-sensitive items',
    'https://code.claude.com/docs/en/network-config',
  ),
  providerDefaultsLater: reference(
    '3.1 Anthropic-bound telemetry and nonessential traffic: Provider defaults',
    'https://code.claude.com/docs/en/data-usage',
  ),
  settingsRetention: reference(
    '2.3 Governance-relevant keys: Data retention',
    'https://code.claude.com/docs/en/settings',
  ),
} as const satisfies Record<string, Source>;
