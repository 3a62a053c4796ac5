import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-signin-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    env: { ...process.env, SUDO_USER: 'ops' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const session = (id: string, email: string, createdAt: string) => ({
  id,
  org: 'default',
  subject: `sub-${email}`,
  email,
  name: null,
  groups: ['eng'],
  role: 'member' as const,
  refreshHash: id.padEnd(64, '0'),
  createdAt,
  refreshedAt: null,
  expiresAt: '2099-01-01T00:00:00.000Z',
  revokedAt: null,
});

describe('sluice signin sessions|revoke', () => {
  it('lists live sessions, ends one and every one of a person, with exit codes and admin log entries', async () => {
    assert.equal(sluice('init').code, 0);
    const store = await openStore('sqlite:./.sluice/sluice.db', dir);
    await store.signin.insertSession(session('ses_1', 'dev@acme.test', '2026-11-01T00:00:00.000Z'));
    await store.signin.insertSession(session('ses_2', 'leaver@acme.test', '2026-11-01T00:00:01.000Z'));
    await store.signin.insertSession(session('ses_3', 'Leaver@acme.test', '2026-11-01T00:00:02.000Z'));
    await store.close();

    const table = sluice('signin', 'sessions', '--user', 'dev@acme.test');
    assert.deepEqual(table, {
      code: 0,
      out:
        'ID     ORG      USER           ROLE    GROUPS  STATE  SIGNED IN                 REFRESHED  ENDS\n' +
        'ses_1  default  dev@acme.test  member  eng     live   2026-11-01T00:00:00.000Z  -          2099-01-01T00:00:00.000Z\n',
      err: '',
    });
    const json = sluice('signin', 'sessions', '--org', 'default', '--format', 'json');
    const listed = JSON.parse(json.out) as { id: string; state: string }[];
    assert.deepEqual(
      listed.map((s) => [s.id, s.state]),
      [
        ['ses_1', 'live'],
        ['ses_2', 'live'],
        ['ses_3', 'live'],
      ],
    );
    assert.equal(json.out.includes('refreshHash'), false);

    assert.deepEqual(sluice('signin', 'revoke', 'ses_1'), {
      code: 0,
      out: 'revoked ses_1 (dev@acme.test, default)\n',
      err: '',
    });
    assert.deepEqual(sluice('signin', 'revoke', 'ses_1'), {
      code: 2,
      out: '',
      err: 'sluice: no live sign-in session with id ses_1 (see sluice signin sessions)\n',
    });
    const person = sluice('signin', 'revoke', '--user', 'LEAVER@acme.test', '--format', 'json');
    assert.equal(person.code, 0, person.err);
    assert.deepEqual(
      (JSON.parse(person.out) as { id: string; state: string }[]).map((s) => [s.id, s.state]),
      [
        ['ses_2', 'revoked'],
        ['ses_3', 'revoked'],
      ],
    );
    assert.deepEqual(sluice('signin', 'sessions', '--format', 'json').out, '[]\n');
    assert.equal(JSON.parse(sluice('signin', 'sessions', '--all', '--format', 'json').out).length, 3);

    for (const [args, err] of [
      [['signin', 'revoke'], 'sluice: signin revoke needs a session id or --user EMAIL (one of them)\n'],
      [
        ['signin', 'revoke', 'ses_2', '--user', 'x@y.z'],
        'sluice: signin revoke needs a session id or --user EMAIL (one of them)\n',
      ],
      [
        ['signin', 'revoke', 'ses_2', '--org', 'default'],
        'sluice: --org goes with --user; a session id names one session already\n',
      ],
      [['signin', 'sessions', '--org', 'nope'], 'sluice: no org "nope" in ./sluice.yaml (orgs: default)\n'],
    ] as const)
      assert.deepEqual(sluice(...args), { code: 2, out: '', err }, args.join(' '));

    const reopened = await openStore('sqlite:./.sluice/sluice.db', dir);
    const log = (await reopened.listAdminLog()).filter((e) => e.action === 'signin.revoked');
    assert.deepEqual(
      log.map((e) => [e.actor, e.target]),
      [
        ['cli:ops', 'ses_1'],
        ['cli:ops', 'ses_2'],
        ['cli:ops', 'ses_3'],
      ],
    );
    await reopened.close();
  });

  it('says how to use it in --help, with an example', () => {
    const help = sluice('signin', 'revoke', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /sluice signin revoke --user leaver@acme\.example/);
  });
});
