import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runAudit, type AuditOptions } from './audit.js';
import { coversDotEnv } from './checks.js';
import { CANARY, fixture, NOW, testDeps, type Fixture } from './testing/machine.js';
import { transcriptLines } from './testing/transcript.js';
import type { Finding } from './types.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));
const make = async (env: Record<string, string> = {}) => {
  const f = await fixture(env);
  fixtures.push(f);
  return f;
};
const audit = (f: Fixture, options: AuditOptions = {}) => runAudit(f.machine, testDeps, options);
const ids = (findings: Finding[]) => findings.map((x) => x.id);
const only = (findings: Finding[], id: string) => findings.filter((x) => x.id === id);
/** Managed settings that silence the configuration-wide findings, so a test sees only what it planted. */
const QUIET = {
  env: { DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1' },
  permissions: { deny: ['Read(./.env)'], disableBypassPermissionsMode: 'disable' },
};
const quiet = async (env: Record<string, string> = {}) => {
  const f = await make(env);
  await f.write('managed/managed-settings.json', QUIET);
  return f;
};
const TRANSCRIPT = 'home/.claude/projects/-home-dev-app/7f3c2a10-5b1e-4c8e-9a77-0d2f6b1e4c55.jsonl';

describe('runAudit findings', () => {
  it('a quiet machine has no findings', async () => {
    const f = await quiet();
    const r = await audit(f);
    assert.deepEqual(r.findings, []);
  });

  it('secret-in-transcript and pii-in-transcript: file, line, rule, masked preview', async () => {
    const f = await quiet();
    await f.write(TRANSCRIPT, transcriptLines().join('\n') + '\n', 1);
    const r = await audit(f);
    const secrets = only(r.findings, 'secret-in-transcript');
    assert.deepEqual(secrets.map((s) => s.rule).sort(), ['aws-access-key', 'github-pat']);
    for (const s of secrets) {
      assert.equal(s.severity, 'high');
      assert.equal(s.file, join(f.root, TRANSCRIPT));
      assert.equal(s.line, 3);
      assert.match(s.message, /line 3/);
      assert.doesNotMatch(s.message, new RegExp(`${CANARY.aws}|${CANARY.github}`));
    }
    const pii = only(r.findings, 'pii-in-transcript');
    assert.equal(pii.length, 1);
    assert.equal(pii[0]!.severity, 'medium');
    assert.equal(pii[0]!.line, 4);
    assert.equal(r.local.transcripts.files, 1);
  });

  it('stale-transcript: older than the effective cleanupPeriodDays (default 30)', async () => {
    const f = await quiet();
    await f.write('home/.claude/projects/-a/old.jsonl', '{"type":"summary"}\n', 45);
    await f.write('home/.claude/projects/-a/new.jsonl', '{"type":"summary"}\n', 2);
    const r = await audit(f);
    assert.deepEqual(ids(r.findings), ['stale-transcript']);
    assert.equal(r.findings[0]!.file, join(f.root, 'home/.claude/projects/-a/old.jsonl'));
    await f.write('home/.claude/settings.json', { cleanupPeriodDays: 60 });
    assert.deepEqual(ids((await audit(f)).findings), []);
  });

  it('secret-in-settings: env literals, apiKeyHelper, permission rules, MCP env; all masked', async () => {
    const f = await quiet();
    await f.write('project/.claude/settings.json', {
      env: { ANTHROPIC_API_KEY: 'gw-key-1234567890', SAFE: '${VAR}' },
    });
    await f.write('home/.claude/settings.json', { apiKeyHelper: `echo ${CANARY.anthropic}` });
    await f.write('project/.claude/settings.local.json', {
      permissions: {
        allow: [`Bash(curl -H "Authorization: token ${CANARY.github}" https://api.github.com)`],
      },
    });
    await f.write('project/.mcp.json', {
      mcpServers: { gh: { command: 'gh-mcp', env: { GITHUB_TOKEN: CANARY.github } } },
    });
    const r = await audit(f, { policy: { rules: { mcpAllowlist: ['gh'] }, file: 'p.yaml' } });
    const s = only(r.findings, 'secret-in-settings');
    assert.deepEqual(s.map((x) => `${x.rule}@${x.file!.slice(f.root.length + 1)}`).sort(), [
      'anthropic-api-key@home/.claude/settings.json',
      'credential-variable@project/.claude/settings.json',
      'github-pat@project/.claude/settings.local.json',
      'github-pat@project/.mcp.json',
    ]);
    for (const x of s) {
      assert.equal(x.severity, 'high');
      for (const canary of [...Object.values(CANARY), 'gw-key-1234567890'])
        assert.ok(!x.message.includes(canary));
    }
    assert.match(s.find((x) => x.rule === 'credential-variable')!.message, /committed/);
  });

  it('mcp-third-party: one per active server, naming scope and file; none for allowlisted servers', async () => {
    const f = await quiet();
    await f.write('home/.claude.json', {
      mcpServers: { notes: { type: 'http', url: 'https://notes.example/mcp?token=abc' } },
      projects: { [f.project]: { mcpServers: { db: { command: 'db-mcp' } } } },
    });
    const r = await audit(f);
    const m = only(r.findings, 'mcp-third-party');
    assert.deepEqual(
      m
        .map((x) =>
          x.message
            .match(/"(\w+)".*in (\w+) scope/)!
            .slice(1)
            .join(':'),
        )
        .sort(),
      ['db:local', 'notes:user'],
    );
    assert.ok(m.every((x) => x.file === join(f.home, '.claude.json') && x.severity === 'medium'));
    assert.ok(m.every((x) => !x.message.includes('token=abc')));
    const allowed = await audit(f, { policy: { rules: { mcpAllowlist: ['db', 'notes'] }, file: 'p.yaml' } });
    assert.deepEqual(only(allowed.findings, 'mcp-third-party'), []);
  });

  it('secrets-readable: no deny rule for .env; equivalents accepted', async () => {
    const f = await make();
    await f.write('managed/managed-settings.json', {
      ...QUIET,
      permissions: { disableBypassPermissionsMode: 'disable' },
    });
    assert.deepEqual(ids((await audit(f)).findings), ['secrets-readable']);
    await f.write('project/.claude/settings.json', { permissions: { deny: ['Read(**/.env)'] } });
    assert.deepEqual(ids((await audit(f)).findings), []);
    for (const rule of [
      'Read(./.env)',
      'Read(.env)',
      'Read(**/.env*)',
      'Read(./.env.*)',
      'Read(//**/.env)',
      'Read',
      'Read(**)',
    ]) {
      assert.ok(coversDotEnv(rule), rule);
    }
    for (const rule of ['Read(./secrets/**)', 'Edit(./.env)', 'Bash(cat .env)', 'Read(./src/**)'])
      assert.ok(!coversDotEnv(rule), rule);
  });

  it('queued-telemetry: files waiting under ~/.claude/telemetry', async () => {
    const f = await quiet();
    await f.write('home/.claude/telemetry/1p_failed_events.s1.e1.json', '[{"event":"x"}]');
    const r = await audit(f);
    assert.deepEqual(ids(r.findings), ['queued-telemetry']);
    assert.equal(r.findings[0]!.severity, 'low');
  });

  it('telemetry-on: from the engine flows on the Anthropic API only', async () => {
    const f = await make();
    await f.write('managed/managed-settings.json', { permissions: QUIET.permissions });
    const r = await audit(f);
    assert.deepEqual(ids(r.findings), ['telemetry-on']);
    assert.match(r.findings[0]!.message, /telemetry -> statsig, error-reporting -> sentry/);
    f.machine.env.CLAUDE_CODE_USE_BEDROCK = '1';
    assert.deepEqual(ids((await audit(f)).findings), []);
  });

  it('bypass-permissions-allowed: medium without the managed switch, high for defaultMode bypassPermissions', async () => {
    const f = await make();
    await f.write('managed/managed-settings.json', {
      env: QUIET.env,
      permissions: { deny: ['Read(./.env)'] },
    });
    await f.write('home/.claude/settings.json', { permissions: { disableBypassPermissionsMode: 'disable' } });
    let r = await audit(f);
    assert.deepEqual(
      r.findings.map((x) => `${x.id}:${x.severity}`),
      ['bypass-permissions-allowed:medium'],
    );
    assert.match(r.findings[0]!.message, /only in a user file/);
    await f.write('project/.claude/settings.local.json', {
      permissions: { defaultMode: 'bypassPermissions' },
    });
    r = await audit(f);
    assert.deepEqual(
      r.findings.map((x) => `${x.id}:${x.severity}`),
      ['bypass-permissions-allowed:high', 'bypass-permissions-allowed:medium'],
    );
    assert.equal(r.findings[0]!.file, join(f.project, '.claude/settings.local.json'));
  });

  it('history-unswept: low when older than retention, medium with secrets (which are also reported by line)', async () => {
    const f = await quiet();
    const old = NOW.getTime() - 90 * 86_400_000;
    await f.write(
      'home/.claude/history.jsonl',
      `{"display":"hello","pastedContents":{},"timestamp":${old},"project":"/x"}\n`,
    );
    let r = await audit(f);
    assert.deepEqual(
      r.findings.map((x) => `${x.id}:${x.severity}`),
      ['history-unswept:low'],
    );
    await f.write(
      'home/.claude/history.jsonl',
      `{"display":"hello","timestamp":${NOW.getTime()}}\n{"display":"use ${CANARY.aws}","timestamp":${NOW.getTime()}}\n`,
    );
    r = await audit(f);
    assert.deepEqual(
      r.findings.map((x) => `${x.id}:${x.severity}`),
      ['secret-in-transcript:high', 'history-unswept:medium'],
    );
    assert.equal(r.findings[0]!.line, 2);
    assert.match(r.findings[0]!.message, /prompt history/);
  });

  it('login-forced-with-gateway: forceLoginMethod with an API key or a gateway URL', async () => {
    const f = await make({ ANTHROPIC_API_KEY: 'sk-local-123456789' });
    await f.write('managed/managed-settings.json', { ...QUIET, forceLoginMethod: 'claudeai' });
    let r = await audit(f);
    assert.deepEqual(ids(r.findings), ['login-forced-with-gateway']);
    assert.equal(r.findings[0]!.file, join(f.managed, 'managed-settings.json'));
    delete f.machine.env.ANTHROPIC_API_KEY;
    assert.deepEqual(ids((await audit(f)).findings), []);
    f.machine.env.ANTHROPIC_BASE_URL = 'https://user:pw@gw.corp.example/';
    r = await audit(f);
    assert.deepEqual(ids(r.findings), ['login-forced-with-gateway']);
    assert.ok(!r.findings[0]!.message.includes('pw@'));
  });

  it('states the assumed plan: api when a key, token, helper or gateway is configured, else pro', async () => {
    const f = await quiet();
    let r = await audit(f);
    assert.equal(r.profile.plan, 'pro');
    assert.match(r.assumptions[0]!, /plan assumed "pro"/);
    f.machine.env.ANTHROPIC_AUTH_TOKEN = 'tok-1234567890';
    r = await audit(f);
    assert.equal(r.profile.plan, 'api');
    assert.match(r.assumptions[0]!, /plan assumed "api" because ANTHROPIC_AUTH_TOKEN/);
    assert.notEqual(r.profile.env!.ANTHROPIC_AUTH_TOKEN, 'tok-1234567890');
    r = await audit(f, { flags: { plan: 'team', zdr: true } });
    assert.equal(r.profile.plan, 'team');
    assert.equal(r.profile.zdr, true);
    assert.ok(!r.assumptions.some((a) => a.startsWith('plan')));
  });

  it('fingerprints are stable across runs and differ between places', async () => {
    const f = await quiet();
    await f.write(TRANSCRIPT, transcriptLines().join('\n') + '\n', 1);
    await f.write('home/.claude/projects/-other/s.jsonl', transcriptLines().join('\n') + '\n', 1);
    const a = await audit(f);
    const b = await audit(f);
    assert.deepEqual(
      a.findings.map((x) => x.fingerprint),
      b.findings.map((x) => x.fingerprint),
    );
    assert.equal(new Set(a.findings.map((x) => x.fingerprint)).size, a.findings.length);
  });
});
