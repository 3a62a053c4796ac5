/** The data-flow diagram's required connections besides inference: install/update (NPM) and Console sign-in. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

const CLOUD = ['bedrock', 'vertex', 'foundry'] as const;

export const connectionRules: Rule[] = [
  {
    id: 'install-update-npm',
    summary: 'Claude Code is installed, and updates, from NPM.',
    when: {},
    effects: [
      {
        flow: 'install-update',
        set: {
          enabled: true,
          destination: 'npm-registry',
          trainingUse: 'no',
          retentionDays: null,
          data: ['package downloads of @anthropic-ai/claude-code (install and update); no prompts or code'],
          encryption: { inTransit: 'not stated', atRest: 'not applicable' },
        },
        note: 'A required connection of the data-flow diagram: install/update connects to NPM. The diagram puts no user data on it; the registry’s own policy governs its logs.',
      },
    ],
    sources: [SRC.localFlow],
    statements: ['du-install-npm'],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { 'install-update': { enabled: true, destination: 'npm-registry' } } },
    },
  },
  {
    id: 'install-update-autoupdate-off',
    summary:
      'DISABLE_AUTOUPDATER or CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC stop background updates, not the install.',
    when: { envSet: ['DISABLE_AUTOUPDATER', 'DISABLE_UPDATES', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'] },
    effects: [
      {
        flow: 'install-update',
        note: 'Background auto-updates are off (DISABLE_AUTOUPDATER, DISABLE_UPDATES or CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC); installs and manual updates still reach the registry.',
      },
    ],
    sources: [SRC.envVars],
    example: {
      profile: { plan: 'team', provider: 'anthropic', env: { DISABLE_AUTOUPDATER: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'install-update': { enabled: true } } },
    },
  },
  {
    id: 'console-auth',
    summary:
      'User requests reach Anthropic services, Console sign-in among them; what it keeps is not stated.',
    when: {},
    effects: [
      {
        flow: 'console-auth',
        set: {
          enabled: true,
          destination: 'anthropic',
          trainingUse: 'unstated',
          retentionDays: 'unstated',
          data: ['account sign-in and tokens (Console auth)'],
          encryption: { inTransit: 'not stated', atRest: 'not stated' },
        },
        note: 'A required connection of the data-flow diagram (Console auth), alongside the API itself.',
      },
    ],
    sources: [SRC.localFlow],
    statements: ['du-console-auth'],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { 'console-auth': { enabled: true, destination: 'anthropic' } } },
    },
  },
  {
    id: 'console-auth-cloud-provider',
    summary: 'On Bedrock, Vertex and Foundry, sign-in goes to the provider, not to Anthropic’s Console.',
    when: { providers: [...CLOUD], flags: { providerVariableSet: true } },
    effects: [
      {
        flow: 'console-auth',
        set: { enabled: false },
        note: 'With a cloud provider selected, model traffic and authentication go to the provider (network reference §1.8).',
      },
    ],
    sources: [SRC.hosts],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'console-auth': { enabled: false } } },
    },
  },
];
