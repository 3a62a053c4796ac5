/** Session transcripts cached on the local disk for resumption (cleanupPeriodDays, default 30). */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

export const localCacheRules: Rule[] = [
  {
    id: 'local-session-cache',
    summary:
      'Claude Code keeps sessions locally for up to cleanupPeriodDays (default 30) to allow resumption.',
    when: {},
    effects: [
      {
        flow: 'local-transcripts',
        set: {
          enabled: true,
          destination: 'local-disk',
          trainingUse: 'no',
          retentionDays: { setting: 'cleanupPeriodDays', default: 30 },
          data: [
            'session transcripts (prompts, outputs, tool results)',
            'typed prompt history (history.jsonl)',
          ],
          encryption: { inTransit: 'not applicable (local)', atRest: 'plaintext; OS file permissions only' },
        },
        note: 'Transcripts under ~/.claude/projects are swept after cleanupPeriodDays; ~/.claude/history.jsonl is not swept.',
      },
    ],
    sources: [SRC.retention, SRC.retentionSummary, SRC.settingsRetention],
    statements: ['du-local-cache', 'sum-local-cache'],
    example: {
      profile: { plan: 'team', provider: 'anthropic', settings: { cleanupPeriodDays: 7 } },
      at: '2026-01-15',
      expect: { flows: { 'local-transcripts': { enabled: true, retentionDays: 7 } } },
    },
  },
  {
    id: 'local-skip-prompt-history',
    summary: 'CLAUDE_CODE_SKIP_PROMPT_HISTORY stops writing transcripts and history.',
    when: { envTruthy: ['CLAUDE_CODE_SKIP_PROMPT_HISTORY'] },
    effects: [
      {
        flow: 'local-transcripts',
        set: { enabled: false },
        note: 'CLAUDE_CODE_SKIP_PROMPT_HISTORY is set: no transcripts or history are written.',
      },
    ],
    sources: [SRC.settingsRetention, SRC.envVars],
    example: {
      profile: { plan: 'team', provider: 'anthropic', env: { CLAUDE_CODE_SKIP_PROMPT_HISTORY: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'local-transcripts': { enabled: false } } },
    },
  },
  {
    id: 'local-cleanup-period-invalid',
    summary: 'cleanupPeriodDays must be an integer of at least 1; 0 fails validation.',
    when: { flags: { cleanupPeriodInvalid: true } },
    effects: [
      {
        flow: 'local-transcripts',
        note: 'cleanupPeriodDays is invalid, so Claude Code rejects it; the default (30 days) is shown.',
      },
      {
        warning: 'cleanup-period-invalid',
        message:
          'settings.cleanupPeriodDays must be an integer of at least 1 (0 fails validation); the default of 30 days is assumed.',
      },
    ],
    sources: [SRC.settingsRetention],
    example: {
      profile: { plan: 'team', provider: 'anthropic', settings: { cleanupPeriodDays: 0 } },
      at: '2026-01-15',
      expect: { flows: { 'local-transcripts': { retentionDays: 30 } }, warnings: ['cleanup-period-invalid'] },
    },
  },
];
