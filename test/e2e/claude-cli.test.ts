import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/control/config.js';
import { createKey } from '../../src/control/keys.js';
import { startSluice } from '../../src/compose/sluice.js';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { runClaude } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI through the gateway', () => {
  it('claude -p completes; the upstream sees its request with the upstream key; the audit log has the session', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'home'));
    await mkdir(join(dir, 'project'));
    const standin = await startStandin('sk-ant-upstream-for-cli');
    cleanups.push(() => standin.close());
    const config = parseConfig(
      `server: { port: 0 }\nstorage: sqlite:./gw.db\nupstreams:\n  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: sk-ant-upstream-for-cli }\norgs:\n  acme: { upstream: anthropic }\n`,
      'test.yaml',
      {},
    );
    const sluice = await startSluice(config, {
      configDir: dir,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      actor: 'test',
      pid: process.pid,
      isAlive: () => false,
    });
    cleanups.push(() => sluice.close());
    const { store, gateway } = sluice;
    const { key } = await createKey(
      store,
      { org: 'acme', user: 'dev@acme.test', role: 'member' },
      new Date(),
    );

    const {
      code,
      stdout: out,
      stderr: err,
    } = await runClaude('say hi', {
      cwd: join(dir, 'project'),
      home: join(dir, 'home'),
      baseUrl: gateway.url,
      key,
    });
    assert.equal(code, 0, err);
    assert.equal(out.trim(), 'Hello from the stand-in.');

    const inference = standin.seen.find((r) => r.url.startsWith('/v1/messages'));
    assert.equal(inference?.url, '/v1/messages?beta=true');
    assert.equal(
      inference?.headers['x-api-key'],
      'sk-ant-upstream-for-cli',
      'the upstream key, not the Sluice key',
    );
    assert.match(String(inference?.headers['anthropic-beta']), /claude-code-20250219/);
    const records = await store.queryAudit({ org: 'acme' });
    const sessionId = inference?.headers['x-claude-code-session-id'];
    assert.ok(sessionId, 'the client sends a session id');
    assert.ok(
      records.some(
        (r) => r.sessionId === sessionId && r.status === 200 && r.user === 'dev@acme.test' && r.stream,
      ),
      'one audit record carries the session id',
    );
  });
});
