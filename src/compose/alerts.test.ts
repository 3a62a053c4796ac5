import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { parseConfig } from '../control/config.js';
import { Alerts } from '../control/alerts.js';
import { startStandin } from '../gateway/testing/standin.js';
import { startFromFile, until, type Running } from './testing/running.js';

const UP = 'sk-ant-upstream-alerts-test-000001';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** A local webhook receiver; `failFirst` answers 503 to that many posts before taking them. */
async function receiver(failFirst = 0) {
  const got: Received[] = [];
  let refused = 0;
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (refused < failFirst) {
        refused++;
        res.writeHead(503).end();
        return;
      }
      got.push({
        path: req.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
      });
      res.writeHead(200).end('ok');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    get refused() {
      return refused;
    },
    /** Resolves once `n` posts were taken. */
    async count(n: number) {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r));
      return got;
    },
  };
}

// Cache reads at $1000 a million tokens, all else free: each stand-in answer (100 cache-read tokens)
// costs $0.10, and admission (which bounds input and output only) never refuses before the limit.
const config = (standin: string, hooks: string, org: string) => `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./sluice.db
prices:
  claude-test: { input: 0, output: 0, cacheWrite: 0, cacheRead: 1000 }
upstreams:
  main: { provider: anthropic, baseUrl: ${standin}, apiKey: "\${UP}" }
orgs:
  acme: ${org}
alerts:
${hooks}
`;

describe('alerts', { timeout: 20_000 }, () => {
  it('budget thresholds: each once per period, to Slack and generic webhooks, with no content; guard blocks', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const slack = await receiver();
    const generic = await receiver(2);
    const r: Running = await startFromFile(
      config(
        standin.url,
        `  - { url: "${slack.url}/services/T000/B000/secretpath", format: slack, on: [budget:50, budget:80, budget:100] }
  - { url: "${generic.url}/hook", on: [budget:50, budget:100, guard:block], attempts: 4 }`,
        '{ upstream: main, guard: { secrets: block }, budgets: { perUser: { daily: 0.18 } } }',
      ),
      { UP },
      { alerts: { backoffMs: 1 } },
    );
    cleanups.push(() => r.close());
    const sdk = new Anthropic({ baseURL: r.sluice.gateway.url, apiKey: r.key, maxRetries: 0 });
    const prompt = 'please refactor the secret-sauce module';
    const ask = (text = prompt) =>
      sdk.messages.create({
        model: 'claude-test',
        max_tokens: 16,
        messages: [{ role: 'user', content: text }],
      });

    // A guard block (before the budget is spent: a spent budget refuses before the guard runs).
    const token = 'ghp_' + 'a1B2'.repeat(9);
    await assert.rejects(ask(`deploy with ${token}`), Anthropic.RateLimitError);
    const blocked = (await generic.count(1))[0]?.body;
    assert.equal(blocked?.event, 'guard:block');
    assert.deepEqual(blocked?.rules, { 'github-pat': 1 });
    assert.match(String(blocked?.requestId), /^req_[0-9a-f]{32}$/);

    await ask(); // $0.10 of $0.18: 55 %
    const [first] = await slack.count(1);
    assert.deepEqual(first?.body, {
      text: 'Sluice budget: dev@acme.test in org "acme" has spent $0.10 of its daily $0.18 (55 %, threshold 50 %).',
    });
    await ask(); // $0.20: 111 %, past 80 and 100 at once: the highest of each webhook's thresholds
    const slackGot = await slack.count(2);
    assert.match(
      String(slackGot[1]?.body.text),
      /has spent \$0\.20 of its daily \$0\.18 \(111 %, threshold 100 %\)/,
    );
    const genericGot = (await generic.count(3)).filter((g) => g.body.event !== 'guard:block');
    assert.equal(generic.refused, 2, 'the first two posts were refused and retried');
    const day = new Date().toISOString().slice(0, 10);
    assert.deepEqual(
      // Retries may reorder deliveries: compare by event.
      [...genericGot]
        .sort((a, b) => String(a.body.event).localeCompare(String(b.body.event), 'en', { numeric: true }))
        .map((g) => ({
          ...g.body,
          time: 'T',
          spentUsd: Number((g.body.spentUsd as number).toFixed(2)),
        })),
      [
        {
          source: 'sluice',
          event: 'budget:50',
          org: 'acme',
          scope: 'perUser',
          span: 'daily',
          user: 'dev@acme.test',
          limitUsd: 0.18,
          spentUsd: 0.1,
          percent: (0.1 / 0.18) * 100,
          period: `day:${day}`,
          time: 'T',
        },
        {
          source: 'sluice',
          event: 'budget:100',
          org: 'acme',
          scope: 'perUser',
          span: 'daily',
          user: 'dev@acme.test',
          limitUsd: 0.18,
          spentUsd: 0.2,
          percent: (0.2 / 0.18) * 100,
          period: `day:${day}`,
          time: 'T',
        },
      ],
    );

    // The budget is spent: refused, and no alert is sent again.
    await assert.rejects(ask(), Anthropic.RateLimitError);
    await r.sluice.alerts.settled();
    assert.equal(slack.got.length, 2);
    assert.equal(generic.got.length, 3);
    const everything = JSON.stringify([...slack.got, ...generic.got]);
    for (const content of ['secret-sauce', 'refactor', token, 'deploy'])
      assert.ok(!everything.includes(content), content);

    // Another gateway on the same store, seeing the same spend, sends nothing: the thresholds are claimed.
    const again = await receiver();
    const other = new Alerts({
      store: r.sluice.store,
      logger: { warn: () => undefined, error: () => undefined },
    });
    const cfg = parseConfig(
      config(
        standin.url,
        `  - { url: "${again.url}", on: [budget:50, budget:80, budget:100] }`,
        '{ upstream: main, budgets: { perUser: { daily: 0.18 } } }',
      ),
      'sluice.yaml',
      { UP },
    );
    const records = await r.sluice.store.queryAudit({ org: 'acme' });
    other.recorded(records, cfg);
    await other.settled();
    await other.close();
    assert.equal(again.got.length, 0);
    const sent = await until(async () => {
      const text = (await r.sluice.metrics.scrape()).body;
      return /sluice_alerts_total\{result="sent"\} 5/.test(text) ? text : undefined;
    }, 'five alerts counted');
    assert.ok(sent);
  });

  it('a webhook that never answers well: retried `attempts` times, then one log line naming only its host', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const down = await receiver(100);
    const r = await startFromFile(
      config(
        standin.url,
        `  - { url: "${down.url}/services/T0/B0/xoxb-secret", format: slack, on: [guard:block], attempts: 3 }`,
        '{ upstream: main, guard: { secrets: block } }',
      ),
      { UP },
      { alerts: { backoffMs: 1 } },
    );
    cleanups.push(() => r.close());
    const sdk = new Anthropic({ baseURL: r.sluice.gateway.url, apiKey: r.key, maxRetries: 0 });
    const started = Date.now();
    await assert.rejects(
      sdk.messages.create({
        model: 'claude-test',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'ghp_' + 'a1B2'.repeat(9) }],
      }),
      Anthropic.RateLimitError,
    );
    assert.ok(Date.now() - started < 5_000, 'the request did not wait for the webhook');
    const line = await r.logged((l) => l.msg.startsWith('alert guard:block not delivered'));
    assert.equal(down.refused, 3);
    const host = new URL(down.url).host;
    assert.equal(line.msg, `alert guard:block not delivered to ${host}: it answered 503 (3 attempts)`);
    assert.ok(!JSON.stringify(line).includes('xoxb-secret'));
  });
});
