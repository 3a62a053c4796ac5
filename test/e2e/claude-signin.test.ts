/**
 * The real Claude Code client signs in to `sluice serve` with company sign-in (the reference
 * specification's recipe, §18): as root, in a private mount namespace whose `/etc` is an overlay
 * holding the client's managed settings (the host's `/etc` is never touched), `claude auth login`
 * runs in tmux; the test presses its keys, plays the browser against a real OpenID provider, then
 * runs `claude -p` signed in: the model reads two files with the client's Read tool, one holding a
 * secret the guard redacts, one the managed settings served by Sluice deny; and `sluice audit`
 * recognises the client as governed by the gateway. Where that cannot run the test says so loudly
 * and skips, and fails with SLUICE_REQUIRE_CLIENT_SIGNIN=1 (as .ci/run sets).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { ParsedRequest, Reply } from '../../src/gateway/testing/standin.js';
import { TestBrowser } from '../../src/signin/testing/idp.js';
import { openStore } from '../../src/store/index.js';
import { sluice } from './processes.js';
import { startSignInWorld } from './signin-world.js';

const claude = resolve('node_modules/.bin/claude');
const AWS = 'AKIAQYLPMN5HHHFPZAM2';
const DENIED = `denied-canary-${process.pid}`;

/** Every tool_result of a request: its tool_use id, whether it is an error, and its text. */
function toolResults(request: ParsedRequest): { id: string; error: boolean; text: string }[] {
  const out: { id: string; error: boolean; text: string }[] = [];
  for (const m of request.messages)
    if (Array.isArray(m.content))
      for (const b of m.content as {
        type: string;
        tool_use_id?: string;
        is_error?: boolean;
        content?: unknown;
      }[])
        if (b.type === 'tool_result')
          out.push({ id: b.tool_use_id ?? '', error: b.is_error === true, text: JSON.stringify(b.content) });
  return out;
}

/** A model that reads the deploy config and the secrets folder with the client's Read tool, then quotes what it got. */
function readFilesModel(project: string) {
  return (request: ParsedRequest): Reply => {
    const results = toolResults(request);
    if (results.length)
      return {
        content: [{ type: 'text', text: `What I was shown: ${results.map((r) => r.text).join(' | ')}` }],
      };
    if (JSON.stringify(request.messages).includes('read the deploy config'))
      return {
        content: [
          {
            type: 'tool_use',
            id: 'toolu_deploy',
            name: 'Read',
            input: { file_path: join(project, 'deploy.conf') },
          },
          {
            type: 'tool_use',
            id: 'toolu_secret',
            name: 'Read',
            input: { file_path: join(project, 'secrets/token.txt') },
          },
        ],
      };
    return { content: [{ type: 'text', text: 'ok' }] };
  };
}

/** Why the recipe cannot run here, or null. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('tmux', ['-V']).status !== 0) return 'tmux is not installed';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return `no private mount namespace (${String(probe.stderr).trim()})`;
  return null;
}

const why = unavailable();
if (why) {
  const line = `real Claude Code sign-in recipe cannot run here (${why}): test SKIPPED`;
  if (process.env.SLUICE_REQUIRE_CLIENT_SIGNIN === '1')
    it('the real client sign-in is required here (SLUICE_REQUIRE_CLIENT_SIGNIN=1)', () => assert.fail(line));
  else process.stderr.write(`\n!!! ${line} !!!\n\n`);
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The screen of tmux session `name`. */
const pane = (name: string) =>
  spawnSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' }).stdout;
const keys = (name: string, ...k: string[]) => spawnSync('tmux', ['send-keys', '-t', name, ...k]);

/** Waits until the screen shows `re` (the TUI draws asynchronously); fails with the screen after `ms`. */
async function screen(name: string, re: RegExp, ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const text = pane(name);
    if (re.test(text)) return text;
    if (Date.now() > until) throw new Error(`the client never showed ${re}; its screen:\n${text}`);
    await delay(100);
  }
}

