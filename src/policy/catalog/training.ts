/** Who may train on inference data: the consumer choice (from 2025-08-28) and the commercial default. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

const CONSUMER = ['free', 'pro', 'max'] as const;
const COMMERCIAL = ['team', 'enterprise', 'api', 'gov'] as const;
const CHOICE_FROM = '2025-08-28';
// The deadline is October 8, 2025 inclusive, so "after the deadline" starts the next day.
const AFTER_DEADLINE = '2025-10-09';

export const trainingRules: Rule[] = [
  {
    id: 'consumer-training-on',
    summary: 'A consumer who allows model improvement has Claude Code sessions used for training.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['on'] },
    validFrom: CHOICE_FROM,
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'yes' },
        note: '“Help improve Claude” is on for this session: Anthropic trains new models on it.',
      },
    ],
    sources: [SRC.trainingPolicy, SRC.consumerChoice],
    statements: [
      'du-consumer-choice',
      'du-consumer-training-when-on',
      'sum-consumer-choice-from-2025-08-28',
      'sum-consumer-training-when-enabled',
    ],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'yes' } } },
    },
  },
  {
    id: 'consumer-training-off',
    summary: 'A consumer who does not allow model improvement is not trained on.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['off'] },
    validFrom: CHOICE_FROM,
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'no' },
        note: '“Help improve Claude” is off for this session: not used for training.',
      },
    ],
    sources: [SRC.trainingPolicy, SRC.consumerChoice, SRC.routeBottomLine, SRC.routeOptOut, SRC.retention],
    statements: [
      'du-consumer-choice',
      'ra-pro-max-opt-out',
      'ra-toggle-steps',
      'du-consumer-settings-url',
      'sum-consumer-settings-url',
    ],
    example: {
      profile: { plan: 'max', provider: 'anthropic', trainingOptIn: false },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'no' } } },
    },
  },
  {
    id: 'consumer-training-applies-to-new-sessions',
    summary:
      'A setting change applies only to new or resumed sessions; a running session keeps the earlier choice.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], flags: { sessionKeepsEarlierChoice: true } },
    validFrom: CHOICE_FROM,
    effects: [
      {
        flow: 'inference',
        note: 'This session started before the training setting changed and has not been resumed since, so the earlier choice still applies to it.',
      },
      {
        warning: 'session-keeps-earlier-training-choice',
        message:
          'The training setting changed after this session started; it applies only to new or resumed sessions. Start a new session or resume this one for the new choice to apply.',
      },
    ],
    sources: [SRC.consumerChoice],
    statements: ['sum-consumer-new-or-resumed'],
    example: {
      profile: {
        plan: 'pro',
        provider: 'anthropic',
        trainingOptIn: false,
        trainingSettingChangedAt: '2025-11-02',
        session: { startedAt: '2025-11-01' },
      },
      at: '2025-11-03',
      expect: {
        flows: { inference: { trainingUse: 'yes', retentionDays: 1825 } },
        warnings: ['session-keeps-earlier-training-choice'],
      },
    },
  },
  {
    id: 'consumer-no-choice-before-deadline',
    summary: 'Between 2025-08-28 and the 2025-10-08 deadline a consumer may not have chosen yet.',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['unset'] },
    validFrom: CHOICE_FROM,
    validUntil: AFTER_DEADLINE,
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'no', retentionDays: 30 },
        note: 'No training choice made yet; training applies only when the setting is on.',
      },
      {
        warning: 'consumer-training-choice-pending',
        message:
          'No training choice recorded; consumers must choose by 2025-10-08 at claude.ai/settings/data-privacy-controls.',
      },
    ],
    sources: [SRC.consumerChoice, SRC.trainingPolicy],
    statements: ['sum-consumer-deadline'],
    example: {
      profile: { plan: 'free', provider: 'anthropic' },
      at: '2025-09-15',
      expect: {
        flows: { inference: { trainingUse: 'no', retentionDays: 30 } },
        warnings: ['consumer-training-choice-pending'],
      },
    },
  },
  {
    id: 'consumer-no-choice-after-deadline',
    summary:
      'After the 2025-10-08 deadline a consumer without a recorded choice is assumed opted in (worst case).',
    when: { plans: [...CONSUMER], providers: ['anthropic'], training: ['unset'] },
    validFrom: AFTER_DEADLINE,
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'yes', retentionDays: 1825 },
        note: 'the seeds do not say what applies without a choice after the deadline, so Sluice takes training on and 5-year retention (the route article: the free tier may be used for training by default).',
        assumed: true,
      },
      {
        warning: 'consumer-no-training-choice-after-deadline',
        message:
          'The 2025-10-08 deadline has passed and no training choice is recorded; Sluice assumes training is on. Record the setting (claude.ai/settings/data-privacy-controls) in the profile.',
      },
    ],
    sources: [SRC.consumerChoice, SRC.trainingPolicy, SRC.routeBottomLine],
    statements: ['sum-consumer-deadline', 'ra-free-web-default'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic' },
      at: '2025-10-09',
      expect: {
        flows: { inference: { trainingUse: 'yes', retentionDays: 1825 } },
        warnings: ['consumer-no-training-choice-after-deadline'],
        assumptions: ['consumer-no-choice-after-deadline'],
      },
    },
  },
  {
    id: 'consumer-before-training-choice',
    summary:
      'The seeds describe consumer training only from 2025-08-28; earlier dates are outside the catalog.',
    when: { plans: [...CONSUMER], providers: ['anthropic'] },
    validUntil: CHOICE_FROM,
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'unstated', retentionDays: 'unstated' },
        note: 'Before 2025-08-28 the consumer training choice did not exist; the seeds give no rule for that period, so training and retention are unstated.',
      },
      {
        warning: 'date-before-consumer-training-choice',
        message:
          'The evaluation date is before 2025-08-28, when consumer training choice began; the catalog covers consumer plans from that date only.',
      },
    ],
    sources: [SRC.consumerChoice],
    statements: ['sum-consumer-choice-from-2025-08-28'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2025-06-01',
      expect: {
        flows: { inference: { trainingUse: 'unstated', retentionDays: null } },
        warnings: ['date-before-consumer-training-choice', 'unstated-in-sources'],
      },
    },
  },
  {
    id: 'commercial-no-training',
    summary:
      'Team, Enterprise, API, 3rd-party platforms and Gov: no training on code or prompts unless opted in.',
    when: { plans: [...COMMERCIAL] },
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'no' },
        note: 'Commercial terms: Anthropic does not train generative models on code or prompts sent to Claude Code.',
      },
    ],
    sources: [SRC.trainingPolicy, SRC.commercialTraining, SRC.routeBottomLine, SRC.routeWeb],
    statements: [
      'du-commercial-no-training',
      'sum-commercial-no-training',
      'ra-api-not-trained',
      'ra-team-enterprise-contract',
      'ra-team-org-management',
    ],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'no' } } },
    },
  },
  {
    id: 'consumer-setting-ignored-on-commercial-plan',
    summary:
      'The consumer training setting (and its history) means nothing on a commercial plan: commercial terms decide.',
    when: {
      plans: [...COMMERCIAL],
      any: [{ flags: { trainingChoiceGiven: true } }, { flags: { trainingHistoryGiven: true } }],
    },
    effects: [
      {
        warning: 'consumer-setting-ignored',
        message:
          'The profile records the consumer "help improve Claude" setting (trainingOptIn, its change date or sessions), which exists only for Free, Pro and Max accounts; on this commercial plan it is ignored. Training here depends on commercial terms and the Development Partner Program.',
      },
    ],
    sources: [SRC.trainingPolicy, SRC.commercialTraining],
    statements: ['du-commercial-no-training'],
    example: {
      profile: { plan: 'team', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'no' } }, warnings: ['consumer-setting-ignored'] },
    },
  },
  {
    id: 'training-history-incomplete',
    summary:
      'trainingOptInBefore and session dates need trainingSettingChangedAt (and a change date needs trainingOptIn).',
    when: { plans: [...CONSUMER], flags: { trainingHistoryIncomplete: true } },
    effects: [
      {
        warning: 'training-history-ignored',
        message:
          'The profile gives trainingOptInBefore or session dates without trainingSettingChangedAt, or a change date without trainingOptIn; those fields only matter together, so they were ignored. Give the change date and the current setting.',
      },
    ],
    sources: [SRC.consumerChoice],
    statements: ['sum-consumer-new-or-resumed'],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: false, trainingOptInBefore: true },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'no' } }, warnings: ['training-history-ignored'] },
    },
  },
];
