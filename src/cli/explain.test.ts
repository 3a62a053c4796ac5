import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
let dir = '';

/** Resolved here so the child finds tsx whatever its working directory. */
const TSX = import.meta.resolve('tsx');

/** Runs `sluice explain ...` as a child process. Not in-process: the test reporter shares our stdout. */
function explain(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, 'explain', ...args], (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-explain-'));
  writeFileSync(
    join(dir, 'org.yaml'),
    'plan: enterprise\nprovider: anthropic\nzdr: true\nmcpServers: [github]\n',
  );
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ plan: 'platinum', provider: 'anthropic' }));
  writeFileSync(join(dir, 'broken.json'), '{"plan": ');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice explain', () => {
  it('prints {flows, disabledFeatures, warnings} as json', async () => {
    const r = await explain('--plan', 'enterprise', '--zdr', '--at', '2026-01-15', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.at, '2026-01-15');
    assert.equal(body.flows.length, 12);
    const inference = body.flows.find((f: { id: string }) => f.id === 'inference');
    assert.equal(inference.retentionDays, 0);
    assert.ok(inference.rules.includes('zdr-inference'));
    assert.deepEqual(
      body.disabledFeatures.map((f: { id: string }) => f.id),
      ['claude-code-on-the-web', 'remote-sessions', 'feedback'],
    );
    assert.ok(Array.isArray(body.warnings));
  });

  it('reads a YAML profile and lets flags override it', async () => {
    const r = await explain(
      '--profile',
      join(dir, 'org.yaml'),
      '--provider',
      'vertex',
      '--format',
      'json',
      '--at',
      '2026-01-15',
    );
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.profile.provider, 'vertex');
    assert.ok(body.warnings.some((w: { id: string }) => w.id === 'zdr-on-cloud-provider'));
  });

  it('prints a table with one row per flow, then features and warnings with reasons', async () => {
    const r = await explain('--plan', 'pro', '--env', 'DISABLE_TELEMETRY=0', '--at', '2026-01-15');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FLOW\s+DESTINATION\s+ENABLED\s+TRAINING\s+RETENTION\s+RULES$/m);
    assert.match(
      r.stdout,
      /^telemetry\s+statsig\s+no\s+-\s+-\s+telemetry-statsig, telemetry-disable-telemetry$/m,
    );
    assert.match(r.stdout, /Warnings:\n {2}consumer-no-training-choice-after-deadline: /);
    assert.match(r.stdout, /opt-out-set-to-false-still-applies: .*\[opt-out-any-value\]/);
  });

  it('prints markdown and a mermaid flowchart', async () => {
    const md = await explain('--plan', 'team', '--format', 'markdown', '--at', '2026-01-15');
    assert.match(md.stdout, /^\| Flow \| Destination \| Enabled \| Training \| Retention \| Rules \|$/m);
    assert.match(md.stdout, /code\.claude\.com\/docs\/en\/data-usage/);
    const mm = await explain(
      '--plan',
      'team',
      '--provider',
      'bedrock',
      '--env',
      'CLAUDE_CODE_USE_BEDROCK=1',
      '--format',
      'mermaid',
      '--at',
      '2026-01-15',
    );
    assert.match(mm.stdout, /^flowchart LR$/m);
    assert.match(mm.stdout, /machine -->\|"inference: training no, retention their policy"\| aws_bedrock/);
    assert.match(mm.stdout, /machine -.->\|"telemetry: off"\| statsig/);
    // Without CLAUDE_CODE_USE_BEDROCK=1 the client keeps its non-essential traffic on; the diagram says so.
    const unset = await explain(
      '--plan',
      'team',
      '--provider',
      'bedrock',
      '--format',
      'mermaid',
      '--at',
      '2026-01-15',
    );
    assert.match(unset.stdout, /machine -->\|"telemetry: training no, retention their policy"\| statsig/);
    assert.match(
      unset.stdout,
      /^%% assumed \(route-provider-variable-unset\): inference: inference is taken/m,
    );
  });

  it('compares plans × routes', async () => {
    const r = await explain(
      '--routes',
      '--plans',
      'pro,api',
      '--providers',
      'anthropic,bedrock',
      '--at',
      '2026-01-15',
      '--format',
      'json',
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout).routes;
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0], {
      ...rows[0],
      plan: 'pro',
      provider: 'anthropic',
      training: 'yes if opted in / no if not',
    });
    assert.equal(rows[2].zdr, 'available');
    assert.equal(rows[3].retention, 'provider policy');
    const table = await explain('--routes', '--at', '2026-01-15');
    assert.match(
      table.stdout,
      /^enterprise\s+anthropic\s+no\s+30 days\s+Anthropic \(commercial terms\)\s+available$/m,
    );
  });

  it('exits 2 naming the file and field for a bad profile', async () => {
    const file = join(dir, 'bad.json');
    const r = await explain('--profile', file);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `sluice: ${file}: invalid profile\n  plan: expected one of free, pro, max, team, enterprise, api, gov, got "platinum"\n`,
    );
    const broken = await explain('--profile', join(dir, 'broken.json'));
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.json: not valid JSON/);
    const missing = await explain('--profile', join(dir, 'nope.yaml'));
    assert.match(missing.stderr, /nope\.yaml: cannot read profile: ENOENT/);
  });

  it('exits 2 with a clear message for bad dates, env pairs and lists', async () => {
    const date = await explain('--plan', 'pro', '--at', '2025-13-01');
    assert.equal(date.code, 2);
    assert.equal(date.stderr, 'sluice: --at: expected an ISO date like 2025-10-08, got "2025-13-01"\n');
    const feb30 = await explain('--plan', 'pro', '--at', '2025-02-30');
    assert.equal(feb30.code, 2);
    assert.equal(
      feb30.stderr,
      'sluice: --at: expected an ISO date like 2025-10-08, got "2025-02-30" (February 2025 has 28 days)\n',
    );
    const version = await explain('--plan', 'pro', '--client-version', 'latest');
    assert.equal(version.code, 2);
    assert.equal(
      version.stderr,
      'sluice: options: invalid profile\n  clientVersion: expected a Claude Code version like 2.1.330 (claude --version), got "latest"\n',
    );
    const env = await explain('--plan', 'pro', '--env', 'NOEQUALS');
    assert.equal(env.stderr, 'sluice: --env: expected NAME=VALUE, got "NOEQUALS"\n');
    const plans = await explain('--routes', '--plans', 'pro,platinum');
    assert.equal(plans.code, 2);
    assert.match(plans.stderr, /--plans: unknown value "platinum"/);
    const noPlan = await explain();
    assert.equal(noPlan.stderr, 'sluice: missing --plan (or --profile FILE naming a plan)\n');
    const choice = await explain('--plan', 'gold');
    assert.equal(choice.code, 2);
  });

  it('has --help with an example', async () => {
    const r = await explain('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n\s+\$ sluice explain/);
  });

  it('defaults to today when no date is given', async () => {
    const r = await explain('--plan', 'api', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).at, /^\d{4}-\d{2}-\d{2}$/);
  });

  it('takes --client-version; without it, warns and labels the assumed version in every format', async () => {
    const known = await explain(
      '--plan',
      'api',
      '--client-version',
      '2.1.330',
      '--at',
      '2026-01-15',
      '--format',
      'json',
    );
    assert.equal(known.code, 0, known.stderr);
    const body = JSON.parse(known.stdout);
    assert.deepEqual(body.client, { version: '2.1.330' });
    assert.equal(body.flows.find((f: { id: string }) => f.id === 'error-reporting').enabled, false);
    assert.ok(!body.warnings.some((w: { id: string }) => w.id === 'client-version-unknown'));
    const unknown = await explain('--plan', 'api', '--at', '2026-01-15', '--format', 'json');
    const u = JSON.parse(unknown.stdout);
    assert.deepEqual(u.client, { version: null, assumed: 'before 2.1.198' });
    assert.ok(u.assumptions.some((a: { id: string }) => a.id === 'client-version'));
    assert.ok(u.checks.some((c: { id: string }) => c.id === 'access-route-decided'));
    const table = await explain('--plan', 'api', '--at', '2026-01-15');
    assert.match(table.stdout, /; Claude Code version not given, assumed before 2\.1\.198\n/);
    assert.match(
      table.stdout,
      /\nAssumptions \(not stated by any source or the profile\):\n {2}client-version: /,
    );
    assert.match(
      table.stdout,
      /\nReadiness items \(sluice checklist answers them\):\n {2}training-policy-verified \(individual\): /,
    );
    const md = await explain('--plan', 'api', '--at', '2026-01-15', '--format', 'markdown');
    assert.match(
      md.stdout,
      /### Assumptions\n\n- \*\*client-version\*\*: A Claude Code client before 2\.1\.198/,
    );
    assert.match(md.stdout, /^- \[ \] \*\*audit-logging-operational\*\* \(team\): /m);
  });

  it('warns on a consumer setting given for a team plan, and on ZDR with the partner program', async () => {
    const team = await explain(
      '--plan',
      'team',
      '--training-opt-in',
      '--at',
      '2026-01-15',
      '--format',
      'json',
    );
    assert.ok(
      JSON.parse(team.stdout).warnings.some((w: { id: string }) => w.id === 'consumer-setting-ignored'),
    );
    const zdr = await explain('--plan', 'enterprise', '--zdr', '--partner-program', '--at', '2026-01-15');
    assert.match(zdr.stdout, /^inference\s+anthropic\s+yes\s+yes\s+unstated\s/m);
    assert.match(
      zdr.stdout,
      /zdr-and-partner-program: The profile has both ZDR and the Development Partner Program/,
    );
  });
});
