import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import type { AuditRecord, Store } from '../store/types.js';
import { parseConfig } from '../control/config.js';
import { budgetsView, egressView, guardView, overview, requestsPage } from './views.js';

let dir: string;
let store: Store;
const NOW = new Date('2026-12-06T12:00:00.000Z');

function record(i: number, time: string, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: `r${String(i).padStart(5, '0')}`,
    time,
    org: 'acme',
    user: i % 2 ? 'a@acme.test' : 'b@acme.test',
    keyId: null,
    sessionId: null,
    method: 'POST',
    path: '/v1/messages',
    model: i % 3 ? 'claude-a' : 'claude-b',
    stream: false,
    status: i % 10 ? 200 : 429,
    errorType: null,
    upstream: 'anthropic',
    upstreamsTried: ['anthropic'],
    inputTokens: 10,
    outputTokens: 5,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd: 0.5,
    latencyMs: 1,
    overheadMs: 1,
    guard: i % 4 ? { decision: 'none', rules: {} } : { decision: 'block', rules: { 'aws-access-key-id': 2 } },
    requestContent: 'secret content',
    responseContent: 'more content',
    ...over,
  };
}

const all: AuditRecord[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-web-views-'));
  store = await openStore('sqlite:./s.db', dir);
  // 1,300 records over the last ~2 days, with runs of up to 40 in the same millisecond.
  for (let i = 0; i < 1300; i++)
    all.push(record(i, new Date(NOW.getTime() - 1 - Math.floor(i / 40) * 90_000 - (i % 7)).toISOString()));
  all.push(record(99_999, NOW.toISOString(), { org: 'beta' }));
  await store.insertAudits(all);
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Newest first, as the store orders: time, then id, descending. */
const order = (a: { time: string; id: string }, b: { time: string; id: string }) =>
  a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1;

async function pages(filter: Parameters<typeof requestsPage>[2]) {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 1000; n++) {
    const page = await requestsPage(store, 'acme', { ...filter, ...(cursor ? { cursor } : {}) });
    assert.ok(page.records.length <= filter.limit);
    seen.push(...page.records.map((r) => r.id));
    if (!page.next) return seen;
    cursor = page.next;
  }
  throw new Error('paging did not end');
}

