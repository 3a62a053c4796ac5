/** Zero data retention: who can have it, what it zeroes, what it leaves alone, what it switches off. */
import type { Condition, Rule } from '../rule.js';
import { SRC } from './sources.js';

/** ZDR takes effect only for Claude for Enterprise and commercial API keys on Anthropic's direct platform. */
const ZDR_ACTIVE: Condition = {
  flags: { zdr: true },
  plans: ['enterprise', 'api'],
  providers: ['anthropic'],
};
const ZDR_ORG = { plan: 'enterprise', provider: 'anthropic', zdr: true } as const;
const AT = '2026-01-15';

export const zdrRules: Rule[] = [
  {
    id: 'zdr-inference',
    summary: 'Under ZDR, Claude Code prompts and responses are not stored after the response is returned.',
    when: ZDR_ACTIVE,
    effects: [
      {
        flow: 'inference',
        set: { retentionDays: 0 },
        note: 'ZDR: prompts and responses are processed in real time and not retained after the response is returned, whichever Claude model is used (the ZDR page), except for Covered Models (the ZDR help article).',
      },
    ],
    sources: [
      SRC.zdrIntro,
      SRC.zdrCovers,
      SRC.zdrProducts,
      SRC.retention,
      SRC.zdrScope,
      SRC.retentionSummary,
    ],
    statements: [
      'zdr-enterprise',
      'zdr-not-stored',
      'zdr-covers-inference',
      'zdr-covers-calls',
      'zdr-every-model',
      'zh-products',
      'zh-not-stored-except',
      'zh-subject-to-approval',
      'zh-distinct-from-default',
      'sum-zdr-api-keys',
      'du-zdr-api-keys',
    ],
    example: { profile: ZDR_ORG, at: AT, expect: { flows: { inference: { retentionDays: 0 } } } },
  },
  {
    id: 'zdr-per-organization',
    summary:
      'ZDR is enabled per organization; new organizations under the same account need it enabled separately.',
    when: ZDR_ACTIVE,
    effects: [
      {
        flow: 'inference',
        note: 'ZDR applies to this organization only; each new organization needs its own enablement by the account team.',
      },
    ],
    sources: [SRC.zdrScope, SRC.zdrProducts],
    statements: ['zdr-per-organization', 'zdr-new-organizations', 'zh-per-organization'],
    example: { profile: ZDR_ORG, at: AT, expect: { flows: { inference: { retentionDays: 0 } } } },
  },
  {
    id: 'zdr-policy-violation-retention',
    summary: 'Even under ZDR, sessions flagged for policy violations may be kept up to 2 years (730 days).',
    when: ZDR_ACTIVE,
    effects: [
      {
        flow: 'inference',
        note: 'Exception: inputs and outputs of a session flagged for a Usage Policy violation may be kept up to 730 days, or as required by law.',
      },
    ],
    sources: [SRC.zdrViolations, SRC.zdrIntro],
    statements: ['zdr-violation-law', 'zdr-violation-2-years', 'zdr-law-misuse'],
    example: {
      profile: { ...ZDR_ORG, plan: 'api' },
      at: AT,
      expect: { flows: { inference: { retentionDays: 0 } } },
    },
  },
  {
    id: 'zdr-covered-models',
    summary: 'For Covered Models, Anthropic requires limited retention and review even under ZDR.',
    when: ZDR_ACTIVE,
    effects: [
      {
        warning: 'zdr-covered-models',
        message:
          'ZDR has an exception for Covered Models: for them Anthropic requires limited data retention and review as part of its safety work (the period is not stated). The retention of 0 days shown holds for other models.',
      },
      {
        assumption: 'zdr-covered-models',
        message:
          'The models in use are not Covered Models (the profile does not name the models; for Covered Models inference is kept for a limited, unstated period).',
      },
    ],
    sources: [SRC.zdrProducts, SRC.zdrCovers],
    statements: ['zh-covered-models', 'zdr-every-model'],
    example: {
      profile: ZDR_ORG,
      at: AT,
      expect: {
        flows: { inference: { retentionDays: 0 } },
        warnings: ['zdr-covered-models'],
        assumptions: ['zdr-covered-models'],
      },
    },
  },
  {
    id: 'zdr-safety-classifier-results',
    summary: 'Under ZDR, Anthropic still retains User Safety classifier results to enforce its Usage Policy.',
    when: ZDR_ACTIVE,
    effects: [{ flow: 'inference', note: 'User Safety classifier results are still retained under ZDR.' }],
    sources: [SRC.zdrProducts],
    statements: ['zh-safety-classifier'],
    example: { profile: ZDR_ORG, at: AT, expect: { flows: { inference: { retentionDays: 0 } } } },
  },
  {
    id: 'zdr-disables-features',
    summary: 'ZDR switches off Claude Code on the web, remote sessions and /feedback at the backend.',
    when: ZDR_ACTIVE,
    effects: [
      {
        feature: 'claude-code-on-the-web',
        reason: 'ZDR: requires server-side storage of conversation history.',
      },
      {
        feature: 'remote-sessions',
        reason: 'ZDR: requires persistent session data that includes prompts and completions.',
      },
      { feature: 'feedback', reason: 'ZDR: submitting feedback sends conversation data to Anthropic.' },
      {
        flow: 'cloud-session',
        set: { enabled: false },
        note: 'Blocked by the backend under ZDR (needs server-side conversation storage).',
      },
      {
        flow: 'feedback',
        set: { enabled: false },
        note: 'Blocked by the backend under ZDR (sends conversation data to Anthropic).',
      },
    ],
    sources: [SRC.zdrDisabled],
    statements: ['zdr-disables-web', 'zdr-disables-remote', 'zdr-disables-feedback', 'zdr-backend-blocked'],
    example: {
      profile: ZDR_ORG,
      at: AT,
      expect: {
        flows: { 'cloud-session': { enabled: false }, feedback: { enabled: false } },
        disabledFeatures: ['claude-code-on-the-web', 'remote-sessions', 'feedback'],
      },
    },
  },
  {
    id: 'zdr-not-covered',
    summary:
      'ZDR does not cover claude.ai chat, Cowork, analytics metadata, seat management or third-party integrations.',
    when: ZDR_ACTIVE,
    effects: [
      {
        flow: 'analytics',
        note: 'Not covered by ZDR: analytics keeps productivity metadata under standard policies.',
      },
      {
        flow: 'third-party',
        note: 'Not covered by ZDR: review each integration’s data handling independently.',
      },
      {
        warning: 'zdr-scope-limits',
        message:
          'ZDR covers Claude Code inference only. Chat on claude.ai, Cowork, Claude Code Analytics metadata, user and seat management data, and third-party integrations (including MCP servers) follow standard retention policies.',
      },
    ],
    sources: [SRC.zdrNotCovered],
    statements: [
      'zdr-uncovered-standard',
      'zdr-not-chat',
      'zdr-not-cowork',
      'zdr-analytics-metadata',
      'zdr-not-seat-management',
      'zdr-not-third-party',
    ],
    example: { profile: ZDR_ORG, at: AT, expect: { warnings: ['zdr-scope-limits'] } },
  },
  {
    id: 'zdr-analytics-usage-metrics-only',
    summary:
      'ZDR organizations get no contribution metrics: the analytics dashboard shows usage metrics only.',
    when: ZDR_ACTIVE,
    effects: [
      {
        flow: 'analytics',
        set: { data: ['account emails', 'usage statistics'] },
        note: 'Contribution metrics are not available to ZDR organizations; the analytics dashboard shows usage metrics only.',
      },
    ],
    sources: [SRC.zdrNotCovered],
    statements: ['zdr-no-contribution-metrics'],
    example: { profile: ZDR_ORG, at: AT, expect: { flows: { analytics: { enabled: true } } } },
  },
  {
    id: 'zdr-future-features',
    summary: 'Future features may also be disabled under ZDR if they need to store prompts or completions.',
    when: ZDR_ACTIVE,
    effects: [
      {
        info: 'zdr-future-features',
        message:
          'Under ZDR, future features may also be disabled if they require storing prompts or completions; the backend blocks them whatever the client shows.',
      },
    ],
    sources: [SRC.zdrDisabled],
    statements: ['zdr-future-features', 'zdr-backend-blocked'],
    example: { profile: ZDR_ORG, at: AT, expect: { notes: ['zdr-future-features'] } },
  },
  {
    id: 'zdr-admin-capabilities',
    summary:
      'ZDR on Claude for Enterprise comes with cost controls per user, analytics, server-managed settings and audit logs.',
    when: { ...ZDR_ACTIVE, plans: ['enterprise'] },
    effects: [
      {
        info: 'zdr-admin-capabilities',
        message:
          'ZDR on Claude for Enterprise gives access to administrative capabilities: cost controls per user, the Analytics dashboard (usage metrics only), server-managed settings and audit logs.',
      },
    ],
    sources: [SRC.zdrIntro],
    statements: ['zdr-admin-capabilities'],
    example: { profile: ZDR_ORG, at: AT, expect: { notes: ['zdr-admin-capabilities'] } },
  },
  {
    id: 'zdr-api-key-migration',
    summary:
      'ZDR on pay-as-you-go API keys can move to Claude for Enterprise for its admin features, keeping ZDR.',
    when: { ...ZDR_ACTIVE, plans: ['api'] },
    effects: [
      {
        info: 'zdr-api-key-migration',
        message:
          'ZDR on pay-as-you-go API keys can move to Claude for Enterprise (through the account team) to gain its administrative features while keeping ZDR.',
      },
    ],
    sources: [SRC.zdrRequest],
    statements: ['zdr-payg-migration'],
    example: { profile: { ...ZDR_ORG, plan: 'api' }, at: AT, expect: { notes: ['zdr-api-key-migration'] } },
  },
  {
    id: 'zdr-enablement',
    summary:
      'ZDR is requested through the account team, enabled after an eligibility check, audit-logged, and confirmed in Settings.',
    when: ZDR_ACTIVE,
    effects: [
      {
        info: 'zdr-enablement',
        message:
          'ZDR is requested through the Anthropic account team (questions: the Sales Team); Anthropic enables it after confirming eligibility, and every enablement action is audit-logged. An admin confirms it under Settings > Privacy Controls > Data retention period.',
      },
    ],
    sources: [SRC.zdrRequest, SRC.zdrProducts],
    statements: [
      'zdr-request-account-team',
      'zdr-eligibility',
      'zdr-enablement-audit-logged',
      'zh-confirm-in-settings',
      'zh-sales-team',
    ],
    example: { profile: ZDR_ORG, at: AT, expect: { notes: ['zdr-enablement'] } },
  },
  {
    id: 'zdr-baa-hipaa-scope',
    summary:
      'A BAA is only for HIPAA-eligible services, with configuration requirements and feature limits (no web search).',
    when: ZDR_ACTIVE,
    effects: [
      {
        info: 'baa-hipaa-scope',
        message:
          'A Business Associate Agreement (HIPAA) is available only for HIPAA-eligible services, ZDR-qualifying ones included; under it, configuration requirements and feature limits apply, and it does not cover web search.',
      },
    ],
    sources: [SRC.zdrProducts],
    statements: ['zh-baa-hipaa', 'zh-baa-limits'],
    example: { profile: ZDR_ORG, at: AT, expect: { notes: ['baa-hipaa-scope'] } },
  },
  {
    id: 'zdr-with-partner-program',
    summary: 'ZDR and the Development Partner Program contradict each other; no source says which wins.',
    when: { ...ZDR_ACTIVE, flags: { zdr: true, partnerProgram: true } },
    effects: [
      {
        flow: 'inference',
        set: { retentionDays: 'unstated' },
        note: 'ZDR says prompts and responses are not stored; the Development Partner Program provides them as training material. No source says which wins, so retention is unstated and training is taken as on.',
      },
      {
        warning: 'zdr-and-partner-program',
        message:
          'The profile has both ZDR and the Development Partner Program: ZDR keeps nothing, while the program hands material over for training. The sources do not say how they combine; this answer takes training as on and retention as unstated. Ask the account team which applies.',
      },
    ],
    sources: [SRC.zdrIntro, SRC.partnerProgram],
    statements: ['du-dpp-training'],
    example: {
      profile: { ...ZDR_ORG, developmentPartnerProgram: true },
      at: AT,
      expect: {
        flows: { inference: { trainingUse: 'yes', retentionDays: null } },
        warnings: ['zdr-and-partner-program'],
      },
    },
  },
  {
    id: 'zdr-not-for-consumer-plans',
    summary: 'ZDR is not available to Free, Pro or Max accounts.',
    when: { flags: { zdr: true }, plans: ['free', 'pro', 'max'] },
    effects: [
      {
        warning: 'zdr-on-consumer-plan',
        message:
          'ZDR is set but this is a consumer plan: ZDR applies only to Claude for Enterprise and commercial API keys, so it has no effect here.',
      },
    ],
    sources: [SRC.zdrProducts, SRC.zdrIntro],
    statements: ['zh-commercial-only'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', zdr: true, trainingOptIn: false },
      at: AT,
      expect: { flows: { inference: { retentionDays: 30 } }, warnings: ['zdr-on-consumer-plan'] },
    },
  },
  {
    id: 'zdr-not-for-other-commercial-plans',
    summary: 'ZDR applies only to Claude for Enterprise and commercial API keys, not Team or Gov.',
    when: { flags: { zdr: true }, plans: ['team', 'gov'] },
    effects: [
      {
        warning: 'zdr-plan-not-eligible',
        message:
          'ZDR is set but it applies only to Claude for Enterprise and commercial API keys; on this plan standard retention applies.',
      },
    ],
    sources: [SRC.zdrProducts, SRC.zdrIntro],
    statements: ['zh-products', 'zdr-enterprise'],
    example: {
      profile: { plan: 'team', provider: 'anthropic', zdr: true },
      at: AT,
      expect: { flows: { inference: { retentionDays: 30 } }, warnings: ['zdr-plan-not-eligible'] },
    },
  },
  {
    id: 'zdr-direct-platform-only',
    summary:
      'Anthropic’s ZDR applies only to its direct platform; Bedrock, Vertex and Foundry have their own policies.',
    when: { flags: { zdr: true }, providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        warning: 'zdr-on-cloud-provider',
        message:
          'ZDR is set but inference goes through a cloud provider: Anthropic’s ZDR applies only to its direct platform; that platform’s own retention policy applies.',
      },
    ],
    sources: [SRC.zdrIntro],
    statements: ['zdr-direct-platform'],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', zdr: true },
      at: AT,
      expect: { flows: { inference: { retentionDays: null } }, warnings: ['zdr-on-cloud-provider'] },
    },
  },
];
