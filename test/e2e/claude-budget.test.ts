import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runClaude, sluice } from './processes.js';
import { clientWorld, serveWorld, worldKey } from './world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI against a user budget', () => {
  it('the first session spends the budget; the next is refused with the budget message at once; usage shows the spend', async () => {
    const w = await clientWorld(
      'sluice-ccb-',
      `prices:
  claude-test: { input: 100, output: 0, cacheWrite: 0, cacheRead: 0 }
orgs:
  acme: { upstream: anthropic, budgets: { perUser: { daily: 3 } } }
`,
      cleanups,
    );
    const { standin, gatewayDir } = w;
    // The stand-in reports one input token per two bytes of the body: each request costs exactly the
    // worst case admission reserves (bytes / 2 at $100 per million, ~$2.44 for Claude Code's ~49 KB),
    // so the $3 budget admits the first session and has too little left for the next.
    w.standin.respond = (request) => ({
      content: [{ type: 'text', text: 'Hello from the stand-in.' }],
      usage: { input_tokens: Math.ceil(Buffer.byteLength(JSON.stringify(request)) / 2) },
    });
    const key = worldKey(w, 'acme', 'dev@acme.test');
    const served = await serveWorld(w, cleanups);
    const run = () => runClaude('say hi', { cwd: w.project, home: w.home, baseUrl: served.url, key });

    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    const passedBefore = standin.seen.filter((r) => r.url.startsWith('/v1/messages?')).length;
    const second = await run();
    assert.notEqual(second.code, 0);
    assert.match(
      second.stdout + second.stderr,
      /API Error: Request rejected \(429\) · Sluice: the daily budget of dev@acme\.test has \$0\.\d\d left of \$3\.00 \(spent or reserved by requests in flight\), and this request could cost up to \$2\.\d\d\. Wait for requests in flight to finish, or lower max_tokens\. It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/,
    );
    assert.equal(
      standin.seen.filter((r) => r.url.startsWith('/v1/messages?')).length,
      passedBefore,
      'no request passed the limit',
    );
    const logs = sluice(gatewayDir, ['logs', '--format', 'json']);
    const refused = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number })
      .filter((r) => r.status === 429);
    assert.equal(refused.length, 1, 'shown at once, not retried');
    const usage = sluice(gatewayDir, ['usage', '--format', 'json']);
    assert.equal(usage.status, 0, usage.stderr);
    const [row] = (JSON.parse(usage.stdout) as { rows: { key: string; costUsd: number }[] }).rows;
    assert.equal(row?.key, 'dev@acme.test');
    assert.equal(passedBefore, 1, 'one request per session');
    assert.ok(row && row.costUsd > 2 && row.costUsd <= 3, `spent ${row?.costUsd}: within the budget`);
  });
});
