import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { CANARY, fixture, NOW, testDeps, testEvaluate, type Fixture } from '../audit/testing/machine.js';
import type { AuditDeps } from '../audit/types.js';
import { mask } from '../guard/mask.js';
import { scan } from '../guard/scan.js';
import { transcriptLines } from '../audit/testing/transcript.js';
import { registerAudit, type VerbIo } from './audit.js';
import { CliError } from './exit.js';
import { registerManagedSettings } from './managed-settings.js';
import { registerScrub } from './scrub.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

/** Runs the verbs as `main` does, with captured output and the stand-in deps. */
async function run(args: string[], env: Record<string, string> = {}, deps: AuditDeps = testDeps) {
  let out = '';
  let err = '';
  const io: VerbIo = {
    deps,
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    env,
    now: () => NOW,
    progress: false,
  };
  const program = new Command('sluice')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  registerAudit(program, io);
  registerScrub(program, io);
  registerManagedSettings(program, io);
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

/** A machine with a secret planted in every place the audit reads. */
async function leakyMachine() {
  const f = await fixture();
  fixtures.push(f);
  await f.write('home/.claude/settings.json', {
    apiKeyHelper: `echo ${CANARY.anthropic}`,
    env: { AWS_SECRET_ACCESS_KEY: CANARY.aws },
  });
  await f.write('project/.claude/settings.json', { env: { ANTHROPIC_AUTH_TOKEN: CANARY.github } });
  await f.write('project/.claude/settings.local.json', {
    permissions: { allow: [`Bash(export GH=${CANARY.github})`] },
  });
  await f.write('project/.mcp.json', {
    mcpServers: { gh: { command: `gh-mcp --token ${CANARY.github}`, env: { GITHUB_TOKEN: CANARY.github } } },
  });
  await f.write('home/.claude.json', {
    mcpServers: {
      web: {
        type: 'http',
        url: `https://x.example/mcp?key=${CANARY.aws}`,
        headers: { Authorization: `Bearer ${CANARY.anthropic}` },
      },
    },
  });
  await f.write('home/.claude/projects/-p/s.jsonl', transcriptLines().join('\n') + '\n', 40);
  await f.write('home/.claude/history.jsonl', `{"display":"key ${CANARY.anthropic}","timestamp":1}\n`);
  const base = ['--home', f.home, '--project', f.project, '--managed', f.managed];
  return {
    f,
    base,
    env: { ANTHROPIC_API_KEY: CANARY.anthropic, HTTPS_PROXY: `http://u:${CANARY.aws}@proxy:3128` },
  };
}

const noCanary = (text: string) => {
  for (const [name, canary] of Object.entries(CANARY))
    assert.ok(!text.includes(canary), `output contains the ${name} canary`);
};

describe('sluice audit', () => {
  it('prints no planted secret whole, in any format', async () => {
    const { base, env } = await leakyMachine();
    for (const format of ['table', 'json', 'sarif', 'markdown']) {
      const r = await run(['audit', ...base, '--format', format], env);
      assert.equal(r.code, 1, format);
      noCanary(r.out + r.err);
    }
    for (const format of ['table', 'json']) {
      const r = await run(['scrub', ...base, '--dry-run', '--format', format], env);
      noCanary(r.out + r.err);
    }
  });

  it('with the real guard: finds the planted secrets, prints none of them, and scrub removes them', async () => {
    const guard: AuditDeps = { inspector: { scan, mask }, evaluate: testEvaluate };
    const { base, env } = await leakyMachine();
    const outputs: string[] = [];
    for (const format of ['table', 'json', 'sarif', 'markdown']) {
      const r = await run(['audit', ...base, '--format', format], env, guard);
      assert.equal(r.code, 1, format);
      outputs.push(r.out + r.err);
    }
    outputs.forEach(noCanary);
    const doc = JSON.parse((await run(['audit', ...base, '--format', 'json'], env, guard)).out);
    const ids = new Set(doc.findings.map((x: { id: string }) => x.id));
    for (const id of ['secret-in-transcript', 'secret-in-settings', 'history-unswept', 'stale-transcript'])
      assert.ok(ids.has(id), id);
    const scrubbed = await run(['scrub', ...base, '--format', 'json'], env, guard);
    noCanary(scrubbed.out + scrubbed.err);
    const again = JSON.parse((await run(['audit', ...base, '--format', 'json'], env, guard)).out);
    assert.ok(!again.findings.some((x: { id: string }) => x.id === 'secret-in-transcript'));
    const second = JSON.parse((await run(['scrub', ...base, '--format', 'json'], env, guard)).out);
    assert.ok(second.files.every((x: { status: string }) => x.status === 'clean'));
  });

  it('json: {effective, flows, findings} with provenance, masked env and assumptions', async () => {
    const { f, base, env } = await leakyMachine();
    const r = await run(['audit', ...base, '--format', 'json'], env);
    const doc = JSON.parse(r.out);
    assert.deepEqual(Object.keys(doc).slice(0, 3), ['effective', 'assumptions', 'flows']);
    assert.ok(Array.isArray(doc.findings) && doc.findings.length > 0);
    assert.equal(doc.effective.provenance.apiKeyHelper.file, join(f.home, '.claude/settings.json'));
    assert.equal(doc.effective.env.ANTHROPIC_AUTH_TOKEN.scope, 'project');
    assert.equal(doc.effective.env.ANTHROPIC_API_KEY.scope, 'process');
    assert.equal(doc.effective.plan, 'api');
    assert.match(doc.assumptions[0], /plan assumed "api"/);
    assert.deepEqual(doc.effective.mcpServers.map((s: { name: string }) => s.name).sort(), ['gh', 'web']);
    for (const fd of doc.findings) {
      assert.ok(fd.id && fd.severity && fd.message && fd.fix && fd.fingerprint, JSON.stringify(fd));
    }
  });

  it('sarif 2.1.0: ruleId, level, location with line, partialFingerprints', async () => {
    const { base, env } = await leakyMachine();
    const doc = JSON.parse((await run(['audit', ...base, '--format', 'sarif'], env)).out);
    assert.equal(doc.version, '2.1.0');
    const run0 = doc.runs[0];
    assert.equal(run0.tool.driver.name, 'sluice');
    const ruleIds = run0.tool.driver.rules.map((x: { id: string }) => x.id);
    type Result = {
      ruleId: string;
      locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
    };
    const t = run0.results.find(
      (x: Result) =>
        x.ruleId === 'secret-in-transcript' &&
        x.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('s.jsonl'),
    );
    assert.equal(t.level, 'error');
    assert.equal(t.locations[0].physicalLocation.region.startLine, 3);
    assert.match(t.locations[0].physicalLocation.artifactLocation.uri, /^file:\/\/.*s\.jsonl$/);
    assert.ok(t.partialFingerprints['sluice/v1']);
    const local = run0.results.find(
      (x: Result) => x.locations[0]!.physicalLocation.artifactLocation.uri === '.claude/settings.local.json',
    );
    assert.equal(local.locations[0].physicalLocation.artifactLocation.uriBaseId, '%SRCROOT%');
    for (const r of run0.results) {
      assert.ok(ruleIds.includes(r.ruleId));
      assert.equal(run0.tool.driver.rules[r.ruleIndex].id, r.ruleId);
      assert.ok(r.locations.length === 1);
    }
  });

  it('table and markdown name the findings and flows', async () => {
    const { base, env } = await leakyMachine();
    const table = (await run(['audit', ...base], env)).out;
    assert.match(table, /Data flows/);
    assert.match(table, /HIGH\s+secret-in-transcript/);
    assert.match(table, /plan\s+api \(assumed\)/);
    const md = (await run(['audit', ...base, '--format', 'markdown'], env)).out;
    assert.match(md, /^# Claude Code data-governance audit/);
    assert.match(md, /\| high \| `secret-in-settings` \|/);
  });

  it('--fail-on: 1 when a finding reaches the threshold, 0 otherwise, none never fails', async () => {
    const f = await fixture();
    fixtures.push(f);
    await f.write('managed/managed-settings.json', {
      env: { DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1' },
      permissions: { deny: ['Read(./.env)'], disableBypassPermissionsMode: 'disable' },
    });
    await f.write('home/.claude/telemetry/1p_failed_events.a.b.json', '[]');
    const base = [
      'audit',
      '--home',
      f.home,
      '--project',
      f.project,
      '--managed',
      f.managed,
      '--format',
      'json',
    ];
    assert.equal((await run(base)).code, 0);
    assert.equal((await run([...base, '--fail-on', 'medium'])).code, 0);
    assert.equal((await run([...base, '--fail-on', 'low'])).code, 1);
    assert.equal((await run([...base, '--fail-on', 'info'])).code, 1);
    const leaky = await leakyMachine();
    assert.equal((await run(['audit', ...leaky.base, '--fail-on', 'none'], leaky.env)).code, 0);
  });

  it('exits 2 on usage errors and a bad policy file, naming the key', async () => {
    const f = await fixture();
    fixtures.push(f);
    assert.equal((await run(['audit', '--format', 'xml'])).code, 2);
    assert.equal((await run(['audit', '--fail-on', 'critical'])).code, 2);
    assert.equal((await run(['audit', '--plan', 'gold'])).code, 2);
    const policy = await f.write('policy.yaml', 'maxLocalRetentionDays: forever\n');
    const r = await run([
      'audit',
      '--home',
      f.home,
      '--project',
      f.project,
      '--managed',
      f.managed,
      '--policy',
      policy,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /maxLocalRetentionDays: /);
  });

  it('--help shows examples and exit codes', async () => {
    for (const verb of ['audit', 'scrub', 'managed-settings']) {
      const r = await run([verb, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, /Examples:\n\s+\$ sluice /);
    }
  });
});

describe('sluice managed-settings', () => {
  it('prints or writes the managed settings, and notes what settings cannot enforce', async () => {
    const f = await fixture();
    fixtures.push(f);
    const policy = await f.write(
      'org.yaml',
      'zdrRequired: true\nmaxLocalRetentionDays: 7\nmcpAllowlist: [github]\n',
    );
    const printed = await run(['managed-settings', '--policy', policy]);
    assert.equal(printed.code, 0);
    assert.equal(JSON.parse(printed.out).cleanupPeriodDays, 7);
    assert.match(printed.err, /note: zdrRequired/);
    const out = join(f.managed, 'managed-settings.json');
    const written = await run(['managed-settings', '--policy', policy, '--out', out]);
    assert.equal(written.code, 0);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), JSON.parse(printed.out));
    const audited = await run([
      'audit',
      '--home',
      f.home,
      '--project',
      f.project,
      '--managed',
      f.managed,
      '--policy',
      policy,
      '--zdr',
      '--format',
      'json',
    ]);
    assert.deepEqual(
      JSON.parse(audited.out).findings.filter((x: { id: string }) => x.id.startsWith('policy-')),
      [],
    );
    assert.equal((await run(['managed-settings'])).code, 2);
  });
});

describe('sluice scrub', () => {
  it('redacts, reports counts by rule, and is idempotent', async () => {
    const { f, base, env } = await leakyMachine();
    const r = await run(['scrub', ...base, '--format', 'json'], env);
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.out);
    const t = doc.files.find((x: { file: string }) => x.file.endsWith('s.jsonl'));
    assert.deepEqual(t.redactions, { 'aws-access-key': 2, 'github-pat': 2 });
    const again = await run(['scrub', ...base], env);
    assert.match(again.out, /^0 of 2 file\(s\) changed/);
    const audit = JSON.parse((await run(['audit', ...base, '--format', 'json'], env)).out);
    assert.ok(!audit.findings.some((x: { id: string }) => x.id === 'secret-in-transcript'));
    void f;
  });
});
