import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBridge, type RunningBridge } from './bridge.js';
import {
  pushRefusal,
  routeGitRequest,
  startGitProxy,
  type GitOperation,
  type RunningGitProxy,
} from './git-proxy.js';
import { ISOLATED_GIT_ENV, SessionMirror } from './mirror.js';
import { FLUSH, pkt, readReport } from './pkt-line.js';
import { startForge, type Forge } from './testing/forge.js';

const SESSION_KEY = `sk-sluice-${randomBytes(20).toString('hex').slice(0, 40)}`;
const BRANCH = 'refs/heads/claude/s1';
let dir: string;
let forge: Forge;
let proxy: RunningGitProxy;
let bridge: RunningBridge;
let base: string;
const ops: GitOperation[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-gitproxy-'));
  forge = await startForge(`ghp_${randomBytes(18).toString('hex')}`);
  const credentials = { username: 'x-access-token', token: forge.token };
  const mirror = new SessionMirror({
    dir: join(dir, 'host', 'mirror.git'),
    url: forge.repository,
    credentials,
    maxPushBytes: 64 * 1024 * 1024,
    path: process.env.PATH ?? '/usr/bin:/bin',
  });
  proxy = await startGitProxy(
    {
      repository: forge.repository,
      name: 'widgets',
      branch: BRANCH,
      sessionKey: SESSION_KEY,
      user: 'dev@acme.test',
      credentials,
      mirror,
      record: (op) => ops.push(op),
    },
    join(dir, 'git.sock'),
  );
  bridge = await startBridge({ port: 0, host: '127.0.0.1' }, { path: join(dir, 'git.sock') });
  base = `http://127.0.0.1:${bridge.port}`;
});

after(async () => {
  await bridge?.close();
  await proxy?.close();
  await forge?.close();
  await rm(dir, { recursive: true, force: true });
});

/** git as the sandbox runs it: the session key as a header for the proxy, nothing else. */
function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '',
          ...ISOLATED_GIT_ENV,
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: `http.${base}/.extraHeader`,
          GIT_CONFIG_VALUE_0: `Authorization: Bearer ${SESSION_KEY}`,
          GIT_AUTHOR_NAME: 'Claude',
          GIT_AUTHOR_EMAIL: 'dev@acme.test',
          GIT_COMMITTER_NAME: 'Claude',
          GIT_COMMITTER_EMAIL: 'dev@acme.test',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Every file under `root`, as bytes. */
async function filesUnder(root: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(await readFile(join(e.parentPath, e.name)));
  return out;
}

