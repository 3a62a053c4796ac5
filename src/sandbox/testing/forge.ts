/**
 * A local git forge for tests: `git http-backend` behind an HTTP server that answers only requests
 * carrying its token (HTTP Basic, any user name, as GitHub and GitLab take a token), with one
 * repository holding a first commit on `main`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHttpBackend } from '../git-cgi.js';
import { ISOLATED_GIT_ENV } from '../mirror.js';

export interface ForgeRequest {
  method: string;
  url: string;
  /** Did it carry the token? */
  authorized: boolean;
}

export interface Forge {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The repository's URL: `${url}/acme/widgets.git`. */
  repository: string;
  token: string;
  seen: ForgeRequest[];
  /** A ref's object id in the forge's repository, or null. */
  ref(name: string): string | null;
  /** `git log --format=%s` of a ref, newest first. */
  subjects(ref: string): string[];
  /** Runs git with the token (for tests that play another client of the forge). */
  git(cwd: string, ...args: string[]): string;
  /** From now on the forge refuses every push (a pre-receive hook that says why). */
  refusePushes(): Promise<void>;
  close(): Promise<void>;
}

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...ISOLATED_GIT_ENV };
const gitSync = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  execFileSync('git', args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' });

/** Starts a forge serving `acme/widgets.git` (README.md and src/greeting.txt on main). */
export async function startForge(token: string): Promise<Forge> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-forge-'));
  const bare = join(root, 'acme', 'widgets.git');
  const seed = join(root, 'seed');
  execFileSync('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare], { env });
  gitSync(root, ['config', '--file', join(bare, 'config'), 'http.receivepack', 'true']);
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed], { env });
  await writeFile(join(seed, 'README.md'), '# widgets\n');
  await mkdir(join(seed, 'src'));
  await writeFile(join(seed, 'src', 'greeting.txt'), 'hello\n');
  const who = {
    GIT_AUTHOR_NAME: 'Seed',
    GIT_AUTHOR_EMAIL: 'seed@acme.test',
    GIT_COMMITTER_NAME: 'Seed',
    GIT_COMMITTER_EMAIL: 'seed@acme.test',
  };
  gitSync(seed, ['add', '.'], who);
  gitSync(seed, ['commit', '--quiet', '-m', 'first commit'], who);
  gitSync(seed, ['push', '--quiet', bare, 'main'], who);
  const expected = (user: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  const seen: ForgeRequest[] = [];
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const user =
      Buffer.from(auth.replace(/^Basic /, ''), 'base64')
        .toString('utf8')
        .split(':')[0] ?? '';
    const authorized = auth === expected(user);
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorized });
    if (!authorized) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="forge"', 'content-type': 'text/plain' });
      return void res.end('token required\n');
    }
    const url = new URL(req.url ?? '/', 'http://forge');
    runHttpBackend(
      { projectRoot: root, path: process.env.PATH ?? '/usr/bin:/bin', env: ISOLATED_GIT_ENV },
      {
        method: req.method ?? 'GET',
        pathInfo: url.pathname,
        query: url.search.slice(1),
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        gitProtocol:
          typeof req.headers['git-protocol'] === 'string' ? req.headers['git-protocol'] : undefined,
        remoteUser: user,
        body: req.method === 'POST' ? req : null,
      },
    ).then(
      (cgi) => {
        res.writeHead(cgi.status, cgi.headers);
        cgi.body.pipe(res);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    repository: `${url}/acme/widgets.git`,
    token,
    seen,
    ref: (name) => {
      try {
        return gitSync(bare, ['rev-parse', '--verify', '--quiet', name]).trim();
      } catch {
        return null;
      }
    },
    subjects: (ref) => gitSync(bare, ['log', '--format=%s', ref]).trim().split('\n'),
    git: (cwd, ...args) =>
      gitSync(cwd, args, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `http.${url}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: ${expected('tester')}`,
        ...who,
      }),
    refusePushes: async () => {
      await writeFile(
        join(bare, 'hooks', 'pre-receive'),
        '#!/bin/sh\necho "forge policy: pushes are frozen" >&2\nexit 1\n',
        { mode: 0o755 },
      );
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
