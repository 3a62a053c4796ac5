import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../store/index.js';
import { AuditJournal } from '../../store/journal.js';
import { authorizedContext, testConfig, testKey } from '../testing/context.js';
import { authorize } from './authorize.js';
import { record } from './record.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-record-'));
const store = await openStore(`sqlite:${join(dir, 'r.db')}`, dir);
const journal = await AuditJournal.open({
  dir: join(dir, 'journal'),
  store,
  pid: 1,
  isAlive: () => false,
  onError: (err) => assert.fail(err),
});
after(async () => {
  await journal.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('stage record', () => {
  it('ends one record with latency and overhead in the journal, which takes it to the store', async () => {
    const ctx = authorizedContext();
    ctx.upstreamSentAt = 2;
    ctx.record.status = 200;
    journal.begin(ctx.record);
    await record({ journal, now: () => 10, logger: {} })(ctx);
    const r = (await store.queryAudit({ org: 'acme' })).find((x) => x.id === ctx.id);
    assert.deepEqual([r?.latencyMs, r?.overheadMs, r?.status], [10, 2, 200]);
  });

  it('never keeps content for an org with zero data retention', async () => {
    const ctx = authorizedContext({
      config: testConfig('{ upstream: anthropic, zdr: true, contentLogging: full }'),
    });
    ctx.record.requestContent = 'canary';
    ctx.record.responseContent = 'canary';
    await record({ journal, now: () => 1, logger: {} })(ctx);
    const r = (await store.queryAudit({ org: 'acme' })).find((x) => x.id === ctx.id);
    assert.ok(r);
    assert.equal(r?.requestContent, null);
    assert.equal(r?.responseContent, null);
  });

  it("stores a conversation's next request by delta, and reads it back whole", async () => {
    const config = testConfig('{ upstream: anthropic, contentLogging: redacted }');
    const history = `{"messages":[${'{"role":"user","content":"read the file"},'.repeat(400)}`;
    const turns = [
      `${history}{"role":"user","content":"one"}]}`,
      `${history}{"role":"user","content":"two"}]}`,
    ];
    const ids: string[] = [];
    const stage = record({ journal, now: () => 5, logger: {} });
    for (const content of turns) {
      const ctx = authorizedContext({ config });
      ctx.record.sessionId = 'sess-delta';
      ctx.record.requestContent = content;
      journal.begin(ctx.record);
      await stage(ctx);
      if (ids.length)
        assert.deepEqual(ctx.record.requestBase, { id: ids[0], head: history.length + 26, tail: 4 });
      ids.push(ctx.id);
    }
    const back = await store.queryAudit({ org: 'acme' });
    assert.deepEqual(
      ids.map((id) => back.find((r) => r.id === id)?.requestContent),
      turns,
    );
  });

  it('under zero data retention, keeps no content in the journal either', async () => {
    const ctx = authorizedContext({
      config: testConfig('{ upstream: anthropic, zdr: true, contentLogging: redacted }'),
    });
    ctx.record.requestContent = 'zdr-canary-request';
    journal.begin(ctx.record);
    await record({ journal, now: () => 1, logger: {} })(ctx);
    const slot = join(dir, 'journal', (await readdir(join(dir, 'journal')))[0] as string);
    for (const f of await readdir(slot))
      if (f.endsWith('.jsonl')) assert.ok(!(await readFile(join(slot, f), 'utf8')).includes('zdr-canary'));
  });

  it("keeps content as the caller's groups allow: the least of them, never under zdr", async () => {
    const cases: [string, string[], boolean][] = [
      [
        '{ upstream: anthropic, contentLogging: full, groups: { a: { contentLogging: none }, b: {} } }',
        ['a', 'b'],
        false,
      ],
      ['{ upstream: anthropic, groups: { a: { contentLogging: redacted } } }', ['a'], true],
      ['{ upstream: anthropic, zdr: true, groups: { a: { contentLogging: full } } }', ['a'], false],
    ];
    for (const [org, groups, kept] of cases) {
      const ctx = authorizedContext({ config: testConfig(org) });
      ctx.key = { ...testKey, groups };
      authorize(ctx);
      ctx.record.requestContent = 'group-canary';
      ctx.record.responseContent = 'group-canary';
      journal.begin(ctx.record);
      await record({ journal, now: () => 1, logger: {} })(ctx);
      const r = (await store.queryAudit({ org: 'acme' })).find((x) => x.id === ctx.id);
      assert.equal(r?.requestContent, kept ? 'group-canary' : null, org);
    }
  });
});
