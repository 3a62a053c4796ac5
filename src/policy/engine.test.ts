/** The tricky cases of the seeds, and properties that hold for any profile. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { catalog } from './catalog/index.js';
import { evaluate } from './engine.js';
import { PLANS, PROVIDERS } from './profile.js';
import type { ExplainResult, Flow, FlowId, Profile } from './types.js';

const AT = '2026-01-15';
const run = (p: Profile, at = AT): ExplainResult => evaluate(p, catalog, at);
const flow = (r: ExplainResult, id: FlowId): Flow => r.flows.find((f) => f.id === id) as Flow;
const warningIds = (r: ExplainResult): string[] => r.warnings.map((w) => w.id);

test('consumer with no choice after the 2025-10-08 deadline: warned, assumed training on', () => {
  const r = run({ plan: 'pro', provider: 'anthropic' }, '2025-10-09');
  assert.ok(warningIds(r).includes('consumer-no-training-choice-after-deadline'));
  assert.equal(flow(r, 'inference').trainingUse, 'yes');
  const onDeadline = run({ plan: 'pro', provider: 'anthropic' }, '2025-10-08');
  assert.ok(warningIds(onDeadline).includes('consumer-training-choice-pending'));
  assert.equal(flow(onDeadline, 'inference').trainingUse, 'no');
});

test('a session started before the setting change and not resumed keeps the earlier choice', () => {
  const base: Profile = {
    plan: 'pro',
    provider: 'anthropic',
    trainingOptIn: true,
    trainingSettingChangedAt: '2025-11-10',
    session: { startedAt: '2025-11-01' },
  };
  const kept = run(base);
  assert.equal(flow(kept, 'inference').trainingUse, 'no');
  assert.equal(flow(kept, 'inference').retentionDays, 30);
  assert.ok(warningIds(kept).includes('session-keeps-earlier-training-choice'));
  const resumed = run({ ...base, session: { startedAt: '2025-11-01', resumedAt: '2025-11-11' } });
  assert.equal(flow(resumed, 'inference').trainingUse, 'yes');
  assert.equal(flow(resumed, 'inference').retentionDays, 1825);
  assert.ok(!warningIds(resumed).includes('session-keeps-earlier-training-choice'));
  const newSession = run({ ...base, session: { startedAt: '2025-11-12' } });
  assert.equal(flow(newSession, 'inference').trainingUse, 'yes');
});

test('DISABLE_TELEMETRY=0 still disables telemetry and warns', () => {
  const r = run({ plan: 'api', provider: 'anthropic', env: { DISABLE_TELEMETRY: '0' } });
  assert.equal(flow(r, 'telemetry').enabled, false);
  assert.ok(warningIds(r).includes('opt-out-set-to-false-still-applies'));
});

test('DO_NOT_TRACK=0 leaves telemetry on; DO_NOT_TRACK=1 turns it off', () => {
  assert.equal(
    flow(run({ plan: 'api', provider: 'anthropic', env: { DO_NOT_TRACK: '0' } }), 'telemetry').enabled,
    true,
  );
  assert.equal(
    flow(run({ plan: 'api', provider: 'anthropic', env: { DO_NOT_TRACK: '1' } }), 'telemetry').enabled,
    false,
  );
});

test('DISABLE_BUG_COMMAND is accepted as the old name of DISABLE_FEEDBACK_COMMAND', () => {
  for (const name of ['DISABLE_BUG_COMMAND', 'DISABLE_FEEDBACK_COMMAND']) {
    const r = run({ plan: 'api', provider: 'anthropic', env: { [name]: 'false' } });
    assert.equal(flow(r, 'feedback').enabled, false, name);
    assert.deepEqual(
      r.disabledFeatures.map((f) => f.id),
      ['feedback'],
    );
  }
});

test('Bedrock: telemetry, error reports and /bug are off by default; inference retention is the provider’s', () => {
  const r = run({ plan: 'enterprise', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } });
  for (const id of ['telemetry', 'error-reporting', 'feedback'] as const)
    assert.equal(flow(r, id).enabled, false);
  assert.equal(flow(r, 'inference').destination, 'aws-bedrock');
  assert.equal(flow(r, 'inference').retentionDays, null);
});

test('Bedrock defaults need CLAUDE_CODE_USE_BEDROCK=1: unset keeps non-essential traffic on, 0 means the Claude API', () => {
  const unset = run({ plan: 'enterprise', provider: 'bedrock' });
  for (const id of ['telemetry', 'error-reporting', 'feedback'] as const)
    assert.equal(flow(unset, id).enabled, true, id);
  assert.equal(flow(unset, 'inference').destination, 'aws-bedrock');
  assert.ok(warningIds(unset).includes('provider-variable-unset'));
  assert.ok(unset.assumptions.some((a) => a.id === 'route-provider-variable-unset'));
  const off = run({ plan: 'enterprise', provider: 'vertex', env: { CLAUDE_CODE_USE_VERTEX: '0' } });
  assert.equal(flow(off, 'inference').destination, 'anthropic');
  assert.equal(flow(off, 'inference').retentionDays, 30);
  assert.equal(flow(off, 'telemetry').enabled, true);
  assert.ok(warningIds(off).includes('provider-variable-off'));
});

test('CLAUDE_CODE_USE_VERTEX in env selects the provider', () => {
  const r = run({ plan: 'team', provider: 'anthropic', env: { CLAUDE_CODE_USE_VERTEX: '1' } });
  assert.equal(flow(r, 'inference').destination, 'google-vertex');
  assert.ok(warningIds(r).includes('provider-from-env'));
});

test('ZDR disables features and zeroes inference retention; analytics and MCP stay uncovered', () => {
  const r = run({ plan: 'enterprise', provider: 'anthropic', zdr: true, mcpServers: ['jira'] });
  assert.equal(flow(r, 'inference').retentionDays, 0);
  assert.deepEqual(
    r.disabledFeatures.map((f) => f.id),
    ['claude-code-on-the-web', 'remote-sessions', 'feedback'],
  );
  assert.equal(flow(r, 'cloud-session').enabled, false);
  assert.equal(flow(r, 'analytics').enabled, true);
  assert.equal(flow(r, 'third-party').enabled, true);
  assert.equal(flow(r, 'third-party').retentionDays, null);
  assert.ok(flow(r, 'third-party').data.some((d) => d.includes('jira')));
  assert.ok(flow(r, 'inference').notes.some((n) => n.includes('730 days')));
});

test('ZDR on a consumer plan or on Bedrock warns and changes nothing', () => {
  const consumer = run({ plan: 'max', provider: 'anthropic', zdr: true, trainingOptIn: true });
  assert.ok(warningIds(consumer).includes('zdr-on-consumer-plan'));
  assert.equal(flow(consumer, 'inference').retentionDays, 1825);
  const bedrock = run({ plan: 'enterprise', provider: 'bedrock', zdr: true });
  assert.ok(warningIds(bedrock).includes('zdr-on-cloud-provider'));
  assert.equal(
    bedrock.disabledFeatures.some((f) => f.id === 'remote-sessions'),
    false,
  );
});

test('partner program on Vertex warns and has no training effect; on the API it means training', () => {
  const vertex = run({ plan: 'enterprise', provider: 'vertex', developmentPartnerProgram: true });
  assert.ok(warningIds(vertex).includes('partner-program-not-available-on-provider'));
  assert.equal(flow(vertex, 'inference').trainingUse, 'no');
  const api = run({ plan: 'api', provider: 'anthropic', developmentPartnerProgram: true });
  assert.equal(flow(api, 'inference').trainingUse, 'yes');
});

test('settings.env overrides the shell env; cleanupPeriodDays sets local retention', () => {
  const r = run({
    plan: 'api',
    provider: 'anthropic',
    env: { DISABLE_TELEMETRY: '1' },
    settings: { env: { DISABLE_TELEMETRY: '' }, cleanupPeriodDays: 90 },
  });
  assert.equal(flow(r, 'telemetry').enabled, true);
  assert.equal(flow(r, 'local-transcripts').retentionDays, 90);
});

test('an invalid date is rejected with the field name', () => {
  assert.throws(() => run({ plan: 'api', provider: 'anthropic' }, 'yesterday'), /at: expected an ISO date/);
});

test('DISABLE_TELEMETRY and error reports: the client version decides; without one, the reading where more leaves, warned', () => {
  const base: Profile = {
    plan: 'pro',
    provider: 'anthropic',
    trainingOptIn: false,
    env: { DISABLE_TELEMETRY: '1' },
  };
  const current = run({ ...base, clientVersion: '2.1.330' });
  assert.equal(flow(current, 'error-reporting').enabled, false);
  assert.ok(flow(current, 'error-reporting').rules.includes('error-reporting-disable-telemetry'));
  assert.equal(current.client.version, '2.1.330');
  assert.ok(!warningIds(current).includes('client-version-unknown'));
  const seedsEra = run({ ...base, clientVersion: '2.0.14' });
  assert.equal(flow(seedsEra, 'error-reporting').enabled, true);
  assert.equal(flow(seedsEra, 'error-reporting').destination, 'sentry');
  const unknown = run(base);
  assert.equal(flow(unknown, 'error-reporting').enabled, true);
  assert.deepEqual(unknown.client, { version: null, assumed: 'before 2.1.240' });
  const warning = unknown.warnings.find((w) => w.id === 'client-version-unknown');
  assert.ok(warning, 'warned');
  assert.match(
    warning.message,
    /error-reporting: on \(to sentry\) for clients before 2\.1\.240; off for clients 2\.1\.240 or later\./,
  );
  assert.match(warning.message, /Settle it by giving the version \(`claude --version`/);
  assert.ok(warning.sources.length > 0 && warning.rules.includes('error-reporting-disable-telemetry'));
  assert.ok(unknown.assumptions.some((a) => a.id === 'client-version'));
});

test('from 2.1.198 error reports are for Pro/Max sign-ins only; 2.1.240+ reports go to Datadog', () => {
  const api = run({ plan: 'api', provider: 'anthropic', clientVersion: '2.1.198' });
  assert.equal(flow(api, 'error-reporting').enabled, false);
  assert.equal(
    flow(run({ plan: 'api', provider: 'anthropic', clientVersion: '2.1.197' }), 'error-reporting').enabled,
    true,
  );
  const max = run({ plan: 'max', provider: 'anthropic', trainingOptIn: false, clientVersion: '2.1.240' });
  assert.equal(flow(max, 'error-reporting').destination, 'datadog');
  assert.equal(flow(max, 'telemetry').destination, 'datadog');
});

test('a note whose every field a later rule overrides is not shown', () => {
  const r = run({ plan: 'enterprise', provider: 'anthropic', zdr: true, clientVersion: '2.1.330' });
  const inference = flow(r, 'inference');
  assert.equal(inference.retentionDays, 0);
  assert.ok(!inference.rules.includes('commercial-retention'));
  assert.ok(!inference.notes.includes('Commercial standard retention: 30 days.'));
  const plain = flow(run({ plan: 'enterprise', provider: 'anthropic' }), 'inference');
  assert.ok(plain.notes.includes('Commercial standard retention: 30 days.'));
});

test('ZDR: no contribution metrics, a Covered Models caveat, notes on admin capabilities and enablement', () => {
  const zdr = run({ plan: 'enterprise', provider: 'anthropic', zdr: true });
  assert.deepEqual(flow(zdr, 'analytics').data, ['account emails', 'usage statistics']);
  assert.ok(
    flow(run({ plan: 'enterprise', provider: 'anthropic' }), 'analytics').data.includes(
      'contribution metrics',
    ),
  );
  assert.ok(warningIds(zdr).includes('zdr-covered-models'));
  assert.ok(zdr.assumptions.some((a) => a.id === 'zdr-covered-models'));
  assert.deepEqual(
    zdr.notes.map((n) => n.id).filter((id) => id.startsWith('zdr') || id.startsWith('baa')),
    ['zdr-future-features', 'zdr-admin-capabilities', 'zdr-enablement', 'baa-hipaa-scope'],
  );
  assert.match(
    zdr.notes.find((n) => n.id === 'zdr-enablement')?.message ?? '',
    /audit-logged.*Settings > Privacy Controls > Data retention period/,
  );
});

test('contradictory or ignored profile fields are warned', () => {
  const team = run({ plan: 'team', provider: 'anthropic', trainingOptIn: true });
  assert.equal(flow(team, 'inference').trainingUse, 'no');
  assert.ok(warningIds(team).includes('consumer-setting-ignored'));
  const both = run({ plan: 'enterprise', provider: 'anthropic', zdr: true, developmentPartnerProgram: true });
  assert.equal(flow(both, 'inference').trainingUse, 'yes');
  assert.equal(flow(both, 'inference').retentionDays, null);
  assert.ok(warningIds(both).includes('zdr-and-partner-program'));
  const history = run({ plan: 'pro', provider: 'anthropic', session: { startedAt: '2025-11-01' } });
  assert.ok(warningIds(history).includes('training-history-ignored'));
});

test('values no source states are unstated and warned, never guessed', () => {
  const gov = run({ plan: 'gov', provider: 'anthropic', clientVersion: '2.1.330' });
  assert.equal(flow(gov, 'inference').retentionDays, null);
  assert.deepEqual(flow(gov, 'inference').unstated, ['retentionDays']);
  assert.equal(flow(gov, 'third-party').trainingUse, 'no', 'no MCP servers: the flow is off');
  const mcp = run({ plan: 'team', provider: 'anthropic', mcpServers: ['jira'] });
  assert.equal(flow(mcp, 'third-party').trainingUse, 'unstated');
  const warning = gov.warnings.find((w) => w.id === 'unstated-in-sources');
  assert.match(warning?.message ?? '', /the retention of inference/);
  const early = run({ plan: 'pro', provider: 'anthropic', trainingOptIn: true }, '2025-06-01');
  assert.equal(flow(early, 'inference').trainingUse, 'unstated');
});

test('new flows of the data-flow diagram: install/update to NPM, Console sign-in, thumbs up/down', () => {
  const r = run({ plan: 'api', provider: 'anthropic', clientVersion: '2.1.330' });
  assert.equal(flow(r, 'install-update').destination, 'npm-registry');
  assert.equal(flow(r, 'console-auth').enabled, true);
  assert.equal(flow(r, 'thumbs-feedback').trainingUse, 'unstated');
  const bedrock = run({ plan: 'api', provider: 'bedrock', env: { CLAUDE_CODE_USE_BEDROCK: '1' } });
  assert.equal(flow(bedrock, 'console-auth').enabled, false);
});

test('a date that is not on the calendar is refused with the days of its month', () => {
  assert.throws(() => run({ plan: 'api', provider: 'anthropic' }, '2025-02-30'), {
    message: 'at: expected an ISO date like 2025-10-08, got "2025-02-30" (February 2025 has 28 days)',
  });
  assert.throws(() => run({ plan: 'api', provider: 'anthropic' }, '2024-02-30'), /February 2024 has 29 days/);
  assert.doesNotThrow(() => run({ plan: 'api', provider: 'anthropic' }, '2024-02-29'));
});

const envName = fc.constantFrom(
  'DISABLE_TELEMETRY',
  'DO_NOT_TRACK',
  'DISABLE_ERROR_REPORTING',
  'DISABLE_FEEDBACK_COMMAND',
  'DISABLE_BUG_COMMAND',
  'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_USE_FOUNDRY',
  'CLAUDE_CODE_SKIP_PROMPT_HISTORY',
  'CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY',
);
const date = fc
  .integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) })
  .map((ms) => new Date(ms).toISOString().slice(0, 10));
const profileArb: fc.Arbitrary<Profile> = fc.record(
  {
    plan: fc.constantFrom(...PLANS),
    provider: fc.constantFrom(...PROVIDERS),
    zdr: fc.boolean(),
    trainingOptIn: fc.boolean(),
    trainingSettingChangedAt: date,
    session: fc.record({ startedAt: date, resumedAt: date }, { requiredKeys: [] }),
    developmentPartnerProgram: fc.boolean(),
    clientVersion: fc.constantFrom('2.0.14', '2.1.197', '2.1.198', '2.1.239', '2.1.240', '2.1.330'),
    env: fc.dictionary(envName, fc.constantFrom('', '0', '1', 'false', 'true', 'yes')),
    settings: fc.record({ cleanupPeriodDays: fc.integer({ min: -1, max: 400 }) }, { requiredKeys: [] }),
    mcpServers: fc.array(fc.constantFrom('github', 'jira', 'slack'), { maxLength: 3 }),
  },
  { requiredKeys: ['plan', 'provider'] },
);

test('property: a disabled flow carries no data; every flow has sources and rules', () => {
  fc.assert(
    fc.property(profileArb, date, (p, at) => {
      const r = run(p, at);
      assert.equal(r.flows.length, 12);
      for (const f of r.flows) {
        if (!f.enabled) assert.deepEqual(f.data, []);
        assert.ok(f.sources.length > 0, `${f.id} has sources`);
        assert.ok(f.rules.length > 0, `${f.id} has rules`);
      }
      for (const w of [...r.warnings, ...r.assumptions, ...r.notes, ...r.checks])
        assert.ok(w.sources.length > 0);
      assert.equal(
        warningIds(r).includes('client-version-unknown'),
        p.clientVersion === undefined && r.client.assumed !== undefined,
      );
    }),
    { numRuns: 500 },
  );
});

test('property: ZDR on enterprise/api via Anthropic never keeps inference beyond 0 days', () => {
  fc.assert(
    fc.property(
      profileArb,
      date,
      fc.constantFrom('enterprise', 'api') as fc.Arbitrary<'enterprise' | 'api'>,
      (p, at, plan) => {
        const env = Object.fromEntries(
          Object.entries(p.env ?? {}).filter(([k]) => !k.startsWith('CLAUDE_CODE_USE_')),
        );
        const r = run({ ...p, plan, provider: 'anthropic', zdr: true, env }, at);
        // With the Development Partner Program as well, no source says which wins: unstated, warned.
        if (p.developmentPartnerProgram) {
          assert.equal(flow(r, 'inference').retentionDays, null);
          assert.ok(warningIds(r).includes('zdr-and-partner-program'));
        } else assert.equal(flow(r, 'inference').retentionDays, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: evaluation is deterministic', () => {
  fc.assert(
    fc.property(profileArb, date, (p, at) => {
      assert.deepEqual(run(structuredClone(p), at), run(structuredClone(p), at));
    }),
    { numRuns: 200 },
  );
});
