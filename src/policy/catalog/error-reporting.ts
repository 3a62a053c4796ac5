/**
 * Error reports. The seeds: Sentry, on by default on the Claude API, off only with
 * DISABLE_ERROR_REPORTING. Later documentation: from 2.1.198 on only for Pro/Max sign-ins on the direct
 * API without ZDR, and (docs of 2.1.240) sent to Datadog and stopped by DISABLE_TELEMETRY too.
 */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';
import { DATADOG_DOCUMENTED } from './telemetry.js';

/** The version the network reference gives for error reports on only for Pro/Max sign-ins (§3.1). */
export const PRO_MAX_ERRORS_FROM = '2.1.198';

export const errorReportingRules: Rule[] = [
  {
    id: 'error-reporting-sentry',
    summary: 'Claude Code sends operational error logs to Sentry; TLS in transit, AES-256 at rest.',
    when: {},
    effects: [
      {
        flow: 'error-reporting',
        set: {
          enabled: true,
          destination: 'sentry',
          trainingUse: 'no',
          retentionDays: null,
          data: ['operational error logs'],
          encryption: { inTransit: 'TLS', atRest: 'AES-256' },
        },
        note: 'Operational error logging; retention follows Sentry’s policy.',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.providerDefaults],
    statements: ['du-sentry-errors', 'du-sentry-encryption', 'sum-sentry-errors', 'sum-sentry-encryption'],
    example: {
      profile: { plan: 'api', provider: 'anthropic', clientVersion: '2.0.14' },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: true, destination: 'sentry' } } },
    },
  },
  {
    id: 'error-reporting-vendor-not-pinned',
    summary: `Before ${DATADOG_DOCUMENTED} the error-report vendor is the seeds' Sentry; no source pins the switch.`,
    when: {},
    clients: { until: DATADOG_DOCUMENTED },
    effects: [
      {
        flow: 'error-reporting',
        note: `the vendor is Sentry and only DISABLE_ERROR_REPORTING opts out, as the seeds say; documentation of Claude Code ${DATADOG_DOCUMENTED} names Datadog and lets DISABLE_TELEMETRY opt out too, and no source pins the version that changed.`,
        assumed: true,
      },
    ],
    sources: [SRC.telemetry, SRC.versionDrift],
    example: {
      profile: { plan: 'pro', provider: 'anthropic', trainingOptIn: false, clientVersion: '2.1.200' },
      at: '2026-01-15',
      expect: {
        flows: { 'error-reporting': { enabled: true, destination: 'sentry' } },
        assumptions: ['error-reporting-vendor-not-pinned'],
      },
    },
  },
  {
    id: 'error-reporting-datadog',
    summary: `From ${DATADOG_DOCUMENTED}, error reports go to Datadog's browser intake.`,
    when: {},
    clients: { from: DATADOG_DOCUMENTED },
    effects: [
      {
        flow: 'error-reporting',
        set: { destination: 'datadog' },
        note: `Claude Code ${DATADOG_DOCUMENTED}+ (network reference §1.8, §3.1): error reports go to browser-intake-us5-datadoghq.com.`,
      },
    ],
    sources: [SRC.hosts, SRC.envVars],
    example: {
      profile: { plan: 'max', provider: 'anthropic', trainingOptIn: false, clientVersion: '2.1.330' },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: true, destination: 'datadog' } } },
    },
  },
  {
    id: 'error-reporting-pro-max-only',
    summary: `From ${PRO_MAX_ERRORS_FROM}, error reporting is on only for Pro/Max sign-ins on the direct API without ZDR.`,
    when: {
      any: [
        { not: { plans: ['pro', 'max'] } },
        { providers: ['bedrock', 'vertex', 'foundry'] },
        { flags: { zdr: true } },
      ],
    },
    clients: { from: PRO_MAX_ERRORS_FROM },
    effects: [
      {
        flow: 'error-reporting',
        set: { enabled: false },
        note: `Claude Code ${PRO_MAX_ERRORS_FROM}+ reports errors only for Pro/Max sign-ins on the direct API without ZDR or HIPAA (network reference §3.1).`,
      },
    ],
    sources: [SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', clientVersion: '2.1.330' },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
  {
    id: 'error-reporting-default-off-on-cloud',
    summary:
      'On Bedrock and Vertex (later docs: Foundry too), error reporting is off by default once CLAUDE_CODE_USE_* is 1.',
    when: { providers: ['bedrock', 'vertex', 'foundry'], flags: { providerVariableSet: true } },
    effects: [
      {
        flow: 'error-reporting',
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
      profile: { plan: 'enterprise', provider: 'vertex', env: { CLAUDE_CODE_USE_VERTEX: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
  {
    id: 'error-reporting-disable',
    summary: 'DISABLE_ERROR_REPORTING set to any non-empty value turns error reports off.',
    when: { envSet: ['DISABLE_ERROR_REPORTING'] },
    effects: [
      {
        flow: 'error-reporting',
        set: { enabled: false },
        note: 'DISABLE_ERROR_REPORTING is set; any non-empty value opts out.',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.envVars],
    statements: ['du-sentry-opt-out', 'sum-sentry-opt-out'],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_ERROR_REPORTING: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
  {
    id: 'error-reporting-disable-telemetry',
    summary: `From ${DATADOG_DOCUMENTED}, DISABLE_TELEMETRY also stops error reports (the seeds: it stops Statsig only).`,
    when: { envSet: ['DISABLE_TELEMETRY'] },
    clients: { from: DATADOG_DOCUMENTED },
    effects: [
      {
        flow: 'error-reporting',
        set: { enabled: false },
        note: `Claude Code ${DATADOG_DOCUMENTED}+: DISABLE_TELEMETRY also turns off the error-report host.`,
      },
    ],
    sources: [SRC.hosts],
    example: {
      profile: {
        plan: 'pro',
        provider: 'anthropic',
        trainingOptIn: false,
        clientVersion: '2.1.330',
        env: { DISABLE_TELEMETRY: '1' },
      },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
];
