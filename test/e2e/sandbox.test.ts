/**
 * Sandboxed sessions end to end, as root: a local forge (git http-backend behind a token check),
 * `sluice serve` in front of a stand-in model scripted to use the client's Bash tool, and the real
 * Claude Code client inside the sandbox that `sluice sandbox run` builds.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  startStandin,
  type ParsedRequest,
  type Reply,
  type Standin,
} from '../../src/gateway/testing/standin.js';
import { loadConfig } from '../../src/control/config.js';
import { RUNNER } from '../../src/sandbox/bwrap.js';
import { locateClaude, sandboxIdentity } from '../../src/sandbox/host.js';
import { defaultCgroupHost, ownGroup } from '../../src/sandbox/limits.js';
import { runSandboxSession } from '../../src/sandbox/session.js';
import { openStore } from '../../src/store/index.js';
import { startForge, type Forge } from '../../src/sandbox/testing/forge.js';
import { sandboxSkip } from '../../src/sandbox/testing/support.js';
import { cleanEnv, serve, sluice, type Served } from './processes.js';

const skip = await sandboxSkip('sandbox end-to-end tests');
const main = resolve('src/cli/main.ts');
const tsx = import.meta.resolve('tsx');

/** The text of every tool_result in a request, in order. */
function toolResults(request: ParsedRequest): string[] {
  const out: string[] = [];
  for (const m of request.messages)
    if (Array.isArray(m.content))
      for (const b of m.content as { type: string; content?: unknown }[])
        if (b.type === 'tool_result')
          out.push(
            typeof b.content === 'string'
              ? b.content
              : (b.content as { text?: string }[]).map((c) => c.text ?? '').join(''),
          );
  return out;
}

/** A model that runs `steps` with the Bash tool, one per turn, handing each result to `seen`. */
function bashModel(steps: string[], seen: (step: number, result: string) => Reply | void) {
  return (request: ParsedRequest): Reply => {
    const results = toolResults(request);
    if (results.length) {
      const override = seen(results.length - 1, results.at(-1) as string);
      if (override) return override;
    }
    const next = steps[results.length];
    if (next === undefined) return { content: [{ type: 'text', text: 'All done.' }] };
    return {
      content: [
        {
          type: 'tool_use',
          // Each call needs its own id: the client keys tool results by it.
          id: `toolu_step_${results.length + 1}`,
          name: 'Bash',
          input: { command: next, description: `step ${results.length + 1}` },
        },
      ],
    };
  };
}

interface SandboxRun {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the sandbox's first process and host folder once the supervisor reports them. */
  started: Promise<{ session: string; pid: number; runDir: string }>;
  exited: Promise<number | null>;
}

/** Starts `sluice sandbox run` in `cwd` with only the forge token added to a clean environment. */
function sandboxRun(cwd: string, args: string[], env: Record<string, string>): SandboxRun {
  const child = spawn(process.execPath, ['--import', tsx, main, 'sandbox', 'run', ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onStart: (s: { session: string; pid: number; runDir: string }) => void = () => undefined;
  const started = new Promise<{ session: string; pid: number; runDir: string }>((r) => (onStart = r));
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    const m = /session (s[0-9a-f]+) started \(sandbox pid (\d+), run dir (\S+)\)/.exec(err);
    if (m) onStart({ session: m[1] as string, pid: Number(m[2]), runDir: m[3] as string });
  });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  cleanups.push(() => stopIfRunning(child, exited));
  return { child, stderr: () => err, stdout: () => out, started, exited };
}

/** Terminal control sequences (ESC [ … letter), dropped from what a terminal session shows. */
const CSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/** A failed test must not leave a session running (it would keep this file's process alive). */
async function stopIfRunning(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await exited;
}

interface Snapshot {
  /** The sandbox's PID namespace. */
  ns: string;
  pids: number[];
  /** environ and cmdline of every process of the sandbox (and of bwrap outside it). */
  processes: { pid: number; environ: Buffer; cmdline: Buffer; uid: string; cgroup: string }[];
  files: { path: string; data: Buffer }[];
}

