/**
 * `sluice checklist` on a real set-up: `sluice serve` with the egress proxy in front of a stand-in
 * upstream, the real Claude Code CLI sending a prompt through both from a test home, an attestation
 * recorded with `sluice checklist attest`, then the checklist read from that home, the
 * configuration and the store. The set-up satisfies most items and deliberately violates one: the
 * org's guard does not inspect personal data (`pii: off`), so `input-restrictions` fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, runClaude, serve, sluice } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Item {
  id: string;
  status: string;
  evidence: string[];
}

describe('sluice checklist on the real client set-up', () => {
  it('passes what the set-up satisfies and fails input-restrictions, which it violates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-checklist-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const [home, project, managed] = ['home', 'project', 'managed'].map((d) => join(dir, d)) as [
      string,
      string,
      string,
    ];
    await Promise.all([home, project, managed].map((d) => mkdir(d)));
    const upstreamKey = `sk-ant-${randomBytes(10).toString('hex')}`;
    const standin = await startStandin(upstreamKey);
    cleanups.push(() => standin.close());
    await writeFile(
      join(dir, 'sluice.yaml'),
      `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
egress: { port: 0 }
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
orgs:
  acme:
    upstream: anthropic
    contentLogging: redacted
    guard: { secrets: redact, pii: off }
    profile: { plan: team, provider: anthropic }
`,
    );
    // The organization's managed settings, as sluice audit reads them for this machine.
    await writeFile(
      join(managed, 'managed-settings.json'),
      JSON.stringify({
        permissions: {
          deny: ['Read(./.env)', 'Read(./.env.*)', 'Bash(git push:*)'],
          disableBypassPermissionsMode: 'disable',
        },
      }),
    );
    const key = createKeyCli(dir, 'acme', 'dev@acme.test');
    const served = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
    cleanups.push(() => served.stop());
    const proxyLine = await served.line(/^sluice egress proxy listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const proxy = `http://me:${key}@127.0.0.1:${/:(\d+) /.exec(proxyLine)?.[1]}`;
    const shell = { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: '127.0.0.1,localhost' };

    const claude = await runClaude('say hi', { cwd: project, home, baseUrl: served.url, key, env: shell });
    assert.equal(claude.code, 0, claude.stderr);
    assert.equal(claude.stdout.trim(), 'Hello from the stand-in.');

    const attestations = join(dir, 'attestations.yaml');
    const attest = sluice(dir, [
      'checklist',
      'attest',
      'adoption-approved',
      '--by',
      'ciso@acme.test',
      '--note',
      'SEC-142',
      '--attestations',
      attestations,
      '--config',
      'sluice.yaml',
    ]);
    assert.equal(attest.status, 0, attest.stderr);

    // The developer's shell: the gateway, the key, the proxy, and the real client on PATH.
    const env = cleanEnv({
      ...shell,
      HOME: home,
      ANTHROPIC_BASE_URL: served.url,
      ANTHROPIC_API_KEY: key,
      PATH: [resolve('node_modules/.bin'), process.env.PATH ?? ''].join(delimiter),
    });
    const machine = ['--home', home, '--project', project, '--managed', managed];
    const run = sluice(
      dir,
      [
        'checklist',
        ...machine,
        '--config',
        'sluice.yaml',
        '--attestations',
        attestations,
        '--format',
        'json',
      ],
      env,
    );
    assert.equal(run.status, 1, `the violated item is high, so the exit is 1\n${run.stderr}`);
    const report = JSON.parse(run.stdout) as { org: string; client: string | null; items: Item[] };
    assert.equal(report.org, 'acme');
    assert.equal(report.client, '2.1.330', 'the installed client found on PATH');
    const status = Object.fromEntries(report.items.map((i) => [i.id, i.status]));
    const evidence = (id: string) => report.items.find((i) => i.id === id)?.evidence.join(' | ') ?? '';
    for (const id of [
      'training-policy-verified',
      'opt-out-enabled',
      'dangerous-operations-restricted',
      'no-credentials-in-inputs',
      'access-route-decided',
      'data-path-diagrammed',
      'audit-logging-operational',
      'adoption-approved',
      'approved-route',
      'audit-trail',
      'training-exclusion-verified',
    ])
      assert.equal(status[id], 'pass', `${id}: ${evidence(id)}`);
    assert.equal(status['input-restrictions'], 'fail');
    assert.match(evidence('input-restrictions'), /personal \(customer\) data is not inspected at all/);
    for (const id of ['opt-out-request-form', 'usage-scopes-documented', 'usage-permissions'])
      assert.equal(status[id], 'cannot-tell', id);
    assert.ok(!report.items.some((i) => i.id.startsWith('zdr-')), 'no ZDR items: the org has no ZDR');

    // The evidence is the set-up's: the client's request, its user, the denied direct API attempts.
    assert.match(evidence('audit-logging-operational'), /^[1-9]\d* requests recorded, the latest at /);
    assert.match(evidence('audit-trail'), /records name their user \(dev@acme\.test\) and time/);
    assert.match(
      evidence('approved-route'),
      /egress records: no inference host off the route was allowed \([1-9]\d* attempts denied\)/,
    );
    assert.match(
      evidence('adoption-approved'),
      /attested "yes" by ciso@acme\.test on \d{4}-\d{2}-\d{2}: SEC-142 \(admin log entry \d+\)/,
    );
    const log = sluice(dir, ['admin-log', '--format', 'json']);
    const entries = log.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string });
    assert.deepEqual(
      entries.filter((e) => e.action === 'checklist.attested').map((e) => e.target),
      ['adoption-approved'],
    );
    assert.equal(sluice(dir, ['admin-log', 'verify']).status, 0, 'the chain is intact');
  });
});
