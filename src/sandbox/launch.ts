/**
 * Starting and stopping one bubblewrap sandbox. bwrap is started with its setup data on pipes
 * (the session file, passwd, group, hosts: nothing of it in arguments or on disk), reports the
 * sandbox's first process, and waits (`--block-fd`) until that process is in the session's control
 * group, so that nothing in the sandbox ever runs outside its limits. Stopping asks every process
 * in the group to end (SIGTERM), then kills the sandbox's PID namespace outright.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { FD } from './bwrap.js';
import type { SandboxCgroup } from './limits.js';

export interface LaunchOptions {
  bwrap: string;
  args: string[];
  /** The sandbox's whole environment (bwrap passes it on; nothing of this process's). */
  env: Record<string, string>;
  /** Host user and group to run as (when this process is root). */
  identity: { uid: number; gid: number } | null;
  interactive: boolean;
  files: { spec: string; passwd: string; group: string; hosts: string };
  cgroup: SandboxCgroup;
}

export interface RunningSandbox {
  /** The sandbox's first process, as the host sees it. */
  pid: number;
  /** Resolves when bwrap has exited: the sandbox and everything in it are gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to everything in the sandbox, then, after `graceMs`, SIGKILL to all of it. */
  stop(graceMs: number): Promise<void>;
}

/** bwrap's `--info-fd` report, read as soon as it is whole (the pipe may stay open in the sandbox). */
function readInfo(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      try {
        JSON.parse(text);
        stream.destroy();
        resolve(text);
      } catch {
        // not whole yet
      }
    });
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/** Starts the sandbox and releases it once its first process is in `cgroup`. */
export async function launchSandbox(o: LaunchOptions): Promise<RunningSandbox> {
  const child: ChildProcess = spawn(o.bwrap, o.args, {
    env: o.env,
    stdio: [
      o.interactive ? 'inherit' : 'ignore',
      'inherit',
      'inherit',
      'pipe',
      'pipe',
      'pipe',
      'pipe',
      'pipe',
      'pipe',
    ],
    ...(o.identity ?? {}),
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  const pipe = (fd: number) => child.stdio[fd] as Readable & Writable;
  // bwrap closes each of these when it is done with it; a reset then is no error.
  for (let fd = 3; fd < child.stdio.length; fd++) pipe(fd).on('error', () => undefined);
  for (const [fd, text] of [
    [FD.spec, o.files.spec],
    [FD.passwd, o.files.passwd],
    [FD.group, o.files.group],
    [FD.hosts, o.files.hosts],
  ] as const) {
    pipe(fd).end(text);
  }
  const info = await Promise.race([readInfo(pipe(FD.info)), failed, exited.then(() => '')]);
  const pid = (JSON.parse(info || '{}') as { 'child-pid'?: number })['child-pid'];
  if (!pid) {
    child.kill('SIGKILL');
    throw new Error(`bwrap did not start the sandbox (exit ${(await exited).code}); see its message above`);
  }
  try {
    await o.cgroup.add(pid);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  pipe(FD.block).end('go');
  return {
    pid,
    exited,
    stop: (graceMs) => stop(child, pid, o.cgroup, exited, graceMs),
  };
}

async function stop(
  child: ChildProcess,
  pid: number,
  cgroup: SandboxCgroup,
  exited: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const signalAll = async (signal: NodeJS.Signals) => {
    for (const p of await cgroup.pids()) {
      try {
        process.kill(p, signal);
      } catch {
        // already gone
      }
    }
  };
  await signalAll('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
  await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (child.exitCode !== null || child.signalCode !== null) return;
  // The namespace's first process takes every other one with it when it dies.
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await signalAll('SIGKILL');
  child.kill('SIGKILL');
  await exited;
}
