import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const CONFIG = resolve('test/fixtures/cloud/issue-13.yaml');

function explain(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, MAIN, 'explain', ...args], (err, stdout, stderr) => {
      done({ code: err && typeof err.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

describe('sluice explain --config --org', () => {
  it("explains the org's real route: Bedrock first, the API on failover", async () => {
    const r = await explain('--config', CONFIG, '--org', 'acme', '--at', '2026-11-30', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as {
      route: { org: string; upstreams: { name: string; provider: string }[]; notes: string[] };
      profile: { plan: string; provider: string; zdr: boolean };
      flows: { id: string; destination: string; retentionDays: number | null }[];
    };
    assert.deepEqual(body.route.upstreams, [
      { name: 'aws', provider: 'bedrock' },
      { name: 'anthropic', provider: 'anthropic' },
    ]);
    assert.deepEqual(body.profile, { plan: 'api', provider: 'bedrock', zdr: false });
    const inference = body.flows.find((f) => f.id === 'inference');
    assert.equal(inference?.destination, 'aws-bedrock');
    assert.equal(inference?.retentionDays, null);
    assert.deepEqual(body.route.notes, [
      'if "aws" fails, requests fail over to "anthropic" (anthropic): explain that route with --provider anthropic.',
    ]);
  });

  it('prints the notes beside a table, and refuses an org the file does not have', async () => {
    const table = await explain('--config', CONFIG, '--org', 'acme', '--at', '2026-11-30');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /aws-bedrock/);
    assert.match(table.stderr, /^note: if "aws" fails, requests fail over to "anthropic"/m);
    const missing = await explain('--config', CONFIG, '--org', 'nobody');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no org "nobody" in .*issue-13\.yaml \(have: acme\)/);
    const alone = await explain('--org', 'acme');
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--config and --org go together/);
  });
});

describe('sluice explain --config --org --sandbox', () => {
  const SANDBOX = resolve('test/fixtures/sandbox-explain.yaml');

  it("shows each flow's way out of the org's sandbox, in the table and in JSON", async () => {
    const table = await explain('--config', SANDBOX, '--org', 'acme', '--sandbox', '--at', '2026-11-30');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^In a sandboxed session of org acme \(sluice sandbox run\):$/m);
    assert.match(table.stdout, /^ {2}inference {2,}through the Sluice gateway over the session socket/m);
    assert.match(table.stdout, /^ {2}git {2,}https:\/\/github\.com\/acme\/\* through Sluice's git proxy/m);
    const json = await explain('--config', SANDBOX, '--org', 'acme', '--sandbox', '--format', 'json');
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as {
      sandbox: { org: string; paths: { flow: string; path: string }[] };
      flows: { id: string; enabled: boolean }[];
    };
    assert.equal(body.sandbox.org, 'acme');
    assert.equal(body.sandbox.paths.find((p) => p.flow === 'telemetry')?.path, 'blocked');
    assert.equal(body.flows.find((f) => f.id === 'telemetry')?.enabled, false);
  });

  it('refuses what it cannot explain, saying what to change', async () => {
    const plain = await explain('--config', SANDBOX, '--org', 'plain', '--sandbox');
    assert.equal(plain.code, 2);
    assert.equal(
      plain.stderr,
      `sluice: ${SANDBOX}: org "plain" has no enabled sandbox policy (orgs.plain.sandbox), so it runs no sandboxed sessions\n`,
    );
    const flags = await explain('--config', SANDBOX, '--org', 'acme', '--sandbox', '--plan', 'pro');
    assert.equal(flags.code, 2);
    assert.equal(
      flags.stderr,
      "sluice: --sandbox explains the org's sessions as the configuration sets them up; drop --plan\n",
    );
    const alone = await explain('--sandbox');
    assert.equal(alone.stderr, 'sluice: --sandbox needs --config and --org\n');
  });
});
