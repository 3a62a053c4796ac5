/** The route article's view: Bedrock, Vertex and Foundry keep inference off Anthropic's servers. */
import type { Rule } from '../rule.js';
import type { Destination, Provider } from '../types.js';
import { SRC } from './sources.js';

const cloudRoute = (provider: Provider, destination: Destination, name: string): Rule => ({
  id: `route-${provider}`,
  summary: `Inference on ${name} stays in that cloud; its retention policy governs; Anthropic does not train on it.`,
  when: { providers: [provider] },
  effects: [
    {
      flow: 'inference',
      set: {
        enabled: true,
        destination,
        trainingUse: 'no',
        retentionDays: null,
        data: ['all user prompts', 'model outputs', 'code and file contents placed in the conversation'],
        encryption: { inTransit: 'TLS', atRest: `governed by ${name}` },
      },
      note: `Inference is processed in ${name} and does not reach Anthropic's servers; retention follows ${name}'s policy, and commercial terms (3rd-party platforms) rule out training.`,
    },
  ],
  sources:
    provider === 'foundry'
      ? [SRC.zdrIntro, SRC.trainingPolicy]
      : [SRC.routeBedrock, SRC.routeBottomLine, SRC.trainingPolicy, SRC.zdrIntro],
  example: {
    profile: { plan: 'enterprise', provider },
    at: '2026-01-15',
    expect: { flows: { inference: { destination, retentionDays: null, trainingUse: 'no' } } },
  },
});

export const routeRules: Rule[] = [
  {
    id: 'route-anthropic-direct',
    summary:
      'The direct API and claude.ai sign-ins reach Anthropic; the plan changes the contract, not the route.',
    when: { providers: ['anthropic'] },
    effects: [
      {
        flow: 'inference',
        note: 'Data reaches Anthropic’s servers: the plan changes the contractual terms, not where the data goes.',
      },
    ],
    sources: [SRC.routeApi, SRC.routeBottomLine],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { inference: { destination: 'anthropic' } } },
    },
  },
  cloudRoute('bedrock', 'aws-bedrock', 'AWS Bedrock'),
  cloudRoute('vertex', 'google-vertex', 'Google Vertex AI'),
  cloudRoute('foundry', 'microsoft-foundry', 'Microsoft Foundry'),
  {
    id: 'route-provider-from-env',
    summary: 'CLAUDE_CODE_USE_BEDROCK / _VERTEX / _FOUNDRY select the provider, whatever the profile says.',
    when: { any: [{ flags: { providerFromEnv: true } }, { flags: { multipleProvidersInEnv: true } }] },
    effects: [
      {
        warning: 'provider-from-env',
        message:
          'The environment selects the provider (CLAUDE_CODE_USE_BEDROCK, then _VERTEX, then _FOUNDRY) and overrides the profile’s provider; check that the route is the one you meant.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.hosts],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
      at: '2026-01-15',
      expect: { flows: { inference: { destination: 'aws-bedrock' } }, warnings: ['provider-from-env'] },
    },
  },
  {
    id: 'route-consumer-plan-on-cloud',
    summary: 'A Free/Pro/Max plan does not govern traffic sent through a cloud provider.',
    when: { plans: ['free', 'pro', 'max'], providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        warning: 'consumer-plan-on-cloud-provider',
        message:
          'A consumer plan is named but inference goes through a cloud provider: the consumer training setting does not apply to that traffic; the cloud provider’s terms do.',
      },
    ],
    sources: [SRC.routeBedrock, SRC.trainingPolicy],
    example: {
      profile: { plan: 'pro', provider: 'vertex', trainingOptIn: true },
      at: '2026-01-15',
      expect: {
        flows: { inference: { trainingUse: 'no', retentionDays: null } },
        warnings: ['consumer-plan-on-cloud-provider'],
      },
    },
  },
];
