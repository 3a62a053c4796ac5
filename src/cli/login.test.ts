import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-login-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir, SLUICE_CONFIG_DIR: join(dir, 'config') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sluice login, token, logout: what a person sees on bad input', () => {
  it('token and logout before any login say how to sign in', () => {
    assert.deepEqual(sluice(['token']), {
      code: 2,
      out: '',
      err: 'sluice: not signed in to any gateway: run `sluice login --gateway URL`\n',
    });
    assert.deepEqual(sluice(['logout', '--gateway', 'https://sluice.example.com']), {
      code: 2,
      out: '',
      err: 'sluice: not signed in to https://sluice.example.com\n',
    });
  });

  it('refuses a bad --min-valid and a gateway that is not https', () => {
    assert.deepEqual(sluice(['token', '--min-valid', 'soon']), {
      code: 2,
      out: '',
      err: 'sluice: --min-valid must be a number of seconds, got "soon"\n',
    });
    assert.deepEqual(sluice(['login', '--gateway', 'http://sluice.example.com']), {
      code: 2,
      out: '',
      err: "sluice: http://sluice.example.com is not https: sign-in sends tokens, so only https (or http on this machine's loopback) is used\n",
    });
  });

  it('an unreachable gateway: login names the URL it could not read', () => {
    // Port 9 on loopback: nothing listens (discard), so the discovery document cannot be fetched.
    const r = sluice(['login', '--gateway', 'http://127.0.0.1:9']);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /^sluice: cannot reach http:\/\/127\.0\.0\.1:9\/\.well-known\/oauth-authorization-server: /,
    );
  });
});