/** Reads, from outside, every process of the sandbox whose first process is `pid`, and its own files. */
function snapshotSandbox(pid: number): Snapshot {
  const ns = readlinkSync(`/proc/${pid}/ns/pid`);
  const inside = processesIn(ns);
  const bwrap = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  const processes = [...inside, bwrap].flatMap((p) => {
    try {
      return [
        {
          pid: p,
          environ: readFileSync(`/proc/${p}/environ`),
          cmdline: readFileSync(`/proc/${p}/cmdline`),
          uid: /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? '?',
          cgroup: readFileSync(`/proc/${p}/cgroup`, 'utf8'),
        },
      ];
    } catch {
      return []; // ended meanwhile
    }
  });
  const files: Snapshot['files'] = [];
  // The sandbox's own file systems, and what is mounted from the host except /usr and the binaries.
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && lstatSync(p).size < 16 * 1024 * 1024)
        files.push({ path: p, data: readFileSync(p) });
    }
  };
  const root = `/proc/${pid}/root`;
  for (const top of readdirSync(root))
    if (!['proc', 'dev', 'usr', 'opt', 'sys'].includes(top) && lstatSync(join(root, top)).isDirectory())
      walk(join(root, top));
  return { ns, pids: inside, processes, files };
}

/**
 * Is `pid` still running? An exited sandbox's first process may linger as a zombie until the host's
 * init reaps it (bwrap leaves it to init): a zombie holds no memory, mounts or namespaces.
 */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Running processes in the PID namespace `ns`. */
