import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readConfiguration } from './audit.js';
import { locate } from './files.js';
import { effectiveEnv, mergeSettings, valueAt } from './settings.js';
import { fixture, type Fixture } from './testing/machine.js';
import type { SettingsLayer, SettingsScope } from './types.js';

const layer = (scope: SettingsScope, settings: Record<string, unknown>): SettingsLayer => ({
  scope,
  file: `/${scope}.json`,
  settings,
});
const ORDER: SettingsScope[] = ['user', 'project', 'local', 'managed'];

describe('mergeSettings', () => {
  for (let lo = 0; lo < ORDER.length; lo++) {
    for (let hi = lo + 1; hi < ORDER.length; hi++) {
      const low = ORDER[lo]!;
      const high = ORDER[hi]!;
      it(`${high} beats ${low} for scalars, whatever the file order`, () => {
        const eff = mergeSettings([
          layer(low, { cleanupPeriodDays: 5 }),
          layer(high, { cleanupPeriodDays: 9 }),
        ]);
        assert.equal(eff.values.cleanupPeriodDays, 9);
        assert.deepEqual(eff.origins.cleanupPeriodDays, { scope: high, file: `/${high}.json` });
      });
      it(`${high} and ${low} permission lists merge with provenance`, () => {
        const eff = mergeSettings([
          layer(low, { permissions: { deny: ['Read(./a)'], allow: ['Bash(ls)'] } }),
          layer(high, { permissions: { deny: ['Read(./b)', 'Read(./a)'], additionalDirectories: ['/x'] } }),
        ]);
        assert.deepEqual(valueAt(eff, 'permissions.deny'), ['Read(./a)', 'Read(./b)']);
        assert.deepEqual(
          eff.lists['permissions.deny']!.map((i) => i.origin.scope),
          [low, high],
        );
        assert.deepEqual(valueAt(eff, 'permissions.allow'), ['Bash(ls)']);
        assert.deepEqual(valueAt(eff, 'permissions.additionalDirectories'), ['/x']);
      });
    }
  }

  it('merges objects per key: env variables from different scopes combine, the higher scope wins a clash', () => {
    const eff = mergeSettings([
      layer('user', { env: { A: 'user', B: 'user' } }),
      layer('project', { env: { B: 'project', C: 'project' } }),
    ]);
    assert.deepEqual(eff.values.env, { A: 'user', B: 'project', C: 'project' });
    assert.equal(eff.origins['env.B']!.scope, 'project');
    assert.equal(eff.origins['env.A']!.scope, 'user');
  });

  it('takes fallbackModel whole and a managed availableModels as-is', () => {
    const eff = mergeSettings([
      layer('user', { availableModels: ['a', 'b'], fallbackModel: ['x'] }),
      layer('managed', { availableModels: ['c'] }),
      layer('local', { fallbackModel: ['y'] }),
    ]);
    assert.deepEqual(eff.values.availableModels, ['c']);
    assert.deepEqual(eff.values.fallbackModel, ['y']);
  });

  it('keeps a true disableClaudeAiConnectors from any scope', () => {
    const eff = mergeSettings([
      layer('user', { disableClaudeAiConnectors: true }),
      layer('managed', { disableClaudeAiConnectors: false }),
    ]);
    assert.equal(eff.values.disableClaudeAiConnectors, true);
  });
});

describe('effectiveEnv', () => {
  it('lets the settings env block overwrite a process export', () => {
    const eff = mergeSettings([layer('user', { env: { DISABLE_TELEMETRY: '1' } })]);
    const env = effectiveEnv({ DISABLE_TELEMETRY: '', PATH: '/bin' }, eff);
    assert.equal(env.DISABLE_TELEMETRY!.value, '1');
    assert.equal(env.DISABLE_TELEMETRY!.origin.scope, 'user');
    assert.equal(env.PATH!.origin.scope, 'process');
  });

  it('keeps a managed ANTHROPIC_BASE_URL against the shell and every other scope', () => {
    const eff = mergeSettings([
      layer('user', { env: { ANTHROPIC_BASE_URL: 'https://user.example' } }),
      layer('managed', { env: { ANTHROPIC_BASE_URL: 'https://gateway.corp.example' } }),
      layer('local', { env: { ANTHROPIC_BASE_URL: 'https://local.example' } }),
    ]);
    const env = effectiveEnv({ ANTHROPIC_BASE_URL: 'https://shell.example' }, eff);
    assert.equal(env.ANTHROPIC_BASE_URL!.value, 'https://gateway.corp.example');
    assert.deepEqual(env.ANTHROPIC_BASE_URL!.origin, { scope: 'managed', file: '/managed.json' });
  });
});