/** A raw receive-pack request: one command and an empty pack (the objects are already there). */
function rawPush(command: string): Promise<{ status: number; body: Buffer }> {
  const header = Buffer.concat([Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 0])]);
  const emptyPack = Buffer.concat([header, createHash('sha1').update(header).digest()]);
  const body = Buffer.concat([pkt(`${command}\0report-status side-band-64k\n`), FLUSH, emptyPack]);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}/widgets.git/git-receive-pack`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${SESSION_KEY}`,
          'content-type': 'application/x-git-receive-pack-request',
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('git credential proxy', () => {
  it('clones the session repository with the forge token, which the clone never sees', async () => {
    const r = await git(dir, 'clone', `${base}/widgets.git`, 'work');
    assert.equal(r.code, 0, r.out);
    assert.equal(await readFile(join(dir, 'work', 'src', 'greeting.txt'), 'utf8'), 'hello\n');
    assert.ok(forge.seen.length >= 2 && forge.seen.every((s) => s.authorized), 'the forge saw the token');
    for (const file of await filesUnder(join(dir, 'work')))
      assert.ok(!file.includes(forge.token), 'the token is in no file of the clone');
    assert.deepEqual(
      ops.map((o) => [o.operation, o.result]),
      [['clone', 'ok']],
    );
  });

  it('pushes a new commit to the session branch, through the mirror to the forge', async () => {
    const work = join(dir, 'work');
    await git(work, 'checkout', '-q', '-b', 'claude/s1');
    await writeFile(join(work, 'src', 'greeting.txt'), 'hello, sandbox\n');
    await git(work, 'commit', '-q', '-am', 'greet the sandbox');
    const r = await git(work, 'push', 'origin', 'HEAD');
    assert.equal(r.code, 0, r.out);
    assert.equal(forge.ref(BRANCH), (await git(work, 'rev-parse', 'HEAD')).out.trim());
    const push = ops.at(-1);
    assert.equal(push?.operation, 'push');
    assert.equal(push?.result, 'ok');
    assert.deepEqual(
      push?.refs?.map((u) => [u.ref, /^0+$/.test(u.oldOid)]),
      [[BRANCH, true]],
    );
    // A second commit fast-forwards.
    await writeFile(join(work, 'README.md'), '# widgets\n\nEdited in a sandbox.\n');
    await git(work, 'commit', '-q', '-am', 'say where');
    assert.equal((await git(work, 'push', 'origin', 'HEAD')).code, 0);
    assert.deepEqual(forge.subjects(BRANCH).slice(0, 2), ['say where', 'greet the sandbox']);
  });

  it('refuses a push to main, naming the one branch allowed, and main stays', async () => {
    const main = forge.ref('refs/heads/main');
    const r = await git(join(dir, 'work'), 'push', 'origin', 'HEAD:main');
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /! \[remote rejected\] HEAD -> main \(sluice: this session may push only to refs\/heads\/claude\/s1, not refs\/heads\/main \(Sluice sandbox policy\)\)/,
    );
    assert.equal(forge.ref('refs/heads/main'), main);
    assert.equal(
      ops.at(-1)?.result,
      'refused: this session may push only to refs/heads/claude/s1, not refs/heads/main (Sluice sandbox policy)',
    );
  });

  it('refuses a force push of the session branch (git checks ancestry in the mirror)', async () => {
    const work = join(dir, 'work');
    const before = forge.ref(BRANCH);
    await git(work, 'commit', '-q', '--amend', '-m', 'rewritten history');
    const r = await git(work, 'push', '--force', 'origin', 'HEAD');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /! \[remote rejected\] HEAD -> claude\/s1 \(non-fast-forward\)/);
    assert.equal(forge.ref(BRANCH), before);
    assert.equal(ops.at(-1)?.result, 'refused: non-fast-forward');
    await git(work, 'reset', '-q', '--hard', 'origin/claude/s1');
  });

  it('refuses deleting the session branch', async () => {
    const r = await git(join(dir, 'work'), 'push', 'origin', ':claude/s1');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /deleting refs\/heads\/claude\/s1 is not allowed/);
    assert.ok(forge.ref(BRANCH));
  });

  it('a stale or pretended old value is refused by the mirror, whatever the client claims', async () => {
    const current = forge.ref(BRANCH) as string;
    const main = forge.ref('refs/heads/main') as string;
    // "Create" the branch that exists, pointing it back at main: a force push in disguise.
    const create = await rawPush(`${'0'.repeat(40)} ${main} ${BRANCH}`);
    assert.equal(create.status, 200);
    const report = readReport(create.body, ['report-status', 'side-band-64k']);
    assert.equal(report?.refs[0]?.ok, false, JSON.stringify(report));
    // Claim the branch is at main now (it is not) and move it there.
    const stale = await rawPush(`${main} ${main} ${BRANCH}`);
    assert.equal(readReport(stale.body, ['report-status', 'side-band-64k'])?.refs[0]?.ok, false);
    assert.equal(forge.ref(BRANCH), current);
  });

  it('when the forge refuses, the client is told why and the mirror is put back', async () => {
    await forge.refusePushes();
    const work = join(dir, 'work');
    const before = forge.ref(BRANCH);
    await writeFile(join(work, 'late.txt'), 'late\n');
    await git(work, 'add', 'late.txt');
    await git(work, 'commit', '-q', '-m', 'too late');
    const r = await git(work, 'push', 'origin', 'HEAD');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /sluice: the forge refused the push/);
    assert.equal(forge.ref(BRANCH), before);
    assert.match(ops.at(-1)?.result ?? '', /^failed: the forge refused the push/);
    // The mirror was rolled back, so the next advertisement still shows the forge's value.
    const ls = await git(work, 'ls-remote', 'origin', BRANCH);
    assert.equal(ls.out.split('\t')[0], before);
  });

  it('a request without the session key, or for another repository, is refused and recorded', async () => {
    const anonymous = await new Promise<{ status: number; body: string }>((resolve) => {
      httpRequest(`${base}/widgets.git/info/refs?service=git-upload-pack`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).end();
    });
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).error.type, 'authentication_error');
    const other = await git(dir, 'clone', `${base}/secrets.git`, 'other');
    assert.notEqual(other.code, 0);
    assert.match(other.out, /repository '.*\/secrets.git\/' not found/);
    assert.deepEqual(
      ops.slice(-2).map((o) => o.result),
      [
        'refused: no session key',
        'refused: Sluice git proxy: this session serves only the repository /widgets.git.',
      ],
    );
  });
});

describe('git proxy rules', () => {
  it('routes only the smart-HTTP requests of the session repository', () => {
    assert.deepEqual(routeGitRequest('GET', '/w.git/info/refs?service=git-upload-pack', 'w'), {
      kind: 'advertise',
      service: 'git-upload-pack',
    });
    assert.deepEqual(routeGitRequest('POST', '/w.git/git-receive-pack', 'w'), {
      kind: 'rpc',
      service: 'git-receive-pack',
    });
    for (const [method, url] of [
      ['GET', '/w.git/info/refs'],
      ['GET', '/w.git/HEAD'],
      ['POST', '/x.git/git-upload-pack'],
      ['GET', '/w.git/git-upload-pack'],
      ['POST', '/w.git/../x.git/git-upload-pack'],
    ] as const)
      assert.ok('status' in routeGitRequest(method, url, 'w'), `${method} ${url}`);
  });

  it('lets through exactly one update of the session branch that is not a deletion', () => {
    const z = '0'.repeat(40);
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    assert.equal(pushRefusal([{ oldOid: a, newOid: b, ref: BRANCH }], BRANCH), null);
    assert.equal(pushRefusal([{ oldOid: z, newOid: b, ref: BRANCH }], BRANCH), null);
    assert.match(pushRefusal([{ oldOid: a, newOid: z, ref: BRANCH }], BRANCH) ?? '', /deleting/);
    assert.match(pushRefusal([{ oldOid: a, newOid: b, ref: 'refs/tags/v1' }], BRANCH) ?? '', /only to/);
    assert.match(
      pushRefusal(
        [
          { oldOid: a, newOid: b, ref: BRANCH },
          { oldOid: a, newOid: b, ref: BRANCH },
        ],
        BRANCH,
      ) ?? '',
      /more than once/,
    );
    assert.match(pushRefusal([], BRANCH) ?? '', /no ref updates/);
  });
});
