/** The route article's view: Bedrock, Vertex and Foundry keep inference off Anthropic's servers. */
import type { Rule } from '../rule.js';
import type { Destination, Provider } from '../types.js';
import { SRC } from './sources.js';

const CLOUD: Provider[] = ['bedrock', 'vertex', 'foundry'];

const cloudRoute = (provider: Provider, destination: Destination, name: string, variable: string): Rule => ({
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
  statements:
    provider === 'foundry'
      ? ['zdr-direct-platform']
      : provider === 'bedrock'
        ? ['ra-cloud-not-anthropic', 'ra-bedrock-in-aws', 'zdr-direct-platform']
        : ['ra-cloud-not-anthropic', 'ra-vertex-equivalent', 'zdr-direct-platform'],
  example: {
    profile: { plan: 'enterprise', provider, env: { [variable]: '1' } },
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
    sources: [SRC.routeApi, SRC.routeBottomLine, SRC.routeWeb],
    statements: ['ra-route-decides', 'ra-api-direct', 'ra-api-reaches-anthropic', 'ra-web-through-anthropic'],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { inference: { destination: 'anthropic' } } },
    },
  },
  cloudRoute('bedrock', 'aws-bedrock', 'AWS Bedrock', 'CLAUDE_CODE_USE_BEDROCK'),
  cloudRoute('vertex', 'google-vertex', 'Google Vertex AI', 'CLAUDE_CODE_USE_VERTEX'),
  cloudRoute('foundry', 'microsoft-foundry', 'Microsoft Foundry', 'CLAUDE_CODE_USE_FOUNDRY'),
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
    sources: [SRC.providerDefaults, SRC.hosts, SRC.routeBedrock],
    statements: ['ra-bedrock-env-vars'],
    example: {
      profile: { plan: 'enterprise', provider: 'anthropic', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
      at: '2026-01-15',
      expect: { flows: { inference: { destination: 'aws-bedrock' } }, warnings: ['provider-from-env'] },
    },
  },
  {
    id: 'route-provider-variable-off',
    summary:
      'A cloud provider whose CLAUDE_CODE_USE_* is set to something other than 1 is not used: the client talks to the Claude API.',
    when: { flags: { providerVariableOff: true } },
    effects: [
      {
        flow: 'inference',
        note: 'The profile names a cloud provider, but its CLAUDE_CODE_USE_* variable is not 1, so Claude Code sends inference to the Claude API.',
      },
      {
        warning: 'provider-variable-off',
        message:
          'The profile names a cloud provider but sets its CLAUDE_CODE_USE_* variable to a value other than 1: Claude Code then uses the Claude API, with telemetry, error reports and /bug on by default. Set the variable to 1 to use the provider.',
      },
    ],
    sources: [SRC.providerDefaults],
    statements: ['du-bedrock-needs-variable', 'du-vertex-needs-variable'],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '0' } },
      at: '2026-01-15',
      expect: {
        flows: { inference: { destination: 'anthropic' }, telemetry: { enabled: true } },
        warnings: ['provider-variable-off'],
      },
    },
  },
  {
    id: 'route-provider-variable-unset',
    summary:
      'A cloud provider named without its CLAUDE_CODE_USE_* set to 1: its defaults (non-essential traffic off) do not apply.',
    when: { providers: CLOUD, flags: { providerVariableSet: false } },
    effects: [
      {
        flow: 'inference',
        note: 'inference is taken to go to the cloud provider the profile names, although its CLAUDE_CODE_USE_* variable is not set to 1 in the profile (without it Claude Code uses the Claude API).',
        assumed: true,
      },
      {
        warning: 'provider-variable-unset',
        message:
          'The profile names a cloud provider but its environment does not set the matching CLAUDE_CODE_USE_BEDROCK, _VERTEX or _FOUNDRY to 1. Claude Code uses the provider, and turns telemetry, error reports and /bug off by default, only when it is 1; this answer leaves them on (the case where more data leaves). Add the variable to the profile’s env if the clients set it.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.defaultsSummary, SRC.routeBedrock],
    statements: ['du-bedrock-needs-variable', 'du-vertex-needs-variable', 'ra-bedrock-env-vars'],
    example: {
      profile: { plan: 'enterprise', provider: 'vertex' },
      at: '2026-01-15',
      expect: {
        flows: { inference: { destination: 'google-vertex' }, telemetry: { enabled: true } },
        warnings: ['provider-variable-unset'],
        assumptions: ['route-provider-variable-unset'],
      },
    },
  },
  {
    id: 'route-consumer-plan-on-cloud',
    summary: 'A Free/Pro/Max plan does not govern traffic sent through a cloud provider.',
    when: { plans: ['free', 'pro', 'max'], providers: CLOUD },
    effects: [
      {
        warning: 'consumer-plan-on-cloud-provider',
        message:
          'A consumer plan is named but inference goes through a cloud provider: the consumer training setting does not apply to that traffic; the cloud provider’s terms do.',
      },
    ],
    sources: [SRC.routeBedrock, SRC.trainingPolicy, SRC.routeBottomLine],
    statements: ['ra-cloud-not-anthropic'],
    example: {
      profile: { plan: 'pro', provider: 'vertex', trainingOptIn: true, env: { CLAUDE_CODE_USE_VERTEX: '1' } },
      at: '2026-01-15',
      expect: {
        flows: { inference: { trainingUse: 'no', retentionDays: null } },
        warnings: ['consumer-plan-on-cloud-provider'],
      },
    },
  },
];
