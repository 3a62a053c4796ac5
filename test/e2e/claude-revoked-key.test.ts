import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, runClaude, serve, sluice } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI with a revoked key', () => {
  it('shows the error at once after one request, and the 401 record names the key and its user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ccr-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const gatewayDir = join(dir, 'gateway');
    await Promise.all([mkdir(join(dir, 'home')), mkdir(join(dir, 'project')), mkdir(gatewayDir)]);
    const upstreamKey = `sk-ant-${randomBytes(12).toString('hex')}`;
    const standin = await startStandin(upstreamKey);
    cleanups.push(() => standin.close());
    await writeFile(
      join(gatewayDir, 'sluice.yaml'),
      `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
orgs:
  acme: { upstream: anthropic }
`,
    );
    const key = createKeyCli(gatewayDir, 'acme', 'dev@acme.test');
    const listed = sluice(gatewayDir, ['keys', 'list', '--format', 'json']);
    const [{ id } = { id: '' }] = JSON.parse(listed.stdout) as { id: string }[];
    assert.equal(sluice(gatewayDir, ['keys', 'revoke', id]).status, 0);
    const served = await serve(gatewayDir, [], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
    cleanups.push(() => served.stop());

    const started = Date.now();
    const run = await runClaude('say hi', {
      cwd: join(dir, 'project'),
      home: join(dir, 'home'),
      baseUrl: served.url,
      key,
    });
    const took = Date.now() - started;
    assert.notEqual(run.code, 0);
    assert.match(
      run.stdout + run.stderr,
      /Failed to authenticate\. API Error: 401 This Sluice key was revoked \(at \d{4}-\d\d-\d\dT[\d:.]+Z\)\. Ask your administrator for a new one \(`sluice keys create`\)\./,
    );
    // Shown after about a second; without x-should-retry: false the client retried for minutes.
    assert.ok(took < 15_000, `shown after ${took} ms`);
    assert.equal(standin.seen.length, 0, 'nothing reached the upstream');

    const logs = sluice(gatewayDir, ['logs', '--user', 'dev@acme.test', '--format', 'json']);
    assert.equal(logs.status, 0, logs.stderr);
    const records = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number; user: string; keyId: string; org: string; path: string })
      .filter((r) => r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'));
    assert.equal(records.length, 1, 'one request only: not retried');
    assert.deepEqual(
      records.map((r) => [r.status, r.org, r.user, r.keyId]),
      [[401, 'acme', 'dev@acme.test', id]],
    );
  });
});
