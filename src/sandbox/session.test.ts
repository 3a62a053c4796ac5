import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { resolveSandbox } from './policy.js';
import { sandboxEgressConfig } from './services.js';
import { sandboxEnvironment, sweepStaleRunDirs } from './session.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const TOKEN = 'ghp_sessiontesttokenthatmustnotleak00';
const config = parseConfig(
  `upstreams: { anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: k } }
forges:
  github: { baseUrl: "https://github.com", tokenEnv: GH_TOKEN }
orgs:
  acme:
    upstream: anthropic
    profile: { plan: team, provider: anthropic }
    egress: { allow: ["*"] }
    sandbox:
      repositories: ["https://github.com/acme/*"]
      egress: { allow: [registry.npmjs.org] }
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }
  other: { upstream: anthropic }
`,
  'sluice.yaml',
  {},
);
const resolved = resolveSandbox(config, 'acme', 'https://github.com/acme/widgets.git', { GH_TOKEN: TOKEN });

describe('a session on the host', () => {
  it('the sandbox environment: the session key, the bridges, the policy env, and never the forge token', () => {
    const env = sandboxEnvironment(
      { org: 'acme', user: 'dev@acme.test', repository: resolved.repository, prompt: 'x' },
      resolved,
      'sk-sluice-KEY',
    );
    assert.ok(!Object.values(env).some((v) => v.includes(TOKEN)), 'no forge token');
    assert.equal(env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:8787');
    assert.equal(env.ANTHROPIC_AUTH_TOKEN, 'sk-sluice-KEY');
    assert.equal(env.HTTPS_PROXY, 'http://sandbox:sk-sluice-KEY@127.0.0.1:8788');
    assert.equal(env.GIT_CONFIG_VALUE_0, 'Authorization: Bearer sk-sluice-KEY');
    assert.equal(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
    assert.equal(env.HOME, '/home/claude');
    assert.equal(env.TERM, 'dumb');
    assert.equal(env.ANTHROPIC_API_KEY, undefined);
    for (const name of Object.keys(env))
      assert.match(
        name,
        /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|TMPDIR|TERM|ANTHROPIC_(BASE_URL|AUTH_TOKEN)|(HTTPS?|NO)_PROXY|(https?|no)_proxy|CLAUDE_CODE_.*|DISABLE_AUTOUPDATER|GIT_.*)$/,
        name,
      );
  });

  it('the session egress proxy decides by the sandbox rules only, for this org only', () => {
    const c = sandboxEgressConfig(config, resolved);
    assert.deepEqual(Object.keys(c.orgs), ['acme']);
    assert.equal(c.orgs.acme?.profile, undefined, 'the profile would add hosts of its own');
    assert.deepEqual(c.orgs.acme?.egress, { allow: ['registry.npmjs.org'], deny: [] });
    assert.deepEqual({ host: c.egress?.host, port: c.egress?.port }, { host: '127.0.0.1', port: 0 });
  });

  it('sweeps the folders and groups of sessions whose supervisor is gone, and only those', async () => {
    const base = await mkdtemp(join(tmpdir(), 'sluice-sweep-'));
    dirs.push(base);
    const cg = join(base, 'cgroup');
    for (const c of ['cpu', 'memory', 'pids']) {
      await mkdir(join(cg, c, 'sluice-sdead'), { recursive: true });
      await writeFile(join(cg, c, 'cgroup.procs'), '');
    }
    const dead = spawnSync('true').pid as number;
    const make = async (name: string, pid: number, session: string) => {
      await mkdir(join(base, name));
      await writeFile(join(base, name, 'supervisor.pid'), String(pid));
      await writeFile(join(base, name, 'session'), session);
    };
    await make('sluice-sandbox-dead', dead, 'sdead');
    await make('sluice-sandbox-live', process.pid, 'slive');
    await make('other-dead', dead, 'sother');
    const removed = await sweepStaleRunDirs(base, {
      root: cg,
      selfCgroup: '3:pids:/\n2:memory:/\n1:cpu:/\n',
    });
    assert.deepEqual(removed, [join(base, 'sluice-sandbox-dead')]);
    assert.equal(existsSync(join(base, 'sluice-sandbox-live')), true);
    assert.equal(existsSync(join(base, 'other-dead')), true);
    for (const c of ['cpu', 'memory', 'pids'])
      assert.equal(existsSync(join(cg, c, 'sluice-sdead')), false, c);
  });
});
