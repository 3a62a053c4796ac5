import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, serve } from './processes.js';

const UP = 'sk-ant-upstream-e2e-reload-000001';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('sluice serve reloads (a real process)', () => {
  it('SIGHUP applies a new budget; a bad file is refused in one log line; the process keeps serving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-reload-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const file = join(dir, 'sluice.yaml');
    const yaml = (org: string) => `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
prices:
  claude-test: { input: 1, output: 1, cacheWrite: 1, cacheRead: 1 }
upstreams:
  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }
orgs:
  acme: ${org}
`;
    await writeFile(file, yaml('{ upstream: main }'));
    const key = createKeyCli(dir, 'acme', 'dev@acme.test');
    // --no-watch: only the signal reloads here (the file watch is tested in src/compose).
    const served = await serve(dir, ['--no-watch'], cleanEnv({ UP }));
    cleanups.push(() => served.stop());
    const sdk = new Anthropic({ baseURL: served.url, apiKey: key, maxRetries: 0 });
    const ask = () =>
      sdk.messages.create({
        model: 'claude-test',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await ask();

    // A bad file first: refused, one line, and still served as before.
    await writeFile(file, (await readFile(file, 'utf8')).replace('orgs:', 'orgs: [broken'));
    served.child.kill('SIGHUP');
    await served.stderrMatch(/configuration not reloaded \(SIGHUP\)/);
    const line = served
      .stderr()
      .split('\n')
      .find((l) => l.includes('configuration not reloaded'));
    assert.ok(line && !line.includes(UP));
    await ask();

    await writeFile(file, yaml('{ upstream: main, budgets: { perUser: { daily: 0.000001 } } }'));
    served.child.kill('SIGHUP');
    await served.stderrMatch(/"reload":"SIGHUP".*"msg":"configuration reloaded"/);
    await assert.rejects(ask(), Anthropic.RateLimitError);
  });
});
