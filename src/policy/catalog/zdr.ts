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
        note: 'ZDR: prompts and responses are processed in real time and not retained, for every Claude model.',
      },
    ],
    sources: [SRC.zdrIntro, SRC.zdrCovers, SRC.zdrProducts, SRC.retention],
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
    sources: [SRC.zdrViolations],
    example: {
      profile: { ...ZDR_ORG, plan: 'api' },
      at: AT,
      expect: { flows: { inference: { retentionDays: 0 } } },
    },
  },
  {
    id: 'zdr-safety-classifier-results',
    summary: 'Under ZDR, Anthropic still retains User Safety classifier results to enforce its Usage Policy.',
    when: ZDR_ACTIVE,
    effects: [{ flow: 'inference', note: 'User Safety classifier results are still retained under ZDR.' }],
    sources: [SRC.zdrProducts],
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
        note: 'Not covered by ZDR: analytics keeps productivity metadata under standard policies; contribution metrics are unavailable to ZDR organizations.',
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
    example: { profile: ZDR_ORG, at: AT, expect: { warnings: ['zdr-scope-limits'] } },
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
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', zdr: true },
      at: AT,
      expect: { flows: { inference: { retentionDays: null } }, warnings: ['zdr-on-cloud-provider'] },
    },
  },
];
