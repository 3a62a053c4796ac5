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

describe("the real Claude Code CLI's own system prompt", () => {
  it('carries noreply@anthropic.com, which is no personal data: no guard decision for email', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cce-'));
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
  acme: { upstream: anthropic, guard: { pii: log } }
`,
    );
    const key = createKeyCli(gatewayDir, 'acme', 'dev@acme.test');
    const served = await serve(gatewayDir, [], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
    cleanups.push(() => served.stop());
    // The project's git repository makes the client add its commit instructions (Co-Authored-By).
    await mkdir(join(dir, 'project', '.git'));
    const run = await runClaude('say hi', {
      cwd: join(dir, 'project'),
      home: join(dir, 'home'),
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
