/**
 * Whether this machine can run sandboxes, for tests: they skip, saying so loudly on stderr, where
 * it cannot (no bubblewrap, no namespaces, cgroups not writable), and fail instead when
 * SLUICE_REQUIRE_SANDBOX=1 (as .ci/run sets).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { probeHost, sandboxIdentity } from '../host.js';
import { defaultCgroupHost } from '../limits.js';

/** Null when sandboxes can run here, else why not. */
export async function sandboxUnavailable(): Promise<string | null> {
  const support = await probeHost({
    identity: sandboxIdentity({ uid: 65534, gid: 65534 }),
    cgroups: await defaultCgroupHost().catch(() => ({ root: '/sys/fs/cgroup', selfCgroup: '' })),
    path: process.env.PATH ?? '',
  });
  const missing = Object.entries(support).filter(([, c]) => !c.ok);
  return missing.length ? missing.map(([name, c]) => `${name}: ${c.detail}`).join('; ') : null;
}

/** The `skip` option for a suite that needs sandboxes: false when they can run, else the reason. */
export async function sandboxSkip(suite: string): Promise<string | false> {
  const why = await sandboxUnavailable();
  if (!why) return false;
  const line = `sandboxes cannot run here (${why}): ${suite} SKIPPED`;
  if (process.env.SLUICE_REQUIRE_SANDBOX === '1') {
    it('sandboxes are required here (SLUICE_REQUIRE_SANDBOX=1)', () => assert.fail(line));
    return line;
  }
  process.stderr.write(`\n!!! ${line} !!!\n\n`);
  return line;
}
