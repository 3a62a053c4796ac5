/** Claude Code Analytics: productivity metadata for organizations on Anthropic's platform. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const analyticsRules: Rule[] = [
  {
    id: 'analytics-metadata',
    summary:
      'Analytics collects productivity metadata (account emails, usage statistics), not prompts or responses.',
    when: {},
    effects: [
      {
        flow: 'analytics',
        set: {
          enabled: true,
          destination: 'anthropic',
          trainingUse: 'no',
          retentionDays: 30,
          data: ['account emails', 'usage statistics', 'contribution metrics'],
          encryption: { inTransit: 'TLS', atRest: 'not stated' },
        },
        note: 'No prompts or responses. Follows the standard retention policies, which the ZDR page links to the data-usage page: 30 days for commercial users.',
      },
    ],
    sources: [SRC.zdrNotCovered, SRC.zdrIntro, SRC.retention],
    statements: ['zdr-analytics-metadata', 'zdr-uncovered-standard', 'zdr-not-seat-management'],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { analytics: { enabled: true, destination: 'anthropic', retentionDays: 30 } } },
    },
  },
  {
    id: 'analytics-plan-not-stated',
    summary: 'The sources describe Claude Code Analytics for Claude for Enterprise only.',
    when: { plans: ['team', 'api', 'gov'], providers: ['anthropic'] },
    effects: [
      {
        flow: 'analytics',
        note: 'analytics metadata is collected on this plan too; the sources describe Claude Code Analytics for Claude for Enterprise only, so this is the case where more data leaves.',
        assumed: true,
      },
    ],
    sources: [SRC.zdrIntro, SRC.zdrNotCovered],
    statements: ['zdr-admin-capabilities'],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { analytics: { enabled: true } }, assumptions: ['analytics-plan-not-stated'] },
    },
  },
  {
    id: 'analytics-organizations-only',
    summary: 'Analytics exists only for organizations on Anthropic’s own platform.',
    when: { any: [{ plans: ['free', 'pro', 'max'] }, { providers: ['bedrock', 'vertex', 'foundry'] }] },
    effects: [
      {
        flow: 'analytics',
        set: { enabled: false },
        note: 'No organization analytics for consumer accounts or cloud-provider routes.',
      },
    ],
    sources: [SRC.zdrIntro],
    statements: ['zdr-direct-platform'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: false },
      at: '2026-01-15',
      expect: { flows: { analytics: { enabled: false } } },
    },
  },
];
