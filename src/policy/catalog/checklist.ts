/**
 * The readiness items the seeds ask of a setup: the route article's individual and team checklists
 * (section 09), its corporate checkpoints (section 07) and opt-out form (section 05), and the ZDR
 * page's conditions. Each rule says which setups an item applies to; `sluice checklist` answers it.
 */
import type { Condition, Rule } from '../rule.js';
import type { Audience, Profile, Source } from '../types.js';
import { SRC } from './sources.js';

const ORGANIZATION: Condition = { plans: ['team', 'enterprise', 'api', 'gov'] };
const ZDR_CLAIMED: Condition = { flags: { zdr: true } };
const AT = '2026-01-15';
const TEAM: Profile = { plan: 'team', provider: 'anthropic' };
const ZDR_ORG: Profile = { plan: 'enterprise', provider: 'anthropic', zdr: true };

interface Item {
  id: string;
  question: string;
  audience: Audience;
  when: Condition;
  /** The item's own passage first, then those its other statements come from. */
  sources: Source[];
  statements: string[];
  example: Profile;
}

const check = (item: Item): Rule => ({
  id: `check-${item.id}`,
  summary: item.question,
  when: item.when,
  effects: [{ check: item.id, question: item.question, audience: item.audience }],
  sources: item.sources,
  statements: item.statements,
  example: { profile: item.example, at: AT, expect: { checks: [item.id] } },
});

type Helper = (id: string, question: string, statements: string[], also?: Source[]) => Rule;
const of =
  (audience: Audience, when: Condition, source: Source, example: Profile): Helper =>
  (id, question, statements, also = []) =>
    check({ id, question, audience, when, sources: [source, ...also], statements, example });

const individual = of('individual', {}, SRC.routeChecklist, TEAM);
const team = of('team', ORGANIZATION, SRC.routeChecklist, TEAM);
const corporate = of('corporate', ORGANIZATION, SRC.routeCorporate, TEAM);
const zdr = (id: string, question: string, source: Source, statements: string[], also: Source[] = []): Rule =>
  of('zdr', ZDR_CLAIMED, source, ZDR_ORG)(id, question, statements, also);

export const checklistRules: Rule[] = [
  individual(
    'training-policy-verified',
    'Have you verified the training policy for your plan in official documentation?',
    ['ra-individual-training-policy'],
  ),
  individual('opt-out-enabled', 'Have you enabled opt-out settings?', ['ra-individual-opt-out']),
  check({
    id: 'opt-out-request-form',
    question:
      'If the toggle alone is not enough, or for a whole organization: has the opt-out request form been sent?',
    audience: 'individual',
    when: {},
    sources: [SRC.routeOptOut],
    statements: ['ra-opt-out-form'],
    example: { plan: 'pro', provider: 'anthropic', trainingOptIn: false },
  }),
  individual(
    'dangerous-operations-restricted',
    "Have you configured Claude Code's initial safety restrictions for dangerous operations?",
    ['ra-individual-safety', 'ra-no-auto-commit', 'ra-no-destructive-db'],
    [SRC.routeMcp],
  ),
  individual(
    'no-credentials-in-inputs',
    'Have you established a rule to never include credentials or API keys in AI inputs?',
    ['ra-individual-credentials', 'ra-no-credentials'],
    [SRC.routeMcp],
  ),
  team(
    'access-route-decided',
    'Has the organization decided on a specific access route (API / Bedrock / Vertex AI)?',
    ['ra-team-route', 'ra-toggle-not-enough', 'ra-opt-out-not-routing'],
    [SRC.routeBottomLine, SRC.routeOptOut],
  ),
  team(
    'data-path-diagrammed',
    'Have you diagrammed which servers data passes through?',
    ['ra-team-diagram', 'ra-diagram-first'],
    [SRC.routeCorporate],
  ),
  team('audit-logging-operational', 'Is audit logging set up and operational?', ['ra-team-audit-logging']),
  team('usage-scopes-documented', 'Are member usage scopes and input rules documented?', ['ra-team-scopes']),
  team('adoption-approved', 'Has the security team or legal approved the adoption?', ['ra-team-approval']),
  corporate(
    'approved-route',
    'Access route: which of Web UI / API / Bedrock / Vertex AI is approved, and is it the one in use?',
    ['ra-checkpoint-route'],
  ),
  corporate('usage-permissions', 'Permissions: who can use Claude Code, and in which repositories?', [
    'ra-checkpoint-permissions',
  ]),
  corporate(
    'input-restrictions',
    'Input restrictions: are there rules against feeding customer data, credentials, or internal secrets to the AI?',
    ['ra-checkpoint-input'],
  ),
  corporate('audit-trail', 'Audit logs: can you track who entered what and when?', ['ra-checkpoint-audit']),
  corporate(
    'training-exclusion-verified',
    'Opt-out confirmation: has the organization verified training exclusion across all accounts?',
    ['ra-checkpoint-opt-out'],
  ),
  {
    id: 'checklist-periodic-review',
    summary: 'The checklist items need periodic review; AI service policies can change with any update.',
    when: {},
    effects: [
      {
        info: 'checklist-periodic-review',
        message:
          'The readiness items (sluice checklist) are not one-time checks: policies change with any update, so review them periodically; sluice checklist treats an attestation older than 180 days as due for review.',
      },
    ],
    sources: [SRC.routeChecklist, SRC.routeApi],
    statements: ['ra-periodic-review', 'ra-policies-may-change'],
    example: { profile: TEAM, at: AT, expect: { notes: ['checklist-periodic-review'] } },
  },
  zdr(
    'zdr-eligible-setup',
    'ZDR: is the organization on Claude for Enterprise (or commercial API keys) on Anthropic’s direct platform, where ZDR applies?',
    SRC.zdrIntro,
    ['zdr-enterprise', 'zdr-direct-platform', 'zh-products'],
    [SRC.zdrProducts],
  ),
  zdr(
    'zdr-enabled-per-organization',
    'ZDR: has the account team enabled ZDR for this organization (each new organization needs its own enablement)?',
    SRC.zdrScope,
    ['zdr-per-organization', 'zdr-new-organizations', 'zh-per-organization', 'zdr-request-account-team'],
    [SRC.zdrProducts, SRC.zdrRequest],
  ),
  zdr(
    'zdr-confirmed-in-settings',
    'ZDR: has an admin confirmed it under Settings > Privacy Controls > Data retention period?',
    SRC.zdrProducts,
    ['zh-confirm-in-settings'],
  ),
  zdr(
    'zdr-integrations-reviewed',
    'ZDR: are third-party integrations and MCP servers, which ZDR does not cover, reviewed (or absent)?',
    SRC.zdrNotCovered,
    ['zdr-not-third-party'],
  ),
  zdr(
    'zdr-uncovered-features-avoided',
    'ZDR: is data that needs ZDR kept out of claude.ai chat and Cowork, which ZDR does not cover?',
    SRC.zdrNotCovered,
    ['zdr-not-chat', 'zdr-not-cowork'],
  ),
  zdr(
    'zdr-covered-models-known',
    'ZDR: do you know whether any model in use is a Covered Model (limited retention and review apply to those)?',
    SRC.zdrProducts,
    ['zh-covered-models'],
  ),
  zdr(
    'baa-scope-respected',
    'BAA/HIPAA: if the BAA applies, are features outside it (web search) turned off?',
    SRC.zdrProducts,
    ['zh-baa-limits', 'zh-baa-hipaa'],
  ),
];