describe('readConfiguration on a fixture machine', () => {
  const fixtures: Fixture[] = [];
  after(() => Promise.all(fixtures.map((f) => f.cleanup())));
  const make = async (env: Record<string, string> = {}) => {
    const f = await fixture(env);
    fixtures.push(f);
    return f;
  };

  it('reads all four scopes and merges drop-ins alphabetically after the main managed file', async () => {
    const f = await make();
    await f.write('home/.claude/settings.json', { cleanupPeriodDays: 90, model: 'user' });
    await f.write('project/.claude/settings.json', {
      model: 'project',
      permissions: { deny: ['Read(./p)'] },
    });
    await f.write('project/.claude/settings.local.json', { model: 'local' });
    await f.write('managed/managed-settings.json', {
      cleanupPeriodDays: 14,
      permissions: { deny: ['Read(./m)'] },
    });
    await f.write('managed/managed-settings.d/20-b.json', { cleanupPeriodDays: 7 });
    await f.write('managed/managed-settings.d/10-a.json', {
      cleanupPeriodDays: 10,
      skipWebFetchPreflight: true,
    });
    await f.write('managed/managed-settings.d/.hidden.json', { cleanupPeriodDays: 1 });
    await f.write('managed/managed-settings.d/notes.txt', 'cleanupPeriodDays: 2');
    const c = await readConfiguration(f.machine);
    assert.deepEqual(c.findings, []);
    assert.equal(c.settings.values.model, 'local');
    assert.equal(c.settings.values.cleanupPeriodDays, 7);
    assert.equal(
      c.settings.origins.cleanupPeriodDays!.file,
      join(f.managed, 'managed-settings.d', '20-b.json'),
    );
    assert.equal(c.settings.values.skipWebFetchPreflight, true);
    assert.deepEqual(c.settings.values.permissions, { deny: ['Read(./p)', 'Read(./m)'] });
    assert.deepEqual(
      c.layers.map((l) => l.scope),
      ['user', 'project', 'local', 'managed', 'managed', 'managed'],
    );
  });

  it('accepts --managed as the file itself', async () => {
    const f = await make();
    const file = await f.write('managed/custom.json', { cleanupPeriodDays: 3 });
    const c = await readConfiguration({ ...f.machine, managed: file });
    assert.equal(c.settings.values.cleanupPeriodDays, 3);
    assert.equal(c.paths.managedMcp, join(f.managed, 'managed-mcp.json'));
  });

  it('respects CLAUDE_CONFIG_DIR for user settings and the global config', async () => {
    const f = await make();
    const dir = join(f.root, 'alt-config');
    f.machine.env.CLAUDE_CONFIG_DIR = dir;
    await f.write('alt-config/settings.json', { cleanupPeriodDays: 4 });
    await f.write('home/.claude/settings.json', { cleanupPeriodDays: 99 });
    const paths = await locate(f.machine);
    assert.equal(paths.globalConfig, join(dir, '.claude.json'));
    const c = await readConfiguration(f.machine);
    assert.equal(c.settings.values.cleanupPeriodDays, 4);
    const explicit = await readConfiguration({ ...f.machine, useConfigDirEnv: false });
    assert.equal(explicit.settings.values.cleanupPeriodDays, 99);
  });

  it('turns malformed JSON, a non-object, invalid UTF-8 and a directory into findings, and keeps going', async () => {
    // Tests run as root, where chmod 000 does not block reads: a directory and bad bytes stand in for unreadable files.
    const f = await make();
    await f.write('home/.claude/settings.json', '{"permissions": {"deny": ["Read(./.env)"],}}');
    await f.write('project/.claude/settings.json', '[1, 2]');
    await f.write('project/.claude/settings.local.json', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await mkdir(join(f.managed, 'managed-settings.json'), { recursive: true });
    await f.write('managed/managed-settings.d/10-ok.json', { cleanupPeriodDays: 12 });
    await writeFile(join(f.project, '.mcp.json'), '{"mcpServers": ');
    const c = await readConfiguration(f.machine);
    const byFile = Object.fromEntries(c.findings.map((x) => [x.file, x]));
    assert.equal(byFile[join(f.home, '.claude/settings.json')]!.id, 'settings-malformed');
    assert.match(byFile[join(f.home, '.claude/settings.json')]!.message, /not valid JSON/);
    assert.match(
      byFile[join(f.project, '.claude/settings.json')]!.message,
      /expected a JSON object, found an array/,
    );
    assert.match(byFile[join(f.project, '.claude/settings.local.json')]!.message, /not valid UTF-8/);
    assert.equal(byFile[join(f.managed, 'managed-settings.json')]!.id, 'settings-unreadable');
    assert.match(byFile[join(f.managed, 'managed-settings.json')]!.message, /directory/);
    assert.equal(byFile[join(f.project, '.mcp.json')]!.id, 'settings-malformed');
    assert.ok(c.findings.every((x) => x.severity === 'medium'));
    assert.equal(c.settings.values.cleanupPeriodDays, 12);
  });

  it('never quotes file content in a parse error (it may hold a secret)', async () => {
    const f = await make();
    await f.write('home/.claude/settings.json', '{"env": {"K": sk-live-0123456789abcdef}}');
    const c = await readConfiguration(f.machine);
    assert.equal(c.findings.length, 1);
    assert.doesNotMatch(c.findings[0]!.message, /0123456789abcdef/);
  });

  it('reads MCP servers from every scope with the client precedence and allow/deny lists', async () => {
    const f = await make();
    await f.write('home/.claude.json', {
      mcpServers: {
        github: { command: 'npx', args: ['-y', 'gh-mcp'] },
        shared: { type: 'http', url: 'https://u.example/mcp' },
      },
      projects: {
        [f.project]: { mcpServers: { shared: { type: 'sse', url: 'https://local.example/sse' } } },
      },
    });
    await f.write('project/.mcp.json', {
      mcpServers: { shared: { command: 'p' }, denied: { command: 'evil' } },
    });
    await f.write('home/.claude/settings.json', { deniedMcpServers: [{ serverName: 'denied' }] });
    const c = await readConfiguration(f.machine);
    const active = c.servers.filter((s) => s.active).map((s) => `${s.name}:${s.scope}:${s.transport}`);
    assert.deepEqual(active.sort(), ['github:user:stdio', 'shared:local:sse']);
    assert.equal(c.servers.find((s) => s.name === 'denied')!.inactiveReason, 'denied by deniedMcpServers');

    await f.write('managed/managed-mcp.json', {
      mcpServers: { corp: { type: 'http', url: 'https://mcp.corp.example' } },
    });
    const exclusive = await readConfiguration(f.machine);
    assert.deepEqual(
      exclusive.servers.filter((s) => s.active).map((s) => s.name),
      ['corp'],
    );
  });
});
