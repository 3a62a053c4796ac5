import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runAudit } from './audit.js';
import { clientInfo, findClients } from './client.js';
import { defaultDeps } from './deps.js';
import { fixture, type Fixture } from './testing/machine.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));
const make = async (env: Record<string, string> = {}) => {
  const f = await fixture(env);
  fixtures.push(f);
  return f;
};

/** An npm global install: lib/node_modules/@anthropic-ai/claude-code with bin/claude linked to it. */
async function npmInstall(f: Fixture, version: string, name = '@anthropic-ai/claude-code') {
  const pkg = join('home', 'npm', 'lib', 'node_modules', ...name.split('/'));
  await f.write(join(pkg, 'package.json'), { name, version, bin: { claude: 'bin/claude.exe' } });
  const exe = await f.write(join(pkg, 'bin', 'claude.exe'), '#!/bin/sh\nexit 99\n');
  await f.write('home/npm/bin/.keep', '');
  await symlink(exe, join(f.home, 'npm', 'bin', 'claude'));
  return join(f.home, 'npm', 'bin');
}

describe('the installed Claude Code and its version', () => {
  it('follows the claude on PATH to its npm package and reads the version there', async () => {
    const f = await make();
    const bin = await npmInstall(f, '2.1.240');
    f.machine.env.PATH = ['/nonexistent', bin].join(':');
    const found = await findClients(f.machine);
    assert.deepEqual(
      found.map((c) => [c.path, c.via, c.version]),
      [[join(bin, 'claude'), 'PATH', '2.1.240']],
    );
  });

  it('reads the native installer’s versions/<x.y.z> file name', async () => {
    const f = await make();
    const target = await f.write('home/.local/share/claude/versions/2.1.330', 'binary');
    await f.write('home/.local/bin/.keep', '');
    await symlink(target, join(f.home, '.local', 'bin', 'claude'));
    const [c] = await findClients(f.machine);
    assert.deepEqual([c?.via, c?.version, c?.target], ['native installer', '2.1.330', target]);
  });

  it('finds the real client this repository installs in node_modules (@anthropic-ai/claude-code 2.1.330)', async () => {
    const f = await make();
    const found = await findClients({ ...f.machine, project: resolve('.') });
    assert.deepEqual(
      found.map((c) => [c.via, c.version]),
      [['project node_modules', '2.1.330']],
    );
  });

  it('says what it assumed: nothing found, no version, or installs that disagree; a flag wins', async () => {
    const none = clientInfo([], undefined);
    assert.equal(none.client.version, null);
    assert.match(none.assumptions[0] ?? '', /^no Claude Code found .* pass --client-version$/);
    const a = { path: '/a/claude', target: '/a/claude', via: 'PATH' as const, version: '2.1.330' };
    const b = { path: '/b/claude', target: '/b/claude', via: 'native installer' as const, version: '2.0.14' };
    const two = clientInfo([a, b], undefined);
    assert.equal(two.client.version, '2.1.330');
    assert.deepEqual(two.assumptions, [
      'client version 2.1.330 from /a/claude (the first a shell finds); also installed: 2.0.14 at /b/claude',
    ]);
    const unreadable = clientInfo([{ ...a, version: null }], undefined);
    assert.equal(unreadable.client.source, 'unknown');
    assert.match(unreadable.assumptions[0] ?? '', /does not say its version/);
    assert.deepEqual(clientInfo([a], '2.0.14').client, { version: '2.0.14', source: 'flag', installs: [a] });
  });

  it('never runs the executable, and ignores a package.json of another package', async () => {
    const f = await make();
    const bin = await npmInstall(f, '9.9.9', 'not-claude');
    f.machine.env.PATH = bin;
    const [c] = await findClients(f.machine);
    assert.equal(c?.version, null, 'the version of another package is not the client’s');
  });

  it('runAudit evaluates for the version found: no version warning, DISABLE_TELEMETRY stops error reports', async () => {
    const f = await make({ DISABLE_TELEMETRY: '1' });
    f.machine.env.PATH = await npmInstall(f, '2.1.330');
    const r = await runAudit(f.machine, defaultDeps, { flags: { plan: 'pro', trainingOptIn: false } });
    assert.equal(r.profile.clientVersion, '2.1.330');
    assert.equal(r.client.source, 'installed');
    assert.equal(r.explain.flows.find((x) => x.id === 'error-reporting')?.enabled, false);
    assert.ok(!r.explain.warnings.some((w) => w.id === 'client-version-unknown'));
    const bare = await runAudit((await make({ DISABLE_TELEMETRY: '1' })).machine, defaultDeps, {
      flags: { plan: 'pro', trainingOptIn: false },
    });
    assert.equal(bare.profile.clientVersion, undefined);
    assert.equal(bare.explain.flows.find((x) => x.id === 'error-reporting')?.enabled, true);
    assert.ok(bare.explain.warnings.some((w) => w.id === 'client-version-unknown'));
    assert.ok(bare.assumptions.some((a) => a.startsWith('no Claude Code found')));
  });
});
