/**
 * Which hosts the real Claude Code CLI tries to reach, per model route and per variable setting,
 * recorded by the egress proxy with a policy that allows everything (so nothing is refused by
 * policy and every attempt is recorded), and checked against docs/egress-hosts.md so that the
 * document cannot silently go stale.
 *
 * Without internet access, allowed attempts end as `dns-failure` (or `private-address` for
 * link-local addresses); the host is recorded either way, which is all this test needs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/control/config.js';
import { createKey } from '../../src/control/keys.js';
import { startEgressProxy } from '../../src/egress/proxy.js';
import { presetsFor } from '../../src/egress/policy.js';
import { startHarness, type Harness } from '../../src/gateway/testing/harness.js';
import type { EgressRecord } from '../../src/store/types.js';

const claude = resolve('node_modules/.bin/claude');
const docPath = new URL('../../docs/egress-hosts.md', import.meta.url);
const pkgPath = new URL('../../package.json', import.meta.url);
/** A run still going after this long is stopped (the Bedrock route retries for minutes). */
const DEADLINE_MS = 60_000;

interface Setting {
  id: string;
  /** The section of docs/egress-hosts.md that lists this setting's hosts. */
  heading: string;
  /** The model route is the gateway (ANTHROPIC_BASE_URL and a Sluice key), or a cloud provider. */
  gateway: boolean;
  env: Record<string, string>;
}

const SETTINGS: Setting[] = [
  {
    id: 'default',
    heading: '## 1. Anthropic route through the gateway, defaults',
    gateway: true,
    env: {},
  },
  {
    id: 'no-telemetry',
    heading: '## 2. Anthropic route, `DISABLE_TELEMETRY=1`',
    gateway: true,
    env: { DISABLE_TELEMETRY: '1' },
  },
  {
    id: 'no-error-reporting',
    heading: '## 3. Anthropic route, `DISABLE_ERROR_REPORTING=1`',
    gateway: true,
    env: { DISABLE_ERROR_REPORTING: '1' },
  },
  {
    id: 'no-nonessential',
    heading: '## 4. Anthropic route, `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`',
    gateway: true,
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
  },
  {
    id: 'bedrock',
    heading: '## 5. Bedrock route',
    gateway: false,
    env: {
      CLAUDE_CODE_USE_BEDROCK: '1',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
  },
  {
    id: 'vertex',
    heading: '## 6. Vertex route',
    gateway: false,
    env: { CLAUDE_CODE_USE_VERTEX: '1', CLOUD_ML_REGION: 'us-east5', ANTHROPIC_VERTEX_PROJECT_ID: 'test' },
  },
];

interface Run {
  setting: Setting;
  user: string;
  /** Date.now() when the client was started. */
  startedAt: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  records: EgressRecord[];
}

const cleanups: (() => Promise<unknown>)[] = [];
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c();
});

/** `claude -p PROMPT` with exactly `env` (plus PATH); stopped with SIGTERM (then SIGKILL) after `deadlineMs`. */
function runClient(
  args: string[],
  opts: { cwd: string; env: Record<string, string>; deadlineMs: number },
): Promise<Omit<Run, 'setting' | 'user' | 'startedAt' | 'records'>> {
  const child = spawn(claude, args, {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...opts.env },
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  let timedOut = false;
  let force: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    force = setTimeout(() => child.kill('SIGKILL'), 5_000);
  }, opts.deadlineMs);
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(force);
      children.delete(child);
      resolveRun({ code, signal, timedOut, stdout, stderr });
    });
  });
}

