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
import { catalog } from '../policy/catalog/index.js';
import { evaluate } from '../policy/engine.js';
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

  it('--egress-log: hosts contacted beside the predicted flows; traffic the settings rule out is a finding', async () => {
    const f = await fixture();
    fixtures.push(f);
    await f.write('managed/managed-settings.json', {
      env: {
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:8787',
      },
    });
    const rec = (host: string, decision: string, user = 'dev@acme.test', port = 443) =>
      JSON.stringify({ time: '2026-03-01T11:00:00Z', org: 'acme', user, host, port, decision, rule: 'x' });
    const log = await f.write(
      'egress.jsonl',
      [
        rec('api.anthropic.com', 'deny'),
        rec('api.anthropic.com', 'deny'),
        rec('http-intake.logs.us5.datadoghq.com', 'allow'),
        rec('downloads.claude.ai', 'allow'),
        rec('registry.npmjs.org', 'allow'),
        rec('example.org', 'allow'),
        rec('statsig.anthropic.com', 'allow', 'other@acme.test'),
        '',
      ].join('\n'),
    );
    const realDeps: AuditDeps = { ...testDeps, evaluate: (p, at) => evaluate(p, catalog, at) };
    const base = ['audit', '--home', f.home, '--project', f.project, '--managed', f.managed];
    const r = await run(
      [...base, '--egress-log', log, '--egress-user', 'dev@acme.test', '--format', 'json'],
      {},
      realDeps,
    );
    assert.equal(r.code, 1, 'an allowed telemetry connection the settings rule out is high');
    const j = JSON.parse(r.out) as {
      egress: { records: number; hosts: { host: string; attempts: number; verdict: string; why: string }[] };
      findings: { id: string; severity: string; message: string }[];
    };
    assert.equal(j.egress.records, 6, "only that user's records");
    assert.deepEqual(
      j.egress.hosts.map((h) => [h.host, h.attempts, h.verdict]),
      [
        ['downloads.claude.ai', 1, 'expected'],
        ['registry.npmjs.org', 1, 'expected'],
        ['api.anthropic.com', 2, 'unexpected'],
        ['http-intake.logs.us5.datadoghq.com', 1, 'unexpected'],
        ['example.org', 1, 'unknown'],
      ],
    );
    const api = j.egress.hosts.find((h) => h.host === 'api.anthropic.com')!;
    assert.match(
      api.why,
      /inference goes through the gateway ANTHROPIC_BASE_URL \(http:\/\/127\.0\.0\.1:8787\)/,
    );
    assert.match(api.why, /telemetry is off \(rules: .*telemetry-disable-telemetry/);
    assert.deepEqual(
      j.findings.filter((x) => x.id.startsWith('egress-')).map((x) => [x.id, x.severity]),
      [
        ['egress-unexpected-host', 'high'],
        ['egress-unexpected-host', 'medium'],
        ['egress-unknown-host', 'info'],
      ],
    );
    assert.match(
      j.findings[0]!.message,
      /^http-intake\.logs\.us5\.datadoghq\.com:443 \(telemetry\) was contacted 1× \(1 allowed, 0 denied\), but the configuration says it should not be/,
    );
    const table = (await run([...base, '--egress-log', log], {}, realDeps)).out;
    assert.match(table, /Egress: hosts contacted \(7 records in /);
    assert.match(table, /statsig\.anthropic\.com:443\s+1\s+1\s+telemetry\s+unexpected/);
    assert.match(table, /predicted: inference -> anthropic \(not seen\)/);
    const md = (await run([...base, '--egress-log', log, '--format', 'markdown'], {}, realDeps)).out;
    assert.match(md, /\| `example\.org:443` \| 1 \| 1 \| - \| unknown \|/);

    // With telemetry on and no gateway, the same API connection is what the settings predict.
    const open = await fixture();
    fixtures.push(open);
    const clean = await open.write('egress.jsonl', rec('api.anthropic.com', 'allow') + '\n');
    const ok = await run(
      [
        'audit',
        '--home',
        open.home,
        '--project',
        open.project,
        '--managed',
        open.managed,
        '--egress-log',
        clean,
        '--format',
        'json',
      ],
      {},
      realDeps,
    );
    const okJson = JSON.parse(ok.out) as {
      egress: { hosts: { verdict: string }[] };
      findings: { id: string }[];
    };
    assert.equal(okJson.egress.hosts[0]!.verdict, 'expected');
    assert.deepEqual(
      okJson.findings.filter((x) => x.id.startsWith('egress-')),
      [],
    );
  });

  it('--egress-log: a bad record or a missing file exits 2 naming the line; --egress-user needs --egress-log', async () => {
    const f = await fixture();
    fixtures.push(f);
    const base = ['audit', '--home', f.home, '--project', f.project, '--managed', f.managed];
    const bad = await f.write(
      'bad.jsonl',
      '{"host":"a.example","port":443,"decision":"allow"}\n{"host":"b.example","port":0,"decision":"deny"}\n',
    );
    let r = await run([...base, '--egress-log', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.err, `sluice: ${bad}:2: port: expected a number from 1 to 65535\n`);
    const notJson = await f.write('text.log', 'CONNECT api.anthropic.com:443\n');
    r = await run([...base, '--egress-log', notJson]);
    assert.equal(
      r.err,
      `sluice: ${notJson}:1: not JSON (expected the output of sluice egress log --format json)\n`,
    );
    r = await run([...base, '--egress-log', join(f.root, 'missing.jsonl')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /missing\.jsonl: cannot read the egress log: ENOENT/);
    r = await run([...base, '--egress-user', 'dev@acme.test']);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'sluice: --egress-user needs --egress-log\n');
  });

  it('--client-version: used for the flows and shown in every format; a bad one exits 2', async () => {
    const f = await fixture();
    fixtures.push(f);
    const realDeps: AuditDeps = { ...testDeps, evaluate: (p, at) => evaluate(p, catalog, at) };
    const base = ['audit', '--home', f.home, '--project', f.project, '--managed', f.managed];
    const j = JSON.parse(
      (await run([...base, '--client-version', '2.1.330', '--format', 'json'], {}, realDeps)).out,
    );
    assert.deepEqual(j.effective.client, { version: '2.1.330', source: 'flag', installs: [] });
    assert.ok(!j.warnings.some((w: { id: string }) => w.id === 'client-version-unknown'));
    const unknown = JSON.parse((await run([...base, '--format', 'json'], {}, realDeps)).out);
    assert.equal(unknown.effective.client.version, null);
    assert.ok(unknown.policyAssumptions.some((a: { id: string }) => a.id === 'client-version'));
    const table = (await run(base, {}, realDeps)).out;
    assert.match(table, /^ {2}client\s+not found \(version unknown\)$/m);
    assert.match(table, /^ {2}- client-version: A Claude Code client before 2\.1\.240/m);
    const sarif = JSON.parse((await run([...base, '--format', 'sarif'], {}, realDeps)).out);
    assert.ok(
      sarif.runs[0].properties.assumptions.some((a: string) =>
        a.startsWith('client-version: A Claude Code client'),
      ),
    );
    const md = (await run([...base, '--format', 'markdown', '--client-version', '2.1.330'], {}, realDeps))
      .out;
    assert.match(md, /^- Claude Code: \*\*2\.1\.330 \(--client-version\)\*\*$/m);
    const bad = await run([...base, '--client-version', 'v2']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err,
      'sluice: --client-version: expected a Claude Code version like 2.1.330, got "v2"\n',
    );
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
