import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { postgresUp, TEST_POSTGRES_URL } from '../store/testing/postgres.js';
import { entryHash, recordAdmin } from '../control/admin-log.js';
import { loadOrCreateSigningKey, loadSigningKey } from '../control/admin-log-key.js';
import { adminLogSettings, attachCheckpoints } from '../control/admin-log-publish.js';
import { parseConfig } from '../control/config.js';
import { openStore } from '../store/index.js';
import { quoteIdent } from '../store/postgres.js';

const main = resolve('src/cli/main.ts');
const pgUrl = TEST_POSTGRES_URL;
const schemaPrefix = `sluice_adminlog_${randomBytes(6).toString('hex')}`;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const pgUp = await postgresUp('admin log attacks on PostgreSQL');

/** Raw SQL on the store behind Sluice's back: what an attacker who can write the store does. */
type Sql = (text: string, params?: unknown[]) => Promise<void>;
interface Backend {
  name: string;
  skip: string | false;
  /** A fresh, migrated store for one case: its `storage:` value and raw SQL on it. */
  fresh(dir: string): Promise<{ storage: string; sql: Sql }>;
}

const sqlite: Backend = {
  name: 'SQLite',
  skip: false,
  async fresh(dir) {
    const storage = 'sqlite:./s.db';
    await (await openStore(storage, dir)).close();
    const sql: Sql = async (text, params = []) => {
      const db = new Database(join(dir, 's.db'));
      try {
        db.prepare(text.replace(/\$\d+/g, '?')).run(...params);
      } finally {
        db.close();
      }
    };
    return { storage, sql };
  },
};

