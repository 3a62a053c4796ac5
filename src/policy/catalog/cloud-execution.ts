/** Claude Code on the web: sessions in Anthropic-managed VMs, following the account's data policies. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const cloudExecutionRules: Rule[] = [
  {
    id: 'cloud-execution',
    summary:
      'Web sessions run in isolated VMs with a credential proxy and audited egress; account policies apply.',
    when: {},
    effects: [
      {
        flow: 'cloud-session',
        set: {
          enabled: true,
          destination: 'anthropic',
          data: [
            'a clone of the repository the session was started in (isolated VM, deleted after the session)',
            'prompts',
            'code changes',
            'outputs',
          ],
          encryption: { inTransit: 'TLS', atRest: 'not stated' },
          sameAs: { flow: 'inference', fields: ['trainingUse', 'retentionDays'] },
        },
        note: 'Only if you use Claude Code on the web. GitHub credentials stay outside the sandbox (secure proxy); all outbound traffic passes an audit-logging proxy; training and retention follow your account type, as for inference.',
      },
    ],
    sources: [SRC.cloudExecution, SRC.cloudSummary],
    statements: [
      'du-cloud-anthropic-vm',
      'du-cloud-isolated-vm',
      'du-cloud-account-policies',
      'du-cloud-github-proxy',
      'du-cloud-egress-proxy',
      'du-cloud-same-policies',
      'sum-cloud-vm',
      'sum-cloud-github-proxy',
      'sum-cloud-egress-proxy',
      'sum-cloud-retention',
    ],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: true, trainingUse: 'yes', retentionDays: 1825 } } },
    },
  },
  {
    id: 'cloud-execution-anthropic-only',
    summary: 'Claude Code on the web runs on Anthropic’s platform, not through a cloud provider.',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { providerVariableSet: true } },
    effects: [
      {
        flow: 'cloud-session',
        set: { enabled: false },
        note: 'Web sessions are an Anthropic-hosted feature; they are not part of a cloud-provider route.',
      },
    ],
    sources: [SRC.cloudExecution, SRC.routeBedrock, SRC.routeBottomLine],
    statements: ['ra-cloud-not-anthropic'],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: false } } },
    },
  },
  {
    id: 'cloud-session-own-repository',
    summary: 'A remote session reaches only the repository it was started in, not other connected ones.',
    when: {},
    effects: [
      {
        flow: 'cloud-session',
        note: 'Remote Claude Code accesses the repository the session was started in; repositories you connected but started no session in are not accessed.',
      },
    ],
    sources: [SRC.dataAccess],
    statements: ['du-remote-own-repository', 'du-remote-not-other-repositories'],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: true, destination: 'anthropic' } } },
    },
  },
  {
    id: 'cloud-session-account-terms-on-cloud-route',
    summary:
      'Web sessions run on Anthropic under the account’s terms, which a profile naming a cloud route does not show.',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { providerVariableSet: false } },
    effects: [
      {
        flow: 'cloud-session',
        set: { sameAs: undefined, trainingUse: 'unstated', retentionDays: 'unstated' },
        note: 'Web sessions run in Anthropic’s VMs under the account type’s policies; the profile names a cloud provider for inference, so which Anthropic account and terms apply is not stated.',
      },
    ],
    sources: [SRC.cloudExecution],
    statements: ['du-cloud-account-policies'],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock' },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: true, trainingUse: 'unstated', retentionDays: null } } },
    },
  },
];
