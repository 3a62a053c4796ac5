import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createCgroup,
  defaultCgroupHost,
  LimitsUnavailableError,
  ownGroup,
  type SandboxCgroup,
} from './limits.js';
import { sandboxSkip } from './testing/support.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const SELF_V1 = '9:name=systemd:/\n8:pids:/\n4:memory:/jobs/42\n1:cpu,cpuacct:/\n0::/\n';

/** A fake cgroup v1 tree: one folder per controller, with this process's groups. */
async function fakeV1(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-cg1-'));
  dirs.push(root);
  for (const d of ['cpu', 'pids', 'memory/jobs/42']) {
    await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, d.split('/')[0] as string, 'cgroup.procs'), '');
  }
  return root;
}

describe('resource limits: the files written', () => {
  it('reads this process group per controller from /proc/self/cgroup', () => {
    assert.equal(ownGroup(SELF_V1, 'memory'), '/jobs/42');
    assert.equal(ownGroup(SELF_V1, 'cpu'), '/');
    assert.equal(ownGroup(SELF_V1, 'cpuacct'), '/');
    assert.equal(ownGroup(SELF_V1, ''), '/');
    assert.equal(ownGroup(SELF_V1, 'blkio'), null);
  });

  it('cgroup v1: a group per controller below this process group, with quota, memory and process limits', async () => {
    const root = await fakeV1();
    const g = await createCgroup(
      's1',
      { cpus: 1.5, memoryMb: 512, processes: 64 },
      { root, selfCgroup: SELF_V1 },
    );
    assert.equal(g.version, 1);
    assert.deepEqual(g.dirs, [
      join(root, 'cpu/sluice-s1'),
      join(root, 'memory/jobs/42/sluice-s1'),
      join(root, 'pids/sluice-s1'),
    ]);
    const read = (p: string) => readFile(join(root, p), 'utf8');
    assert.equal(await read('cpu/sluice-s1/cpu.cfs_period_us'), '100000');
    assert.equal(await read('cpu/sluice-s1/cpu.cfs_quota_us'), '150000');
    assert.equal(await read('memory/jobs/42/sluice-s1/memory.limit_in_bytes'), String(512 * 1024 * 1024));
    assert.equal(await read('pids/sluice-s1/pids.max'), '64');
    await g.add(4242);
    assert.equal(await read('pids/sluice-s1/cgroup.procs'), '4242');
    assert.deepEqual(await g.pids(), [4242]);
  });

  it('cgroup v1 without a controller: refused, and nothing left behind', async () => {
    const root = await fakeV1();
    await rm(join(root, 'pids'), { recursive: true });
    await assert.rejects(
      createCgroup('s2', { cpus: 1, memoryMb: 256, processes: 32 }, { root, selfCgroup: SELF_V1 }),
      (err: unknown) =>
        err instanceof LimitsUnavailableError &&
        err.message === `no cgroup v1 pids controller at ${root}/pids`,
    );
    assert.equal(existsSync(join(root, 'cpu', 'sluice-s2')), false);
    assert.equal(existsSync(join(root, 'memory', 'jobs', '42', 'sluice-s2')), false);
  });

  it('cgroup v2: one group below a shared parent, controllers enabled on the way', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-cg2-'));
    dirs.push(root);
    await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    const g = await createCgroup(
      's3',
      { cpus: 2, memoryMb: 1024, processes: 100 },
      { root, selfCgroup: '0::/user.slice\n' },
    );
    assert.equal(g.version, 2);
    assert.deepEqual(g.dirs, [join(root, 'sluice', 's3')]);
    const read = (p: string) => readFile(join(root, p), 'utf8');
    assert.equal(await read('cgroup.subtree_control'), '+cpu +memory +pids');
    assert.equal(await read('sluice/cgroup.subtree_control'), '+cpu +memory +pids');
    assert.equal(await read('sluice/s3/cpu.max'), '200000 100000');
    assert.equal(await read('sluice/s3/memory.max'), String(1024 * 1024 * 1024));
    assert.equal(await read('sluice/s3/pids.max'), '100');
  });

  it('cgroup v2 without the memory controller: refused, naming it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-cg2-'));
    dirs.push(root);
    await writeFile(join(root, 'cgroup.controllers'), 'cpu pids\n');
    await assert.rejects(
      createCgroup('s4', { cpus: 1, memoryMb: 256, processes: 32 }, { root, selfCgroup: '0::/\n' }),
      {
        message: `cgroup v2 without the memory controller(s) at ${root}`,
      },
    );
  });
});

const skip = await sandboxSkip('resource limits on the real kernel');

/** Starts `sh -c script` held on its stdin until it is in `group`, then lets it run; resolves with its end. */
async function inGroup(group: SandboxCgroup, script: string) {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  await group.add(child.pid as number);
  child.stdin.end('go\n');
  return { ended, out: () => out };
}

async function removeAll(group: SandboxCgroup): Promise<void> {
  for (let left = await group.pids(); left.length; left = await group.pids()) {
    for (const p of left) process.kill(p, 'SIGKILL');
    await new Promise((r) => setImmediate(r));
  }
  await group.remove();
}

describe('resource limits on the real kernel', { skip }, () => {
  it('the process limit stops forks past it', async () => {
    const group = await createCgroup(
      `t${process.pid}p`,
      { cpus: 1, memoryMb: 256, processes: 32 },
      await defaultCgroupHost(),
    );
    try {
      const run = await inGroup(
        group,
        'i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done; echo "made $i"',
      );
      await run.ended;
      assert.match(run.out(), /Cannot fork|Resource temporarily unavailable/);
      assert.ok((await group.pids()).length <= 32);
    } finally {
      await removeAll(group);
    }
  });

  it('the memory limit ends a process that goes past it', async () => {
    const group = await createCgroup(
      `t${process.pid}m`,
      { cpus: 1, memoryMb: 256, processes: 32 },
      await defaultCgroupHost(),
    );
    try {
      const grow = 'const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1));';
      const run = await inGroup(group, `exec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(grow)}`);
      assert.deepEqual(await run.ended, { code: null, signal: 'SIGKILL' });
    } finally {
      await removeAll(group);
    }
  });
});