/** The `host:port` names in backticks in the section of `doc` under `heading` (up to the next heading of its level or above). */
function documentedHosts(doc: string, heading: string): Set<string> {
  const lines = doc.split('\n');
  let fenced = false;
  const headings = lines.map((l) => {
    if (/^\s*(```|~~~)/.test(l)) fenced = !fenced;
    return fenced ? 0 : (/^(#{1,6}) /.exec(l)?.[1]?.length ?? 0);
  });
  const start = lines.findIndex((l, i) => headings[i] !== 0 && l.trim() === heading);
  assert.notEqual(start, -1, `docs/egress-hosts.md has a section "${heading}"`);
  const level = headings[start] as number;
  const next = headings.findIndex((h, i) => i > start && h !== 0 && h <= level);
  const body = lines.slice(start + 1, next === -1 ? undefined : next).join('\n');
  return new Set([...body.matchAll(/`([^`\s]+:\d+)`/g)].map((m) => m[1] as string));
}

const nonessential = (r: EgressRecord) => presetsFor(r.host, r.port).includes('claude-code-nonessential');

describe('the hosts the real Claude Code CLI contacts, per route and setting (docs/egress-hosts.md)', () => {
  const runs = new Map<string, Run>();
  let all: EgressRecord[] = [];
  let h: Harness;

  before(
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-cceh-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      h = await startHarness('{ upstream: anthropic }');
      cleanups.push(() => h.close());
      const config = parseConfig(
        `egress: { port: 0 }\nupstreams: { anthropic: { provider: anthropic, baseUrl: "${h.standin.url}", apiKey: k } }\norgs:\n  acme: { upstream: anthropic, egress: { allow: ["*"] } }\n`,
        'test.yaml',
        {},
      );
      const proxy = await startEgressProxy({ config, store: h.store });
      let proxyOpen = true;
      cleanups.push(() => (proxyOpen ? proxy.close() : Promise.resolve()));
      // One key (one user) per setting, so the records of runs made side by side can be told apart.
      const results = await Promise.all(
        SETTINGS.map(async (setting) => {
          const user = `${setting.id}@acme.test`;
          const { key } = await createKey(h.store, { org: 'acme', user, role: 'member' }, new Date());
          const home = join(dir, setting.id, 'home');
          const cwd = join(dir, setting.id, 'project');
          await Promise.all([mkdir(home, { recursive: true }), mkdir(cwd, { recursive: true })]);
          const viaProxy = `http://me:${key}@127.0.0.1:${proxy.port}`;
          const env: Record<string, string> = {
            HOME: home,
            HTTPS_PROXY: viaProxy,
            HTTP_PROXY: viaProxy,
            NO_PROXY: '127.0.0.1,localhost',
            ...(setting.gateway ? { ANTHROPIC_BASE_URL: h.gateway.url, ANTHROPIC_API_KEY: key } : {}),
            ...setting.env,
          };
          // Cloud routes use the client's default model for the provider.
          const args = ['-p', 'say hi', ...(setting.gateway ? ['--model', 'claude-test'] : [])];
          const startedAt = Date.now();
          const run = await runClient(args, { cwd, env, deadlineMs: DEADLINE_MS });
          return { setting, user, startedAt, ...run };
        }),
      );
      // Every client has exited: a refused attempt was recorded before the client got its 403, an
      // allowed tunnel when it closed; closing the proxy closes (and records) any tunnel left.
      await proxy.close();
      proxyOpen = false;
      all = await h.store.queryEgress({ limit: 100_000 });
      for (const r of results)
        runs.set(r.setting.id, {
          ...r,
          records: all.filter((e) => e.user === r.user).sort((a, b) => a.time.localeCompare(b.time)),
        });
      for (const r of runs.values()) {
        // Each host and outcome: how many attempts, and when (seconds after the client started).
        const seen = new Map<string, string[]>();
        for (const e of r.records) {
          const what = `${e.host}:${e.port} ${e.decision} (${e.rule})`;
          const at = ((Date.parse(e.time) - r.startedAt) / 1000).toFixed(1);
          seen.set(what, [...(seen.get(what) ?? []), `+${at}s`]);
        }
        const list = [...seen].map(([what, at]) => `${at.length} x ${what} at ${at.join(' ')}`).join(', ');
        process.stderr.write(
          `${r.setting.id}: exit ${r.code ?? r.signal}${r.timedOut ? ' (stopped at the deadline)' : ''}; ${r.records.length} attempt(s): ${list || 'none'}\n`,
        );
      }
    },
    { timeout: DEADLINE_MS + 40_000 },
  );

  const run = (id: string) => runs.get(id) as Run;
  const hosts = (id: string) => new Set(run(id).records.map((e) => `${e.host}:${e.port}`));

  it('records every attempt under the key of the run that made it', () => {
    const users = new Set([...runs.values()].map((r) => r.user));
    for (const e of all) {
      assert.ok(users.has(e.user ?? ''), `${e.host}:${e.port} recorded for ${e.user}`);
      assert.equal(e.org, 'acme');
    }
    // allow: ["*"] refuses nothing by policy; only what cannot be reached ends as a refusal.
    for (const e of all)
      if (e.decision === 'deny') assert.match(e.rule, /^(dns-failure|private-address)$/, e.host);
      else assert.equal(e.rule, 'allow:*', e.host);
  });

  it('on the Anthropic route, every run is answered by the gateway and the only other host is api.anthropic.com', () => {
    for (const id of ['default', 'no-telemetry', 'no-error-reporting', 'no-nonessential']) {
      const r = run(id);
      assert.equal(r.code, 0, `${id}: ${r.stderr}`);
      assert.equal(r.stdout.trim().split('\n').pop(), 'Hello from the stand-in.', id);
      for (const target of hosts(id)) assert.equal(target, 'api.anthropic.com:443', id);
    }
  });

  it('defaults: the client contacts api.anthropic.com although the model route is the gateway', () => {
    assert.ok(hosts('default').has('api.anthropic.com:443'), 'api.anthropic.com was tried');
    assert.equal(run('default').records.filter(nonessential).length, 0, 'no Datadog, Statsig or Sentry host');
  });

  it('DISABLE_TELEMETRY=1 reduces but does not end the connections to api.anthropic.com', () => {
    assert.ok(hosts('no-telemetry').has('api.anthropic.com:443'), 'api.anthropic.com was still tried');
    assert.ok(
      run('no-telemetry').records.length < run('default').records.length,
      `${run('no-telemetry').records.length} attempts with the opt-out, ${run('default').records.length} without`,
    );
  });

  it('DISABLE_ERROR_REPORTING=1 still contacts api.anthropic.com', () => {
    assert.ok(hosts('no-error-reporting').has('api.anthropic.com:443'));
  });

  it('CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1: nothing leaves but the model traffic to the gateway', () => {
    const r = run('no-nonessential');
    assert.equal(r.records.filter(nonessential).length, 0, 'no non-essential host');
    assert.deepEqual([...hosts('no-nonessential')], [], 'no host at all through the proxy');
  });

  // On every setting but 4, the client refreshes its plugin marketplace (api.anthropic.com) after a
  // random delay: in a run that lasts long enough, that one connection can appear on any route.
  const marketplaceRefresh = 'api.anthropic.com:443';

  it('Bedrock route: the client goes to Bedrock in AWS_REGION, and to no telemetry host', () => {
    assert.ok(hosts('bedrock').has('bedrock-runtime.us-east-1.amazonaws.com:443'), 'bedrock-runtime tried');
    for (const target of hosts('bedrock'))
      if (target !== marketplaceRefresh)
        assert.match(target, /^bedrock(-runtime)?\.us-east-1\.amazonaws\.com:443$/);
  });

  it('Vertex route without Google credentials: the client asks the GCE metadata server, and reaches no Vertex host', () => {
    const got = hosts('vertex');
    assert.ok(
      got.has('169.254.169.254:80') || got.has('metadata.google.internal.:80'),
      `the metadata server was asked (${[...got].join(', ')})`,
    );
    for (const target of got)
      if (target !== marketplaceRefresh)
        assert.match(target, /^(169\.254\.169\.254|metadata\.google\.internal\.?):80$/);
  });

  it('docs/egress-hosts.md lists, under each setting, every host that setting contacted', async () => {
    const [doc, pkg] = await Promise.all([readFile(docPath, 'utf8'), readFile(pkgPath, 'utf8')]);
    const version = (JSON.parse(pkg) as { devDependencies: Record<string, string> }).devDependencies[
      '@anthropic-ai/claude-code'
    ];
    assert.ok(doc.includes(`Claude Code ${version}`), `the document describes the pinned client ${version}`);
    for (const setting of SETTINGS) {
      const documented = documentedHosts(doc, setting.heading);
      for (const target of hosts(setting.id))
        assert.ok(documented.has(target), `${target} (${setting.id}) is listed under "${setting.heading}"`);
    }
  });

  it('docs/egress-hosts.md names, for each host in its tables, the presets that match it today', async () => {
    const doc = await readFile(docPath, 'utf8');
    let rows = 0;
    for (const m of doc.matchAll(/^\|\s*`([^`\s]+):(\d+)`\s*\|[^|\n]*\|([^|\n]*)\|/gm)) {
      const [, host, port, cell] = m as unknown as [string, string, string, string];
      const written = [...cell.matchAll(/`([a-z-]+)`/g)].map((p) => p[1]).sort();
      assert.deepEqual(written, presetsFor(host, Number(port)).sort(), `${host}:${port}: "${cell.trim()}"`);
      rows++;
    }
    assert.ok(rows > 0, 'the document has host tables');
  });
});
