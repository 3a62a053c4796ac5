import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startStandin } from '../gateway/testing/standin.js';
import { startFromFile, startGatedUpstream, until, type Running } from './testing/running.js';

const UP = 'sk-ant-upstream-reload-test-0001';
const ADMIN = 'admin-token-reload-test-000000001';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const yaml = (upstreams: string, org: string, more = '') => `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./sluice.db
admin: { tokens: ["${ADMIN}"] }
prices:
  claude-test: { input: 1, output: 1, cacheWrite: 1, cacheRead: 1 }
upstreams:
${upstreams}
orgs:
  acme: ${org}
${more}`;

const client = (r: Running) => new Anthropic({ baseURL: r.sluice.gateway.url, apiKey: r.key, maxRetries: 0 });
const ask = (r: Running) =>
  client(r).messages.create({
    model: 'claude-test',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'hi' }],
  });

async function start(text: string, extra = {}): Promise<Running> {
  const r = await startFromFile(text, { UP }, extra);
  cleanups.push(() => r.close());
  return r;
}

describe('reload', () => {
  it('a budget changed while a request is in flight: it finishes under its own, the next is refused', async () => {
    const gated = await startGatedUpstream(UP);
    cleanups.push(() => gated.close());
    const upstreams = `  main: { provider: anthropic, baseUrl: ${gated.url}, apiKey: "\${UP}" }`;
    const r = await start(yaml(upstreams, '{ upstream: main, budgets: { perUser: { daily: 100 } } }'));
    const held = gated.hold();
    const inFlight = ask(r);
    await held.arrived;

    await r.write(yaml(upstreams, '{ upstream: main, budgets: { perUser: { daily: 0.00001 } } }'));
    const outcome = await r.sluice.reload('test');
    assert.equal(outcome.result, 'applied');

    // New requests are checked against the new budget at once.
    const refused = await ask(r).catch((e: unknown) => e);
    assert.ok(refused instanceof Anthropic.RateLimitError, String(refused));
    assert.match(refused.message, /budget/i);

    held.release();
    const answer = await inFlight;
    assert.equal(answer.content[0]?.type === 'text' && answer.content[0].text, 'ok');

    const log = await r.sluice.store.listAdminLog();
    const changed = log.find((e) => e.action === 'org.policy.changed' && e.target === 'acme');
    assert.deepEqual(changed?.details, {
      changed: { budgets: { from: { perUser: { daily: 100 } }, to: { perUser: { daily: 0.00001 } } } },
    });
    assert.equal(changed?.actor, 'config:sluice.yaml');
  });

  it('a bad file keeps the running config and says why on one line, with no secret in it', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const upstreams = `  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }`;
    const r = await start(yaml(upstreams, '{ upstream: main }'));
    const secret = 'sk-ant-literal-secret-in-a-broken-line';
    await r.write(
      yaml(
        `  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "${secret} }`,
        '{ upstream: main }',
      ),
    );
    const outcome = await r.sluice.reload('SIGHUP');
    assert.equal(outcome.result, 'rejected');
    const line = r.logs.find((l) => l.level === 'error' && l.msg.startsWith('configuration not reloaded'));
    assert.ok(line, JSON.stringify(r.logs));
    assert.ok(!line.msg.includes('\n'), line.msg);
    assert.ok(!JSON.stringify(line).includes(secret), line.msg);
    assert.match(
      line.msg,
      /^configuration not reloaded \(SIGHUP\), the running one stays: .*sluice\.yaml: not valid YAML/,
    );

    await r.write(yaml(upstreams, '{ upstream: nowhere }'));
    const invalid = await r.sluice.reload('SIGHUP');
    assert.equal(
      invalid.result === 'rejected' && invalid.problem,
      `${r.file}: invalid configuration; orgs.acme.upstream: names upstream "nowhere", which is not defined under upstreams (have: main)`,
    );
    // Still served under the running configuration.
    const answer = await ask(r);
    assert.equal(answer.type, 'message');
    assert.equal(r.sluice.gateway.config.orgs.acme?.upstream, 'main');
  });

  it('settings outside the orgs: logged with old and new values, secrets redacted, listeners wait for a restart', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const literal = 'sk-ant-literal-upstream-key-000000000';
    const up = (k: string) =>
      `  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "${k}", timeoutMs: 5000 }`;
    const r = await start(yaml(up('${UP}'), '{ upstream: main }'));
    const port = r.sluice.gateway.port;
    await r.write(
      yaml(up(literal), '{ upstream: main }')
        .replace('port: 0', 'port: 1')
        .replace(ADMIN, 'another-admin-token-000000000002')
        .replace('timeoutMs: 5000', 'timeoutMs: 7000'),
    );
    const outcome = await r.sluice.reload('test');
    assert.deepEqual(outcome, {
      result: 'applied',
      changed: ['upstreams.main.apiKey', 'upstreams.main.timeoutMs', 'admin.tokens'],
      waitingForRestart: ['server.port'],
    });
    const entry = (await r.sluice.store.listAdminLog()).find((e) => e.action === 'config.reloaded');
    assert.deepEqual(entry?.details, {
      changed: [
        { path: 'upstreams.main.apiKey', from: '[redacted]', to: '[redacted]' },
        { path: 'upstreams.main.timeoutMs', from: 5000, to: 7000 },
        { path: 'admin.tokens', from: '[redacted]', to: '[redacted]' },
      ],
      waitingForRestart: [{ path: 'server.port', from: 0, to: 1 }],
    });
    const all = JSON.stringify(await r.sluice.store.listAdminLog()) + JSON.stringify(r.logs);
    for (const s of [UP, literal, ADMIN, 'another-admin-token']) assert.ok(!all.includes(s), s);
    assert.equal(r.sluice.gateway.port, port);
    assert.ok(r.logs.some((l) => l.level === 'warn' && /server\.port changed .* next restart/.test(l.msg)));
    // The upstream now gets the new literal key: the stand-in refuses it, which shows it took.
    const e = await ask(r).catch((err: unknown) => err);
    assert.ok(e instanceof Anthropic.APIError && e.status >= 400, String(e));
  });

  it('the file watch reloads a file written in place, and one renamed over it', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const upstreams = `  main: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }`;
    const r = await start(yaml(upstreams, '{ upstream: main }'), { watchFile: 'sluice.yaml' });
    // The watch is on the file's folder: startFromFile's deps name the file relative to it.
    const reloaded = (n: number) =>
      until(
        async () => (r.logs.filter((l) => l.msg === 'configuration reloaded').length >= n ? true : undefined),
        `reload ${n}`,
      );
    await r.write(yaml(upstreams, '{ upstream: main, zdr: true }'));
    await reloaded(1);
    assert.equal(r.sluice.gateway.config.orgs.acme?.zdr, true);
    const tmp = `${r.file}.new`;
    await writeFile(tmp, yaml(upstreams, '{ upstream: main, zdr: false }'));
    await rename(tmp, r.file);
    await reloaded(2);
    assert.equal(r.sluice.gateway.config.orgs.acme?.zdr, false);
  });

  it('reload under load: 20 reloads (some of bad files) under a loop of requests; none fails, none half-loaded', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    // Two configurations whose upstream names differ: a request checked against half of each would
    // name an upstream its adapters do not have (or the record would name the wrong one).
    const configA = yaml(
      `  up-a: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }`,
      '{ upstream: up-a, budgets: { perUser: { daily: 1000 } } }',
    );
    const configB = yaml(
      `  up-b: { provider: anthropic, baseUrl: ${standin.url}, apiKey: "\${UP}" }`,
      '{ upstream: up-b, guard: { secrets: block }, budgets: { org: { daily: 1000 } } }',
    );
    const r = await start(configA);
    let stop = false;
    const results: { ok: boolean; detail: string }[] = [];
    const worker = async () => {
      while (!stop) {
        try {
          const m = await ask(r);
          results.push({ ok: m.type === 'message', detail: m.id });
        } catch (err) {
          results.push({ ok: false, detail: String(err) });
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      await r.write(i % 5 === 4 ? 'orgs: [not, a, map' : i % 2 === 0 ? configB : configA);
      outcomes.push((await r.sluice.reload(`load ${i}`)).result);
      // Let some requests run under each configuration.
      const before = results.length;
      while (results.length < before + 3) await new Promise((res) => setImmediate(res));
    }
    stop = true;
    await Promise.all(workers);
    const failed = results.filter((x) => !x.ok);
    assert.deepEqual(failed, [], `${failed.length} of ${results.length} failed`);
    assert.equal(outcomes.filter((o) => o === 'rejected').length, 4);
    // A good file after a bad one is the configuration already running: nothing to apply.
    assert.equal(outcomes.filter((o) => o === 'applied').length, 13);
    assert.equal(outcomes.filter((o) => o === 'unchanged').length, 3);
    const records = await until(async () => {
      const all = await r.sluice.store.queryAudit({ limit: 100_000 });
      return all.length >= results.length ? all : undefined;
    }, 'every record');
    const upstreams = new Set(records.map((x) => x.upstream));
    assert.deepEqual([...upstreams].sort(), ['up-a', 'up-b']);
    assert.ok(results.length >= 60, `${results.length} requests`);
  });
});
