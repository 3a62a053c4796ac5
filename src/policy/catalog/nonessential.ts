/** CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: one switch for telemetry, error reports, /feedback and surveys. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

const NOTE = 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set; any non-empty value (even "0") disables it.';

export const nonessentialRules: Rule[] = [
  {
    id: 'nonessential-traffic-off',
    summary: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC (any value) turns off all non-essential traffic.',
    when: { envSet: ['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'] },
    effects: [
      { flow: 'telemetry', set: { enabled: false }, note: NOTE },
      { flow: 'error-reporting', set: { enabled: false }, note: NOTE },
      { flow: 'feedback', set: { enabled: false }, note: NOTE },
      { flow: 'session-survey', set: { enabled: false }, note: NOTE },
      { feature: 'feedback', reason: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set.' },
    ],
    sources: [SRC.providerDefaults, SRC.telemetrySummary, SRC.envVars, SRC.defaultsSummary],
    statements: ['du-nonessential-opt-out', 'sum-nonessential-opt-out', 'sum-env-in-settings'],
    example: {
      profile: {
        plan: 'api',
        provider: 'anthropic',
        env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0' },
      },
      at: '2026-01-15',
      expect: {
        flows: {
          telemetry: { enabled: false },
          'error-reporting': { enabled: false },
          feedback: { enabled: false },
          'session-survey': { enabled: false },
        },
        disabledFeatures: ['feedback'],
      },
    },
  },
];
