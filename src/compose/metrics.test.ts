import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startStandin } from '../gateway/testing/standin.js';
import { startFromFile, until, type Running } from './testing/running.js';

const UP = 'sk-ant-upstream-metrics-test-0001';
const ADMIN = 'admin-token-metrics-test-00000001';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The value of one sample (`name{labels}`) in a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

/** A CONNECT through the egress proxy, answered or refused; resolves with the status line. */
function connectThrough(port: number, key: string, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const auth = Buffer.from(`me:${key}`).toString('base64');
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
      ),
    );
    socket.once('data', (d) => {
      resolve(d.toString('latin1').split('\r\n')[0] ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('/metrics', () => {
  it('after traffic: requests, latency, overhead, guard rules, upstream errors, budget refusals, store writes, egress', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const r: Running = await startFromFile(
      `server: { host: 127.0.0.1, port: 0, metricsListen: "127.0.0.1:0" }
storage: sqlite:./sluice.db
admin: { tokens: ["${ADMIN}"] }
egress: { port: 0 }
prices:
  claude-test: { input: 1, output: 1, cacheWrite: 1, cacheRead: 1 }
upstreams:
  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }
orgs:
  acme: { upstream: main, guard: { secrets: redact }, egress: { allow: [example.test] } }
  tight: { upstream: main, budgets: { perUser: { daily: 0.0000001 } } }
`,
      { UP },
    );
    cleanups.push(() => r.close());
    const sdk = new Anthropic({ baseURL: r.sluice.gateway.url, apiKey: r.key, maxRetries: 0 });
    const ask = (text: string, client = sdk) =>
      client.messages.create({
        model: 'claude-test',
        max_tokens: 64,
        messages: [{ role: 'user', content: text }],
      });

    await ask('hi');
    await ask('my token is ghp_' + 'a1B2'.repeat(9));
    standin.failNext.push({ status: 500, type: 'api_error' });
    await ask('fails').catch(() => undefined);
    const { createKey } = await import('../control/keys.js');
    const tight = await createKey(
      r.sluice.store,
      { org: 'tight', user: 'dev@tight.test', role: 'member' },
      new Date(),
    );
    const refused = await ask(
      'hi',
      new Anthropic({ baseURL: r.sluice.gateway.url, apiKey: tight.key, maxRetries: 0 }),
    ).catch((e: unknown) => e);
    assert.ok(refused instanceof Anthropic.RateLimitError);
    await new Anthropic({
      baseURL: r.sluice.gateway.url,
      apiKey: 'sk-not-a-sluice-key',
      maxRetries: 0,
    }).models
      .list()
      .catch(() => undefined);
    const egress = r.sluice.egress;
    assert.ok(egress);
    assert.match(await connectThrough(egress.port, r.key, 'denied.test:443'), /^HTTP\/1\.1 403/);

    // Without a token, or with a Sluice key: refused in the catalog's words.
    const none = await fetch(`${r.sluice.gateway.url}/metrics`);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), {
      type: 'error',
      error: {
        type: 'authentication_error',
        message: '/metrics needs Authorization: Bearer <an admin token from admin.tokens in sluice.yaml>.',
      },
    });
    const member = await fetch(`${r.sluice.gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${r.key}` },
    });
    assert.equal(member.status, 401);

    const scrape = async () => {
      const res = await fetch(`${r.sluice.gateway.url}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    // Egress and audit records are written after their connection or request ends.
    const text = await until(async () => {
      const t = await scrape();
      return sample(t, 'sluice_egress_attempts_total{decision="deny"}') === 1 &&
        (sample(t, 'sluice_store_write_seconds_count{op="insertAudits"}') ?? 0) +
          (sample(t, 'sluice_store_write_seconds_count{op="insertAudit"}') ?? 0) >
          0
        ? t
        : undefined;
    }, 'egress and audit writes in the metrics');
    assert.equal(sample(text, 'sluice_requests_total{route="messages",status="200"}'), 2);
    assert.equal(sample(text, 'sluice_requests_total{route="messages",status="500"}'), 1);
    assert.equal(sample(text, 'sluice_requests_total{route="messages",status="429"}'), 1);
    assert.equal(sample(text, 'sluice_requests_total{route="models",status="401"}'), 1);
    assert.equal(sample(text, 'sluice_request_duration_seconds_count{route="messages"}'), 4);
    assert.equal(sample(text, 'sluice_gateway_overhead_seconds_count{route="messages"}'), 4);
    assert.equal(sample(text, 'sluice_guard_findings_total{rule="github-pat",decision="redact"}'), 1);
    assert.equal(sample(text, 'sluice_upstream_errors_total{upstream="main",kind="500"}'), 1);
    assert.equal(sample(text, 'sluice_budget_refusals_total{org="tight"}'), 1);
    assert.ok((sample(text, 'sluice_store_write_seconds_count{op="appendAdminLog"}') ?? 0) >= 2);
    assert.ok(sample(text, 'sluice_process_cpu_seconds_total') !== undefined, 'process metrics');
    assert.ok(!text.includes('dev@acme.test') && !text.includes('ghp_'), 'no user or content in labels');

    // The loopback listener serves the same without a token.
    const url = r.sluice.gateway.metricsUrl;
    assert.ok(url);
    const open = await fetch(url);
    assert.equal(open.status, 200);
    assert.match(await open.text(), /sluice_requests_total\{route="messages",status="200"\} 2/);
    assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
  });
});
