import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openStore } from '../store/index.js';
import { PostgresStore, quoteIdent } from '../store/postgres.js';
import { auditRecord } from '../store/store.suite.js';
import type { AuditRecord, Store } from '../store/types.js';
import { ContentChain } from './content.js';

const TOOLS = Array.from({ length: 12 }, (_v, i) => ({
  name: `Tool${i}`,
  description: `Tool ${i} reads and writes files; ${'it takes a path and a pattern. '.repeat(40)}`,
  input_schema: { type: 'object', properties: { path: { type: 'string' } } },
}));

/**
 * Turn `n` of a Claude Code-shaped session, as its redacted stored copy: the whole history resent,
 * the cache marker on the newest message only, tools after the messages, multi-byte text (accents,
 * emoji) and a placeholder where a secret was redacted. 200 turns end at about 2.4 MB.
 */
function turn(n: number): string {
  const parts: string[] = [];
  for (let t = 0; t <= n; t++) parts.push(message(t, t === n));
  return `{"model":"claude-test","max_tokens":32000,"stream":true,"messages":[${parts.join(',')}],"tools":${TOOLS_JSON}}`;
}

const TOOLS_JSON = JSON.stringify(TOOLS);
const messages = new Map<string, string>();
/** Turn `t`'s tool call and its result (a 12 KB file), serialized once. */
function message(t: number, newest: boolean): string {
  const key = `${t}/${newest}`;
  let m = messages.get(key);
  if (m === undefined) {
    const file = `// módulo ${t} — ünïcode 😀 [REDACTED:aws-access-key#1]\n${`export const v${t} = ${t};\n`.repeat(560)}`;
    m = JSON.stringify([
      { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${t}`, name: 'Read', input: { t } }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: `toolu_${t}`,
            content: file,
            ...(newest ? { cache_control: { type: 'ephemeral' } } : {}),
          },
        ],
      },
    ]).slice(1, -1);
    messages.set(key, m);
  }
  return m;
}

/** A side request Claude Code sends between turns of the same session (a title, a quota check). */
const side = (n: number) =>
  JSON.stringify({ model: 'claude-haiku', messages: [{ role: 'user', content: `title ${n}` }] });

const time = (i: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString();
const TURNS = 200;

/**
 * Stores the session's records by delta in each org, as the record stage does (each turn is made
 * once for all of them); returns the bytes stored in one org and the last request's size.
 */
async function storeSession(store: Store, orgs: string[]): Promise<{ stored: number; last: number }> {
  const chains = orgs.map(() => new ContentChain(64 * 1024 * 1024));
  let stored = 0;
  let last = 0;
  for (let i = 0; i < TURNS; i++) {
    const whole = turn(i);
    last = Buffer.byteLength(whole);
    for (const [o, org] of orgs.entries()) {
      const ask = (id: string, text: string, at: number): AuditRecord => {
        const d = (chains[o] as ContentChain).store(`key_1\u0000sess-${org}`, id, text, at);
        if (o === 0) stored += Buffer.byteLength(d.content);
        return auditRecord({ id, org, time: time(at), requestContent: d.content, requestBase: d.base });
      };
      await store.insertAudit(ask(`${org}-t${i}`, whole, 2 * i));
      if (i % 10 === 5) await store.insertAudit(ask(`${org}-s${i}`, side(i), 2 * i + 1));
    }
  }
  return { stored, last };
}

/**
 * Reads the org's records back a page at a time from turn `from` and checks each turn whose number
 * `every` divides (and the first and last) against the whole turn, byte for byte.
 */
async function checkReadBack(store: Store, org: string, from = 0, every = 1): Promise<void> {
  for (let page = from; page < TURNS; page += 25) {
    const got = await store.queryAudit({
      org,
      since: time(2 * page),
      until: time(2 * (page + 25)),
      limit: 100,
    });
    const turns = got.filter((r) => r.id.includes('-t'));
    assert.equal(turns.length, Math.min(25, TURNS - page));
    for (const r of turns) {
      const n = Number(r.id.split('-t')[1]);
      assert.equal(r.requestBase, undefined);
      if (n % every && n !== from && n !== TURNS - 1) continue;
      assert.ok(r.requestContent === turn(n), `turn ${n} reads back whole, byte for byte`);
    }
    for (const r of got.filter((x) => x.id.includes('-s')))
      assert.equal(r.requestContent, side(Number(r.id.split('-s')[1])));
  }
}

function contentSuite(name: string, open: () => Promise<Store>, skip: string | false = false): void {
  describe(`content stored by delta (${name})`, { skip }, () => {
    let store: Store;
    after(async () => store?.close());

    it('a 200-turn session stores about its last request and reads back byte-identical', async () => {
      store = await open();
      const { stored, last } = await storeSession(store, ['chain', 'swept', 'cleared']);
      assert.ok(last > 2_000_000, `the last request is ${last} bytes`);
      assert.ok(stored <= 1.5 * last, `stored ${stored} bytes for a last request of ${last}`);
      await checkReadBack(store, 'chain');
      // One record by id (sluice logs show, the admin API) comes back whole too.
      const one = await store.getAudit('chain-t150');
      assert.equal(one?.requestBase, undefined);
      assert.ok(one?.requestContent === turn(150), 'turn 150 by id reads back whole');
    });

    it('retention deletes the old part of a chain; every record left reads back whole', async () => {
      // Records of the first 80 turns are past retention; flagged ones keep metadata, not content.
      const cut = time(160);
      const result = await store.sweep('swept', { before: cut, contentBefore: cut, flaggedBefore: time(0) });
      assert.equal(result.recordsDeleted, 80 + 8);
      assert.equal((await store.queryAudit({ org: 'swept', until: cut })).length, 0);
      await checkReadBack(store, 'swept', 80, 9);
    });

    it('content cleared before its record goes leaves later records whole', async () => {
      const result = await store.sweep('cleared', {
        before: time(0),
        contentBefore: time(100),
        flaggedBefore: time(0),
      });
      assert.equal(result.contentCleared, 50 + 5);
      const early = await store.queryAudit({ org: 'cleared', until: time(100) });
      assert.ok(early.every((r) => r.requestContent === null));
      await checkReadBack(store, 'cleared', 50, 9);
    });
  });
}

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
contentSuite('SQLite', async () => {
  const d = await mkdtemp(join(tmpdir(), 'sluice-content-'));
  dirs.push(d);
  return openStore(`sqlite:${join(d, 'sluice.db')}`, d);
});

const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sluice_content_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
const up = await admin
  .connect()
  .then(() => admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`))
  .then(
    () => true,
    () => false,
  );
after(async () => {
  if (up) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await admin.end().catch(() => undefined);
});
contentSuite(
  'PostgreSQL',
  async () => {
    const s = new PostgresStore({ connectionString: url, schema });
    await s.migrate();
    return s;
  },
  up ? false : `PostgreSQL not reachable at ${new URL(url).host}`,
);

describe('ContentChain', () => {
  it('never cuts a multi-byte character, and stores a request unlike any before it whole', () => {
    const chain = new ContentChain(1024 * 1024);
    const a = `${'x'.repeat(5000)}é${'y'.repeat(5000)}`;
    const b = `${'x'.repeat(5000)}è${'y'.repeat(5000)}`;
    assert.deepEqual(chain.store('c', 'a', a, 0), { content: a, base: null });
    const d = chain.store('c', 'b', b, 1);
    assert.equal(d.content, 'è');
    assert.deepEqual(d.base, { id: 'a', head: 5000, tail: 5000 });
    assert.deepEqual(chain.store('c', 'c', 'short', 2), { content: 'short', base: null });
  });

  it('uses no base older than its age limit', () => {
    const chain = new ContentChain(1024 * 1024, 1000);
    const a = 'x'.repeat(10_000);
    chain.store('c', 'a', a, 0);
    assert.equal(chain.store('c', 'b', `${a}!`, 2000).base, null);
  });
});
