/** The Development Partner Program: an org-level opt-in to provide training material, first-party API only. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const partnerProgramRules: Rule[] = [
  {
    id: 'partner-program-training',
    summary: 'An org admin’s opt-in to the Development Partner Program lets Anthropic train on the material.',
    when: {
      plans: ['team', 'enterprise', 'api', 'gov'],
      providers: ['anthropic'],
      flags: { partnerProgram: true },
    },
    effects: [
      {
        flow: 'inference',
        set: { trainingUse: 'yes' },
        note: 'The organization opted in to the Development Partner Program: material provided may be used to train models.',
      },
    ],
    sources: [SRC.partnerProgram, SRC.trainingPolicy, SRC.commercialTraining],
    statements: [
      'du-dpp-training',
      'du-dpp-org-admin',
      'du-commercial-unless-chosen',
      'sum-partner-program-exception',
    ],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic', developmentPartnerProgram: true },
      at: '2026-01-15',
      expect: { flows: { inference: { trainingUse: 'yes' } } },
    },
  },
  {
    id: 'partner-program-first-party-only',
    summary: 'The Development Partner Program is not available on Bedrock or Vertex (first-party API only).',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { partnerProgram: true } },
    effects: [
      {
        flow: 'inference',
        note: 'The Development Partner Program does not exist on this provider, so it has no training effect here.',
      },
      {
        warning: 'partner-program-not-available-on-provider',
        message:
          'The Development Partner Program is available only for Anthropic’s first-party API, not for Bedrock or Vertex (or Foundry): the opt-in has no effect on this route.',
      },
    ],
    sources: [SRC.partnerProgram],
    statements: ['du-dpp-first-party-only'],
    example: {
      profile: {
        plan: 'enterprise',
        provider: 'vertex',
        developmentPartnerProgram: true,
        env: { CLAUDE_CODE_USE_VERTEX: '1' },
      },
      at: '2026-01-15',
      expect: {
        flows: { inference: { trainingUse: 'no' } },
        warnings: ['partner-program-not-available-on-provider'],
      },
    },
  },
  {
    id: 'partner-program-org-only',
    summary: 'The Development Partner Program is an organization opt-in, not a consumer setting.',
    when: { plans: ['free', 'pro', 'max'], flags: { partnerProgram: true } },
    effects: [
      {
        warning: 'partner-program-on-consumer-plan',
        message:
          'The Development Partner Program is opted into by an organization admin; on a Free/Pro/Max account the training setting decides instead.',
      },
    ],
    sources: [SRC.partnerProgram],
    statements: ['du-dpp-org-admin'],
    example: {
      profile: { plan: 'max', provider: 'anthropic', developmentPartnerProgram: true, trainingOptIn: false },
      at: '2026-01-15',
      expect: {
        flows: { inference: { trainingUse: 'no' } },
        warnings: ['partner-program-on-consumer-plan'],
      },
    },
  },
];
