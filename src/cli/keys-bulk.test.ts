import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-bulk-'));
  await writeFile(
    join(dir, 'sluice.yaml'),
    `storage: sqlite:./s.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: https://api.anthropic.com, apiKey: "\${ANTHROPIC_API_KEY}" }
orgs:
  acme: { upstream: anthropic, groups: { eng: {}, contractors: { models: [claude-haiku-4-5] } } }
  beta: { upstream: anthropic }
`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

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

const keyCount = () => (JSON.parse(sluice('keys', 'list', '--format', 'json').out) as unknown[]).length;

describe('sluice keys create --from users.csv', () => {
  it('refuses the whole file on one bad row, naming the row, and makes no key', async () => {
    await writeFile(
      join(dir, 'bad.csv'),
      'email,org,role,groups,expires\ndev@acme.test,acme,member,eng,\nops@gamma.test,gamma,member,,\n',
    );
    const r = sluice('keys', 'create', '--from', 'bad.csv');
    assert.equal(r.code, 2);
    assert.equal(r.err, 'sluice: bad.csv row 3: no org "gamma" (orgs: acme, beta); no key was created\n');
    assert.equal(r.out, '');
    assert.equal(keyCount(), 0);

    const cases: [string, string][] = [
      ['not-an-email,acme,,,', 'row 2: "not-an-email" is not an email address'],
      ['a@acme.test,acme,owner,,', 'row 2: role "owner" is not one of member, admin, auditor'],
      [
        'a@acme.test,acme,,eng;sales,',
        'row 2: no group "sales" in orgs.acme.groups (groups: eng, contractors)',
      ],
      [
        'a@acme.test,acme,,,yesterday',
        'row 2: expires: expected a duration (30m, 8h, 7d) or a date (2026-12-01), got "yesterday"',
      ],
      [
        'a@acme.test,acme,,,\nb@acme.test,beta,,,\nA@acme.test,acme,,,',
        'row 4: A@acme.test in acme is already on row 2',
      ],
    ];
    for (const [rows, message] of cases) {
      await writeFile(join(dir, 'bad.csv'), `email,org,role,groups,expires\n${rows}\n`);
      const bad = sluice('keys', 'create', '--from', 'bad.csv');
      assert.equal(bad.code, 2, rows);
      assert.equal(bad.err, `sluice: bad.csv ${message}; no key was created\n`);
    }
    await writeFile(join(dir, 'bad.csv'), 'mail,org\nx@y.z,acme\n');
    assert.equal(
      sluice('keys', 'create', '--from', 'bad.csv').err,
      'sluice: bad.csv row 1: expected the columns email, org, role, groups, expires (email and org required), got mail, org\n',
    );
    assert.equal(keyCount(), 0);
  });

  it('prints every key once, with groups and expiry as the rows say', async () => {
    await writeFile(
      join(dir, 'users.csv'),
      'Email,Org,Role,Groups,Expires\r\ndev@acme.test,acme,,"eng;contractors",7d\r\nlead@acme.test,acme,admin,eng,\r\nqa@beta.test,beta,auditor,,\r\n',
    );
    const r = sluice('keys', 'create', '--from', 'users.csv', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const made = JSON.parse(r.out) as {
      row: number;
      user: string;
      role: string;
      groups: string[];
      expiresAt: string | null;
      key: string;
    }[];
    assert.deepEqual(
      made.map((m) => [m.row, m.user, m.role, m.groups, m.expiresAt !== null]),
      [
        [2, 'dev@acme.test', 'member', ['eng', 'contractors'], true],
        [3, 'lead@acme.test', 'admin', ['eng'], false],
        [4, 'qa@beta.test', 'auditor', [], false],
      ],
    );
    for (const m of made) assert.match(m.key, /^sk-sluice-[A-Za-z0-9]{40}$/);
    assert.equal(keyCount(), 3);
    const listed = sluice('keys', 'list', '--format', 'json').out;
    for (const m of made) assert.ok(!listed.includes(m.key));
  });

  it('with --out writes the keys to a new 0600 file and prints none', async () => {
    await writeFile(join(dir, 'more.csv'), 'email,org\nnew1@acme.test,acme\nnew2@acme.test,acme\n');
    const r = sluice('keys', 'create', '--from', 'more.csv', '--out', 'keys.csv');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'created 2 keys; they are in keys.csv (mode 0600), shown nowhere else\n');
    assert.equal((await stat(join(dir, 'keys.csv'))).mode & 0o777, 0o600);
    const lines = (await readFile(join(dir, 'keys.csv'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], 'email,org,role,groups,expires,id,key');
    assert.match(
      lines[1] ?? '',
      /^new1@acme\.test,acme,member,,,key_[0-9a-f]{16},sk-sluice-[A-Za-z0-9]{40}$/,
    );
    const again = sluice('keys', 'create', '--from', 'more.csv', '--out', 'keys.csv');
    assert.equal(again.code, 2);
    assert.equal(again.err, 'sluice: --out: keys.csv already exists; pick a new file\n');
    assert.equal(keyCount(), 5);
  });

  it('does not mix --from with the per-user flags', () => {
    const r = sluice('keys', 'create', '--from', 'more.csv', '--org', 'acme');
    assert.equal(r.code, 2);
    assert.equal(r.err, "sluice: --from takes every user's settings from the file; leave out --org\n");
    assert.equal(
      sluice('keys', 'create', '--org', 'acme').err,
      'sluice: keys create needs --org and --user, or --from users.csv\n',
    );
  });
});
