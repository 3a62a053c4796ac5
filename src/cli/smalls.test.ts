import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-smalls-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the command line, small things', () => {
  it('sluice --help ends with examples', () => {
    const r = sluice(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /\nExamples:\n {2}sluice init +write a commented starter sluice\.yaml\n/);
    assert.match(r.out, /sluice keys create --org default --user dev@acme\.example/);
  });

  it('a missing config names the path and suggests sluice init', () => {
    const r = sluice(['keys', 'list']);
    assert.deepEqual(r, {
      code: 2,
      out: '',
      err: 'sluice: ./sluice.yaml does not exist. Run sluice init to write a starter configuration, or pass --config <file>.\n',
    });
  });

  it('keys create refuses a user that is not an e-mail address; CLI actions are logged as cli:<os user>', () => {
    assert.equal(sluice(['init']).code, 0);
    const r = sluice(['keys', 'create', '--org', 'default', '--user', 'notanemail']);
    assert.deepEqual(r, {
      code: 2,
      out: '',
      err: 'sluice: --user: expected the e-mail address of the person the key belongs to (dev@acme.example), got "notanemail"\n',
    });
    // No USER in the environment (cron, containers): the OS account still names the actor.
    const made = sluice(['keys', 'create', '--org', 'default', '--user', 'dev@acme.example'], {
      USER: undefined,
      SUDO_USER: undefined,
      USERNAME: undefined,
    });
    assert.equal(made.code, 0, made.err);
    const log = sluice(['admin-log', '--format', 'json']);
    const actors = log.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { actor: string; action: string })
      .filter((e) => e.action === 'key.created')
      .map((e) => e.actor);
    assert.deepEqual(actors, [`cli:${userInfo().username}`]);
  });

  it('usage --help prints its default once', () => {
    const r = sluice(['usage', '--help']);
    assert.equal(r.code, 0);
    assert.equal(r.out.match(/default: "?30d"?/g)?.length, 1, r.out);
  });
});
