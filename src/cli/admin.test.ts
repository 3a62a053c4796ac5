import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { auditRecord } from '../store/store.suite.js';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-admin-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs the real CLI in the temp dir, with no upstream key in the environment. */
function sluice(...args: string[]) {
  const env = { ...process.env };
  delete env.ANTHROPIC_API_KEY;
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sluice init, keys, logs, usage', () => {
  it('init writes the starter once and refuses to overwrite', () => {
    assert.deepEqual(sluice('init'), { code: 0, out: 'wrote ./sluice.yaml\n', err: '' });
    const again = sluice('init');
    assert.equal(again.code, 2);
    assert.equal(again.err, 'sluice: ./sluice.yaml already exists; pass --force to overwrite it\n');
  });

  it('keys create prints the key last, list never shows it, revoke works once', () => {
    const created = sluice('keys', 'create', '--org', 'default', '--user', 'dev@acme.test');
    assert.equal(created.code, 0, created.err);
    const key = created.out.trimEnd().split('\n').pop() ?? '';
    assert.match(key, /^sk-sluice-[A-Za-z0-9]{40}$/);

    const listed = sluice('keys', 'list', '--format', 'json');
    assert.equal(listed.code, 0);
    assert.ok(!listed.out.includes(key), 'list prints no key');
    const [rec] = JSON.parse(listed.out) as { id: string; user: string; hash?: string; revokedAt: null }[];
    assert.equal(rec?.user, 'dev@acme.test');
    assert.equal(rec?.hash, undefined, 'list prints no hash');

    assert.deepEqual(sluice('keys', 'revoke', rec?.id ?? ''), {
      code: 0,
      out: `revoked ${rec?.id}\n`,
      err: '',
    });
    const twice = sluice('keys', 'revoke', rec?.id ?? '');
    assert.equal(twice.code, 2);
    assert.equal(twice.err, `sluice: no live key with id ${rec?.id} (see sluice keys list)\n`);
  });

  it('keys create for an unknown org names the orgs that exist', () => {
    const r = sluice('keys', 'create', '--org', 'nope', '--user', 'x@y.z');
    assert.equal(r.code, 2);
    assert.equal(r.err, 'sluice: no org "nope" in ./sluice.yaml (orgs: default)\n');
  });

  it('keys create --expires sets an expiry that list shows; a bad or past value is refused', () => {
    const before = Date.now();
    const created = sluice('keys', 'create', '--org', 'default', '--user', 'ci@acme.test', '--expires', '8h');
    assert.equal(created.code, 0, created.err);
    assert.match(
      created.out,
      /^created key_[0-9a-f]+ for ci@acme\.test in default \(member, expires 20\d\d-/,
    );
    const listed = JSON.parse(sluice('keys', 'list', '--format', 'json').out) as {
      user: string;
      expiresAt: string | null;
    }[];
    const expiresAt = Date.parse(listed.find((k) => k.user === 'ci@acme.test')?.expiresAt ?? '');
    assert.ok(expiresAt >= before + 8 * 3600e3 && expiresAt <= Date.now() + 8 * 3600e3, 'eight hours on');
    const bad = sluice('keys', 'create', '--org', 'default', '--user', 'x@y.z', '--expires', 'soon');
    assert.deepEqual(bad, {
      code: 2,
      out: '',
      err: 'sluice: --expires: expected a duration (30m, 8h, 7d) or a date (2026-12-01), got "soon"\n',
    });
    const past = sluice('keys', 'create', '--org', 'default', '--user', 'x@y.z', '--expires', '2020-01-01');
    assert.deepEqual(past, {
      code: 2,
      out: '',
      err: 'sluice: --expires: 2020-01-01T00:00:00.000Z is not in the future\n',
    });
  });

  it('logs --format json prints one record per line, without content', async () => {
    const store = await openStore('sqlite:./.sluice/sluice.db', dir);
    await store.insertAudit(auditRecord({ id: 'r1', org: 'default', time: new Date().toISOString() }));
    await store.insertAudit(auditRecord({ id: 'r2', org: 'other', time: new Date().toISOString() }));
    await store.close();
    const r = sluice('logs', '--org', 'default', '--since', '1h', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    const rec = lines[0] ?? {};
    for (const field of [
      'org',
      'user',
      'model',
      'status',
      'inputTokens',
      'outputTokens',
      'cacheCreationInputTokens',
      'cacheReadInputTokens',
      'latencyMs',
      'guard',
      'sessionId',
    ]) {
      assert.ok(field in rec, field);
    }
    assert.equal(rec.requestContent, undefined);
    assert.ok(!r.out.includes('hello'), 'no content printed');
    const bad = sluice('logs', '--since', 'yesterday');
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err,
      'sluice: --since: expected a date (2026-11-01) or a duration (30m, 1h, 7d), got "yesterday"\n',
    );
  });

  it('usage sums requests, tokens and spend by user and model', async () => {
    const store = await openStore('sqlite:./.sluice/sluice.db', dir);
    const now = new Date().toISOString();
    for (const [id, user, model, costUsd] of [
      ['u1', 'a@acme.test', 'claude-sonnet-4-5', 0.5],
      ['u2', 'a@acme.test', 'claude-sonnet-4-5', 0.25],
      ['u3', 'b@acme.test', 'claude-opus-4-1', 2],
    ] as const)
      await store.insertAudit(auditRecord({ id, org: 'spend', user, model, costUsd, time: now }));
    await store.close();
    const json = sluice('usage', '--org', 'spend', '--since', '1h', '--format', 'json');
    assert.equal(json.code, 0, json.err);
    const parsed = JSON.parse(json.out) as {
      by: string;
      rows: { key: string; requests: number; costUsd: number }[];
    };
    assert.equal(parsed.by, 'user');
    assert.deepEqual(
      parsed.rows.map((r) => [r.key, r.requests, r.costUsd]),
      [
        ['b@acme.test', 1, 2],
        ['a@acme.test', 2, 0.75],
      ],
    );
    const byModel = sluice('usage', '--org', 'spend', '--by', 'model');
    assert.equal(byModel.code, 0, byModel.err);
    assert.match(byModel.out, /^MODEL +REQUESTS/);
    assert.match(byModel.out, /claude-sonnet-4-5 +2 +20 +40 +6 +8 +0\.7500/);
    assert.match(byModel.out, /total \$2\.7500 since /);
    const bad = sluice('usage', '--by', 'team');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--by.*team.*user, model, org/);
  });

  it('usage --by hour prints each UTC hour, oldest first', async () => {
    const store = await openStore('sqlite:./.sluice/sluice.db', dir);
    const hour = (back: number) => new Date(Date.now() - back * 3_600_000).toISOString();
    await Promise.all(
      [
        ['h1', hour(2), 1],
        ['h2', hour(2), 0.5],
        ['h3', hour(0), 0.25],
      ].map(([id, time, costUsd]) =>
        store.insertAudit(
          auditRecord({ id: id as string, org: 'hourly', time: time as string, costUsd: costUsd as number }),
        ),
      ),
    );
    await store.close();
    const r = sluice('usage', '--org', 'hourly', '--since', '3h', '--by', 'hour');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0] ?? '', /^HOUR +REQUESTS/);
    assert.match(lines[1] ?? '', new RegExp(`^${hour(2).slice(0, 13)}:00Z +2 .* 1\\.5000$`));
    assert.match(lines[2] ?? '', new RegExp(`^${hour(0).slice(0, 13)}:00Z +1 .* 0\\.2500$`));
  });

  it('usage --telemetry prints what Claude Code reported, per user and metric', async () => {
    const store = await openStore('sqlite:./.sluice/sluice.db', dir);
    const day = new Date().toISOString().slice(0, 10);
    await store.addTelemetry('tele', 'a@acme.test', [
      { sessionId: 's1', metric: 'claude_code.commit.count', day, value: 2, cumulative: false },
    ]);
    await store.close();
    const r = sluice('usage', '--telemetry', '--org', 'tele', '--since', '1d');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^USER +METRIC +VALUE +SESSIONS\n/);
    assert.match(r.out, /a@acme\.test +claude_code\.commit\.count +2 +1/);
  });

  it('a broken config fails with the key path', async () => {
    const r = sluice('keys', 'list', '--config', 'missing.yaml');
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'sluice: missing.yaml does not exist. Run sluice init to write a starter configuration, or pass --config <file>.\n',
    );
  });
});
