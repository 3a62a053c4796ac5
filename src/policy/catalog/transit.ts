/** Inference on Anthropic's direct platform: what goes over the wire and how it is protected. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const transitRules: Rule[] = [
  {
    id: 'inference-anthropic-transit',
    summary: 'Prompts and outputs go to Anthropic over TLS and are not encrypted at rest.',
    when: { providers: ['anthropic'] },
    effects: [
      {
        flow: 'inference',
        set: {
          enabled: true,
          destination: 'anthropic',
          data: ['all user prompts', 'model outputs', 'code and file contents placed in the conversation'],
          encryption: { inTransit: 'TLS', atRest: 'not encrypted at rest (per the data-usage page)' },
        },
        note: 'Claude Code sends every prompt and model output to the Anthropic API; encrypted in transit via TLS, not encrypted at rest.',
      },
    ],
    sources: [SRC.localFlow, SRC.flowSummary],
    statements: [
      'du-runs-locally',
      'du-sends-prompts-outputs',
      'du-tls-in-transit',
      'du-not-encrypted-at-rest',
      'sum-flow-tls',
      'sum-flow-prompts-outputs',
      'sum-flow-storage-unencrypted',
    ],
    example: {
      profile: { plan: 'team', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { inference: { enabled: true, destination: 'anthropic' } } },
    },
  },
];