let schemas = 0;
const postgres: Backend = {
  name: 'PostgreSQL',
  skip: pgUp ? false : 'PostgreSQL not reachable',
  async fresh() {
    const schema = `${schemaPrefix}_${schemas++}`;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    cleanups.push(async () => {
      await client.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
      await client.end();
    });
    const storage = `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    await (await openStore(storage, process.cwd())).close();
    return { storage, sql: async (text, params = []) => void (await client.query(text, params)) };
  },
};

const configText = (storage: string) => `storage: "${storage}"
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs: { acme: { upstream: a } }
`;

function sluice(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const T = '2026-11-22T10:00:00.000Z';

/** A store whose admin log holds three entries appended through Sluice, and its config. */
async function logged(backend: Backend) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { storage, sql } = await backend.fresh(dir);
  await writeFile(join(dir, 'sluice.yaml'), configText(storage));
  const store = await openStore(storage, dir);
  const settings = adminLogSettings(
    parseConfig(configText(storage), 'sluice.yaml', {}).adminLog,
    dir,
    'gw-test',
  );
  const publisher = attachCheckpoints(store, settings, { now: () => new Date(T), logger: silent });
  for (const target of ['key_a', 'key_b', 'key_c'])
    await recordAdmin(store, new Date(T), 'test', 'key.created', target, { org: 'acme' });
  await publisher.stop();
  const entries = await store.listAdminLog();
  await store.close();
  return {
    dir,
    sql,
    entries,
    checkpointFile: settings.checkpointFile,
    verify: () => sluice(dir, 'admin-log', 'verify', '--config', 'sluice.yaml'),
  };
}

const silent = { info: () => undefined, error: (_o: object, m: string) => assert.fail(m) };

const uncovered = (range: string) =>
  range.includes('-')
    ? `admin log entries ${range} are not covered by a signed checkpoint: appended outside Sluice, or their checkpoints were lost\n`
    : `admin log entry ${range} is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost\n`;

for (const backend of [sqlite, postgres]) {
  describe(
    `admin-log verify against an attacker who can write the store (${backend.name})`,
    {
      skip: backend.skip,
    },
    () => {
      it('an untouched log is intact', async () => {
        const { verify } = await logged(backend);
        assert.deepEqual(verify(), {
          code: 0,
          out: 'admin log intact: 3 entries, each covered by a signed checkpoint\n',
          err: '',
        });
      });

      it('deleting the last entry is truncation', async () => {
        const { sql, verify } = await logged(backend);
        await sql('DELETE FROM admin_log WHERE seq = 3');
        assert.deepEqual(verify(), {
          code: 1,
          out: `admin log truncated: it ends at entry 2, but gw-test signed a checkpoint of entry 3 at ${T}\n`,
          err: '',
        });
      });

      it('deleting every entry is truncation', async () => {
        const { sql, verify } = await logged(backend);
        await sql('DELETE FROM admin_log');
        assert.deepEqual(verify(), {
          code: 1,
          out: `admin log truncated: it is empty, but gw-test signed a checkpoint of entry 3 at ${T}\n`,
          err: '',
        });
      });

      it('editing an entry and recomputing the chain with entryHash is caught at that entry', async () => {
        const { sql, entries, verify } = await logged(backend);
        let prev = entries[0]?.hash ?? '';
        for (const e of entries.slice(1)) {
          const forged = { ...e, details: { org: 'evil' } };
          const hash = entryHash(prev, forged);
          await sql('UPDATE admin_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
            JSON.stringify(forged.details),
            prev,
            hash,
            e.seq,
          ]);
          prev = hash;
        }
        assert.deepEqual(verify(), {
          code: 1,
          out: `admin log rewritten at entry 2: its hash differs from the one gw-test signed at ${T} (and 1 later checkpoint differs too)\n`,
          err: '',
        });
      });

      it('a forged entry appended with a correct link is not covered by a checkpoint', async () => {
        const { sql, entries, verify } = await logged(backend);
        const last = entries[2];
        assert.ok(last);
        const forged = {
          seq: 4,
          time: T,
          actor: 'test',
          action: 'key.created',
          target: 'key_x',
          details: {},
        };
        await sql(
          'INSERT INTO admin_log (seq, time, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [4, T, 'test', 'key.created', 'key_x', '{}', last.hash, entryHash(last.hash, forged)],
        );
        assert.deepEqual(verify(), { code: 1, out: uncovered('4'), err: '' });
      });

      it('a checkpoint edited to match a recomputed chain has a bad signature', async () => {
        const { sql, entries, checkpointFile, verify } = await logged(backend);
        const [, second] = entries;
        assert.ok(second);
        const forged = { ...second, details: { org: 'evil' } };
        const hash = entryHash(second.prevHash, forged);
        await sql('DELETE FROM admin_log WHERE seq = 3');
        await sql('UPDATE admin_log SET details = $1, hash = $2 WHERE seq = 2', ['{"org":"evil"}', hash]);
        const lines = (await readFile(checkpointFile, 'utf8')).trimEnd().split('\n');
        const edited = lines
          .slice(0, 2)
          .map((l) => l.replace(second.hash, hash))
          .join('\n');
        await writeFile(checkpointFile, edited + '\n');
        assert.deepEqual(verify(), {
          code: 1,
          out: `admin log checkpoints in ${checkpointFile}, line 2: bad signature (altered after signing)\n${uncovered('2')}`,
          err: '',
        });
      });

      it('checkpoints signed by another key than the configured public key are not trusted', async () => {
        const { dir, verify } = await logged(backend);
        const own = await loadSigningKey(join(dir, '.sluice/admin-log.key'));
        const other = await loadOrCreateSigningKey(join(dir, 'other.key'));
        await appendFile(join(dir, 'sluice.yaml'), `adminLog: { publicKey: ${other.text} }\n`);
        assert.deepEqual(verify(), {
          code: 1,
          out:
            `admin log checkpoints in ${join(dir, '.sluice/admin-log.checkpoints')}, lines 1-3: signed by key ${own.id}, which is not trusted here (trusted: ${other.id})\n` +
            uncovered('1-3'),
          err: '',
        });
      });

      it('a missing checkpoint file leaves every entry uncovered', async () => {
        const { checkpointFile, verify } = await logged(backend);
        await rm(checkpointFile);
        assert.deepEqual(verify(), {
          code: 1,
          out: `admin log checkpoints missing: ${checkpointFile} does not exist\n${uncovered('1-3')}`,
          err: '',
        });
      });
    },
  );
}

describe('the admin-log verbs around signing', () => {
  it('keys create signs the entry it appends, as serve would; verify --format json says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'sluice.yaml'), configText('sqlite:./s.db'));
    const created = sluice(dir, 'keys', 'create', '--org', 'acme', '--user', 'dev@acme.test');
    assert.deepEqual([created.code, created.err], [0, '']);
    const v = sluice(dir, 'admin-log', 'verify', '--format', 'json');
    assert.deepEqual(
      { code: v.code, verdict: JSON.parse(v.out) as unknown },
      { code: 0, verdict: { ok: true, entries: 1, checkpoints: 1, problems: [] } },
    );
  });

  it('admin-log key makes the key once (0600) and prints the public key verifiers need', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'sluice.yaml'), configText('sqlite:./s.db'));
    const made = sluice(dir, 'admin-log', 'key');
    const file = join(dir, '.sluice/admin-log.key');
    const key = await loadSigningKey(file);
    assert.deepEqual(made, {
      code: 0,
      out: `made key ${file}\nkey id: ${key.id}\npublic key: ${key.text}\n`,
      err: '',
    });
    assert.deepEqual(JSON.parse(sluice(dir, 'admin-log', 'key', '--format', 'json').out), {
      file,
      created: false,
      id: key.id,
      publicKey: key.text,
    });
    assert.deepEqual(await readdir(dir), ['.sluice', 'sluice.yaml'], 'no store was made');
  });

  it('admin-log checkpoint vouches for entries no checkpoint covers, and refuses over a rewrite', async () => {
    const { dir, sql, entries, verify } = await logged(sqlite);
    await appendFile(join(dir, 'sluice.yaml'), 'adminLog: { signer: ops }\n');
    const checkpoint = () => sluice(dir, 'admin-log', 'checkpoint');
    assert.deepEqual(checkpoint(), {
      code: 0,
      out: 'nothing to sign: every entry is covered by a signed checkpoint\n',
      err: '',
    });
    const last = entries[2];
    assert.ok(last);
    const crashed = { seq: 4, time: T, actor: 'test', action: 'key.revoked', target: 'key_a', details: {} };
    await sql(
      'INSERT INTO admin_log (seq, time, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [4, T, 'test', 'key.revoked', 'key_a', '{}', last.hash, entryHash(last.hash, crashed)],
    );
    const key = await loadSigningKey(join(dir, '.sluice/admin-log.key'));
    assert.deepEqual(checkpoint(), {
      code: 0,
      out: `signed a checkpoint of entry 4 with ${key.id}: it vouches for entry 4, which no checkpoint covered\n`,
      err: '',
    });
    assert.deepEqual(verify(), {
      code: 0,
      out: 'admin log intact: 4 entries, each covered by a signed checkpoint\n',
      err: '',
    });
    await sql('DELETE FROM admin_log WHERE seq = 4');
    const refused = checkpoint();
    assert.deepEqual([refused.code, refused.err], [1, '']);
    assert.match(
      refused.out,
      /^admin log truncated: it ends at entry 3, but ops signed a checkpoint of entry 4 at 20\d\d-[\d-]+T[\d:.]+Z\n$/,
    );
  });
});

describe('admin-log verify never creates a store', () => {
  it('a missing SQLite file is an error (exit 2), and stays missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'sluice.yaml'), configText('sqlite:./gone.db'));
    assert.deepEqual(sluice(dir, 'admin-log', 'verify', '--config', 'sluice.yaml'), {
      code: 2,
      out: '',
      err: `sluice: cannot open the store: no SQLite database at ${join(dir, 'gone.db')}\n`,
    });
    assert.deepEqual(await readdir(dir), ['sluice.yaml'], 'nothing was created');
  });

  it('an unreachable PostgreSQL is an error (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-adminlog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'sluice.yaml'), configText('postgres://postgres@127.0.0.1:1/test'));
    assert.deepEqual(sluice(dir, 'admin-log', 'verify', '--config', 'sluice.yaml'), {
      code: 2,
      out: '',
      err: 'sluice: cannot open the store: connect ECONNREFUSED 127.0.0.1:1\n',
    });
  });

  it('a missing key with no adminLog.publicKey is an error (exit 2) that says what makes one', async () => {
    const { dir } = await logged(sqlite);
    await rm(join(dir, '.sluice/admin-log.key'));
    assert.deepEqual(sluice(dir, 'admin-log', 'verify', '--config', 'sluice.yaml'), {
      code: 2,
      out: '',
      err: `sluice: no public key to check the admin log with: ${join(dir, '.sluice/admin-log.key')} does not exist and adminLog.publicKey is not set (sluice serve or sluice admin-log key makes the key)\n`,
    });
  });
});
