/**
 * The sandbox's shape, as bubblewrap (`bwrap`) arguments. Everything is unshared (mount, PID, IPC,
 * UTS, cgroup, user and network namespaces; the network has loopback only); the root is empty
 * and read-only; the host's /usr (and the /bin, /lib… links or folders of the host) and the few
 * files the programs need are mounted read-only; the clone, the home and /tmp are in-memory file
 * systems of a fixed size that vanish with the sandbox. Nothing else of the host is there: no /home,
 * no /root, no /etc beyond generated passwd, group and hosts files and the CA certificates, no
 * /sys, no host /proc, no sockets but the sandbox's own.
 */

import { fileURLToPath } from 'node:url';

/** The program the sandbox starts with (plain JavaScript, shipped beside this module). */
export const RUNNER = fileURLToPath(new URL('./inside/runner.mjs', import.meta.url));

/** Fixed places inside the sandbox. */
export const INSIDE = {
  home: '/home/claude',
  workspace: '/workspace',
  run: '/run/sluice',
  sockets: '/run/sluice/sockets',
  spec: '/run/sluice/session.json',
  claude: '/opt/claude/claude',
  node: '/opt/sluice/node',
  runner: '/opt/sluice/runner.mjs',
  uid: 1000,
  gid: 1000,
} as const;

/** File descriptors bwrap reads from or writes to (as the sandbox supervisor passes them). */
export const FD = { info: 3, block: 4, spec: 5, passwd: 6, group: 7, hosts: 8 } as const;

/** How the host's top-level system folders look: merged-/usr links, or real folders. */
export type HostRoot = Record<string, { link: string } | 'dir' | 'absent'>;

export const SYSTEM_TOP = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

export interface SandboxShape {
  /** The host's native Claude Code binary. */
  claude: string;
  /** The host's Node binary (runs the runner). */
  node: string;
  /** The runner script on the host. */
  runner: string;
  /** Host folder with the session's Unix sockets. */
  sockets: string;
  hostRoot: HostRoot;
  /** Read-only extras, if they exist on the host (CA certificates, time zone). */
  optional: string[];
  /** Size of each in-memory file system, MiB. */
  diskMb: number;
  hostname: string;
}

/** The default extras: CA certificates for HTTPS through the egress proxy, and the time zone. */
export const OPTIONAL_HOST_FILES = ['/etc/ssl/certs', '/etc/ca-certificates', '/etc/localtime'];

/** bwrap's arguments for `shape`, ending with the runner as the command. */
export function bwrapArguments(shape: SandboxShape): string[] {
  return [...isolation(shape), ...systemMounts(shape), ...sessionMounts(shape)];
}

/** New namespaces of every kind, one unprivileged user, and no way back out. */
function isolation(shape: SandboxShape): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid',
    String(INSIDE.uid),
    '--gid',
    String(INSIDE.gid),
    '--hostname',
    shape.hostname,
    '--die-with-parent',
    '--new-session',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
}

/** The host's system folders, read-only, as they are (a folder or a symbolic link), and the extras. */
function systemMounts(shape: SandboxShape): string[] {
  const a: string[] = [];
  for (const top of SYSTEM_TOP) {
    const what = shape.hostRoot[top];
    if (!what || what === 'absent') continue;
    if (what === 'dir') a.push('--ro-bind', `/${top}`, `/${top}`);
    else a.push('--symlink', what.link, `/${top}`);
  }
  for (const extra of shape.optional) a.push('--ro-bind-try', extra, extra);
  return a;
}

/** Fresh /proc, /dev and size-bounded scratch folders, the generated files, the session's parts. */
function sessionMounts(shape: SandboxShape): string[] {
  const size = String(shape.diskMb * 1024 * 1024);
  return [
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    size,
    '--tmpfs',
    '/tmp',
    '--size',
    size,
    '--tmpfs',
    INSIDE.home,
    '--size',
    size,
    '--tmpfs',
    INSIDE.workspace,
    '--ro-bind-data',
    String(FD.passwd),
    '/etc/passwd',
    '--ro-bind-data',
    String(FD.group),
    '/etc/group',
    '--ro-bind-data',
    String(FD.hosts),
    '/etc/hosts',
    '--ro-bind-data',
    String(FD.spec),
    INSIDE.spec,
    '--ro-bind',
    shape.sockets,
    INSIDE.sockets,
    '--ro-bind',
    shape.claude,
    INSIDE.claude,
    '--ro-bind',
    shape.node,
    INSIDE.node,
    '--ro-bind',
    shape.runner,
    INSIDE.runner,
    '--chmod',
    '0700',
    INSIDE.home,
    '--remount-ro',
    '/',
    '--info-fd',
    String(FD.info),
    '--block-fd',
    String(FD.block),
    '--chdir',
    INSIDE.workspace,
    '--',
    INSIDE.node,
    INSIDE.runner,
  ];
}

/** The generated /etc files: one user and group (`claude`), and loopback names only (no DNS). */
export function etcFiles(): { passwd: string; group: string; hosts: string } {
  return {
    passwd: `claude:x:${INSIDE.uid}:${INSIDE.gid}:Claude:${INSIDE.home}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `claude:x:${INSIDE.gid}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1 localhost\n::1 localhost\n',
  };
}
