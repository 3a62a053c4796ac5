import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { defaultDeps } from '../audit/deps.js';
import { fixture, NOW, type Fixture } from '../audit/testing/machine.js';
import { openStore } from '../store/index.js';
import type { VerbIo } from './audit.js';
import { registerChecklist } from './checklist.js';
import { CliError } from './exit.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

/** Runs `sluice checklist ...` in process with captured output, the real engine, and the fixture clock. */
async function run(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const io: VerbIo = {
    deps: defaultDeps,
    stdout: (s) => void (out += s),
    env,
    now: () => NOW,
    progress: false,
  };
  const program = new Command('sluice')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  registerChecklist(program, io);
  process.exitCode = 0;
  let code: number;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) code = e.code === 'commander.helpDisplayed' ? 0 : 2;
    else if (e instanceof CliError) {
      err += `sluice: ${e.message}\n`;
      code = e.exitCode;
    } else throw e;
  } finally {
    process.exitCode = 0;
  }
  return { code, out, err };
}

const CONFIG = (orgs: string) => `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./store.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "http://127.0.0.1:9", apiKey: k }
orgs:
${orgs}`;
const ACME = `  acme:
    upstream: anthropic
    contentLogging: redacted
    guard: { secrets: redact, pii: off }
    profile: { plan: team, provider: anthropic }
`;

async function setUp(orgs = ACME) {
  const f = await fixture();
  fixtures.push(f);
  const config = await f.write('sluice.yaml', CONFIG(orgs));
  await f.write('managed/managed-settings.json', {
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
    permissions: { deny: ['Read(./.env)'], disableBypassPermissionsMode: 'disable' },
  });
  const attestations = join(f.root, 'attest.yaml');
  const machine = [
    '--home',
    f.home,
    '--project',
    f.project,
    '--managed',
    f.managed,
    '--client-version',
    '2.1.330',
  ];
  return { f, config, attestations, machine };
}

describe('sluice checklist', () => {
  it('attest writes the file (0600) and the admin log; the run answers the item from it', async () => {
    const { f, config, attestations, machine } = await setUp();
    const a = await run([
      'checklist',
      'attest',
      'adoption-approved',
      '--by',
      'ciso@acme.example',
      '--note',
      'SEC-142',
      '--attestations',
      attestations,
      '--config',
      config,
    ]);
    assert.equal(a.code, 0, a.err);
    assert.equal(
      a.out,
      `attested adoption-approved ("yes") by ciso@acme.example on 2026-03-01 in ${attestations}; admin log entry 1\n`,
    );
    assert.equal((await stat(attestations)).mode & 0o777, 0o600);
    const r = await run([
      'checklist',
      ...machine,
      '--config',
      config,
      '--attestations',
      attestations,
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as {
      org: string;
      items: { id: string; status: string; evidence: string[] }[];
    };
    assert.equal(report.org, 'acme');
    const approved = report.items.find((i) => i.id === 'adoption-approved');
    assert.equal(approved?.status, 'pass');
    assert.ok(approved?.evidence.some((e) => e.endsWith('(admin log entry 1)')));
    assert.equal(report.items.find((i) => i.id === 'input-restrictions')?.status, 'fail');
    // Reading the file again records nothing new; an entry added by hand is recorded on first read.
    await writeFile(
      attestations,
      `${await (await import('node:fs/promises')).readFile(attestations, 'utf8')}  - { item: usage-permissions, by: lead, date: 2026-02-20, note: wiki/ai-use }\n`,
    );
    await run([
      'checklist',
      ...machine,
      '--config',
      config,
      '--attestations',
      attestations,
      '--fail-on',
      'none',
    ]);
    await run([
      'checklist',
      ...machine,
      '--config',
      config,
      '--attestations',
      attestations,
      '--fail-on',
      'none',
    ]);
    const store = await openStore('sqlite:./store.db', f.root);
    const log = await store.listAdminLog();
    await store.close();
    assert.deepEqual(
      log.map((e) => [e.seq, e.action, e.target, e.details.by]),
      [
        [1, 'checklist.attested', 'adoption-approved', 'ciso@acme.example'],
        [2, 'checklist.attested', 'usage-permissions', 'lead'],
      ],
    );
  });

  it('exits 1 when an item fails at --fail-on (high by default), 0 with none', async () => {
    const { config, machine } = await setUp();
    const failing = await run(['checklist', ...machine, '--config', config]);
    assert.equal(failing.code, 1);
    assert.match(failing.out, /^FAIL {9}input-restrictions \(corporate, high\)$/m);
    assert.equal((await run(['checklist', ...machine, '--config', config, '--fail-on', 'none'])).code, 0);
    const sarif = JSON.parse(
      (await run(['checklist', ...machine, '--config', config, '--format', 'sarif'])).out,
    );
    assert.equal(sarif.version, '2.1.0');
    assert.ok(sarif.runs[0].results.some((x: { ruleId: string }) => x.ruleId === 'input-restrictions'));
  });

  it('exits 2 with the exact message for bad input', async () => {
    const { config, attestations, machine } = await setUp(`${ACME}  other: { upstream: anthropic }\n`);
    const several = await run(['checklist', ...machine, '--config', config]);
    assert.equal(several.code, 2);
    assert.equal(
      several.err,
      `sluice: ${config} has several orgs; choose one with --org (have: acme, other)\n`,
    );
    const unknown = await run(['checklist', ...machine, '--config', config, '--org', 'nope']);
    assert.equal(unknown.err, `sluice: no org "nope" in ${config} (have: acme, other)\n`);
    await writeFile(
      attestations,
      'attestations:\n  - { item: adoption-approved, by: a, date: 2026-02-30 }\n',
    );
    const bad = await run(['checklist', ...machine, '--attestations', attestations]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err,
      `sluice: ${attestations}: invalid attestations\n  attestations.0.date: expected an ISO date like 2025-10-08, got "2026-02-30" (February 2026 has 28 days)\n`,
    );
    const missing = await run(['checklist', ...machine, '--attestations', join(config, '..', 'none.yaml')]);
    assert.match(missing.err, /none\.yaml: cannot read attestations: ENOENT\n$/);
    const item = await run(['checklist', 'attest', 'approval', '--by', 'a', '--attestations', attestations]);
    assert.equal(item.code, 2);
    assert.match(item.err, /^sluice: unknown item "approval"; expected one of training-policy-verified, /);
    const age = await run(['checklist', ...machine, '--max-age', '0']);
    assert.equal(age.err, 'sluice: --max-age: expected a number of days (180), got "0"\n');
  });

  it('--help shows examples and exit codes', async () => {
    const r = await run(['checklist', 'run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Exit codes: 0 no item fails at or above --fail-on/);
    assert.match(r.out, /\$ sluice checklist attest adoption-approved/);
  });
});