describe('the real Claude Code client signs in to Sluice (spec §18 recipe)', { skip: why ?? false }, () => {
  it('auth login through the device flow and the IdP, then claude -p as the signed-in user under managed settings', async () => {
    const world = await startSignInWorld(
      'requiredDenyRules: ["Read(./secrets/**)"]\n',
      '{ upstream: anthropic, contentLogging: redacted, guard: { secrets: redact } }',
    );
    cleanups.push(() => world.close());
    const ns = await mkdtemp(join(tmpdir(), 'sluice-client-'));
    cleanups.push(() => rm(ns, { recursive: true, force: true }));
    for (const d of ['upper/claude-code', 'work', 'home', 'project/secrets'])
      await mkdir(join(ns, d), { recursive: true });
    await writeFile(join(ns, 'project/deploy.conf'), `region=eu-west-1\naws_access_key_id=${AWS}\n`);
    await writeFile(join(ns, 'project/secrets/token.txt'), `${DENIED}\n`);
    world.standin.respond = readFilesModel(join(ns, 'project'));
    await writeFile(
      join(ns, 'upper/claude-code/managed-settings.json'),
      JSON.stringify({ forceLoginMethod: 'gateway', forceLoginGatewayUrl: world.base }),
    );
    // The client alone sees the overlay: /etc of this process, and of the host, stays as it is.
    const run = join(ns, 'run.sh');
    await writeFile(
      run,
      `#!/bin/bash
mount -t overlay overlay -o lowerdir=/etc,upperdir=${ns}/upper,workdir=${ns}/work /etc || exit 97
cd ${ns}/project
exec env -i HOME=${ns}/home PATH="${process.env.PATH}" TERM=xterm-256color CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ${claude} "$@"
`,
    );
    await chmod(run, 0o700);
    const session = `sluice-signin-${process.pid}`;
    const started = spawnSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '200',
      '-y',
      '50',
      `unshare --mount --propagation private ${run} auth login; echo "login exited $?"; sleep 300`,
    ]);
    assert.equal(started.status, 0, String(started.stderr));
    cleanups.push(async () => spawnSync('tmux', ['kill-session', '-t', session]));

    await screen(
      session,
      new RegExp(`Gateway:\\s+${world.base.replace(/[.]/g, '\\.')}[\\s\\S]*Enter to connect`),
    );
    keys(session, 'Enter');
    await screen(session, /Trust gateway 127\.0\.0\.1\?[\s\S]*No, go back/);
    keys(session, 'Up');
    await screen(session, /❯ Yes, trust this gateway/);
    keys(session, 'Enter');
    const code = /Code:\s+([A-Z]{4}-[A-Z]{4})/.exec(await screen(session, /Code:\s+[A-Z]{4}-[A-Z]{4}/))![1]!;

    const browser = new TestBrowser();
    const verified = await browser.request(`${world.base}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.base },
      body: `user_code=${code}`,
    });
    const done = await browser.signInAtIdp(
      verified,
      `${world.base}/device`,
      'dev',
      `${world.base}/oauth/callback`,
    );
    assert.match(done.body, /signed in\. Return to your device\./);

    // The token response names the account: the client asks the person to confirm it.
    await screen(session, /Signed in to Cloud gateway as dev@example\.com[\s\S]*No, go back/);
    keys(session, 'Up');
    await screen(session, /❯ Yes, continue/);
    keys(session, 'Enter');
    await screen(session, /Connected to Cloud gateway/);
    keys(session, 'Enter');
    const credentials = JSON.parse(await readFile(join(ns, 'home/.claude/.credentials.json'), 'utf8')) as {
      enterpriseGateway: { url: string; jwt: string; idpRefreshToken: string; revocationEndpoint?: string };
    };
    assert.equal(credentials.enterpriseGateway.url, world.base);
    assert.match(credentials.enterpriseGateway.idpRefreshToken, /^srt1\./);

    // Signed in: the client fetches its managed settings and sends its requests with the token;
    // the model reads two files, the client runs the tools and sends the results back.
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', run, '-p', 'read the deploy config', '--model', 'claude-test'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(exit, 0, out);
    const inference = world.standin.seen.filter((r) => r.url.startsWith('/v1/messages'));
    const withResults = inference.find((r) => r.body.includes('tool_result'));
    assert.ok(withResults, `the client sent the tool results back: ${out}`);
    for (const r of inference) {
      assert.equal(r.headers['x-api-key'], 'sk-ant-upstream-signin');
      assert.ok(!r.body.includes(AWS), 'the secret in the tool result was redacted before the upstream');
      assert.ok(!r.body.includes(DENIED), 'the denied file was never read');
    }
    const results = toolResults(JSON.parse(withResults.body.toString('utf8')) as ParsedRequest);
    const deploy = results.find((r) => r.id === 'toolu_deploy');
    assert.match(deploy?.text ?? '', /aws_access_key_id=\[REDACTED:aws-access-key-id:1\]/);
    // The managed settings Sluice served deny Read(./secrets/**): the client refused the read.
    const secret = results.find((r) => r.id === 'toolu_secret');
    assert.equal(secret?.error, true, `the client applied the served deny rule: ${secret?.text}`);
    assert.match(secret?.text ?? '', /denied by your permission settings/);
    assert.match(out, /What I was shown: .*\[REDACTED:aws-access-key-id:1\]/);
    const settings = (await (
      await fetch(`${world.base}/managed/settings`, {
        headers: { authorization: `Bearer ${credentials.enterpriseGateway.jwt}` },
      })
    ).json()) as { checksum: string };
    assert.equal(
      withResults.headers['x-claude-code-managed-settings-checksum'],
      settings.checksum,
      'the client applied the settings Sluice served',
    );

    // sluice audit reads the client's files and recognises it as governed by the gateway.
    const audit = sluice(world.dir, [
      'audit',
      '--home',
      join(ns, 'home'),
      '--project',
      join(ns, 'project'),
      '--managed',
      join(ns, 'upper/claude-code'),
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    assert.equal(audit.status, 0, audit.stderr);
    const report = JSON.parse(audit.stdout) as {
      gatewaySignIn: { signedIn: { url: string; email: string } | null };
      findings: { id: string; message: string }[];
    };
    assert.deepEqual(
      report.gatewaySignIn.signedIn && [
        report.gatewaySignIn.signedIn.url,
        report.gatewaySignIn.signedIn.email,
      ],
      [world.base, 'dev@example.com'],
    );
    const governed = report.findings.find((f) => f.id === 'gateway-governed');
    assert.match(
      governed?.message ?? '',
      new RegExp(
        `signed in to the company gateway ${world.base.replace(/[.]/g, '\\.')} as dev@example\\.com`,
      ),
    );
    assert.ok(!audit.stdout.includes(credentials.enterpriseGateway.jwt), 'no token in the audit output');

    await world.gateway.stop();
    const store = await openStore('sqlite:./sluice.db', world.dir);
    cleanups.push(() => store.close());
    const records = await store.queryAudit({ org: 'acme' });
    const redacted = records.find((r) => r.path === '/v1/messages' && r.guard.decision === 'redact');
    assert.ok(redacted, 'the tool-result request is recorded as redacted');
    assert.deepEqual(
      [redacted.status, redacted.user, redacted.groups, redacted.guard.rules],
      [200, 'dev@example.com', ['engineers'], { 'aws-access-key-id': 1 }],
      'the audit record names the signed-in user',
    );
    assert.ok(redacted.keyId?.startsWith('ses_'));
    assert.ok(!JSON.stringify(records).includes(AWS), 'no record holds the secret');
  });
});
