import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startEgressProxy } from '../../src/egress/proxy.js';
import { parseConfig } from '../../src/control/config.js';
import { startHarness } from '../../src/gateway/testing/harness.js';
import { runClaude } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI behind the egress proxy', () => {
  it('with non-essential traffic forbidden, the run completes and nothing the policy does not name is allowed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cce-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await Promise.all([mkdir(join(dir, 'home')), mkdir(join(dir, 'project'))]);
    // The org's explain profile forbids non-essential traffic; the egress policy follows from it.
    const org =
      '{ upstream: anthropic, profile: { plan: team, provider: anthropic, env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } } }';
    const h = await startHarness(org);
    cleanups.push(() => h.close());
    const config = parseConfig(
      `egress: { port: 0 }\nupstreams: { anthropic: { provider: anthropic, baseUrl: "${h.standin.url}", apiKey: k } }\norgs:\n  acme: ${org}\n`,
      'test.yaml',
      {},
    );
    const proxy = await startEgressProxy({ config, store: h.store });
    cleanups.push(() => proxy.close());
    // Telemetry on, so the client has non-essential traffic to try.
    const { code, stdout, stderr } = await runClaude('say hi', {
      cwd: join(dir, 'project'),
      home: join(dir, 'home'),
      baseUrl: h.gateway.url,
      key: h.key,
      env: {
        HTTPS_PROXY: `http://me:${h.key}@127.0.0.1:${proxy.port}`,
        HTTP_PROXY: `http://me:${h.key}@127.0.0.1:${proxy.port}`,
        NO_PROXY: '127.0.0.1,localhost',
      },
    });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), 'Hello from the stand-in.');
    const records = await h.store.queryEgress({});
    // With a fresh home and telemetry on, the client tries api.anthropic.com (feature flags, event
    // logging) although ANTHROPIC_BASE_URL points at the gateway: the proxy must have seen and
    // refused it, or this test would be blind.
    assert.ok(
      records.some((r) => r.host === 'api.anthropic.com' && r.decision === 'deny'),
      'a direct attempt to Anthropic was recorded and denied',
    );
    for (const r of records) {
      if (r.decision === 'allow')
        assert.equal(r.rule, 'allow:claude-code-essential', `${r.host} was allowed`);
      else
        assert.match(
          r.rule,
          /^(deny:claude-code-nonessential|deny:anthropic-api|default-deny|dns-failure)$/,
          r.host,
        );
      assert.equal(r.user, 'dev@acme.test');
    }
    process.stderr.write(
      `# hosts the client tried: ${records.map((r) => `${r.host}:${r.port} ${r.decision} (${r.rule})`).join(', ') || 'none'}\n`,
    );
  });
});
