/**
 * One sandboxed session from start to end: the org's policy applied, a short-lived key minted,
 * the session's services started on the host (bridges to the gateway and to a session egress
 * proxy, the git credential proxy, the transcript hand-over), the sandbox launched inside its
 * limits, and, however it ends (exit, wall time, interruption, failure), everything torn down:
 * the sandbox killed, its key revoked, its host folder and control group removed, the transcript
 * kept or not as the org's content logging says, and each step in the admin log.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { recordAdmin } from '../control/admin-log.js';
import type { SluiceConfig } from '../control/config.js';
import { createKey } from '../control/keys.js';
import type { Store } from '../store/types.js';
import { bwrapArguments, etcFiles, INSIDE, OPTIONAL_HOST_FILES } from './bwrap.js';
import { createCgroup, existingCgroup, type CgroupHost, type SandboxCgroup } from './limits.js';
import { launchSandbox, type RunningSandbox } from './launch.js';
import { resolveSandbox, type ResolvedSandbox } from './policy.js';
import { probeHostRoot } from './host.js';
import { repositoryName } from './repository.js';
import { startSessionServices, type SessionServices } from './services.js';
import { keepTranscripts, sweepTranscripts, type TranscriptFile } from './transcript.js';

/** Loopback ports inside the sandbox (its network namespace has nothing else). */
export const INSIDE_PORTS = { gateway: 8787, egress: 8788, git: 8789 } as const;

export interface SandboxRequest {
  org: string;
  user: string;
  repository: string;
  /** `claude -p PROMPT`; absent: an interactive session on this terminal. */
  prompt?: string;
  /** More arguments for Claude Code, after Sluice's own. */
  claudeArgs?: string[];
}

/** The edges: store, configuration, binaries, clock, randomness, where things go. */
export interface SandboxHost {
  /** Where forge tokens are read (the forge's tokenEnv). */
  env: Record<string, string | undefined>;
  store: Store;
  config: SluiceConfig;
  /** The configuration file's folder (relative paths in it are relative to it). */
  configDir: string;
  gateway: { host: string; port: number };
  claude: string;
  node: string;
  runner: string;
  bwrap: string;
  /** Where session folders are made (default: the system's temporary folder). */
  runBase: string;
  cgroups: CgroupHost;
  /** Host user and group the sandbox runs as, or null to run as this process's user. */
  identity: { uid: number; gid: number } | null;
  clock: () => Date;
  random: (n: number) => Buffer;
  /** Progress lines (the CLI writes them to stderr). */
  status: (line: string) => void;
  /** Aborted on SIGINT / SIGTERM: the session is stopped. */
  signal?: AbortSignal;
  /** Overrides the policy's wall time (tests). */
  wallMs?: number;
  /** How long a stopped sandbox gets to end by itself before it is killed. */
  graceMs?: number;
}

export interface SandboxOutcome {
  session: string;
  branch: string;
  exitCode: number | null;
  ended: 'exited' | 'timeout' | 'interrupted' | 'failed';
  limits: string[];
  transcript:
    { kept: false; why: string } | { kept: true; folder: string; redactions: Record<string, number> };
  git: { operation: string; result: string }[];
}

/** Runs one session to its end (see the module comment). Throws SandboxPolicyError before starting anything when policy says no. */
export async function runSandboxSession(req: SandboxRequest, host: SandboxHost): Promise<SandboxOutcome> {
  const resolved = resolveSandbox(host.config, req.org, req.repository, host.env);
  const session = `s${host.random(8).toString('hex')}`;
  const branch = `claude/${session}`;
  const log = (action: string, target: string, details: Record<string, unknown>) =>
    recordAdmin(host.store, host.clock(), `sandbox:${session}`, action, target, details);
  for (const stale of await sweepStaleRunDirs(host.runBase, host.cgroups))
    host.status(`removed ${stale}, left by a session whose supervisor is gone`);
  const { runDir, cgroup } = await prepareHost(host, session, resolved);
  const wallMs = host.wallMs ?? resolved.policy.limits.wallMinutes * 60_000;
  const outcome: SandboxOutcome = {
    session,
    branch,
    exitCode: null,
    ended: 'failed',
    limits: [
      ...cgroup.enforced,
      `wall time: ${Math.round(wallMs / 1000)} s`,
      `file systems: ${resolved.policy.limits.diskMb} MiB each, in memory`,
    ],
    transcript: { kept: false, why: resolved.transcript.why },
    git: [],
  };
  const state: Teardown = {
    session,
    runDir,
    services: null,
    cgroup,
    keyId: null,
    log,
    outcome,
    started: host.clock(),
  };
  try {
    const { key, record } = await sessionKey(host, req, state, wallMs);
    state.services = await startSessionServices({
      host,
      resolved,
      session,
      user: req.user,
      branch,
      key,
      runDir,
      log,
      outcome,
    });
    await log('sandbox.started', session, {
      org: req.org,
      user: req.user,
      repository: resolved.repository,
      forge: resolved.forgeName,
      branch,
      key: record.id,
      limits: outcome.limits,
      egress: resolved.policy.egress,
      transcript: resolved.transcript.why,
    });
    await runUntilEnd(req, host, resolved, { session, branch, key, runDir, cgroup, outcome, wallMs });
  } finally {
    await teardown(host, resolved, state);
  }
  return outcome;
}

