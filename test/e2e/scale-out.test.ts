import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { testSchema, TEST_POSTGRES_URL } from '../../src/store/testing/postgres.js';
import { cleanEnv, createKeyCli, serve, sluice } from './processes.js';

const url = TEST_POSTGRES_URL;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const made = await testSchema('sluice_scale', 'two-gateway test');
const up = made !== null;
const schema = made ?? '';

describe('two sluice serve processes on one PostgreSQL are one gateway', { skip: !up }, () => {
  it('keys, budgets, rate limits and the admin log are shared and consistent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-scale-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const upstreamKey = `sk-ant-${randomBytes(12).toString('hex')}`;
    const standin = await startStandin(upstreamKey);
    cleanups.push(() => standin.close());
    const storage = `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    // $1.50 a request (6 output tokens at $250,000 per million), whose worst case (max_tokens 10) is
    // $2.50; a budget of $4 a day; 5 requests a minute for the rate-limited user.
    await writeFile(
      join(dir, 'sluice.yaml'),
      `server: { host: 127.0.0.1, port: 0 }
storage: "${storage}"
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
prices:
  claude-test: { input: 0, output: 250000, cacheWrite: 0, cacheRead: 0 }
orgs:
  acme: { upstream: anthropic, budgets: { perUser: { daily: 4 } } }
  rated: { upstream: anthropic, rateLimits: { perUser: { requestsPerMinute: 5 } } }
`,
    );
    const budgeted = createKeyCli(dir, 'acme', 'dev@acme.test');
    const rated = createKeyCli(dir, 'rated', 'ops@rated.test');
    const env = cleanEnv({ ANTHROPIC_API_KEY: upstreamKey });
    const [a, b] = await Promise.all([serve(dir, [], env), serve(dir, [], env)]);
    cleanups.push(
      () => (a as { stop(): Promise<void> }).stop(),
      () => (b as { stop(): Promise<void> }).stop(),
    );
    const gateways = [a!.url, b!.url];
    const send = async (gw: string, key: string) =>
      (
        await fetch(`${gw}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': key },
          body: '{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}',
        })
      ).status;

    // One budget across both: A admits with $4 left, B with $2.50 left; with $1 left, none fits.
    assert.deepEqual([await send(gateways[0]!, budgeted), await send(gateways[1]!, budgeted)], [200, 200]);
    assert.deepEqual(
      await Promise.all(Array.from({ length: 10 }, (_, i) => send(gateways[i % 2]!, budgeted))),
      Array(10).fill(429),
    );

    // One rate limit across both: of 12 requests at once, exactly 5 pass.
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => send(gateways[i % 2]!, rated)));
    assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 7);

    // Both applied the same config at start-up: each org created once, keys logged, one chain.
    const log = sluice(dir, ['admin-log', 'list', '--format', 'json']);
    const entries = log.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string });
    assert.deepEqual(
      entries
        .filter((e) => e.action === 'org.created')
        .map((e) => e.target)
        .sort(),
      ['acme', 'rated'],
    );
    assert.equal(entries.filter((e) => e.action === 'key.created').length, 2);
    const verify = sluice(dir, ['admin-log', 'verify']);
    assert.equal(verify.status, 0, verify.stdout);
  });
});
