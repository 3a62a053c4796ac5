/**
 * What this host offers a sandbox: bubblewrap, working namespaces, writable control groups, the
 * Claude Code binary, and the shape of its root folders. `sluice sandbox check` prints it, the
 * sandbox refuses to start without it, and the tests skip (loudly) or fail on it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readlink, lstat, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { SYSTEM_TOP, type HostRoot } from './bwrap.js';
import { createCgroup, type CgroupHost } from './limits.js';

export interface Check {
  ok: boolean;
  detail: string;
}

export interface HostSupport {
  bwrap: Check;
  namespaces: Check;
  limits: Check;
  claude: Check;
}

/** Host user and group a sandbox runs as: the configured ones when this process is root, else this user. */
export function sandboxIdentity(config: { uid: number; gid: number }): { uid: number; gid: number } | null {
  return process.getuid?.() === 0 ? { uid: config.uid, gid: config.gid } : null;
}

function run(file: string, args: string[], ids: { uid: number; gid: number } | null): Promise<Check> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: '/usr/bin:/bin' }, timeout: 20_000, ...(ids ?? {}) },
      (err, stdout, stderr) =>
        resolve({
          ok: !err,
          detail: (err ? String(stderr || err.message) : String(stdout)).trim().split('\n')[0] ?? '',
        }),
    );
  });
}

/** Is `file` a native executable (ELF)? */
async function isElf(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await fh.close();
  }
}

/** The native Claude Code binary: `explicit`, else the npm package's beside Sluice, else `claude` on `path` (a PATH). */
export async function locateClaude(explicit: string | undefined, path: string): Promise<string> {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  else {
    try {
      candidates.push(createRequire(import.meta.url).resolve('@anthropic-ai/claude-code/bin/claude.exe'));
    } catch {
      // not installed beside Sluice
    }
    for (const dir of path.split(delimiter)) if (dir) candidates.push(join(dir, 'claude'));
  }
  for (const c of candidates) {
    const real = await realpath(c).catch(() => null);
    if (!real) continue;
    if (await isElf(real).catch(() => false)) return real;
    if (explicit) throw new Error(`${explicit} is not the native Claude Code binary (an ELF executable)`);
  }
  throw new Error(
    explicit
      ? `${explicit} does not exist`
      : 'no native Claude Code binary found (npm install @anthropic-ai/claude-code, or pass --claude PATH)',
  );
}

/** How /bin, /lib… look on this host (merged-/usr links are recreated as links). */
export async function probeHostRoot(root = '/'): Promise<HostRoot> {
  const out: HostRoot = {};
  for (const top of SYSTEM_TOP) {
    const s = await lstat(join(root, top)).catch(() => null);
    if (!s) out[top] = 'absent';
    else if (s.isSymbolicLink()) out[top] = { link: await readlink(join(root, top)) };
    else out[top] = s.isDirectory() ? 'dir' : 'absent';
  }
  return out;
}

/** Checks everything a sandbox needs, without starting one. */
export async function probeHost(options: {
  bwrap?: string;
  identity: { uid: number; gid: number } | null;
  cgroups: CgroupHost;
  claude?: string;
  /** The PATH `claude` is looked for on. */
  path: string;
}): Promise<HostSupport> {
  const bwrap = options.bwrap ?? 'bwrap';
  const version = await run(bwrap, ['--version'], null);
  const hostRoot = await probeHostRoot();
  const links = SYSTEM_TOP.flatMap((t) => {
    const w = hostRoot[t];
    return w && w !== 'absent' && w !== 'dir'
      ? ['--symlink', w.link, `/${t}`]
      : w === 'dir'
        ? ['--ro-bind', `/${t}`, `/${t}`]
        : [];
  });
  const namespaces = version.ok
    ? await run(
        bwrap,
        [
          '--unshare-all',
          '--unshare-user',
          '--disable-userns',
          '--die-with-parent',
          '--ro-bind',
          '/usr',
          '/usr',
          ...links,
          '--',
          '/usr/bin/true',
        ],
        options.identity,
      )
    : { ok: false, detail: 'needs bwrap' };
  let limits: Check;
  try {
    const probe = await createCgroup(
      `probe-${randomBytes(4).toString('hex')}`,
      { cpus: 1, memoryMb: 256, processes: 32 },
      options.cgroups,
    );
    await probe.remove();
    limits = { ok: true, detail: `cgroup v${probe.version}: cpu, memory and process limits` };
  } catch (err) {
    limits = { ok: false, detail: (err as Error).message };
  }
  let claude: Check;
  try {
    claude = { ok: true, detail: await locateClaude(options.claude, options.path) };
  } catch (err) {
    claude = { ok: false, detail: (err as Error).message };
  }
  return {
    bwrap: version.ok ? version : { ok: false, detail: `${bwrap} not found: apt-get install bubblewrap` },
    namespaces: namespaces.ok
      ? { ok: true, detail: 'user, mount, PID, network, IPC, UTS and cgroup namespaces' }
      : namespaces,
    limits,
    claude,
  };
}