/** The session's key: short-lived, revoked at the end, and expiring on its own should the end never come. */
async function sessionKey(host: SandboxHost, req: SandboxRequest, state: Teardown, wallMs: number) {
  const created = await createKey(
    host.store,
    {
      org: req.org,
      user: req.user,
      role: 'member',
      expiresAt: new Date(state.started.getTime() + wallMs + 300_000),
    },
    state.started,
    host.random,
  );
  state.keyId = created.record.id; // before anything that may throw: teardown revokes it
  await state.log('key.created', created.record.id, {
    org: req.org,
    user: req.user,
    role: 'member',
    expiresAt: created.record.expiresAt,
    session: state.session,
  });
  return created;
}

/** The session's host folder, then its control group (the folder names the session, so a supervisor that dies from here on leaves a trace to sweep). */
async function prepareHost(
  host: SandboxHost,
  session: string,
  resolved: ResolvedSandbox,
): Promise<{ runDir: string; cgroup: SandboxCgroup }> {
  const runDir = await makeRunDir(host, session);
  try {
    return { runDir, cgroup: await createCgroup(session, resolved.policy.limits, host.cgroups) };
  } catch (err) {
    await rm(runDir, { recursive: true, force: true });
    throw err;
  }
}

interface Running {
  session: string;
  branch: string;
  key: string;
  runDir: string;
  cgroup: SandboxCgroup;
  outcome: SandboxOutcome;
  wallMs: number;
}

/** Launches the sandbox and waits for its end: exit, wall time, or the host's signal. */
async function runUntilEnd(req: SandboxRequest, host: SandboxHost, resolved: ResolvedSandbox, r: Running) {
  const sandbox: RunningSandbox = await launchSandbox({
    bwrap: host.bwrap,
    args: bwrapArguments({
      claude: host.claude,
      node: host.node,
      runner: host.runner,
      sockets: join(r.runDir, 'sockets'),
      hostRoot: await probeHostRoot(),
      optional: OPTIONAL_HOST_FILES,
      diskMb: resolved.policy.limits.diskMb,
      hostname: 'sandbox',
    }),
    env: sandboxEnvironment(req, resolved, r.key, host.env.TERM),
    identity: host.identity,
    interactive: req.prompt === undefined,
    files: { spec: JSON.stringify(sessionSpec(req, resolved, r)), ...etcFiles() },
    cgroup: r.cgroup,
  });
  host.status(
    `session ${r.session} started (sandbox pid ${sandbox.pid}, run dir ${r.runDir}) on ${r.branch}`,
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), r.wallMs)));
  const interrupted = new Promise<'interrupted'>((res) => {
    if (host.signal?.aborted) res('interrupted');
    host.signal?.addEventListener('abort', () => res('interrupted'), { once: true });
  });
  const first = await Promise.race([sandbox.exited.then(() => 'exited' as const), timedOut, interrupted]);
  clearTimeout(timer);
  if (first !== 'exited') {
    host.status(
      first === 'timeout'
        ? `session ${r.session} reached its wall time; stopping it`
        : `stopping session ${r.session}`,
    );
    await sandbox.stop(host.graceMs ?? 5_000);
  }
  const end = await sandbox.exited;
  r.outcome.ended = first;
  r.outcome.exitCode = end.code;
}

/** The session file the runner reads inside. */
function sessionSpec(req: SandboxRequest, resolved: ResolvedSandbox, r: Running) {
  const sockets = INSIDE.sockets;
  const args = [
    ...(req.prompt !== undefined ? ['-p', req.prompt] : []),
    '--permission-mode',
    resolved.policy.permissionMode,
    ...(req.claudeArgs ?? []),
  ];
  return {
    listen: [
      { port: INSIDE_PORTS.gateway, socket: `${sockets}/gateway.sock` },
      { port: INSIDE_PORTS.egress, socket: `${sockets}/egress.sock` },
      { port: INSIDE_PORTS.git, socket: `${sockets}/git.sock` },
    ],
    clone: {
      url: `http://127.0.0.1:${INSIDE_PORTS.git}/${repositoryName(resolved.repository)}.git`,
      dir: `${INSIDE.workspace}/${repositoryName(resolved.repository)}`,
      branch: r.branch,
    },
    claude: { path: INSIDE.claude, args },
    transcriptSocket: resolved.transcript.keep ? `${sockets}/transcript.sock` : null,
    home: INSIDE.home,
    bypassPermissions: resolved.policy.permissionMode === 'bypassPermissions',
  };
}

