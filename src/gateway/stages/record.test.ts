import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../store/index.js';
import { AuditJournal } from '../../store/journal.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { record } from './record.js';

const dir = await mkdtemp(join(tmpdir(), 'sluice-record-'));
const store = await openStore(`sqlite:${join(dir, 'r.db')}`);
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
});
