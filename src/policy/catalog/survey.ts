/** "How is Claude doing this session?": a rating only, never trained on. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const surveyRules: Rule[] = [
  {
    id: 'session-survey-rating-only',
    summary: 'The session quality survey records only the numeric rating; it cannot be used for training.',
    when: {},
    effects: [
      {
        flow: 'session-survey',
        set: {
          enabled: true,
          destination: 'anthropic',
          trainingUse: 'no',
          retentionDays: 'unstated',
          data: ['numeric rating (1, 2, 3 or dismiss)'],
          encryption: { inTransit: 'TLS', atRest: 'not stated' },
        },
        note: 'No transcripts, inputs or outputs; does not affect training preferences. Surveys run on every provider; no retention period is given.',
      },
    ],
    sources: [SRC.surveys, SRC.feedbackSummary, SRC.envVars],
    statements: [
      'du-survey-rating-only',
      'du-survey-no-session-data',
      'du-survey-no-training',
      'du-survey-unlike-thumbs-bug',
      'sum-survey-rating-only',
    ],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { 'session-survey': { enabled: true, trainingUse: 'no' } } },
    },
  },
  {
    id: 'session-survey-opt-out',
    summary: 'CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY, DISABLE_TELEMETRY or DO_NOT_TRACK turn the survey off.',
    when: {
      any: [
        { envSet: ['DISABLE_TELEMETRY'] },
        { envTruthy: ['CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY', 'DO_NOT_TRACK'] },
      ],
    },
    effects: [
      {
        flow: 'session-survey',
        set: { enabled: false },
        note: 'Surveys are off (CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY, DISABLE_TELEMETRY or DO_NOT_TRACK).',
      },
    ],
    sources: [SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'session-survey': { enabled: false } } },
    },
  },
];
