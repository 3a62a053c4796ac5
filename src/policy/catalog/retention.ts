/** How long Anthropic keeps inference data, by account type and training choice. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

const CONSUMER = ['free', 'pro', 'max'] as const;

export const retentionRules: Rule[] = [
  {
    id: 'consumer-retention-training-on',
    summary: 'Consumers who allow model improvement: 5-year retention.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['on'] },
    validFrom: '2025-08-28',
    effects: [
      {
        flow: 'inference',
        set: { retentionDays: 1825 },
        note: 'Training on: kept 5 years (1825 days) to support model development and safety.',
      },
    ],
    sources: [SRC.retention, SRC.retentionSummary],
    statements: ['du-consumer-retention-on', 'sum-consumer-retention-on', 'du-retention-by-account'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { inference: { retentionDays: 1825 } } },
    },
  },
  {
    id: 'consumer-retention-training-off',
    summary: 'Consumers who do not allow model improvement: 30-day retention.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['off'] },
    validFrom: '2025-08-28',
    effects: [{ flow: 'inference', set: { retentionDays: 30 }, note: 'Training off: kept 30 days.' }],
    sources: [SRC.retention, SRC.retentionSummary],
    statements: ['du-consumer-retention-off', 'sum-consumer-retention-off'],
    example: {
      profile: { plan: 'free', provider: 'anthropic', trainingOptIn: false },
      at: '2026-01-15',
      expect: { flows: { inference: { retentionDays: 30 } } },
    },
  },
  {
    id: 'commercial-retention',
    summary: 'Team, Enterprise and API on Anthropic: 30-day standard retention.',
    when: { plans: ['team', 'enterprise', 'api'], providers: ['anthropic'] },
    effects: [
      { flow: 'inference', set: { retentionDays: 30 }, note: 'Commercial standard retention: 30 days.' },
    ],
    sources: [SRC.retention, SRC.retentionSummary, SRC.routeApi],
    statements: ['du-commercial-retention', 'sum-commercial-retention', 'ra-api-log-retention'],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { inference: { retentionDays: 30 } } },
    },
  },
  {
    id: 'gov-retention-unstated',
    summary: 'Claude Gov: the seeds give no retention period.',
    when: { plans: ['gov'], providers: ['anthropic'] },
    effects: [
      {
        flow: 'inference',
        set: { retentionDays: 'unstated' },
        note: 'The data-usage page lists retention for Team, Enterprise and API only; for Claude Gov no source gives a period.',
      },
    ],
    sources: [SRC.retention],
    statements: ['du-commercial-retention'],
    example: {
      profile: { plan: 'gov', provider: 'anthropic' },
      at: '2026-01-15',
      expect: {
        flows: { inference: { retentionDays: null, trainingUse: 'no' } },
        warnings: ['unstated-in-sources'],
      },
    },
  },
];
