import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cli-sandbox-'));
  await writeFile(
    join(dir, 'sluice.yaml'),
    `upstreams: { anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: "\${ANTHROPIC_API_KEY}" } }
forges:
  github: { baseUrl: "https://github.com", tokenEnv: SLUICE_TEST_GH_TOKEN }
orgs:
  acme: { upstream: anthropic, sandbox: { repositories: ["https://github.com/acme/*"] } }
`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.ANTHROPIC_API_KEY;
  delete base.SLUICE_TEST_GH_TOKEN;
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sluice sandbox', () => {
  it('run --help shows examples and the exit codes', () => {
    const r = sluice(['sandbox', 'run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /sluice sandbox run --org acme --user dev@acme\.example/);
    assert.match(r.out, /Exit code: 0 when the session ended by itself with status 0/);
  });

  it('run without a repository is a usage error', () => {
    const r = sluice(['sandbox', 'run', '--org', 'acme', '--user', 'dev@acme.test']);
    assert.equal(r.code, 2);
    assert.match(r.err, /required option '--repo <url>' not specified/);
  });

  it('run refuses before starting anything when the forge token is not in its environment', () => {
    const r = sluice([
      'sandbox',
      'run',
      '--org',
      'acme',
      '--user',
      'dev@acme.test',
      '--repo',
      'https://github.com/acme/w',
      '-p',
      'x',
    ]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'sluice: forges.github.tokenEnv: SLUICE_TEST_GH_TOKEN is not set in the environment of this command\n',
    );
  });

  it('run refuses a gateway it cannot bridge', () => {
    const r = sluice(
      [
        'sandbox',
        'run',
        '--org',
        'acme',
        '--user',
        'd@a.t',
        '--repo',
        'https://github.com/acme/w',
        '--gateway',
        'https://gw.acme.test',
        '-p',
        'x',
      ],
      { SLUICE_TEST_GH_TOKEN: 't' },
    );
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'sluice: --gateway: expected http:// (the sandbox reaches the gateway over a local bridge)\n',
    );
  });

  it('check says, check by check, what this host offers; exit 1 when something is missing', () => {
    const r = sluice(['sandbox', 'check', '--format', 'json']);
    const report = JSON.parse(r.out) as Record<string, { ok: boolean; detail: string }>;
    assert.deepEqual(Object.keys(report), ['bwrap', 'namespaces', 'limits', 'claude']);
    const allOk = Object.values(report).every((c) => c.ok);
    assert.equal(r.code, allOk ? 0 : 1);
    const missing = sluice(['sandbox', 'check', '--bwrap', '/nonexistent/bwrap']);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /^bwrap\s+NO\s+\/nonexistent\/bwrap not found: apt-get install bubblewrap$/m);
    assert.match(missing.out, /^namespaces\s+NO\s+needs bwrap$/m);
  });
});
