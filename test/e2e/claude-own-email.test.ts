import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runClaude, sluice } from './processes.js';
import { clientWorld, serveWorld, worldKey } from './world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("the real Claude Code CLI's own system prompt", () => {
  it('carries noreply@anthropic.com, which is no personal data: no guard decision for email', async () => {
    const w = await clientWorld(
      'sluice-cce-',
      'orgs:\n  acme: { upstream: anthropic, guard: { pii: log } }\n',
      cleanups,
    );
    const key = worldKey(w, 'acme', 'dev@acme.test');
    const served = await serveWorld(w, cleanups);
    const { standin, gatewayDir } = w;
    // The project's git repository makes the client add its commit instructions (Co-Authored-By).
    await mkdir(join(w.project, '.git'));
    const run = await runClaude('say hi', {
      cwd: w.project,
      home: w.home,
      baseUrl: served.url,
      key,
    });
    assert.equal(run.code, 0, run.stderr);
    const messages = standin.seen.filter((r) => r.url.startsWith('/v1/messages?'));
    assert.ok(
      messages.some((r) => r.body.includes('noreply@anthropic.com')),
      'the client-shaped request carries the address',
    );
    const logs = sluice(gatewayDir, ['logs', '--format', 'json']);
    const records = logs.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { path: string; guard: { decision: string; rules: Record<string, number> } },
      );
    assert.ok(records.length > 0);
    for (const r of records) assert.deepEqual(r.guard, { decision: 'none', rules: {} }, r.path);
  });
});
