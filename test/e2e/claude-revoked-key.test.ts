import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runClaude, sluice } from './processes.js';
import { clientWorld, serveWorld, worldKey } from './world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI with a revoked key', () => {
  it('shows the error at once after one request, and the 401 record names the key and its user', async () => {
    const w = await clientWorld('sluice-ccr-', 'orgs:\n  acme: { upstream: anthropic }\n', cleanups);
    const { standin, gatewayDir } = w;
    const key = worldKey(w, 'acme', 'dev@acme.test');
    const listed = sluice(gatewayDir, ['keys', 'list', '--format', 'json']);
    const [{ id } = { id: '' }] = JSON.parse(listed.stdout) as { id: string }[];
    assert.equal(sluice(gatewayDir, ['keys', 'revoke', id]).status, 0);
    const served = await serveWorld(w, cleanups);
    const started = Date.now();
    const run = await runClaude('say hi', {
      cwd: w.project,
      home: w.home,
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
