import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;

export const GROUPS_CONFIG = `storage: sqlite:./s.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: https://api.anthropic.com, apiKey: "\${ANTHROPIC_API_KEY}" }
orgs:
  acme:
    upstream: anthropic
    groups:
      eng: {}
      contractors: { models: [claude-haiku-4-5], budgets: { daily: 5 } }
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-keygroups-'));
  await writeFile(join(dir, 'sluice.yaml'), GROUPS_CONFIG);
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(...args: string[]) {
  const env = { ...process.env };
  delete env.ANTHROPIC_API_KEY;
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sluice keys create --group', () => {
  it('puts the user in the groups named, shown by keys list and in the admin log', () => {
    const r = sluice(
      'keys',
      'create',
      '--org',
      'acme',
      '--user',
      'temp@acme.test',
      '--group',
      'contractors',
      '--group',
      'eng',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^created key_[0-9a-f]{16} for temp@acme\.test in acme \(member, groups contractors, eng\)\.$/m,
    );
    const [listed] = JSON.parse(sluice('keys', 'list', '--format', 'json').out) as { groups?: string[] }[];
    assert.deepEqual(listed?.groups, ['contractors', 'eng']);
    assert.match(sluice('keys', 'list').out, /GROUPS[\s\S]*contractors,eng/);
    const log = sluice('admin-log', 'list', '--format', 'json')
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; details: { groups?: string[] } });
    assert.deepEqual(log.find((e) => e.action === 'key.created')?.details.groups, ['contractors', 'eng']);
  });

  it('refuses a group the org does not declare, naming the ones it does', () => {
    const r = sluice('keys', 'create', '--org', 'acme', '--user', 'x@acme.test', '--group', 'contractor');
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'sluice: no group "contractor" in orgs.acme.groups of ./sluice.yaml (groups: eng, contractors)\n',
    );
  });

  it('refuses a name that is not a group name', () => {
    const r = sluice('keys', 'create', '--org', 'acme', '--user', 'x@acme.test', '--group', 'a b');
    assert.equal(r.code, 2);
    assert.equal(r.err, 'sluice: --group: "a b" is not a group name (letters, digits, ".", "_" and "-")\n');
  });
});