function processesIn(ns: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/pid`) === ns && running(p);
      } catch {
        return false;
      }
    });
}

/** A loopback service on the host that the sandbox must not reach; counts connections. */
async function loopbackService(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.end('hello\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => n,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
let dir: string;
let forge: Forge;
let standin: Standin;
let served: Served;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'sluice-sbx-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  forge = await startForge(`ghp_${randomBytes(18).toString('hex')}`);
  cleanups.push(() => forge.close());
  const upstreamKey = `sk-ant-${randomBytes(12).toString('hex')}`;
  standin = await startStandin(upstreamKey);
  cleanups.push(() => standin.close());
  await writeFile(
    join(dir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./.sluice/sluice.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "\${ANTHROPIC_API_KEY}" }
forges:
  local: { baseUrl: "${forge.url}", tokenEnv: FORGE_TOKEN }
orgs:
  acme:
    upstream: anthropic
    contentLogging: redacted
    sandbox:
      repositories: ["${forge.url}/acme/*"]
      limits: { cpus: 1, memoryMb: 2048, processes: 256, wallMinutes: 10, diskMb: 256 }
  vault:
    upstream: anthropic
    zdr: true
    contentLogging: full
    sandbox: { repositories: ["${forge.url}/acme/widgets.git"] }
`,
  );
  // The gateway gets the upstream key and nothing of the forge.
  served = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: upstreamKey }));
  cleanups.push(() => served.stop());
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('sluice sandbox run with the real Claude Code client', { skip }, () => {
  it('edits, commits and pushes its branch through Sluice; main, the host and the token stay out of reach', async () => {
    const other = await loopbackService();
    cleanups.push(() => other.close());
    const steps = [
      "printf 'hello from the sandbox\\n' > src/greeting.txt && git commit -qam 'Greet from the sandbox' && git push origin HEAD 2>&1",
      'git push origin HEAD:main 2>&1; echo "push-to-main-exit=$?"',
      [
        `for t in 127.0.0.1/5432 127.0.0.1/${other.port} 1.1.1.1/443; do`,
        '  if timeout 5 bash -c "exec 3<>/dev/tcp/$t" 2>/dev/null; then echo "OPEN $t"; else echo "CLOSED $t"; fi;',
        'done;',
        'getent hosts example.com || echo "NO DNS";',
        'curl -sS -m 10 -o /dev/null https://example.com/ 2>&1 | head -1',
      ].join(' '),
    ];
    const results: string[] = [];
    let snapshot: Snapshot | null = null;
    let sandboxPid = 0;
    standin.respond = bashModel(steps, (step, result) => {
      results[step] = result;
      // Claude Code is waiting for this answer: the sandbox is alive. Look at it from outside.
      if (step === steps.length - 1 && !snapshot) snapshot = snapshotSandbox(sandboxPid);
    });
    const run = sandboxRun(
      dir,
      [
        '--org',
        'acme',
        '--user',
        'dev@acme.test',
        '--repo',
        forge.repository,
        '--gateway',
        served.url,
        '--format',
        'json',
        '-p',
        'change the greeting and push it',
        '--',
        '--model',
        'claude-test',
      ],
      { FORGE_TOKEN: forge.token },
    );
    const started = await run.started;
    sandboxPid = started.pid;
    const code = await run.exited;
    assert.equal(code, 0, run.stderr());
    const outcome = JSON.parse(run.stdout().trim().split('\n').at(-1) as string) as {
      session: string;
      branch: string;
      ended: string;
      exitCode: number;
      transcript: { kept: boolean; folder?: string };
    };
    assert.equal(outcome.ended, 'exited');
    assert.equal(outcome.session, started.session);
    assert.match(run.stdout(), /All done\./, 'the session streamed its answer');

    // The edit reached the forge on the session's branch, and only there.
    const branch = `refs/heads/claude/${started.session}`;
    assert.deepEqual(forge.subjects(branch).slice(0, 2), ['Greet from the sandbox', 'first commit']);
    assert.deepEqual(forge.subjects('refs/heads/main'), ['first commit']);
    assert.match(results[0] ?? '', /\* \[new branch\]\s+HEAD -> claude\//);
    assert.match(
      results[1] ?? '',
      /! \[remote rejected\] HEAD -> main \(sluice: this session may push only to/,
    );
    assert.match(results[1] ?? '', /push-to-main-exit=1/);

    // No way out but Sluice: not PostgreSQL, not another loopback service, not the internet, no DNS.
    assert.match(results[2] ?? '', /CLOSED 127\.0\.0\.1\/5432/);
    assert.match(results[2] ?? '', new RegExp(`CLOSED 127\\.0\\.0\\.1/${other.port}`));
    assert.match(results[2] ?? '', /CLOSED 1\.1\.1\.1\/443/);
    assert.match(results[2] ?? '', /NO DNS/);
    assert.match(results[2] ?? '', /CONNECT tunnel failed, response 403/);
    assert.equal(other.connections(), 0);

    // During the run: the token in no process environment or command line, and in no file.
    const snap = snapshot as Snapshot | null;
    assert.ok(snap, 'the sandbox was looked at while it ran');
    assert.ok(snap.pids.length >= 3, 'bwrap, the runner, Claude Code and its shell');
    const token = Buffer.from(forge.token);
    for (const p of snap.processes) {
      assert.ok(!p.environ.includes(token) && !p.cmdline.includes(token), `process ${p.pid} holds the token`);
      assert.equal(p.uid, '65534', `process ${p.pid} runs as the sandbox user on the host`);
    }
    for (const p of snap.processes.filter((x) => snap.pids.includes(x.pid)))
      assert.match(
        p.cgroup,
        new RegExp(`sluice-${started.session}`),
        `process ${p.pid} is inside the limits`,
      );
    assert.ok(
      snap.processes.some((p) => p.environ.includes('ANTHROPIC_AUTH_TOKEN=sk-sluice-')),
      'the search reads environments (it finds the session key)',
    );
    for (const f of snap.files) assert.ok(!f.data.includes(token), `${f.path} holds the token`);
    assert.ok(
      snap.files.some((f) => f.path.endsWith('/workspace/widgets/README.md')),
      'the search reads the clone',
    );

    // Afterwards: the sandbox, its folder and its control groups are gone; the key is revoked.
    assert.equal(running(started.pid), false);
    assert.deepEqual(processesIn(snap.ns), []);
    assert.equal(existsSync(started.runDir), false);
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    for (const controller of ['cpu', 'memory', 'pids'])
      assert.equal(
        existsSync(
          join('/sys/fs/cgroup', controller, ownGroup(self, controller) ?? '', `sluice-${started.session}`),
        ),
        false,
      );
    const admin = jsonLines(sluice(dir, ['admin-log', '--format', 'json'])) as {
      actor: string;
      action: string;
      target: string;
      details: Record<string, unknown>;
    }[];
    const mine = admin.filter((e) => e.actor === `sandbox:${started.session}`);
    assert.deepEqual(
      mine.map((e) => e.action),
      [
        'key.created',
        'sandbox.started',
        'sandbox.git.clone',
        'sandbox.git.push',
        'sandbox.git.push',
        'key.revoked',
        'sandbox.ended',
      ],
    );
    const pushes = mine.filter((e) => e.action === 'sandbox.git.push').map((e) => e.details.result);
    assert.deepEqual(pushes, [
      'ok',
      `refused: this session may push only to ${branch}, not refs/heads/main (Sluice sandbox policy)`,
    ]);
    assert.equal(JSON.stringify(admin).includes(forge.token), false);
    const keyId = mine[0]?.target;
    const keys = JSON.parse(sluice(dir, ['keys', 'list', '--format', 'json']).stdout) as {
      id: string;
      revokedAt: string | null;
      expiresAt: string | null;
    }[];
    const key = keys.find((k) => k.id === keyId);
    assert.ok(key?.revokedAt && key.expiresAt, 'the session key was short-lived and is revoked');

    // The model requests are in the audit log under the session's key.
    const records = jsonLines(sluice(dir, ['logs', '--format', 'json'])) as {
      keyId: string;
      status: number;
    }[];
    assert.ok(records.filter((r) => r.keyId === keyId && r.status === 200).length >= steps.length + 1);
    const egress = jsonLines(sluice(dir, ['egress', 'log', '--format', 'json'])) as {
      host: string;
      decision: string;
      user: string;
    }[];
    assert.ok(
      egress.some((e) => e.host === 'example.com' && e.decision === 'deny' && e.user === 'dev@acme.test'),
    );

    // contentLogging redacted: the transcript is kept, scrubbed, private.
    assert.equal(outcome.transcript.kept, true);
    const folder = outcome.transcript.folder as string;
    assert.equal((await stat(folder)).mode & 0o777, 0o700);
    const names = await readdir(folder);
    assert.ok(names.some((n) => n.endsWith('.jsonl')));
    for (const n of names) assert.equal((await stat(join(folder, n))).mode & 0o777, 0o600);
  });

  it('stopped by a signal mid-session: the sandbox is destroyed and its key revoked', async () => {
    let run: SandboxRun | null = null;
    standin.respond = () => {
      // Claude Code is inside, waiting on the model: stop the supervisor now, and never answer.
      run?.child.kill('SIGTERM');
      return { hang: true };
    };
    run = sandboxRun(
      dir,
      [
        '--org',
        'acme',
        '--user',
        'dev@acme.test',
        '--repo',
        forge.repository,
        '--gateway',
        served.url,
        '--format',
        'json',
        '-p',
        'wait',
        '--',
        '--model',
        'claude-test',
      ],
      { FORGE_TOKEN: forge.token },
    );
    const started = await run.started;
    const code = await run.exited;
    assert.equal(code, 1, run.stderr());
    const outcome = JSON.parse(run.stdout().trim()) as { ended: string };
    assert.equal(outcome.ended, 'interrupted');
    assert.equal(running(started.pid), false);
    assert.equal(existsSync(started.runDir), false);
    const ended = (
      jsonLines(sluice(dir, ['admin-log', '--format', 'json'])) as {
        actor: string;
        action: string;
        details: { ended?: string };
      }[]
    ).filter((e) => e.actor === `sandbox:${started.session}`);
    assert.deepEqual(
      ended.slice(-2).map((e) => e.action),
      ['key.revoked', 'sandbox.ended'],
    );
    assert.equal(ended.at(-1)?.details.ended, 'interrupted');
  });

  it('at its wall time the session is stopped and destroyed; under ZDR no transcript is kept', async () => {
    standin.respond = () => ({ hang: true });
    const config = await loadConfig(
      join(dir, 'sluice.yaml'),
      { FORGE_TOKEN: forge.token },
      { allowUnsetEnv: true },
    );
    const store = await openStore(config.storage, dir);
    cleanups.push(() => store.close());
    const lines: string[] = [];
    const gateway = new URL(served.url);
    const outcome = await runSandboxSession(
      {
        org: 'vault',
        user: 'ops@acme.test',
        repository: forge.repository,
        prompt: 'wait',
        claudeArgs: ['--model', 'claude-test'],
      },
      {
        env: { FORGE_TOKEN: forge.token },
        store,
        config,
        configDir: dir,
        gateway: { host: gateway.hostname, port: Number(gateway.port) },
        claude: await locateClaude(undefined, process.env.PATH ?? ''),
        node: process.execPath,
        runner: RUNNER,
        bwrap: 'bwrap',
        runBase: tmpdir(),
        cgroups: await defaultCgroupHost(),
        identity: sandboxIdentity(config.sandbox),
        clock: () => new Date(),
        random: randomBytes,
        status: (l) => lines.push(l),
        wallMs: 3_000,
        graceMs: 1_000,
      },
    );
    assert.equal(outcome.ended, 'timeout', lines.join('\n'));
    assert.deepEqual(outcome.transcript, {
      kept: false,
      why: 'zero data retention: no session content is kept',
    });
    assert.equal(existsSync(join(dir, '.sluice', 'transcripts', 'vault')), false);
    const m = /sandbox pid (\d+), run dir (\S+)\)/.exec(lines.join('\n'));
    assert.ok(m, lines.join('\n'));
    assert.equal(running(Number(m[1])), false);
    assert.equal(existsSync(m[2] as string), false);
    assert.ok(lines.some((l) => l.includes('reached its wall time')));
    const keys = await store.listKeys({ org: 'vault' });
    assert.equal(keys.length, 1);
    assert.ok(keys[0]?.revokedAt, 'the session key is revoked');
  });

  it('interactive on a terminal: the session takes a prompt typed in, answers, and exits on /exit', async () => {
    standin.respond = () => ({
      content: [{ type: 'text', text: 'Hello from the stand-in, on a terminal.' }],
    });
    // `script` gives the session a terminal; what it shows comes back on stdout as the terminal would draw it.
    const command = [
      process.execPath,
      '--import',
      tsx,
      main,
      'sandbox',
      'run',
      '--org',
      'acme',
      '--user',
      'dev@acme.test',
    ]
      .concat(['--repo', forge.repository, '--gateway', served.url, '--', '--model', 'claude-test'])
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: dir,
      env: cleanEnv({ FORGE_TOKEN: forge.token, TERM: 'xterm-256color' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const waiters: { re: RegExp; from: number; resolve: () => void }[] = [];
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString('utf8').replace(CSI, '');
      for (const w of waiters.splice(0))
        if (w.re.test(screen.slice(w.from))) w.resolve();
        else waiters.push(w);
    });
    // The terminal is drawn with cursor moves, so the spaces between words may not be there.
    const shown = (text: string) =>
      new Promise<void>((resolve) => {
        const re = new RegExp(
          text
            .split(' ')
            .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
            .join('\\s*'),
          'i',
        );
        waiters.push({ re, from: screen.length, resolve });
      });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    cleanups.push(() => stopIfRunning(child, exited));
    await shown('bypass permissions on');
    const typed = shown('say hello');
    child.stdin.write('say hello');
    await typed;
    const answered = shown('Hello from the stand-in, on a terminal.');
    child.stdin.write('\r');
    await answered;
    const listed = shown('/exit');
    child.stdin.write('/exit');
    await listed;
    child.stdin.write('\r');
    assert.equal(await exited, 0, screen);
    assert.match(screen, /sluice sandbox: session s[0-9a-f]+ ended: exited \(exit 0\)/);
  });

  it('a repository outside the policy is refused before anything starts', () => {
    const r = sluice(
      dir,
      [
        'sandbox',
        'run',
        '--org',
        'acme',
        '--user',
        'dev@acme.test',
        '--repo',
        `${forge.url}/other/secrets.git`,
        '-p',
        'x',
      ],
      cleanEnv({ FORGE_TOKEN: forge.token }),
    );
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      `sluice: org "acme" may not run sandboxed sessions on ${forge.url}/other/secrets.git (allowed: ${forge.url}/acme/*)\n`,
    );
  });
});

function jsonLines(r: { status: number | null; stdout: string; stderr: string }): unknown[] {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
}
