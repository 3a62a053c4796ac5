/** Statsig operational metrics: what they carry, defaults per provider, and the opt-outs. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

/** Opt-out variables that take effect on any non-empty value, so "0" or "false" still opts out. */
const ANY_VALUE_OPT_OUTS = [
  'DISABLE_TELEMETRY',
  'DISABLE_ERROR_REPORTING',
  'DISABLE_FEEDBACK_COMMAND',
  'DISABLE_BUG_COMMAND',
  'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
];

export const telemetryRules: Rule[] = [
  {
    id: 'telemetry-statsig',
    summary: 'Claude Code logs operational metrics to Statsig: no code or file paths; TLS, AES-256 at rest.',
    when: {},
    effects: [
      {
        flow: 'telemetry',
        set: {
          enabled: true,
          destination: 'statsig',
          trainingUse: 'no',
          retentionDays: null,
          data: ['latency', 'reliability', 'usage patterns (no code or file paths)'],
          encryption: { inTransit: 'TLS', atRest: 'AES-256' },
        },
        note: 'Operational metrics only; no code or file paths. Retention follows Statsig’s policy. Current clients send these to Datadog instead (see the network reference).',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.hosts],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: true, destination: 'statsig', trainingUse: 'no' } } },
    },
  },
  {
    id: 'telemetry-default-off-on-cloud',
    summary: 'On Bedrock, Vertex and Foundry, Statsig metrics are off by default.',
    when: { providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        flow: 'telemetry',
        set: { enabled: false },
        note: 'Non-essential traffic is off by default when a cloud provider is used.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.envVars],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock' },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: false } } },
    },
  },
  {
    id: 'telemetry-disable-telemetry',
    summary: 'DISABLE_TELEMETRY set to any non-empty value (even "0") turns metrics off.',
    when: { envSet: ['DISABLE_TELEMETRY'] },
    effects: [
      {
        flow: 'telemetry',
        set: { enabled: false },
        note: 'DISABLE_TELEMETRY is set; any non-empty value opts out.',
      },
    ],
    sources: [SRC.telemetry, SRC.envVars],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: false, env: { DISABLE_TELEMETRY: '0' } },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: false } } },
    },
  },
  {
    id: 'telemetry-do-not-track',
    summary: 'DO_NOT_TRACK is a standard boolean: "1"/"true" turns metrics off, "0" leaves them on.',
    when: { envTruthy: ['DO_NOT_TRACK'] },
    effects: [{ flow: 'telemetry', set: { enabled: false }, note: 'DO_NOT_TRACK is true.' }],
    sources: [SRC.envVars, SRC.hosts],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DO_NOT_TRACK: '1' } },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: false } } },
    },
  },
  {
    id: 'telemetry-do-not-track-false',
    summary: 'DO_NOT_TRACK=0 (or "false") leaves telemetry on.',
    when: { envFalsyLooking: ['DO_NOT_TRACK'], providers: ['anthropic'] },
    effects: [
      {
        flow: 'telemetry',
        note: 'DO_NOT_TRACK reads as false, so it does not opt out; use DISABLE_TELEMETRY.',
      },
    ],
    sources: [SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DO_NOT_TRACK: '0' } },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: true } } },
    },
  },
  {
    id: 'opt-out-any-value',
    summary: 'Opt-out variables set to "0" or "false" still opt out: they act on any non-empty value.',
    when: { envFalsyLooking: ANY_VALUE_OPT_OUTS },
    effects: [
      {
        warning: 'opt-out-set-to-false-still-applies',
        message:
          'An opt-out variable (DISABLE_TELEMETRY, DISABLE_ERROR_REPORTING, DISABLE_FEEDBACK_COMMAND/DISABLE_BUG_COMMAND or CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC) is set to a value like "0" or "false"; these act on any non-empty value, so the opt-out is in effect. Unset it to re-enable.',
      },
    ],
    sources: [SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_TELEMETRY: 'false' } },
      at: '2026-01-15',
      expect: {
        flows: { telemetry: { enabled: false } },
        warnings: ['opt-out-set-to-false-still-applies'],
      },
    },
  },
];
