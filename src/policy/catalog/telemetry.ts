/** Operational metrics: what they carry, defaults per provider, the opt-outs, and the vendor by client version. */
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

/** The first client version whose documentation (the network reference's snapshot) names Datadog. */
export const DATADOG_DOCUMENTED = '2.1.240';

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
        note: 'Operational metrics only; no code or file paths. Retention follows Statsig’s policy.',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.providerDefaults, SRC.localFlow, SRC.defaultsSummary],
    statements: [
      'du-statsig-metrics',
      'du-statsig-no-code',
      'du-statsig-encryption',
      'sum-statsig-metrics',
      'sum-statsig-no-code',
      'sum-statsig-encryption',
      'du-optional-flows',
      'du-claude-api-defaults',
      'sum-defaults-claude-api',
    ],
    example: {
      profile: { plan: 'api', provider: 'anthropic', clientVersion: '2.0.14' },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: true, destination: 'statsig', trainingUse: 'no' } } },
    },
  },
  {
    id: 'telemetry-vendor-not-pinned',
    summary: `Before ${DATADOG_DOCUMENTED} the metrics vendor is the seeds' Statsig; no source pins when clients moved to Datadog.`,
    when: {},
    clients: { until: DATADOG_DOCUMENTED },
    effects: [
      {
        flow: 'telemetry',
        note: `the vendor is Statsig, as the seeds say; documentation of Claude Code ${DATADOG_DOCUMENTED} names Datadog instead, and no source pins the version that switched.`,
        assumed: true,
      },
    ],
    sources: [SRC.telemetry, SRC.versionDrift],
    example: {
      profile: { plan: 'api', provider: 'anthropic', clientVersion: '2.1.100' },
      at: '2026-01-15',
      expect: {
        flows: { telemetry: { enabled: true, destination: 'statsig' } },
        assumptions: ['telemetry-vendor-not-pinned'],
      },
    },
  },
  {
    id: 'telemetry-datadog',
    summary: `From ${DATADOG_DOCUMENTED}, operational telemetry goes to Datadog, event logging to api.anthropic.com.`,
    when: {},
    clients: { from: DATADOG_DOCUMENTED },
    effects: [
      {
        flow: 'telemetry',
        set: { destination: 'datadog' },
        note: `Claude Code ${DATADOG_DOCUMENTED}+ (network reference §1.8): operational telemetry to http-intake.logs.us5.datadoghq.com, and event logging to api.anthropic.com.`,
      },
    ],
    sources: [SRC.hosts, SRC.versionDrift],
    example: {
      profile: { plan: 'api', provider: 'anthropic', clientVersion: '2.1.330' },
      at: '2026-01-15',
      expect: { flows: { telemetry: { enabled: true, destination: 'datadog' } } },
    },
  },
  {
    id: 'telemetry-default-off-on-cloud',
    summary:
      'On Bedrock and Vertex (later docs: Foundry too), metrics are off by default once CLAUDE_CODE_USE_* is 1.',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { providerVariableSet: true } },
    effects: [
      {
        flow: 'telemetry',
        set: { enabled: false },
        note: 'Non-essential traffic is off by default when a cloud provider is selected with its CLAUDE_CODE_USE_* variable.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.defaultsSummary, SRC.providerDefaultsLater],
    statements: [
      'du-cloud-nonessential-off',
      'du-bedrock-needs-variable',
      'du-vertex-needs-variable',
      'sum-defaults-bedrock',
      'sum-defaults-vertex',
    ],
    example: {
      profile: { plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } },
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
        note: 'DISABLE_TELEMETRY is set (in the environment or a settings.json env block); any non-empty value opts out.',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.envVars, SRC.providerDefaults, SRC.defaultsSummary],
    statements: ['du-statsig-opt-out', 'sum-statsig-opt-out', 'du-env-in-settings', 'sum-env-in-settings'],
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
