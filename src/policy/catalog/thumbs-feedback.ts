/** Thumbs up/down: a feedback channel the seeds name but do not describe. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const thumbsFeedbackRules: Rule[] = [
  {
    id: 'thumbs-feedback',
    summary:
      'Thumbs up/down is a standard feedback channel to Anthropic; what it sends and keeps is not stated.',
    when: {},
    effects: [
      {
        flow: 'thumbs-feedback',
        set: {
          enabled: true,
          destination: 'anthropic',
          trainingUse: 'unstated',
          retentionDays: 'unstated',
          data: [
            'the rating (only when the user gives one); the survey section sets it apart from the survey, which sends no session data, so it may carry session data',
          ],
          encryption: { inTransit: 'not stated', atRest: 'not stated' },
        },
        note: 'thumbs up/down is offered wherever Claude Code runs; the sources name the channel (“standard feedback mechanism”) but not where it is offered, what it sends, or how long it is kept.',
        assumed: true,
      },
    ],
    sources: [SRC.feedbackSummary, SRC.surveys],
    statements: ['sum-thumbs-feedback', 'du-survey-unlike-thumbs-bug'],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: {
        flows: { 'thumbs-feedback': { enabled: true, trainingUse: 'unstated', retentionDays: null } },
        assumptions: ['thumbs-feedback'],
        warnings: ['unstated-in-sources'],
      },
    },
  },
  {
    id: 'thumbs-feedback-under-zdr',
    summary: 'ZDR disables /feedback; the sources do not say whether thumbs up/down goes too.',
    when: { flags: { zdr: true }, plans: ['enterprise', 'api'], providers: ['anthropic'] },
    effects: [
      {
        flow: 'thumbs-feedback',
        note: 'under ZDR thumbs up/down stays available: the ZDR page disables feedback submission (/feedback) and names no other feedback channel.',
        assumed: true,
      },
    ],
    sources: [SRC.zdrDisabled, SRC.feedbackSummary],
    statements: ['zdr-disables-feedback'],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic', zdr: true },
      at: '2026-01-15',
      expect: {
        flows: { 'thumbs-feedback': { enabled: true }, feedback: { enabled: false } },
        assumptions: ['thumbs-feedback-under-zdr'],
      },
    },
  },
];
