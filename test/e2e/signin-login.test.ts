/**
 * `sluice login` and `sluice token` end to end: the real `sluice serve` with a real OpenID provider
 * (oidc-provider); the device flow run from a terminal, the browser leg played with fetch, the
 * tokens in a 0600 file under the user's config dir, refreshed before they expire, and a refused
 * refresh (a revoked session, a leaver at the IdP) ending in exit 2 with what to do.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, runClaude, sluice, sluiceCommand, startSluice } from './processes.js';
import { approveDevice, startSignInWorld, type SignInWorld } from './signin-world.js';

let world: SignInWorld;
const dirs: string[] = [];
before(async () => {
  world = await startSignInWorld('requiredDenyRules: ["Read(./secrets/**)"]\n');
});
after(async () => {
  await world?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A person's own config dir: `XDG_CONFIG_HOME`, as on a Linux desktop. */
async function person(): Promise<Record<string, string>> {
  const home = await mkdtemp(join(tmpdir(), 'sluice-login-'));
  dirs.push(home);
  return cleanEnv({ XDG_CONFIG_HOME: join(home, 'config'), HOME: home });
}

/** `sluice login` as IdP user `login`, approved in a browser once it printed its code. */
async function login(
  env: Record<string, string>,
  who: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = startSluice(world.dir, ['login', '--gateway', world.base], env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /enter the code\n {2}([A-Z]{4}-[A-Z]{4})\n/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`login exited before printing a code: ${err}`)));
  });
  const page = await approveDevice(world, code, who);
  assert.match(page, /signed in\. Return to your device\./);
  const exit = await new Promise<number | null>((r) => child.once('exit', r));
  return { code: exit, out, err };
}

const messages = (token: string) =>
  fetch(`${world.base}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });

/**
 * Runs a verb without blocking this process: the IdP lives in it, and a refresh at the gateway
 * calls the IdP (spawnSync would hold its event loop until the request timed out).
 */
function run(
  env: Record<string, string>,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = startSluice(world.dir, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

const token = (env: Record<string, string>, ...args: string[]) => run(env, ['token', ...args]);

describe('sluice login and sluice token (sluice serve, a real OpenID provider)', () => {
  it('signs in from a terminal, stores the tokens 0600, prints and refreshes them for apiKeyHelper', async () => {
    const env = await person();
    const signedIn = await login(env, 'dev');
    assert.equal(signedIn.code, 0, signedIn.err);
    assert.match(
      signedIn.err,
      new RegExp(`To sign in to ${world.base}, open\\n  ${world.base}/device\\nin a browser`),
    );
    const file = join(env.XDG_CONFIG_HOME!, 'sluice', 'credentials.json');
    assert.equal(
      signedIn.out,
      `Signed in to ${world.base} as dev@example.com. Tokens are in ${file}; \`sluice token\` prints one.\n`,
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as {
      current: string;
      gateways: Record<
        string,
        { accessToken: string; refreshToken: string; expiresAt: number; tokenEndpoint: string }
      >;
    };
    assert.equal(stored.current, world.base);
    const first = stored.gateways[world.base]!;
    assert.equal(first.tokenEndpoint, `${world.base}/oauth/token`);

    // Fresh: printed as stored, and the gateway takes it (as x-api-key, the way apiKeyHelper sends it).
    const printed = await token(env);
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout, `${first.accessToken}\n`);
    assert.equal((await messages(first.accessToken)).status, 200);

    // Less left than --min-valid: renewed with the refresh token, which rotates. Two at once take turns.
    const [a, b] = await Promise.all([0, 1].map(() => token(env, '--min-valid', '3600', '--format', 'json')));
    assert.equal(a!.status, 0, a!.stderr);
    assert.equal(b!.status, 0, b!.stderr);
    const renewed = JSON.parse(await readFile(file, 'utf8')) as typeof stored;
    const now = renewed.gateways[world.base]!;
    assert.notEqual(now.refreshToken, first.refreshToken, 'the refresh token rotated');
    const outputs = [a!, b!].map((r) => JSON.parse(r.stdout) as { access_token: string; gateway: string });
    assert.ok(outputs.some((o) => o.access_token === now.accessToken));
    for (const o of outputs) {
      assert.notEqual(o.access_token, first.accessToken);
      assert.equal((await messages(o.access_token)).status, 200, 'the session survived two renewals at once');
    }
  });

  it('a revoked session: the refresh is refused, exit 2 says to sign in again, and the tokens are forgotten', async () => {
    const env = await person();
    assert.equal((await login(env, 'dev')).code, 0);
    const current = (await token(env)).stdout.trim();
    const revoked = await fetch(`${world.base}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: current }).toString(),
    });
    assert.equal(revoked.status, 200);
    assert.equal((await messages(current)).status, 401);
    const refused = await token(env, '--min-valid', '3600');
    assert.deepEqual([refused.status, refused.stdout], [2, '']);
    assert.equal(
      refused.stderr,
      `sluice: the gateway refused to renew the sign-in (signed out, revoked by an administrator, or the account was disabled): run \`sluice login --gateway ${world.base}\` to sign in again\n`,
    );
    const gone = await token(env);
    assert.deepEqual(
      [gone.status, gone.stderr],
      [
        2,
        `sluice: not signed in to ${world.base}: run \`sluice login --gateway ${world.base}\` to sign in\n`,
      ],
    );
  });

  it('a leaver: the IdP refuses the refresh, and `sluice token` exits 2', async () => {
    const env = await person();
    assert.equal((await login(env, 'leaver')).code, 0);
    world.idp.users.get('leaver')!.active = false;
    const refused = await token(env, '--min-valid', '3600');
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /refused to renew the sign-in .*: run `sluice login --gateway .*` to sign in again/,
    );
  });

  it('sluice logout revokes the tokens at the gateway and forgets them', async () => {
    const env = await person();
    assert.equal((await login(env, 'dev')).code, 0);
    const current = (await token(env)).stdout.trim();
    const out = await run(env, ['logout']);
    assert.deepEqual([out.status, out.stdout, out.stderr], [0, `Signed out of ${world.base}.\n`, '']);
    assert.equal((await messages(current)).status, 401);
    assert.equal((await token(env)).status, 2);
  });

  it('the real Claude Code with apiKeyHelper "sluice token": requests recorded under the signed-in person', async () => {
    const env = await person();
    assert.equal((await login(env, 'dev')).code, 0);
    const home = env.HOME!;
    const project = join(home, 'project');
    await mkdir(join(home, '.claude'), { recursive: true });
    await mkdir(project);
    await writeFile(
      join(home, '.claude', 'settings.json'),
      JSON.stringify({
        apiKeyHelper: sluiceCommand('token'),
        env: { CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '240000' },
      }),
    );
    const seen = world.standin.seen.length;
    const run = await runClaude('hi from the helper', {
      cwd: project,
      home,
      baseUrl: world.base,
      key: '',
      route: { ANTHROPIC_BASE_URL: world.base },
      env: {
        XDG_CONFIG_HOME: env.XDG_CONFIG_HOME!,
        DISABLE_TELEMETRY: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
    });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /Hello from the stand-in\./);
    assert.ok(world.standin.seen.length > seen, 'the request went through the gateway');
    const logs = sluice(world.dir, ['logs', '--user', 'dev@example.com', '--format', 'json']);
    assert.equal(logs.status, 0, logs.stderr);
    const records = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user: string; keyId: string; status: number; path: string });
    assert.ok(
      records.some((r) => r.path === '/v1/messages' && r.status === 200 && r.keyId.startsWith('ses_')),
      'a request of the signed-in session, recorded under dev@example.com',
    );
  });
});
