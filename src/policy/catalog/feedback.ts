/** /bug and /feedback: full transcripts to Anthropic, kept 5 years. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const feedbackRules: Rule[] = [
  {
    id: 'feedback-transcripts',
    summary: '/bug (/feedback) sends the full conversation including code to Anthropic; kept 5 years.',
    when: {},
    effects: [
      {
        flow: 'feedback',
        set: {
          enabled: true,
          destination: 'anthropic',
          trainingUse: 'yes',
          retentionDays: 1825,
          data: ['full conversation history including code (only when the user runs /bug or /feedback)'],
          encryption: { inTransit: 'TLS', atRest: 'encrypted' },
        },
        note: 'User-initiated. Anthropic may use feedback to improve its products (training is not ruled out); transcripts are kept 5 years and a public GitHub issue may be created.',
      },
    ],
    sources: [SRC.partnerProgram, SRC.telemetry, SRC.feedbackSummary],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { feedback: { enabled: true, retentionDays: 1825 } } },
    },
  },
  {
    id: 'feedback-default-off-on-cloud',
    summary: 'On Bedrock, Vertex and Foundry, /bug reports are off by default.',
    when: { providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        flow: 'feedback',
        set: { enabled: false },
        note: 'Off by default on cloud providers; current clients write a local archive to ~/.claude/feedback-bundles/ instead.',
      },
      {
        feature: 'feedback',
        reason: 'Bug reports to Anthropic are off by default on Bedrock, Vertex and Foundry.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.envVars],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock' },
      at: '2026-01-15',
      expect: { flows: { feedback: { enabled: false } }, disabledFeatures: ['feedback'] },
    },
  },
  {
    id: 'feedback-disable-command',
    summary:
      'DISABLE_FEEDBACK_COMMAND (or its old name DISABLE_BUG_COMMAND), any non-empty value, disables /feedback.',
    when: { envSet: ['DISABLE_FEEDBACK_COMMAND', 'DISABLE_BUG_COMMAND'] },
    effects: [
      {
        flow: 'feedback',
        set: { enabled: false },
        note: 'DISABLE_FEEDBACK_COMMAND / DISABLE_BUG_COMMAND is set; /feedback, /bug and /share are disabled.',
      },
      { feature: 'feedback', reason: 'DISABLE_FEEDBACK_COMMAND (or DISABLE_BUG_COMMAND) is set.' },
    ],
    sources: [SRC.telemetry, SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_BUG_COMMAND: '1' } },
      at: '2026-01-15',
      expect: { flows: { feedback: { enabled: false } }, disabledFeatures: ['feedback'] },
    },
  },
];
