import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bwrapArguments, etcFiles, INSIDE, OPTIONAL_HOST_FILES, type SandboxShape } from './bwrap.js';

const shape: SandboxShape = {
  claude: '/opt/npm/claude.exe',
  node: '/usr/local/bin/node',
  runner: '/srv/sluice/runner.mjs',
  sockets: '/tmp/sluice-sandbox-x/sockets',
  hostRoot: { bin: { link: 'usr/bin' }, lib: { link: 'usr/lib' }, lib64: 'dir', sbin: 'absent' },
  optional: OPTIONAL_HOST_FILES,
  diskMb: 64,
  hostname: 'sandbox',
};

/** The (option, operands) pairs of an argument list, given how many operands each option takes. */
function ops(args: string[]): string[][] {
  const arity: Record<string, number> = {
    '--uid': 1,
    '--gid': 1,
    '--hostname': 1,
    '--ro-bind': 2,
    '--ro-bind-try': 2,
    '--bind': 2,
    '--symlink': 2,
    '--proc': 1,
    '--dev': 1,
    '--size': 1,
    '--tmpfs': 1,
    '--ro-bind-data': 2,
    '--chmod': 2,
    '--remount-ro': 1,
    '--info-fd': 1,
    '--block-fd': 1,
    '--chdir': 1,
  };
  const out: string[][] = [];
  for (let i = 0; i < args.length;) {
    const a = args[i] as string;
    if (a === '--') return [...out, args.slice(i)];
    const n = arity[a] ?? 0;
    out.push(args.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

describe('the sandbox shape', () => {
  const args = bwrapArguments(shape);
  const list = ops(args);

  it('unshares every namespace (network included), with no nested user namespaces, tied to its parent', () => {
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ])
      assert.ok(args.includes(flag), flag);
    assert.ok(!args.includes('--share-net'));
    assert.deepEqual(
      list.find((o) => o[0] === '--uid'),
      ['--uid', String(INSIDE.uid)],
    );
  });

  it('mounts nothing of the host writable, and only what the programs need read-only', () => {
    assert.equal(list.filter((o) => o[0] === '--bind' || o[0] === '--dev-bind').length, 0);
    const sources = list.filter((o) => o[0] === '--ro-bind' || o[0] === '--ro-bind-try').map((o) => o[1]);
    assert.deepEqual(sources.sort(), [
      '/etc/ca-certificates',
      '/etc/localtime',
      '/etc/ssl/certs',
      '/lib64',
      '/opt/npm/claude.exe',
      '/srv/sluice/runner.mjs',
      '/tmp/sluice-sandbox-x/sockets',
      '/usr',
      '/usr/local/bin/node',
    ]);
    assert.deepEqual(
      list.filter((o) => o[0] === '--symlink'),
      [
        ['--symlink', 'usr/bin', '/bin'],
        ['--symlink', 'usr/lib', '/lib'],
      ],
    );
  });

  it('the writable places are in-memory file systems of the set size, and the root is read-only after setup', () => {
    const tmpfs = list.flatMap((o, i) => (o[0] === '--tmpfs' ? [[list[i - 1], o]] : []));
    assert.deepEqual(
      tmpfs.map(([size, t]) => [size?.[1], t?.[1]]),
      [
        [String(64 * 1024 * 1024), '/tmp'],
        [String(64 * 1024 * 1024), INSIDE.home],
        [String(64 * 1024 * 1024), INSIDE.workspace],
      ],
    );
    const remount = list.findIndex((o) => o[0] === '--remount-ro' && o[1] === '/');
    const lastMount = list.findLastIndex((o) =>
      /^--(ro-bind|symlink|tmpfs|ro-bind-data|proc|dev)/.test(o[0] as string),
    );
    assert.ok(remount > lastMount, 'the root is made read-only after everything is mounted on it');
  });

  it('setup data comes on descriptors, and the runner is the command', () => {
    assert.deepEqual(
      list.filter((o) => o[0] === '--ro-bind-data').map((o) => o[2]),
      ['/etc/passwd', '/etc/group', '/etc/hosts', INSIDE.spec],
    );
    assert.deepEqual(list.at(-1), ['--', INSIDE.node, INSIDE.runner]);
    const etc = etcFiles();
    assert.match(etc.passwd, /^claude:x:1000:1000:Claude:\/home\/claude:\/bin\/bash$/m);
    assert.equal(etc.hosts, '127.0.0.1 localhost\n::1 localhost\n');
  });
});
