import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { adminLogSettings, attachCheckpoints } from './admin-log-publish.js';
import { parseConfig } from './config.js';
import { applyConfig } from './orgs.js';
import { openStore } from '../store/index.js';

const main = resolve('src/cli/main.ts');
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const yaml = (zdr: boolean, logging: string) => `storage: sqlite:./s.db
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs:
  acme: { upstream: a, zdr: ${zdr}, contentLogging: ${logging} }
  beta: { upstream: a }
`;

function verify(dir: string) {
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), main, 'admin-log', 'verify', '--config', 'sluice.yaml'],
    { cwd: dir, encoding: 'utf8' },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A store whose admin log holds: two orgs created, a policy change, two key actions. */
async function logged() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
  dirs.push(dir);
  await writeFile(join(dir, 'sluice.yaml'), yaml(false, 'full'));
  const store = await openStore('sqlite:./s.db', dir);
  const at = new Date('2026-11-22T10:00:00Z');
  const config = parseConfig(yaml(false, 'full'), 'sluice.yaml', {});
  const signing = attachCheckpoints(store, adminLogSettings(config.adminLog, dir, 'gw-test'), {
    now: () => at,
    logger: { info: () => undefined, error: (_o, m) => assert.fail(m) },
  });
  await applyConfig(store, parseConfig(yaml(false, 'full'), 'sluice.yaml', {}), at);
  await applyConfig(store, parseConfig(yaml(false, 'full'), 'sluice.yaml', {}), at);
  await applyConfig(store, parseConfig(yaml(true, 'full'), 'sluice.yaml', {}), at);
  await signing.stop();
  const entries = await store.listAdminLog();
  await store.close();
  return { dir, entries, db: () => new Database(join(dir, 's.db')) };
}

describe('the admin log', () => {
  it('records org creation once, and each policy change with what changed', async () => {
    const { entries } = await logged();
    assert.deepEqual(
      entries.map((e) => [e.seq, e.action, e.target]),
      [
        [1, 'org.created', 'acme'],
        [2, 'org.created', 'beta'],
        [3, 'org.policy.changed', 'acme'],
      ],
      'applying the same config again records nothing',
    );
    assert.deepEqual(entries[2]?.details, { changed: { zdr: { from: false, to: true } } });
  });

  it('verify: exit 0 when intact; 1 naming the first entry edited, removed or reordered', async () => {
    const intact = await logged();
    assert.deepEqual(verify(intact.dir), {
      code: 0,
      out: 'admin log intact: 3 entries, each covered by a signed checkpoint\n',
      err: '',
    });

    const edited = await logged();
    let db = edited.db();
    db.prepare(
      `UPDATE admin_log SET details = '{"changed":{"zdr":{"from":true,"to":false}}}' WHERE seq = 3`,
    ).run();
    db.close();
    assert.deepEqual(verify(edited.dir), {
      code: 1,
      out: 'admin log broken at entry 3: its content was changed\n',
      err: '',
    });

    const removed = await logged();
    db = removed.db();
    db.prepare('DELETE FROM admin_log WHERE seq = 2').run();
    db.close();
    assert.deepEqual(verify(removed.dir), {
      code: 1,
      out: 'admin log broken at entry 3: expected entry 2 here: an entry was removed or reordered\n',
      err: '',
    });

    const reordered = await logged();
    db = reordered.db();
    db.exec(
      'UPDATE admin_log SET seq = 99 WHERE seq = 1; UPDATE admin_log SET seq = 1 WHERE seq = 2; UPDATE admin_log SET seq = 2 WHERE seq = 99;',
    );
    db.close();
    assert.deepEqual(verify(reordered.dir), {
      code: 1,
      out:
        'admin log broken at entry 1: does not link to the entry before it: removed or reordered\n' +
        'admin log rewritten at entry 1: its hash differs from the one gw-test signed at 2026-11-22T10:00:00.000Z (and 1 later checkpoint differs too)\n',
      err: '',
    });
  });
});
