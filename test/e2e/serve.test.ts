import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { cleanEnv, createKeyCli, serve as serveProcess, sluice } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function serve(cwd: string, args: string[], env: Record<string, string>) {
  const served = await serveProcess(cwd, args, env);
  cleanups.push(() => served.stop());
  return served;
}

describe('sluice serve (a real process)', () => {
  it('on a fresh machine without ANTHROPIC_API_KEY: says which variable to set, exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const r = sluice(dir, ['serve']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /ANTHROPIC_API_KEY is not set\. Set the upstream key the gateway will hold \(export ANTHROPIC_API_KEY=sk-ant-\.\.\.\)/,
    );
  });

  it('on a fresh machine: writes the starter config and a first key, prints the two lines, answers /healthz', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const upstreamKey = `sk-ant-${randomBytes(10).toString('hex')}`;
    const { lines, url } = await serve(dir, ['--port', '0'], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
    await new Promise<void>((r) =>
      lines.some((l) => l.startsWith('export ANTHROPIC_API_KEY=')) ? r() : setImmediate(r),
    );
    assert.ok(lines.includes('wrote ./sluice.yaml (starter configuration)'));
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const config = await readFile(join(dir, 'sluice.yaml'), 'utf8');
    assert.ok(
      config.includes('apiKey: ${ANTHROPIC_API_KEY}') && !config.includes(upstreamKey),
      'the key stays in the env',
    );
  });

  it('first run: a member key for the shell, the admin key apart; .sluice 0700 and every file in it 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // `sluice init` first, as the docs suggest: the first serve still makes the first keys.
    assert.equal(sluice(dir, ['init']).status, 0);
    const served = await serve(dir, ['--port', '0'], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' }));
    await served.line(/^SLUICE_ADMIN_KEY=/);
    const out = served.lines.join('\n');
    const shell =
      /For a developer's shell \(org default, user dev@localhost, role member\):\nexport ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+\nexport ANTHROPIC_API_KEY=(sk-sluice-\w+)\n/.exec(
        out,
      );
    assert.ok(shell, out);
    assert.match(
      out,
      /\nFor you, the administrator \(org default, user admin@localhost, role admin: creates and revokes keys; keep it out of developers' shells\):\nSLUICE_ADMIN_KEY=sk-sluice-\w+$/,
    );
    const keys = JSON.parse(sluice(dir, ['keys', 'list', '--format', 'json']).stdout) as {
      user: string;
      role: string;
    }[];
    assert.deepEqual(keys.map((k) => [k.user, k.role]).sort(), [
      ['admin@localhost', 'admin'],
      ['dev@localhost', 'member'],
    ]);
    // Every folder and file written under .sluice while it runs (store, WAL, journal slot,
    // admin-log key and checkpoints).
    const written: { name: string; mode: string; want: string }[] = [];
    const walk = async (path: string, name: string): Promise<void> => {
      const info = await stat(path);
      written.push({ name, mode: (info.mode & 0o777).toString(8), want: info.isDirectory() ? '700' : '600' });
      if (info.isDirectory()) for (const e of await readdir(path)) await walk(join(path, e), `${name}/${e}`);
    };
    await walk(join(dir, '.sluice'), '.sluice');
    await served.stop();
    const names = written.map((w) => w.name);
    for (const f of ['.sluice/sluice.db', '.sluice/sluice.db-wal', '.sluice/admin-log.key'])
      assert.ok(names.includes(f), `${f} in ${names.join()}`);
    assert.ok(
      names.some((n) => /^\.sluice\/journal\/.+\/.+/.test(n)),
      `a journal file in ${names.join()}`,
    );
    assert.deepEqual(
      written.filter((w) => w.mode !== w.want),
      [],
      'folders 0700, files 0600',
    );
    assert.equal(
      ((await stat(join(dir, 'sluice.yaml'))).mode & 0o777).toString(8),
      '600',
      'it may hold admin tokens',
    );
    // A restart mints no more keys.
    const again = await serve(dir, ['--port', '0'], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' }));
    await again.stop();
    assert.ok(!again.lines.some((l) => l.startsWith('export ANTHROPIC_API_KEY=')));
  });

  it('signs every admin log entry (start-up, first key, admin API) to the checkpoint file and its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const served = await serve(dir, ['--port', '0'], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' }));
    const adminKey = (await served.line(/^SLUICE_ADMIN_KEY=/)).split('=')[1];
    const created = await fetch(`${served.url}/admin/v1/orgs/default/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'dev@acme.test', role: 'member' }),
    });
    assert.equal(created.status, 201);
    await served.stop();
    if (!served.child.stderr?.readableEnded) await once(served.child.stderr!, 'end');
    const file = (await readFile(join(dir, '.sluice/admin-log.checkpoints'), 'utf8')).trimEnd().split('\n');
    const fromFile = file.map((l) => JSON.parse(l) as { seq: number; covers: string });
    assert.deepEqual(
      fromFile.map((c) => [c.seq, c.covers]),
      [
        [1, 'entry'],
        [2, 'entry'],
        [3, 'entry'],
        [4, 'entry'],
      ],
      'org.created, the two first keys, the admin API key',
    );
    const logged = served
      .stderr()
      .trimEnd()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { msg: string; adminLogCheckpoint?: unknown; adminLogKey?: { id: string } },
      );
    assert.deepEqual(
      logged.flatMap((l) => l.adminLogCheckpoint ?? []),
      fromFile,
      'the log stream carries the same checkpoints',
    );
    assert.equal(logged[0]?.msg, 'admin log signing key created');
    await writeFile(join(dir, 'serve.log'), served.stderr());
    const verified = sluice(dir, ['admin-log', 'verify', '--checkpoints', 'serve.log', '--format', 'json']);
    assert.deepEqual(
      { status: verified.status, verdict: JSON.parse(verified.stdout) as unknown },
      { status: 0, verdict: { ok: true, entries: 4, checkpoints: 8, problems: [] } },
    );
  });

  it('relays the SDK through the process with a key from `sluice keys create`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const upstreamKey = `sk-ant-${randomBytes(10).toString('hex')}`;
    const standin = await startStandin(upstreamKey);
    cleanups.push(() => standin.close());
    await writeFile(
      join(dir, 'sluice.yaml'),
      `server: { host: 127.0.0.1, port: 0 }\nstorage: sqlite:./.sluice/sluice.db\nupstreams:\n  anthropic:\n    provider: anthropic\n    baseUrl: ${standin.url}\n    apiKey: \${ANTHROPIC_API_KEY}\norgs:\n  acme:\n    upstream: anthropic\n`,
    );
    const key = createKeyCli(dir, 'acme', 'dev@acme.test');
    const { url } = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
    const sdk = new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 });
    const final = await sdk.messages
      .stream({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    assert.equal(final.content[0]?.type === 'text' && final.content[0].text, 'Hello from the stand-in.');
    assert.equal(standin.seen[0]?.headers['x-api-key'], upstreamKey);
    const logs = sluice(dir, ['logs', '--format', 'json']);
    const rec = JSON.parse(logs.stdout.trim().split('\n')[0] as string) as Record<string, unknown>;
    assert.deepEqual(
      [rec.org, rec.user, rec.model, rec.status, rec.outputTokens],
      ['acme', 'dev@acme.test', 'claude-test', 200, 6],
    );
  });

  it('with egress: configured, serve also runs the egress proxy; sluice egress log prints its records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'sluice.yaml'),
      `server: { host: 127.0.0.1, port: 0 }\nstorage: sqlite:./.sluice/sluice.db\negress: { port: 0 }\nupstreams:\n  anthropic: { provider: anthropic, baseUrl: "http://127.0.0.1:9", apiKey: "\${ANTHROPIC_API_KEY}" }\norgs:\n  acme: { upstream: anthropic, profile: { plan: team, provider: anthropic, env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } }, egress: { allow: [package-registries] } }\n  open: { upstream: anthropic }\n`,
    );
    const key = createKeyCli(dir, 'acme', 'dev@acme.test');
    const served = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' }));
    const line = await served.line(/^sluice egress proxy listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const port = Number(/:(\d+) /.exec(line)?.[1]);
    const answer = await new Promise<string>((resolveAnswer, reject) => {
      const socket = netConnect(port, '127.0.0.1', () =>
        socket.write(
          `CONNECT api.anthropic.com:443 HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from(`me:${key}`).toString('base64')}\r\n\r\n`,
        ),
      );
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('end', () => resolveAnswer(got));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(answer, /rule deny:anthropic-api/, 'the org profile makes the API a deny rule');
    let rows: { host: string; decision: string; rule: string; org: string; user: string }[] = [];
    for (let i = 0; i < 200 && rows.length === 0; i++) {
      const log = sluice(dir, ['egress', 'log', '--format', 'json']);
      rows = log.stdout.trim()
        ? log.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as (typeof rows)[number])
        : [];
    }
    assert.deepEqual(
      rows.map((r) => [r.org, r.user, r.host, r.decision, r.rule]),
      [['acme', 'dev@acme.test', 'api.anthropic.com', 'deny', 'deny:anthropic-api']],
    );
    const report = sluice(dir, ['egress', 'report', '--format', 'json']);
    assert.equal(report.status, 0, report.stderr);
    assert.deepEqual((JSON.parse(report.stdout) as { hosts: unknown[] }).hosts, [
      {
        host: 'api.anthropic.com',
        port: 443,
        decision: 'deny',
        attempts: 1,
        bytesUp: 0,
        bytesDown: 0,
        rules: ['deny:anthropic-api'],
        presets: ['anthropic-api'],
        flows: ['inference', 'telemetry'],
        uses: ['the Claude API; also WebFetch domain check, feature flags, event logging, managed settings'],
      },
    ]);
    const policy = sluice(dir, ['egress', 'policy', '--format', 'json']);
    assert.equal(policy.status, 0, policy.stderr);
    const acme = (JSON.parse(policy.stdout) as { orgs: { org: string; allow: string[]; deny: string[] }[] })
      .orgs[0];
    assert.deepEqual(acme && [acme.org, acme.allow, acme.deny], [
      'acme',
      ['claude-code-essential', 'package-registries'],
      ['anthropic-api', 'claude-code-nonessential'],
    ]);
    const table = sluice(dir, ['egress', 'policy']);
    assert.match(
      table.stdout,
      /acme\s+deny\s+claude-code-nonessential\s+the profile turns telemetry and error reporting off/,
    );
    const unknown = sluice(dir, ['egress', 'policy', '--org', 'nope']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no org "nope" in \.\/sluice\.yaml \(have: acme, open\)/);
    // An org with neither a profile nor egress.allow is allowed everything, and serve says so.
    await served.stderrMatch(/org \\"open\\" has neither a profile nor egress\.allow/);
    assert.doesNotMatch(served.stderr(), /org \\"acme\\" has neither/);
  });
});
