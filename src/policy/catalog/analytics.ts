/** Claude Code Analytics: productivity metadata for commercial organizations on Anthropic's platform. */
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
          retentionDays: null,
          data: ['account emails', 'usage statistics', 'contribution metrics'],
          encryption: { inTransit: 'TLS', atRest: 'not stated' },
        },
        note: 'Follows Anthropic’s standard retention policies; the seeds give no period for this metadata.',
      },
    ],
    sources: [SRC.zdrNotCovered, SRC.zdrIntro],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { analytics: { enabled: true, destination: 'anthropic' } } },
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
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: false },
      at: '2026-01-15',
      expect: { flows: { analytics: { enabled: false } } },
    },
  },
];
