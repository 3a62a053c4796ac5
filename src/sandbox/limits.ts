/**
 * Resource limits for one sandbox, as a control group of its own: CPU time (a quota of cores),
 * memory (the sandbox's in-memory file systems included: tmpfs pages are charged to it) and the
 * number of processes. cgroup v2 (one unified hierarchy) and v1 (one hierarchy per controller,
 * as on hybrid hosts) are both handled; the group is made below this process's own group, so
 * whatever limits this process lives under still apply. Writing here needs root (or a delegated
 * group); where it is not possible, the sandbox does not start (limits are a policy, not a wish).
 */
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ResourceLimits {
  cpus: number;
  memoryMb: number;
  processes: number;
}

export interface CgroupHost {
  /** Where the cgroup file systems are mounted (default /sys/fs/cgroup). */
  root: string;
  /** This process's /proc/self/cgroup. */
  selfCgroup: string;
}

export interface SandboxCgroup {
  version: 1 | 2;
  /** The group's folders (one per controller under v1). */
  dirs: string[];
  /** What is enforced, in words, for the log and the report. */
  enforced: string[];
  /** Moves a process (and so all it will start) into the group. */
  add(pid: number): Promise<void>;
  /** The processes in the group now. */
  pids(): Promise<number[]>;
  /** Removes the group's folders (it must be empty). */
  remove(): Promise<void>;
}

export class LimitsUnavailableError extends Error {}

const PERIOD_US = 100_000;
const V1_CONTROLLERS = ['cpu', 'memory', 'pids'] as const;

export async function defaultCgroupHost(): Promise<CgroupHost> {
  return { root: '/sys/fs/cgroup', selfCgroup: await readFile('/proc/self/cgroup', 'utf8') };
}

/** This process's group path for a v1 controller, or for v2 (`controller` '') from /proc/self/cgroup. */
export function ownGroup(selfCgroup: string, controller: string): string | null {
  for (const line of selfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const names = (m[1] as string).split(',');
    if ((controller === '' && m[1] === '') || (controller !== '' && names.includes(controller)))
      return m[2] as string;
  }
  return null;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Creates the group `name` with `limits`. Throws LimitsUnavailableError when it cannot. */
export async function createCgroup(
  name: string,
  limits: ResourceLimits,
  host: CgroupHost,
): Promise<SandboxCgroup> {
  try {
    if (await exists(join(host.root, 'cgroup.controllers'))) return await createV2(name, limits, host);
    return await createV1(name, limits, host);
  } catch (err) {
    if (err instanceof LimitsUnavailableError) throw err;
    throw new LimitsUnavailableError(
      `cannot set resource limits through ${host.root} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run sluice sandbox as root, or on a host whose cgroups it may write`,
    );
  }
}

function describe(limits: ResourceLimits, version: 1 | 2): string[] {
  return [
    `cpu: ${limits.cpus} core(s) (cgroup v${version})`,
    `memory: ${limits.memoryMb} MiB, its file systems included (cgroup v${version})`,
    `processes: ${limits.processes} (cgroup v${version})`,
  ];
}

async function createV2(name: string, limits: ResourceLimits, host: CgroupHost): Promise<SandboxCgroup> {
  const available = (await readFile(join(host.root, 'cgroup.controllers'), 'utf8')).split(/\s+/);
  const missing = ['cpu', 'memory', 'pids'].filter((c) => !available.includes(c));
  if (missing.length)
    throw new LimitsUnavailableError(
      `cgroup v2 without the ${missing.join(', ')} controller(s) at ${host.root}`,
    );
  // A v2 group with processes of its own cannot give controllers to children, so sandboxes share
  // one empty parent just below the root rather than living under this process's group.
  const parent = join(host.root, 'sluice');
  await mkdir(parent, { recursive: true });
  await writeFile(join(host.root, 'cgroup.subtree_control'), '+cpu +memory +pids');
  await writeFile(join(parent, 'cgroup.subtree_control'), '+cpu +memory +pids');
  const dir = join(parent, name);
  await mkdir(dir);
  await writeFile(join(dir, 'cpu.max'), `${Math.round(limits.cpus * PERIOD_US)} ${PERIOD_US}`);
  await writeFile(join(dir, 'memory.max'), String(limits.memoryMb * 1024 * 1024));
  if (await exists(join(dir, 'memory.swap.max'))) await writeFile(join(dir, 'memory.swap.max'), '0');
  await writeFile(join(dir, 'pids.max'), String(limits.processes));
  return group(2, [dir], describe(limits, 2));
}

async function createV1(name: string, limits: ResourceLimits, host: CgroupHost): Promise<SandboxCgroup> {
  const dirs: string[] = [];
  try {
    for (const controller of V1_CONTROLLERS) {
      const own = ownGroup(host.selfCgroup, controller);
      if (own === null || !(await exists(join(host.root, controller, 'cgroup.procs'))))
        throw new LimitsUnavailableError(
          `no cgroup v1 ${controller} controller at ${host.root}/${controller}`,
        );
      const dir = join(host.root, controller, own, `sluice-${name}`);
      await mkdir(dir);
      dirs.push(dir);
    }
    const [cpu, memory, pids] = dirs as [string, string, string];
    await writeFile(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * PERIOD_US)));
    const bytes = String(limits.memoryMb * 1024 * 1024);
    await writeFile(join(memory, 'memory.limit_in_bytes'), bytes);
    // With swap accounting, the same bound on memory and swap together (no swapping past the limit).
    if (await exists(join(memory, 'memory.memsw.limit_in_bytes')))
      await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    await writeFile(join(pids, 'pids.max'), String(limits.processes));
  } catch (err) {
    for (const d of dirs.reverse()) await rmdir(d).catch(() => undefined);
    throw err;
  }
  return group(1, dirs, describe(limits, 1));
}

/** The folders `createCgroup(name)` makes on this host, whether or not they exist now. */
export async function cgroupDirs(name: string, host: CgroupHost): Promise<string[]> {
  if (await exists(join(host.root, 'cgroup.controllers'))) return [join(host.root, 'sluice', name)];
  return V1_CONTROLLERS.flatMap((c) => {
    const own = ownGroup(host.selfCgroup, c);
    return own === null ? [] : [join(host.root, c, own, `sluice-${name}`)];
  });
}

/** The group `name` as it is now (for removing one a crashed supervisor left). */
export async function existingCgroup(name: string, host: CgroupHost): Promise<SandboxCgroup> {
  const dirs: string[] = [];
  for (const d of await cgroupDirs(name, host)) if (await exists(d)) dirs.push(d);
  return group(dirs.length && dirs[0]?.includes(`${join(host.root, 'sluice')}/`) ? 2 : 1, dirs, []);
}

function group(version: 1 | 2, dirs: string[], enforced: string[]): SandboxCgroup {
  return {
    version,
    dirs,
    enforced,
    add: async (pid) => {
      for (const d of dirs) await writeFile(join(d, 'cgroup.procs'), String(pid));
    },
    pids: async () => {
      const all = new Set<number>();
      for (const d of dirs)
        for (const line of (await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n'))
          if (line.trim()) all.add(Number(line));
      return [...all];
    },
    remove: async () => {
      for (const d of dirs)
        await rmdir(d).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
    },
  };
}