describe('console views over a real SQLite store', () => {
  it('pages through every record exactly once, newest first, across same-millisecond runs', async () => {
    const want = all
      .filter((r) => r.org === 'acme')
      .sort(order)
      .map((r) => r.id);
    assert.deepEqual(await pages({ limit: 37 }), want);
  });

  it('filters by model, status and decision across store batches, and never returns content', async () => {
    const want = all
      .filter(
        (r) => r.org === 'acme' && r.model === 'claude-b' && r.status === 200 && r.guard.decision === 'block',
      )
      .sort(order)
      .map((r) => r.id);
    assert.ok(want.length > 20);
    assert.deepEqual(await pages({ limit: 9, model: 'claude-b', status: 200, decision: 'block' }), want);
    const page = await requestsPage(store, 'acme', { limit: 5 });
    for (const r of page.records) assert.ok(!('requestContent' in r) && !('responseContent' in r));
  });

  it('overview: one bucket a day for a week, sums from the store, guard decisions counted', async () => {
    const o = await overview(store, 'acme', 'week', NOW);
    assert.equal(o.buckets.length, 7);
    assert.equal(
      o.buckets.reduce((n, b) => n + b.requests, 0),
      1300,
    );
    assert.equal(
      o.buckets.reduce((n, b) => n + (b.guard.block ?? 0), 0),
      all.filter((r) => r.org === 'acme' && r.guard.decision === 'block').length,
    );
    assert.equal(o.buckets[6]?.start, '2026-12-06T00:00:00.000Z');
  });

  it('guard: decisions by rule and user; rule ids and counts only', async () => {
    const g = await guardView(store, 'acme', '2026-11-01T00:00:00.000Z');
    const blocked = all.filter((r) => r.org === 'acme' && r.guard.decision === 'block').length;
    assert.deepEqual(g.decisions, { block: blocked });
    assert.deepEqual(g.rules, [{ rule: 'aws-access-key-id', findings: 2 * blocked, requests: blocked }]);
    assert.equal(g.flagged.length, 50);
    assert.equal(
      g.days.reduce((n, d) => n + (d.decisions.block ?? 0), 0),
      blocked,
    );
    assert.deepEqual(g.sessions, [], 'the seeded records have no session');
    assert.doesNotMatch(JSON.stringify(g), /secret content/);
  });

  it('guard from a mid-day since: whole days from the rollups, the first part-day from the records', async () => {
    // Every 20 minutes over three days; a third blocked, alternating users.
    const spread = Array.from({ length: 216 }, (_v, i) =>
      record(100_000 + i, new Date(NOW.getTime() - (i + 1) * 20 * 60_000).toISOString(), {
        org: 'guards',
        guard: i % 3 ? { decision: 'none', rules: {} } : { decision: 'redact', rules: { 'github-pat': 1 } },
      }),
    );
    await store.insertAudits(spread);
    const since = '2026-12-04T07:30:00.000Z';
    const g = await guardView(store, 'guards', since);
    const hit = spread.filter((r) => r.guard.decision === 'redact' && r.time >= since);
    assert.ok(
      spread.some((r) => r.guard.decision === 'redact' && r.time < since),
      'some are before since',
    );
    assert.deepEqual(g.decisions, { redact: hit.length });
    const byDay = new Map<string, number>();
    for (const r of hit) byDay.set(r.time.slice(0, 10), (byDay.get(r.time.slice(0, 10)) ?? 0) + 1);
    assert.equal(byDay.size, 3);
    assert.deepEqual(
      g.days.map((d) => [d.day, d.decisions.redact]),
      [...byDay.entries()].sort().reverse(),
    );
    assert.deepEqual(
      g.users.map((u) => [u.user, u.decisions.redact]).sort(),
      ['a@acme.test', 'b@acme.test'].map((u) => [u, hit.filter((r) => r.user === u).length]),
    );
    assert.deepEqual(g.rules, [{ rule: 'github-pat', findings: hit.length, requests: hit.length }]);
  });

  it('overview of a day: hourly sums and guard decisions from the records', async () => {
    const o = await overview(store, 'acme', 'day', NOW);
    assert.equal(o.buckets.length, 24);
    const day = all.filter((r) => r.org === 'acme' && r.time >= '2026-12-05T12:00:00.000Z');
    assert.equal(
      o.buckets.reduce((n, b) => n + b.requests, 0),
      day.length,
    );
    assert.equal(
      o.buckets.reduce((n, b) => n + (b.guard.block ?? 0), 0),
      day.filter((r) => r.guard.decision === 'block').length,
    );
    const hour = o.buckets.find((b) => b.start === '2026-12-06T11:00:00.000Z');
    assert.equal(hour?.requests, day.filter((r) => r.time.startsWith('2026-12-06T11')).length);
  });

  it('a filter finds a match behind more than 20,000 newer records, and paging ends after it', async () => {
    const newer = Array.from({ length: 21_000 }, (_v, i) =>
      record(200_000 + i, new Date(NOW.getTime() - i * 1000).toISOString(), {
        org: 'deep',
        guard: { decision: 'none', rules: {} },
      }),
    );
    const old = record(300_000, '2026-11-20T08:00:00.000Z', {
      org: 'deep',
      guard: { decision: 'error', rules: {} },
    });
    await store.insertAudits([...newer, old]);
    const page = await requestsPage(store, 'deep', { limit: 10, decision: 'error' });
    assert.deepEqual(
      page.records.map((r) => r.id),
      [old.id],
    );
    assert.equal(page.next, null);
    const none = await requestsPage(store, 'deep', { limit: 10, model: 'no-such-model' });
    assert.deepEqual(none, { records: [], next: null });
  });

  it('egress: every connection counted per host (not a window of the newest), refusals listed', async () => {
    const config = parseConfig(
      'upstreams:\n  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: x }\n' +
        'orgs:\n  acme: { upstream: anthropic }\n',
      'test.yaml',
      {},
    );
    for (let i = 0; i < 30; i++)
      await store.insertEgress({
        id: `eg${i}`,
        time: new Date(NOW.getTime() - i * 60_000).toISOString(),
        org: 'acme',
        user: 'a@acme.test',
        host: i % 3 ? 'api.anthropic.com' : 'paste.example.test',
        port: 443,
        method: 'CONNECT',
        decision: i % 3 ? 'allow' : 'deny',
        rule: i % 3 ? 'preset:anthropic' : 'default-deny',
        bytesUp: 1,
        bytesDown: 1,
        durationMs: 1,
        error: null,
      });
    const e = await egressView(store, config, 'acme', '2026-12-01T00:00:00.000Z', NOW);
    assert.deepEqual(
      e.hosts.map((h) => [h.target, h.allowed, h.denied, h.rules, h.expected, h.last]),
      [
        ['paste.example.test:443', 0, 10, ['default-deny'], false, '2026-12-06T12:00:00.000Z'],
        ['api.anthropic.com:443', 20, 0, ['preset:anthropic'], true, '2026-12-06T11:59:00.000Z'],
      ],
    );
    assert.equal(e.refused.length, 10);
    assert.ok(e.refused.every((r) => r.decision === 'deny'));
  });

  it('budgets: each limit with what is spent and left this UTC day and month', async () => {
    const config = parseConfig(
      'upstreams:\n  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: x }\n' +
        'orgs:\n  acme: { upstream: anthropic, budgets: { org: { daily: 100, monthly: 1000 }, perUser: { monthly: 200 } } }\n',
      'test.yaml',
      {},
    );
    const b = await budgetsView(store, config, 'acme', NOW);
    const today = all.filter((r) => r.org === 'acme' && r.time >= '2026-12-06').length * 0.5;
    const month = all.filter((r) => r.org === 'acme' && r.time >= '2026-12-01').length * 0.5;
    assert.deepEqual(b.orgLines, [
      {
        span: 'daily',
        limitUsd: 100,
        usedUsd: today,
        leftUsd: Math.max(0, 100 - today),
        resets: '2026-12-07T00:00:00.000Z',
      },
      {
        span: 'monthly',
        limitUsd: 1000,
        usedUsd: month,
        leftUsd: 1000 - month,
        resets: '2027-01-01T00:00:00.000Z',
      },
    ]);
    assert.deepEqual(
      b.users.map((u) => [u.user, u.lines.map((l) => [l.span, l.usedUsd, l.leftUsd])]),
      [
        ['a@acme.test', [['monthly', month / 2, Math.max(0, 200 - month / 2)]]],
        ['b@acme.test', [['monthly', month / 2, Math.max(0, 200 - month / 2)]]],
      ],
    );
  });

  it('budgets: a day with nothing spent yet still shows its daily limits, whole', async () => {
    const config = parseConfig(
      'upstreams:\n  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: x }\n' +
        'orgs:\n  acme: { upstream: anthropic, budgets: { org: { daily: 100, monthly: 1000 }, perUser: { daily: 5, monthly: 200 } } }\n',
      'test.yaml',
      {},
    );
    // Two days after the records: spent this month, nothing yet today.
    const b = await budgetsView(store, config, 'acme', new Date('2026-12-08T00:30:00.000Z'));
    const month = all.filter((r) => r.org === 'acme').length * 0.5;
    assert.deepEqual(
      b.orgLines.map((l) => [l.span, l.usedUsd, l.leftUsd, l.resets]),
      [
        ['daily', 0, 100, '2026-12-09T00:00:00.000Z'],
        ['monthly', month, 1000 - month, '2027-01-01T00:00:00.000Z'],
      ],
    );
    assert.deepEqual(
      b.users.map((u) => [u.user, u.lines.map((l) => [l.span, l.usedUsd, l.leftUsd])]),
      [
        [
          'a@acme.test',
          [
            ['daily', 0, 5],
            ['monthly', month / 2, Math.max(0, 200 - month / 2)],
          ],
        ],
        [
          'b@acme.test',
          [
            ['daily', 0, 5],
            ['monthly', month / 2, Math.max(0, 200 - month / 2)],
          ],
        ],
      ],
    );
  });
});
