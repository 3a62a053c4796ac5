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
          trainingUse: 'unstated',
          retentionDays: 1825,
          data: ['full conversation history including code (only when the user runs /bug or /feedback)'],
          encryption: { inTransit: 'TLS', atRest: 'encrypted' },
        },
        note: 'User-initiated. Anthropic may use feedback to improve its products and services (whether that includes training models is not stated); transcripts are kept 5 years and a public GitHub issue may be created.',
      },
    ],
    sources: [SRC.partnerProgram, SRC.telemetry, SRC.feedbackSummary, SRC.localFlow],
    statements: [
      'du-bug-full-history',
      'du-bug-feedback-use',
      'du-bug-retention',
      'du-bug-encryption',
      'du-bug-github-issue',
      'sum-bug-history-5y',
      'du-optional-flows',
    ],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { feedback: { enabled: true, retentionDays: 1825 } } },
    },
  },
  {
    id: 'feedback-default-off-on-cloud',
    summary:
      'On Bedrock and Vertex (later docs: Foundry too), /bug reports are off by default once CLAUDE_CODE_USE_* is 1.',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { providerVariableSet: true } },
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
    sources: [SRC.providerDefaults, SRC.defaultsSummary, SRC.providerDefaultsLater],
    statements: [
      'du-cloud-nonessential-off',
      'du-bedrock-needs-variable',
      'du-vertex-needs-variable',
      'sum-defaults-bedrock',
      'sum-defaults-vertex',
    ],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
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
    sources: [SRC.telemetry, SRC.envVars, SRC.providerDefaults],
    statements: ['du-bug-opt-out', 'du-claude-api-defaults'],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_BUG_COMMAND: '1' } },
      at: '2026-01-15',
      expect: { flows: { feedback: { enabled: false } }, disabledFeatures: ['feedback'] },
    },
  },
];
