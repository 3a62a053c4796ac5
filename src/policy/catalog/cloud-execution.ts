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
            'repository clone (isolated VM, deleted after the session)',
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
    sources: [SRC.cloudExecution, SRC.flowSummary],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: true },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: true, trainingUse: 'yes', retentionDays: 1825 } } },
    },
  },
  {
    id: 'cloud-execution-anthropic-only',
    summary: 'Claude Code on the web runs on Anthropic’s platform, not through a cloud provider.',
    when: { providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        flow: 'cloud-session',
        set: { enabled: false },
        note: 'Web sessions are an Anthropic-hosted feature; they are not part of a cloud-provider route.',
      },
    ],
    sources: [SRC.cloudExecution, SRC.routeBedrock],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock' },
      at: '2026-01-15',
      expect: { flows: { 'cloud-session': { enabled: false } } },
    },
  },
];
