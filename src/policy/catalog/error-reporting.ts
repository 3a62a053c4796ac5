/** Sentry error reports: defaults per provider and the opt-outs. */
import type { Rule } from '../rule.js';
import { SRC } from './sources.js';

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
        note: 'Operational error logging; retention follows Sentry’s policy. Current clients report errors to Datadog instead (see the network reference).',
      },
    ],
    sources: [SRC.telemetry, SRC.telemetrySummary, SRC.hosts],
    example: {
      profile: { plan: 'api', provider: 'anthropic' },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: true, destination: 'sentry' } } },
    },
  },
  {
    id: 'error-reporting-default-off-on-cloud',
    summary: 'On Bedrock, Vertex and Foundry, error reporting is off by default.',
    when: { providers: ['bedrock', 'vertex', 'foundry'] },
    effects: [
      {
        flow: 'error-reporting',
        set: { enabled: false },
        note: 'Non-essential traffic is off by default when a cloud provider is used.',
      },
    ],
    sources: [SRC.providerDefaults, SRC.envVars],
    example: {
      profile: { plan: 'enterprise', provider: 'vertex' },
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
    sources: [SRC.telemetry, SRC.envVars],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_ERROR_REPORTING: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
  {
    id: 'error-reporting-disable-telemetry',
    summary: 'Current clients also stop error reports when DISABLE_TELEMETRY is set.',
    when: { envSet: ['DISABLE_TELEMETRY'] },
    effects: [
      {
        flow: 'error-reporting',
        set: { enabled: false },
        note: 'DISABLE_TELEMETRY also turns off the error-report host in current clients.',
      },
    ],
    sources: [SRC.hosts],
    example: {
      profile: { plan: 'api', provider: 'anthropic', env: { DISABLE_TELEMETRY: '1' } },
      at: '2026-01-15',
      expect: { flows: { 'error-reporting': { enabled: false } } },
    },
  },
];