/** Everything the sandbox's processes see in their environment, and nothing else. */
export function sandboxEnvironment(
  req: SandboxRequest,
  resolved: ResolvedSandbox,
  key: string,
  /** The supervisor's terminal type, for an interactive session. */
  term?: string,
): Record<string, string> {
  const proxy = `http://sandbox:${key}@127.0.0.1:${INSIDE_PORTS.egress}`;
  return {
    ...resolved.policy.env,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: INSIDE.home,
    USER: 'claude',
    LOGNAME: 'claude',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    TERM: req.prompt === undefined ? (term ?? 'xterm-256color') : 'dumb',
    // The session key as a bearer token: no approval prompt in an interactive session.
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${INSIDE_PORTS.gateway}`,
    ANTHROPIC_AUTH_TOKEN: key,
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    CLAUDE_CODE_PROXY_RESOLVES_HOSTS: '1',
    DISABLE_AUTOUPDATER: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `http.http://127.0.0.1:${INSIDE_PORTS.git}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${key}`,
    GIT_CONFIG_KEY_1: 'credential.helper',
    GIT_CONFIG_VALUE_1: '',
    GIT_AUTHOR_NAME: 'Claude',
    GIT_AUTHOR_EMAIL: req.user,
    GIT_COMMITTER_NAME: 'Claude',
    GIT_COMMITTER_EMAIL: req.user,
  };
}

/** The session's host folder: 0711 (the sandbox user passes through to its sockets folder only). */
async function makeRunDir(host: SandboxHost, session: string): Promise<string> {
  await mkdir(host.runBase, { recursive: true });
  const dir = await mkdtemp(join(host.runBase, 'sluice-sandbox-'));
  await writeFile(join(dir, 'supervisor.pid'), String(process.pid), { mode: 0o600 });
  await writeFile(join(dir, 'session'), session, { mode: 0o600 });
  await mkdir(join(dir, 'sockets'), { mode: 0o700 });
  if (host.identity) {
    await chmod(dir, 0o711);
    await chown(join(dir, 'sockets'), host.identity.uid, host.identity.gid);
  }
  return dir;
}

/**
 * Removes what sessions whose supervisor is gone (killed before it could clean up) left: their
 * folder, and their control group with anything still in it.
 */
export async function sweepStaleRunDirs(base: string, cgroups: CgroupHost): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith('sluice-sandbox-')) continue;
    const dir = join(base, name);
    const pid = Number(await readFile(join(dir, 'supervisor.pid'), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    const session = (await readFile(join(dir, 'session'), 'utf8').catch(() => '')).trim();
    if (/^s[0-9a-f]+$/.test(session)) await removeCgroup(await existingCgroup(session, cgroups));
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Whether process `pid` still runs (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Teardown {
  session: string;
  runDir: string;
  services: SessionServices | null;
  cgroup: SandboxCgroup;
  keyId: string | null;
  log: (action: string, target: string, details: Record<string, unknown>) => Promise<unknown>;
  outcome: SandboxOutcome;
  started: Date;
}

/** Runs whatever happened before: every step is attempted even when an earlier one fails. */
async function teardown(host: SandboxHost, resolved: ResolvedSandbox, t: Teardown): Promise<void> {
  const failures: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  await attempt('killing what is left', async () => {
    for (const pid of await t.cgroup.pids()) killQuietly(pid);
  });
  let files: TranscriptFile[] = [];
  await attempt(
    'receiving the transcript',
    async () => (files = t.services ? await t.services.transcript() : []),
  );
  await attempt('stopping the session services', async () => t.services?.close());
  await attempt('revoking the session key', async () => {
    if (!t.keyId) return;
    await host.store.revokeKey(t.keyId, host.clock().toISOString());
    await t.log('key.revoked', t.keyId, { session: t.session });
  });
  await attempt('keeping the transcript', async () => {
    if (!resolved.transcript.keep || !files.length) return;
    const dir = resolve(host.configDir, host.config.sandbox.transcripts, resolved.orgName);
    const kept = await keepTranscripts(dir, t.session, files, resolved.transcript.scrub);
    t.outcome.transcript = { kept: true, ...kept };
    await sweepTranscripts(dir, new Date(host.clock().getTime() - resolved.org.retentionDays * 86_400_000));
  });
  // The group before the folder: the folder is what a later sweep finds a left-over group by.
  await attempt('removing the control group', () => removeCgroup(t.cgroup));
  await attempt('removing the session folder', () => rm(t.runDir, { recursive: true, force: true }));
  await attempt('writing the admin log', () =>
    t.log('sandbox.ended', t.session, {
      ended: t.outcome.ended,
      exitCode: t.outcome.exitCode,
      seconds: Math.round((host.clock().getTime() - t.started.getTime()) / 1000),
      transcript: t.outcome.transcript.kept
        ? { kept: true, redactions: t.outcome.transcript.redactions }
        : t.outcome.transcript,
      git: t.outcome.git.length,
      ...(failures.length ? { teardownFailures: failures } : {}),
    }),
  );
  for (const f of failures) host.status(`teardown: ${f}`);
}

/** Empties and removes the group; processes take a moment to leave it after SIGKILL. */
async function removeCgroup(cgroup: SandboxCgroup): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = await cgroup.pids();
    if (!left.length) return cgroup.remove();
    for (const pid of left) killQuietly(pid);
    await new Promise((r) => setTimeout(r, 20));
  }
  await cgroup.remove();
}
