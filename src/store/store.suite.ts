/** One behavioural suite that every Store implementation must pass. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAdmin, verifyChain } from '../control/admin-log.js';
import type { ScimUserRow } from './scim.js';
import type { AuditQuery, AuditRecord, KeyRecord, RollupRow, Store, UsageQuery, UsageRow } from './types.js';

const DIMENSIONS = ['day', 'user', 'key', 'model', 'status', 'decision'] as const;

/** An org's rollups by every dimension, costs rounded (sums in another order may differ in the last bit). */
async function rollupsOf(store: Store, org: string): Promise<RollupRow[]> {
  return (await store.rollups({ org, by: [...DIMENSIONS] })).map((r) => ({
    ...r,
    costUsd: round(r.costUsd),
  }));
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** An org's hourly rollups: requests and spend by hour and decision. */
async function hoursOf(store: Store, org: string): Promise<[string, string, number, number][]> {
  return (await store.rollups({ org, fromHour: '2000-01-01T00', by: ['hour', 'decision'] })).map((r) => [
    r.hour as string,
    r.decision as string,
    r.requests,
    round(r.costUsd),
  ]);
}

/** An org's guard rollups: requests by day, user, decision; requests and findings by rule. */
async function guardsOf(store: Store, org: string) {
  return {
    requests: (await store.guardRollups({ org, rules: false, by: ['day', 'user', 'decision'] })).map((r) => [
      r.day,
      r.user,
      r.decision,
      r.requests,
    ]),
    rules: (await store.guardRollups({ org, rules: true, by: ['rule'] })).map((r) => [
      r.rule,
      r.requests,
      r.findings,
    ]),
  };
}

/** The guard rollups `records` should make. */
function recountGuards(records: readonly AuditRecord[]) {
  const requests = new Map<string, [string, string | null, string, number]>();
  const rules = new Map<string, [string, number, number]>();
  for (const r of records) {
    if (r.guard.decision === 'none') continue;
    const k = JSON.stringify([r.time.slice(0, 10), r.user ?? '', r.guard.decision]);
    const row = requests.get(k) ?? [r.time.slice(0, 10), r.user, r.guard.decision, 0];
    row[3] += 1;
    requests.set(k, row);
    for (const [rule, n] of Object.entries(r.guard.rules)) {
      const x = rules.get(rule) ?? [rule, 0, 0];
      x[1] += 1;
      x[2] += n;
      rules.set(rule, x);
    }
  }
  const sorted = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  return { requests: sorted(requests), rules: sorted(rules) };
}

/** The hourly rollups `records` should make. */
function recountHours(records: readonly AuditRecord[]): [string, string, number, number][] {
  const rows = new Map<string, [string, string, number, number]>();
  for (const r of records) {
    const k = `${r.time.slice(0, 13)} ${r.guard.decision}`;
    const row = rows.get(k) ?? [r.time.slice(0, 13), r.guard.decision, 0, 0];
    row[2] += 1;
    row[3] += r.costUsd ?? 0;
    rows.set(k, row);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, [h, d, n, c]]) => [h, d, n, round(c)]);
}

/** The rollups `records` should make, counted from scratch, in the store's order. */
function recount(records: readonly AuditRecord[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const r of records) {
    const dims = {
      day: r.time.slice(0, 10),
      user: r.user,
      key: r.keyId,
      model: r.model,
      status: r.status,
      decision: r.guard.decision,
    };
    const k = JSON.stringify([
      dims.day,
      dims.user ?? '',
      dims.key ?? '',
      dims.model ?? '',
      dims.status,
      dims.decision,
    ]);
    const row = rows.get(k) ?? {
      ...dims,
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
      costUsd: 0,
      unpriced: 0,
    };
    row.requests += 1;
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.cacheCreationInputTokens += r.cacheCreationInputTokens;
    row.cacheReadInputTokens += r.cacheReadInputTokens;
    row.costUsd += r.costUsd ?? 0;
    row.unpriced += r.costUsd === null && r.status < 400 ? 1 : 0;
    rows.set(k, row);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({ ...r, costUsd: round(r.costUsd) }));
}

export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: `req_${Math.random().toString(36).slice(2)}`,
    time: '2026-11-01T10:00:00.000Z',
    org: 'acme',
    user: 'dev@acme.test',
    keyId: 'key_1',
    sessionId: 'sess-1',
    method: 'POST',
    path: '/v1/messages',
    model: 'claude-test',
    stream: true,
    status: 200,
    errorType: null,
    upstream: 'anthropic',
    upstreamsTried: ['anthropic'],
    inputTokens: 10,
    outputTokens: 20,
    cacheCreationInputTokens: 3,
    cacheReadInputTokens: 4,
    costUsd: 0.0125,
    priceNote: null,
    latencyMs: 12.5,
    overheadMs: 0.4,
    guard: { decision: 'redact', rules: { 'aws-access-key': 2 } },
    requestContent: 'hello',
    responseContent: 'world',
    ...overrides,
  };
}

function key(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_1',
    org: 'acme',
    user: 'dev@acme.test',
    role: 'member',
    hash: 'a'.repeat(64),
    prefix: 'sk-sluice-ab',
    createdAt: '2026-11-01T00:00:00.000Z',
    revokedAt: null,
    expiresAt: null,
    ...overrides,
  };
}

/** Records of every kind the rollups tell apart, for the migration's backfill test. */
export function backfillRecords(): AuditRecord[] {
  return Array.from({ length: 24 }, (_v, i) =>
    auditRecord({
      id: `backfill_${i}`,
      time: `2026-11-0${1 + (i % 3)}T0${i % 10}:00:00.000Z`,
      org: i % 7 === 0 ? null : 'acme',
      user: i % 5 === 0 ? null : `u${i % 2}@acme.test`,
      model: i % 2 ? 'claude-a' : 'claude-b',
      status: i % 4 === 0 ? 500 : 200,
      costUsd: i % 3 === 0 ? null : 0.25,
      guard:
        i % 6 === 0 ? { decision: 'block', rules: { 'github-pat': 1 } } : { decision: 'none', rules: {} },
    }),
  );
}

/** Rollups by every dimension, every org, daily and hourly. */
export const everyRollup = async (store: Store) => [
  ...(await store.rollups({ by: ['org', ...DIMENSIONS] })),
  ...(await store.rollups({ by: ['org', 'hour', 'decision'] })),
];

/** Periods for usage by org and by hour: on and off the hour, at and past the records, open, empty, non-ISO. */
const USAGE_PERIODS: [string | undefined, string | undefined][] = [
  [undefined, undefined],
  ['2031-03-01T10:30:00.000Z', '2031-03-02T12:30:00.000Z'],
  ['2031-03-01T10:00:00.000Z', '2031-03-01T11:00:00.000Z'],
  ['2031-03-01T10:30:00.000Z', '2031-03-01T10:45:00.000Z'],
  ['2031-03-01T09:59:59.999Z', '2031-03-01T10:00:00.001Z'],
  ['2031-03-01T12:00:00.000Z', '2031-03-03T12:00:00.000Z'],
  ['2031-03-01T00:00:00.000Z', '2031-03-03T00:00:00.000Z'],
  ['2031-03-02T00:00:00.000Z', undefined],
  [undefined, '2031-03-02T12:30:00.000Z'],
  ['2031-03-01T10:00:00.000Z', '2031-03-01T10:00:00.000Z'],
  ['2031-03-03T00:00:00.000Z', '2031-03-01T00:00:00.000Z'],
  ['2031-03-02', '2031-03-02T13:30:00+01:00'],
];

const USAGE_SCOPES: UsageQuery[] = [
  { by: 'org' },
  { by: 'org', org: 'uh-a' },
  { by: 'org', user: 'u1@uh.test' },
  { by: 'hour' },
  { by: 'hour', org: 'uh-b' },
  { by: 'hour', user: 'u1@uh.test' },
];

/** Records on, just off and between the hours of three days, of two orgs and none, priced or not. */
function hourlyRecords(): AuditRecord[] {
  const times = [
    '2031-03-01T00:00:00.000Z',
    '2031-03-01T09:59:59.999Z',
    '2031-03-01T10:00:00.000Z',
    '2031-03-01T10:30:00.000Z',
    '2031-03-01T10:44:59.999Z',
    '2031-03-01T13:15:00.000Z',
    '2031-03-01T23:59:59.999Z',
    '2031-03-02T00:00:00.000Z',
    '2031-03-02T12:00:00.000Z',
    '2031-03-02T12:29:59.999Z',
    '2031-03-02T12:30:00.000Z',
    '2031-03-03T05:05:05.005Z',
    '2031-03-03T23:00:00.000Z',
  ];
  return times.flatMap((time, t) =>
    [0, 1, 2].map((j) => {
      const i = 3 * t + j;
      return auditRecord({
        id: `uh_${i}`,
        time,
        org: [null, 'uh-a', 'uh-b'][(t + j) % 3] ?? null,
        user: i % 4 === 0 ? null : `u${i % 3}@uh.test`,
        model: i % 5 === 0 ? null : 'claude-a',
        // A 4xx with no price (not unpriced), a 2xx with none (unpriced), and sums exact in binary.
        status: i % 7 === 0 ? 429 : 200,
        costUsd: i % 7 === 0 || i % 6 === 1 ? null : 0.125 * (1 + (i % 4)),
        inputTokens: i,
        outputTokens: 2 * i,
        cacheCreationInputTokens: i % 3,
        cacheReadInputTokens: 100 + i,
        guard:
          i % 8 === 3 ? { decision: 'block', rules: { 'github-pat': 1 } } : { decision: 'none', rules: {} },
      });
    }),
  );
}

const USAGE_SUMS = [
  'requests',
  'inputTokens',
  'outputTokens',
  'cacheCreationInputTokens',
  'cacheReadInputTokens',
  'costUsd',
  'unpriced',
] as const;

/** `q`'s usage of `records`, counted from scratch, by key. */
function usageRecount(records: readonly AuditRecord[], q: UsageQuery): (string | number)[][] {
  const at = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const [since, until] = [at(q.since), at(q.until)];
  const rows = new Map<string, number[]>();
  for (const r of records) {
    if ((since && r.time < since) || (until && r.time >= until)) continue;
    if ((q.org !== undefined && r.org !== q.org) || (q.user !== undefined && r.user !== q.user)) continue;
    const k = q.by === 'hour' ? r.time.slice(0, 13) : (r.org ?? '(none)');
    const sums = rows.get(k) ?? [0, 0, 0, 0, 0, 0, 0];
    const add = [r.inputTokens, r.outputTokens, r.cacheCreationInputTokens, r.cacheReadInputTokens];
    add.push(r.costUsd ?? 0, r.costUsd === null && r.status < 400 ? 1 : 0);
    rows.set(
      k,
      sums.map((v, n) => v + (n === 0 ? 1 : (add[n - 1] as number))),
    );
  }
  return [...rows.entries()].map(([k, v]) => [k, ...v]).sort();
}

/** `got` less `base`, key by key, as `usageRecount` lists it (keys left with no requests dropped). */
function usageLess(got: readonly UsageRow[], base: readonly UsageRow[]): (string | number)[][] {
  const old = new Map(base.map((r) => [r.key, r]));
  return got
    .map((r) => [r.key, ...USAGE_SUMS.map((f) => r[f] - (old.get(r.key)?.[f] ?? 0))])
    .filter((row) => row[1] !== 0)
    .sort();
}

/** Registers the suite for the stores `open` makes (each test gets a fresh, migrated store). */
export function defineStoreSuite(
  name: string,
  open: () => Promise<Store>,
  skip: string | false = false,
): void {
  describe(`${name} store`, { skip }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    it('migrates twice without harm and answers ping', async () => {
      await store.migrate();
      await store.migrate();
      await store.ping();
    });

    it('upserts orgs: the last policy wins, the creation time stays', async () => {
      await store.upsertOrg({ id: 'acme', policy: { zdr: false }, createdAt: '2026-01-01T00:00:00.000Z' });
      await store.upsertOrg({ id: 'acme', policy: { zdr: true }, createdAt: '2026-02-01T00:00:00.000Z' });
      await store.upsertOrg({ id: 'beta', createdAt: '2026-01-01T00:00:00.000Z' });
      assert.deepEqual(await store.getOrg('acme'), {
        id: 'acme',
        policy: { zdr: true },
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      assert.deepEqual(
        (await store.listOrgs()).map((o) => o.id),
        ['acme', 'beta'],
      );
      assert.equal(await store.getOrg('nope'), undefined);
    });

    it('stores keys by hash, lists with filters, and revokes once', async () => {
      await store.insertKey(key());
      await store.insertKey(key({ id: 'key_2', user: 'ops@acme.test', hash: 'b'.repeat(64), role: 'admin' }));
      await store.insertKey(key({ id: 'key_3', org: 'beta', hash: 'c'.repeat(64) }));
      assert.deepEqual(await store.findKeyByHash('a'.repeat(64)), key());
      assert.equal(await store.findKeyByHash('8'.repeat(64)), undefined);
      await assert.rejects(store.insertKey(key({ id: 'key_4' })), 'a duplicate hash is refused');
      assert.deepEqual(
        (await store.listKeys({ org: 'acme' })).map((k) => k.id),
        ['key_1', 'key_2'],
      );
      assert.deepEqual(
        (await store.listKeys({ user: 'ops@acme.test' })).map((k) => k.id),
        ['key_2'],
      );
      assert.equal((await store.listKeys()).length, 3);
      assert.equal(await store.revokeKey('key_2', '2026-11-02T00:00:00.000Z'), true);
      assert.equal(await store.revokeKey('key_2', '2026-11-03T00:00:00.000Z'), false);
      assert.equal(await store.revokeKey('missing', '2026-11-03T00:00:00.000Z'), false);
      const revoked = (await store.listKeys({ user: 'ops@acme.test' }))[0];
      assert.equal(revoked?.revokedAt, '2026-11-02T00:00:00.000Z');
    });

    it('keeps a key expiry as written, and null for a key that never expires', async () => {
      const expiring = key({
        id: 'key_exp',
        hash: 'e'.repeat(64),
        expiresAt: '2026-11-01T01:30:00.000Z',
      });
      await store.insertKey(expiring);
      assert.deepEqual(await store.findKeyByHash('e'.repeat(64)), expiring);
      assert.equal((await store.findKeyByHash('a'.repeat(64)))?.expiresAt, null);
      const listed = (await store.listKeys({ org: 'acme' })).find((k) => k.id === 'key_exp');
      assert.equal(listed?.expiresAt, '2026-11-01T01:30:00.000Z');
    });

    it('keeps audit records whole and queries them newest first with filters', async () => {
      const first = auditRecord({ id: 'r1', time: '2026-11-01T10:00:00.000Z' });
      const second = auditRecord({
        id: 'r2',
        time: '2026-11-01T11:00:00.000Z',
        user: 'ops@acme.test',
        stream: false,
        costUsd: null,
        requestContent: null,
        responseContent: null,
        guard: { decision: 'none', rules: {} },
      });
      const other = auditRecord({ id: 'r3', org: 'beta', time: '2026-11-01T12:00:00.000Z' });
      const failed = auditRecord({
        id: 'r4',
        org: null,
        user: null,
        keyId: null,
        status: 401,
        errorType: 'authentication_error',
        time: '2026-11-01T09:00:00.000Z',
      });
      for (const r of [first, second, other, failed]) await store.insertAudit(r);
      assert.deepEqual(await store.queryAudit({ org: 'acme' }), [second, first]);
      assert.deepEqual(await store.queryAudit({ user: 'ops@acme.test' }), [second]);
      assert.deepEqual(
        (
          await store.queryAudit({ since: '2026-11-01T10:00:00.000Z', until: '2026-11-01T12:00:00.000Z' })
        ).map((r) => r.id),
        ['r2', 'r1'],
      );
      assert.deepEqual(
        (await store.queryAudit({ limit: 2 })).map((r) => r.id),
        ['r3', 'r2'],
      );
      assert.deepEqual((await store.queryAudit({ org: 'acme', limit: 10 })).length, 2);
      assert.ok((await store.queryAudit({})).some((r) => r.id === 'r4' && r.org === null));
    });

    it('names the upstream that answered and every one tried, in order', async () => {
      const failedOver = auditRecord({
        id: 'up1',
        org: 'routes',
        upstream: 'anthropic',
        upstreamsTried: ['aws', 'gcp', 'anthropic'],
      });
      const none = auditRecord({
        id: 'up2',
        org: 'routes',
        time: '2026-11-01T11:00:00.000Z',
        status: 502,
        upstream: null,
        upstreamsTried: ['aws'],
      });
      const local = auditRecord({
        id: 'up3',
        org: 'routes',
        time: '2026-11-01T12:00:00.000Z',
        status: 401,
        upstream: null,
        upstreamsTried: [],
      });
      for (const r of [failedOver, none, local]) await store.insertAudit(r);
      assert.deepEqual(await store.queryAudit({ org: 'routes' }), [local, none, failedOver]);
    });

    it('keeps every record written at once, and one that fails takes no other down', async () => {
      const batch = Array.from({ length: 50 }, (_, i) => auditRecord({ id: `b${i}`, org: 'batch' }));
      const dup = auditRecord({ id: 'b7', org: 'batch' });
      const results = await Promise.allSettled([...batch, dup].map((r) => store.insertAudit(r)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 50);
      // Concurrent inserts on a pool may land in any order: whichever b7 comes second is refused.
      assert.deepEqual(
        results
          .flatMap((r, i) => (r.status === 'rejected' ? [i] : []))
          .map((i) => [batch, [dup]].flat()[i]?.id),
        ['b7'],
        'one of the two records with the same id is refused',
      );
      assert.equal((await store.queryAudit({ org: 'batch', limit: 100 })).length, 50);
    });

    it('sweeps one org: old records go, older-than-content records lose their content, flagged ones stay longer', async () => {
      const rec = (id: string, time: string, org = 'sweep', blocked = false) =>
        auditRecord({
          id,
          org,
          time,
          requestContent: `c-${id}`,
          responseContent: `r-${id}`,
          ...(blocked ? { guard: { decision: 'block' as const, rules: { 'github-pat': 1 } } } : {}),
        });
      for (const r of [
        rec('s1', '2026-01-01T00:00:00.000Z'),
        rec('s2', '2026-06-01T00:00:00.000Z'),
        rec('s3', '2026-11-01T00:00:00.000Z'),
        rec('s4', '2026-01-01T00:00:00.000Z', 'keep'),
        rec('f1', '2026-01-01T00:00:00.000Z', 'sweep', true),
        rec('f0', '2024-01-01T00:00:00.000Z', 'sweep', true),
      ]) {
        await store.insertAudit(r);
      }
      const cut = {
        before: '2026-03-01T00:00:00.000Z',
        contentBefore: '2026-10-01T00:00:00.000Z',
        flaggedBefore: '2025-01-01T00:00:00.000Z',
      };
      const result = await store.sweep('sweep', cut);
      assert.deepEqual(result, { recordsDeleted: 2, contentCleared: 2 });
      const left = await store.queryAudit({ org: 'sweep' });
      assert.deepEqual(
        left.map((r) => [r.id, r.requestContent, r.responseContent]),
        [
          ['s3', 'c-s3', 'r-s3'],
          ['s2', null, null],
          ['f1', null, null],
        ],
        'the blocked request keeps its metadata past normal retention, not its content',
      );
      assert.equal((await store.queryAudit({ org: 'keep' })).length, 1, 'other orgs untouched');
      assert.deepEqual(await store.sweep('sweep', cut), { recordsDeleted: 0, contentCleared: 0 });
    });

    it('sweeps every org it names at once, records of no org under null, and no other org', async () => {
      const old = '2025-06-01T10:00:00.000Z';
      await store.insertAudits([
        auditRecord({ id: 'all-1', org: 'all-a', time: old }),
        auditRecord({ id: 'all-2', org: 'all-b', time: old }),
        auditRecord({ id: 'all-3', org: null, user: null, keyId: null, status: 401, time: old }),
        auditRecord({ id: 'all-4', org: 'all-unnamed', time: old }),
        auditRecord({ id: 'all-5', org: 'all-a', time: '2026-11-01T10:00:00.000Z' }),
      ]);
      const cut = '2026-01-01T00:00:00.000Z';
      const cuts = { before: cut, contentBefore: cut, flaggedBefore: cut };
      const result = await store.sweepAll(
        new Map([
          ['all-a', cuts],
          ['all-b', cuts],
          [null, cuts],
        ]),
      );
      assert.equal(result.recordsDeleted, 3);
      const left = (await store.queryAudit({ limit: 1000 }))
        .map((r) => r.id)
        .filter((id) => id.startsWith('all-'));
      assert.deepEqual(left, ['all-5', 'all-4']);
    });

    it('sweeps more records than one batch holds, and counts them all', async () => {
      const old = Array.from({ length: 450 }, (_v, i) =>
        auditRecord({
          id: `batch-sweep-${i}`,
          org: 'many',
          time: `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
        }),
      );
      await store.insertAudits(old);
      await store.insertAudit(
        auditRecord({ id: 'batch-sweep-new', org: 'many', time: '2026-11-01T00:00:00.000Z' }),
      );
      const cut = '2026-01-01T00:00:00.000Z';
      assert.deepEqual(await store.sweep('many', { before: cut, contentBefore: cut, flaggedBefore: cut }), {
        recordsDeleted: 450,
        contentCleared: 0,
      });
      assert.deepEqual(
        (await store.queryAudit({ org: 'many' })).map((r) => r.id),
        ['batch-sweep-new'],
      );
    });

    it('counters: add, read, count requests atomically, sweep ended periods', async () => {
      const day = { user: 'dev@acme.test', period: 'day:2026-11-22' };
      const orgMonth = { user: '', period: 'month:2026-11' };
      await store.addCounters('cnt', [day, orgMonth], { requests: 1, tokens: 100, costUsd: 0.25 });
      await store.addCounters('cnt', [day, orgMonth], { requests: 1, tokens: 50, costUsd: 0.5 });
      await store.addCounters('other', [day], { requests: 9, tokens: 9, costUsd: 9 });
      const read = await store.readCounters('cnt', [day, orgMonth, { user: 'x', period: 'day:2026-11-22' }]);
      assert.deepEqual(
        read.sort((a, b) => a.period.localeCompare(b.period)),
        [
          { ...day, requests: 2, tokens: 150, costUsd: 0.75 },
          { ...orgMonth, requests: 2, tokens: 150, costUsd: 0.75 },
        ],
      );
      const minute = { user: 'dev@acme.test', period: 'minute:2026-11-22T10:05' };
      const counts = await Promise.all(
        Array.from(
          { length: 40 },
          async () =>
            (await store.bumpCounter('cnt', minute, { requests: 1, tokens: 0, costUsd: 0 })).requests,
        ),
      );
      assert.deepEqual(
        counts.sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i + 1),
        'every concurrent request gets its own number',
      );
      await store.sweepCounters('2026-11-22T10:06', '2026-11-22');
      const after = await store.readCounters('cnt', [day, orgMonth, minute]);
      assert.deepEqual(after.map((c) => c.period).sort(), ['day:2026-11-22', 'month:2026-11']);
      await store.sweepCounters('2026-11-22T10:06', '2026-11-23');
      assert.deepEqual(
        (await store.readCounters('cnt', [day, orgMonth])).map((c) => c.period),
        ['month:2026-11'],
      );
    });

    it('admin log: concurrent appends form one chain that verifies', async () => {
      const before = (await store.listAdminLog()).length;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          recordAdmin(store, new Date('2026-11-22T10:00:00Z'), 'test', 'key.created', `key_${i}`, { i }),
        ),
      );
      const entries = await store.listAdminLog();
      assert.equal(entries.length, before + 20);
      assert.deepEqual(
        entries.map((e) => e.seq),
        entries.map((_, i) => i + 1),
      );
      assert.deepEqual(verifyChain(entries), { ok: true, entries: entries.length });
    });

    it('telemetry: increments add up, cumulative totals keep the largest, sums per user and metric', async () => {
      const v = (
        sessionId: string,
        metric: string,
        value: number,
        cumulative = false,
        day = '2026-11-22',
      ) => ({
        sessionId,
        metric,
        day,
        value,
        cumulative,
      });
      await store.addTelemetry('tele', 'a@x.test', [v('s1', 'tokens', 10), v('s1', 'lines', 5, true)]);
      await store.addTelemetry('tele', 'a@x.test', [
        v('s1', 'tokens', 15),
        v('s1', 'lines', 9, true),
        v('s2', 'tokens', 1),
      ]);
      await store.addTelemetry('tele', 'a@x.test', [
        v('s1', 'lines', 7, true),
        v('s3', 'tokens', 100, false, '2026-10-01'),
      ]);
      await store.addTelemetry('tele', 'b@x.test', [v('s9', 'tokens', 4)]);
      assert.deepEqual(await store.telemetryUsage({ org: 'tele', sinceDay: '2026-11-01' }), [
        { user: 'a@x.test', metric: 'lines', value: 9, sessions: 1 },
        { user: 'a@x.test', metric: 'tokens', value: 26, sessions: 2 },
        { user: 'b@x.test', metric: 'tokens', value: 4, sessions: 1 },
      ]);
    });

    it('egress records: one written twice (a retry after a lost answer) is stored once', async () => {
      const record = {
        id: 'e-twice',
        time: '2026-12-06T10:00:00.000Z',
        org: 'egress-twice',
        user: 'dev@acme.test',
        host: 'a.example.com',
        port: 443,
        method: 'CONNECT',
        decision: 'deny' as const,
        rule: 'default-deny',
        bytesUp: 0,
        bytesDown: 0,
        durationMs: 1,
        error: null,
      };
      await store.insertEgress(record);
      await store.insertEgress({ ...record, rule: 'written again' });
      assert.deepEqual(await store.queryEgress({ org: 'egress-twice' }), [record]);
    });

    it('egress targets: connections counted per host, port, decision and rule since a time', async () => {
      const e = (i: number, host: string, decision: 'allow' | 'deny', time: string) => ({
        id: `e-target-${i}`,
        time,
        org: 'egress-targets',
        user: 'dev@acme.test',
        host,
        port: 443,
        method: 'CONNECT',
        decision,
        rule: decision === 'allow' ? 'preset:anthropic' : 'default-deny',
        bytesUp: 0,
        bytesDown: 0,
        durationMs: 1,
        error: null,
      });
      for (const r of [
        e(1, 'api.anthropic.com', 'allow', '2026-12-06T10:00:00.000Z'),
        e(2, 'api.anthropic.com', 'allow', '2026-12-06T11:00:00.000Z'),
        e(3, 'evil.example', 'deny', '2026-12-06T12:00:00.000Z'),
        e(4, 'evil.example', 'deny', '2026-12-01T12:00:00.000Z'),
      ])
        await store.insertEgress(r);
      const targets = await store.egressTargets({ org: 'egress-targets', since: '2026-12-06T00:00:00.000Z' });
      assert.deepEqual(
        targets.map((t) => [t.host, t.port, t.decision, t.rule, t.connections, t.last]).sort(),
        [
          ['api.anthropic.com', 443, 'allow', 'preset:anthropic', 2, '2026-12-06T11:00:00.000Z'],
          ['evil.example', 443, 'deny', 'default-deny', 1, '2026-12-06T12:00:00.000Z'],
        ],
      );
      assert.deepEqual(
        (await store.queryEgress({ org: 'egress-targets', decision: 'deny' })).map((r) => r.id),
        ['e-target-3', 'e-target-4'],
      );
    });

    it('exclusive: holders of one lock run one at a time', async () => {
      const order: string[] = [];
      const hold = (tag: string) =>
        store.exclusive('suite-lock', async () => {
          order.push(`${tag}+`);
          await new Promise((r) => setImmediate(r));
          order.push(`${tag}-`);
        });
      await Promise.all([hold('a'), hold('b'), hold('c')]);
      for (let i = 0; i < order.length; i += 2)
        assert.equal(order[i]?.[0], order[i + 1]?.[0], order.join(' '));
    });

    it('readCounters: reads the counters asked for while requests are counted beside them', async () => {
      const day = { user: 'u@chk.test', period: 'day:2026-11-22' };
      const minute = { user: 'u@chk.test', period: 'minute:2026-11-22T11:00' };
      await store.addCounters('chk', [day], { requests: 1, tokens: 10, costUsd: 2 });
      const results = await Promise.all(
        Array.from({ length: 20 }, async () => ({
          requests: (await store.bumpCounter('chk', minute, { requests: 1, tokens: 0, costUsd: 0 })).requests,
          counters: await store.readCounters('chk', [day]),
        })),
      );
      assert.deepEqual(
        results.map((r) => r.requests).sort((a, b) => (a ?? 0) - (b ?? 0)),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(results[0]?.counters, [{ ...day, requests: 1, tokens: 10, costUsd: 2 }]);
      assert.deepEqual(await store.readCounters('chk', [day]), [
        { ...day, requests: 1, tokens: 10, costUsd: 2 },
      ]);
    });

    it('bumpCounter: adds (or takes back) atomically and returns the counter after', async () => {
      const key = { user: 'u@bump.test', period: 'day:2026-11-22' };
      const after = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.bumpCounter('bump', key, { requests: 0, tokens: 3, costUsd: 0.5 }),
        ),
      );
      assert.deepEqual(
        after.map((c) => c.tokens).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => 3 * (i + 1)),
      );
      assert.deepEqual(await store.bumpCounter('bump', key, { requests: 1, tokens: -60, costUsd: -4 }), {
        ...key,
        requests: 1,
        tokens: 0,
        costUsd: 6,
      });
    });

    it('sums usage by user, model and org, with unpriced requests counted apart', async () => {
      const u = (id: string, user: string, model: string, costUsd: number | null) =>
        auditRecord({ id, org: 'usage', user, model, costUsd, time: '2026-11-20T00:00:00.000Z' });
      for (const r of [
        u('u1', 'a@x.test', 'claude-sonnet-4-5', 0.5),
        u('u2', 'a@x.test', 'claude-opus-4-1', 1.5),
        u('u3', 'b@x.test', 'claude-sonnet-4-5', 0.25),
        u('u4', 'b@x.test', 'mystery', null),
      ])
        await store.insertAudit(r);
      const byUser = await store.usage({ org: 'usage', by: 'user' });
      assert.deepEqual(
        byUser.map((r) => [r.key, r.requests, r.costUsd, r.unpriced, r.inputTokens]),
        [
          ['a@x.test', 2, 2, 0, 20],
          ['b@x.test', 2, 0.25, 1, 20],
        ],
      );
      const byModel = await store.usage({ org: 'usage', by: 'model', since: '2026-11-01T00:00:00.000Z' });
      assert.deepEqual(
        byModel.map((r) => [r.key, r.requests]),
        [
          ['claude-opus-4-1', 1],
          ['claude-sonnet-4-5', 2],
          ['mystery', 1],
        ],
      );
      assert.deepEqual(await store.usage({ org: 'usage', by: 'org', since: '2026-12-01T00:00:00.000Z' }), []);
    });

    it('rollups equal a full recount after inserts, replays, a failed duplicate and retention', async () => {
      const org = 'rolled';
      const made: AuditRecord[] = [];
      const rec = (i: number, over: Partial<AuditRecord> = {}) => {
        const r = auditRecord({
          id: `roll_${i}`,
          org,
          time: `2026-11-${String(1 + (i % 4)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00.000Z`,
          user: i % 5 === 0 ? null : `u${i % 3}@acme.test`,
          keyId: i % 5 === 0 ? null : `key_${i % 3}`,
          model: i % 7 === 0 ? null : i % 2 ? 'claude-a' : 'claude-b',
          status: i % 6 === 0 ? 500 : 200,
          costUsd: i % 4 === 0 ? null : 0.25 * (i % 3),
          inputTokens: i,
          outputTokens: 2 * i,
          cacheCreationInputTokens: i % 3,
          cacheReadInputTokens: 100 + i,
          guard:
            i % 3 === 0
              ? { decision: 'redact', rules: { 'aws-access-key': 1 } }
              : i % 11 === 0
                ? { decision: 'block', rules: { 'github-pat': 2 } }
                : { decision: 'none', rules: {} },
          ...over,
        });
        made.push(r);
        return r;
      };
      for (let i = 0; i < 15; i++) await store.insertAudit(rec(i));
      // Given together, these share one batch (SQLite sums its rollups per row); the duplicate in
      // it fails the batch, which is then retried record by record: it alone is refused.
      const together = await Promise.allSettled([
        ...Array.from({ length: 15 }, (_v, i) => store.insertAudit(rec(15 + i))),
        store.insertAudit({ ...(made[3] as AuditRecord), status: 598 }),
      ]);
      assert.deepEqual(
        together.map((t) => t.status),
        [...Array(15).fill('fulfilled'), 'rejected'],
      );
      const batch = Array.from({ length: 30 }, (_v, i) => rec(30 + i));
      await store.insertAudits(batch.slice(0, 20));
      // The journal replays: half of these are stored already and must not count again.
      await store.insertAudits(batch.slice(10));
      await store.insertAudits(batch);
      await assert.rejects(store.insertAudit({ ...(made[3] as AuditRecord), status: 599 }));
      const all = recount(made);
      assert.deepEqual(await rollupsOf(store, org), all);
      const hours = recountHours(made);
      assert.deepEqual(await hoursOf(store, org), hours);
      const guards = recountGuards(made);
      assert.deepEqual(await guardsOf(store, org), guards);
      assert.deepEqual((await store.queryAudit({ org, limit: 1000 })).length, 60, 'every record stored once');
      // Retention deletes the records of the first day; their sums stay (usage history outlives content).
      const cut = '2026-11-02T00:00:00.000Z';
      const swept = await store.sweep(org, { before: cut, contentBefore: cut, flaggedBefore: cut });
      assert.ok(swept.recordsDeleted > 0);
      assert.deepEqual(await rollupsOf(store, org), all, 'the rollups survive retention');
      assert.deepEqual(await hoursOf(store, org), hours, 'the hourly ones too');
      assert.deepEqual(await guardsOf(store, org), guards, 'and the guard ones');
      const day = await store.usage({ org, by: 'org', since: '2026-11-01T00:00:00.000Z', until: cut });
      assert.equal(day[0]?.requests, made.filter((r) => r.time < cut).length);
    });

    it('usage over any period equals summing the records, whole days from rollups or not', async () => {
      const org = 'periods';
      const made = Array.from({ length: 48 }, (_v, i) =>
        auditRecord({
          id: `period_${i}`,
          org,
          time: new Date(Date.UTC(2026, 10, 10) + i * 3 * 3_600_000 + 17_000).toISOString(),
          user: `u${i % 2}@acme.test`,
          costUsd: i % 5 === 0 ? null : 0.5,
          inputTokens: i,
        }),
      );
      await store.insertAudits(made);
      const periods: [string | undefined, string | undefined][] = [
        [undefined, undefined],
        ['2026-11-10T00:00:00.000Z', undefined],
        ['2026-11-10T13:30:00.000Z', '2026-11-14T02:00:00.000Z'],
        ['2026-11-11T00:00:00.000Z', '2026-11-13T00:00:00.000Z'],
        ['2026-11-11T05:00:00.000Z', '2026-11-11T20:00:00.000Z'],
        [undefined, '2026-11-12T07:00:00.000Z'],
        ['2026-11-12', '2026-11-13T23:59:59.999Z'],
      ];
      for (const [since, until] of periods) {
        const inside = made.filter(
          (r) => (!since || r.time >= new Date(since).toISOString()) && (!until || r.time < until),
        );
        const got = await store.usage({
          org,
          by: 'user',
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
        });
        const want = ['u0@acme.test', 'u1@acme.test']
          .map((u) => inside.filter((r) => r.user === u))
          .filter((rs) => rs.length)
          .map((rs) => [
            rs[0]?.user,
            rs.length,
            rs.reduce((n, r) => n + r.inputTokens, 0),
            rs.reduce((n, r) => n + (r.costUsd ?? 0), 0),
            rs.filter((r) => r.costUsd === null).length,
          ]);
        assert.deepEqual(
          got.map((r) => [r.key, r.requests, r.inputTokens, r.costUsd, r.unpriced]).sort(),
          want.sort(),
          `since ${since} until ${until}`,
        );
      }
      const hours = await store.usage({
        org,
        by: 'hour',
        since: '2026-11-10T00:00:00.000Z',
        until: '2026-11-10T07:00:00.000Z',
      });
      assert.deepEqual(hours.map((r) => [r.key, r.requests]).sort(), [
        ['2026-11-10T00', 1],
        ['2026-11-10T03', 1],
        ['2026-11-10T06', 1],
      ]);
    });

    it('usage by org and by hour equals summing the records, whole hours from rollups or not', async () => {
      const made = hourlyRecords();
      const queries = USAGE_PERIODS.flatMap(([since, until]) =>
        USAGE_SCOPES.map((scope) => ({
          ...scope,
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
        })),
      );
      // Other tests' records share this store: what they sum to is taken away from each answer.
      const before = await Promise.all(queries.map((q) => store.usage(q)));
      await store.insertAudits(made.slice(0, 20));
      for (const r of made.slice(20)) await store.insertAudit(r);
      for (const [i, q] of queries.entries()) {
        const got = await store.usage(q);
        const sorted = [...got].sort((a, b) => b.costUsd - a.costUsd || (a.key < b.key ? -1 : 1));
        assert.deepEqual(got, sorted, 'by spend, then key');
        assert.deepEqual(usageLess(got, before[i] ?? []), usageRecount(made, q), JSON.stringify(q));
      }
    });

    it('filters audit records by model, status and decision and pages them by (time, id)', async () => {
      const org = 'paged';
      const made = Array.from({ length: 40 }, (_v, i) =>
        auditRecord({
          id: `page_${String(i).padStart(2, '0')}`,
          org,
          // Pairs share a millisecond: the id breaks the tie.
          time: new Date(Date.UTC(2026, 10, 5) + Math.floor(i / 2) * 60_000).toISOString(),
          model: i % 4 ? 'claude-a' : 'claude-b',
          status: i % 5 ? 200 : 429,
          guard:
            i % 8 === 0
              ? { decision: 'block', rules: { 'github-pat': 1 } }
              : i % 3 === 0
                ? { decision: 'redact', rules: { 'aws-access-key': 1 } }
                : { decision: 'none', rules: {} },
        }),
      );
      await store.insertAudits(made);
      const newest = [...made].sort((a, b) =>
        a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1,
      );
      const ids = (rs: AuditRecord[]) => rs.map((r) => r.id);
      const check = async (
        q: Omit<AuditQuery, 'org' | 'before' | 'limit'>,
        keep: (r: AuditRecord) => boolean,
      ) => {
        const want = ids(newest.filter(keep));
        const pages: string[] = [];
        let before: AuditQuery['before'];
        for (;;) {
          const page = await store.queryAudit({ org, ...q, limit: 3, ...(before ? { before } : {}) });
          pages.push(...ids(page));
          const last = page[page.length - 1];
          if (page.length < 3 || !last) break;
          before = { time: last.time, id: last.id };
        }
        assert.deepEqual(pages, want, JSON.stringify(q));
      };
      await check({}, () => true);
      await check({ model: 'claude-b' }, (r) => r.model === 'claude-b');
      await check({ status: 429 }, (r) => r.status === 429);
      await check({ decision: 'block' }, (r) => r.guard.decision === 'block');
      await check({ decision: 'none' }, (r) => r.guard.decision === 'none');
      await check({ guarded: true }, (r) => r.guard.decision !== 'none');
      await check(
        { decision: 'redact', model: 'claude-a' },
        (r) => r.guard.decision === 'redact' && r.model === 'claude-a',
      );
      const days = await store.rollups({ org, decision: 'block', by: ['day', 'decision'] });
      assert.deepEqual(
        days.map((d) => [d.day, d.decision, d.requests]),
        [['2026-11-05', 'block', 5]],
      );
    });

    it('takes 200 concurrent audit inserts without losing one', async () => {
      const records = Array.from({ length: 200 }, (_v, i) =>
        auditRecord({
          id: `c${i}`,
          org: 'load',
          time: `2026-11-02T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
        }),
      );
      await Promise.all(records.map((r) => store.insertAudit(r)));
      assert.equal((await store.queryAudit({ org: 'load', limit: 1000 })).length, 200);
    });

    it('inserts audit batches idempotently: a record offered twice is stored once, unchanged', async () => {
      const first = auditRecord({ id: 'req_batch_1', org: 'replayed', status: 200 });
      const second = auditRecord({
        id: 'req_batch_2',
        org: 'replayed',
        requestContent: 'line\nbreak "quoted"',
      });
      await store.insertAudits([first, second]);
      await store.insertAudits([
        { ...first, status: 500 },
        auditRecord({ id: 'req_batch_3', org: 'replayed' }),
      ]);
      await store.insertAudits([]);
      const stored = await store.queryAudit({ org: 'replayed' });
      assert.deepEqual(stored.map((r) => r.id).sort(), ['req_batch_1', 'req_batch_2', 'req_batch_3']);
      assert.equal(stored.find((r) => r.id === 'req_batch_1')?.status, 200, 'the first copy stays');
      assert.equal(stored.find((r) => r.id === 'req_batch_2')?.requestContent, 'line\nbreak "quoted"');
    });

    it('takes a probe write', async () => {
      await store.probeWrite('2026-11-01T00:00:00.000Z');
      await store.probeWrite('2026-11-01T00:00:01.000Z');
    });

    it('keeps device grants: single-use status changes, polls, single-use deletion, sweeps', async () => {
      const g = {
        id: 'dg_1',
        deviceHash: 'd'.repeat(64),
        userCode: 'BCDF-GHJK',
        status: 'pending' as const,
        sessionId: null,
        sealed: null,
        clientIp: '127.0.0.1',
        createdAt: '2026-11-01T00:00:00.000Z',
        expiresAt: '2026-11-01T00:10:00.000Z',
        polledAt: null,
      };
      await store.signin.insertDeviceGrant(g);
      assert.deepEqual(await store.signin.findDeviceGrant({ userCode: 'BCDF-GHJK' }), g);
      assert.deepEqual(await store.signin.findDeviceGrant({ id: 'dg_1' }), g);
      assert.equal(await store.signin.pollDeviceGrant('dg_1', '2026-11-01T00:00:05.000Z'), null);
      assert.equal(
        await store.signin.pollDeviceGrant('dg_1', '2026-11-01T00:00:10.000Z'),
        '2026-11-01T00:00:05.000Z',
      );
      const approve = { status: 'approved' as const, sessionId: 'ses_1', sealed: 'sealed-text' };
      assert.equal(await store.signin.updateDeviceGrant('dg_1', 'pending', approve), true);
      assert.equal(await store.signin.updateDeviceGrant('dg_1', 'pending', { status: 'denied' }), false);
      const found = await store.signin.findDeviceGrant({ deviceHash: 'd'.repeat(64) });
      assert.deepEqual(
        [found?.status, found?.sessionId, found?.sealed],
        ['approved', 'ses_1', 'sealed-text'],
      );
      assert.equal(await store.signin.deleteDeviceGrant('dg_1'), true);
      assert.equal(await store.signin.deleteDeviceGrant('dg_1'), false, 'redeemed once');
      await store.signin.insertDeviceGrant({
        ...g,
        id: 'dg_2',
        deviceHash: 'e'.repeat(64),
        userCode: 'ZZZZ-ZZZZ',
      });
      assert.equal(await store.signin.sweepDeviceGrants('2026-11-01T00:10:00.001Z'), 1);
      assert.equal(await store.signin.findDeviceGrant({ userCode: 'ZZZZ-ZZZZ' }), undefined);
    });

    it('keeps sign-in sessions: refresh rotation by compare-and-set, revocation ends it', async () => {
      const s = {
        id: 'ses_1',
        org: 'acme',
        subject: 'dev',
        email: 'dev@acme.test',
        name: 'Dev',
        groups: ['engineers'],
        role: 'member' as const,
        refreshHash: 'a'.repeat(64),
        createdAt: '2026-11-01T00:00:00.000Z',
        refreshedAt: null,
        expiresAt: '2026-12-01T00:00:00.000Z',
        revokedAt: null,
      };
      await store.signin.insertSession(s);
      assert.deepEqual(await store.signin.getSession('ses_1'), s);
      assert.deepEqual(await store.signin.findSessionByRefresh('a'.repeat(64)), s);
      const next = {
        refreshHash: 'b'.repeat(64),
        at: '2026-11-01T01:00:00.000Z',
        expiresAt: '2026-12-01T01:00:00.000Z',
        groups: ['engineers', 'oncall'],
        email: 'dev@acme.test',
      };
      assert.equal(await store.signin.rotateRefresh('ses_1', 'a'.repeat(64), next), true);
      assert.equal(await store.signin.rotateRefresh('ses_1', 'a'.repeat(64), next), false, 'old token spent');
      assert.deepEqual((await store.signin.getSession('ses_1'))?.groups, ['engineers', 'oncall']);
      assert.equal((await store.signin.listSessions({ org: 'acme', email: 'dev@acme.test' })).length, 1);
      assert.equal((await store.signin.listSessions({ org: 'other' })).length, 0);
      assert.equal(await store.signin.revokeSession('ses_1', '2026-11-01T02:00:00.000Z'), true);
      assert.equal(await store.signin.revokeSession('ses_1', '2026-11-01T02:00:00.000Z'), false);
      const revoked = await store.signin.getSession('ses_1');
      assert.deepEqual([revoked?.revokedAt, revoked?.refreshHash], ['2026-11-01T02:00:00.000Z', null]);
      assert.equal(await store.signin.rotateRefresh('ses_1', 'b'.repeat(64), next), false);
    });

    it("keeps SCIM users and groups: unique names, filters, memberships, standing; ends a person's sessions", async () => {
      const at = '2026-11-01T00:00:00.000Z';
      const user = (id: string, userName: string, extra: Partial<ScimUserRow> = {}): ScimUserRow => ({
        id,
        userName,
        externalId: null,
        email: userName.toLowerCase(),
        active: true,
        resource: JSON.stringify({ userName }),
        createdAt: at,
        updatedAt: at,
        version: 1,
        ...extra,
      });
      assert.equal(await store.scim.insertUser(user('u1', 'Ann@Acme.test', { externalId: 'ext-ann' })), true);
      assert.equal(
        await store.scim.insertUser(user('u2', 'ann@acme.test')),
        false,
        'userName is unique, any case',
      );
      assert.equal(await store.scim.insertUser(user('u3', 'bob@acme.test')), true);
      assert.deepEqual(
        (await store.scim.listUsers({ userName: 'ANN@acme.test' }, 0, 10)).rows.map((u) => u.id),
        ['u1'],
      );
      assert.deepEqual(await store.scim.listUsers({}, 1, 1).then((p) => [p.total, p.rows[0]?.id]), [2, 'u3']);
      const group = {
        id: 'g1',
        displayName: 'Eng',
        externalId: null,
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      assert.equal(await store.scim.insertGroup(group), true);
      assert.equal(await store.scim.insertGroup({ ...group, id: 'g2', displayName: 'eng' }), false);
      await store.scim.setMembers('g1', ['u1', 'u3'], []);
      assert.deepEqual(await store.scim.members('g1'), ['u1', 'u3']);
      assert.deepEqual(
        (await store.scim.listGroups({ member: 'u3' }, 0, 10)).rows.map((g) => g.id),
        ['g1'],
      );
      assert.deepEqual(await store.scim.standing('x@y.test', 'ext-ann'), {
        provisioned: true,
        deactivated: false,
        groups: ['Eng'],
      });
      assert.equal(
        await store.scim.updateUser({ ...user('u3', 'ann@acme.test'), updatedAt: at }),
        'conflict',
      );
      assert.equal(
        await store.scim.updateUser({ ...user('u3', 'bob@acme.test', { active: false }), updatedAt: at }),
        'ok',
      );
      assert.deepEqual(await store.scim.standing('BOB@acme.test', 'nobody'), {
        provisioned: true,
        deactivated: true,
        groups: [],
      });
      assert.equal((await store.scim.getUser('u3'))?.version, 2);
      assert.equal(await store.scim.deleteUser('u3'), true);
      assert.deepEqual(await store.scim.members('g1'), ['u1']);
      assert.equal(await store.scim.deleteGroup('g1'), true);
      assert.deepEqual(await store.scim.groupsOf('u1'), []);
      const session = (id: string, email: string, subject: string) => ({
        id,
        org: 'acme',
        subject,
        email,
        name: null,
        groups: [],
        role: 'member' as const,
        refreshHash: null,
        createdAt: at,
        refreshedAt: null,
        expiresAt: '2026-12-01T00:00:00.000Z',
        revokedAt: null,
      });
      await store.signin.insertSession(session('ses_s1', 'Carl@Acme.test', 's1'));
      await store.signin.insertSession(session('ses_s2', 'other@acme.test', 'carl-sub'));
      await store.signin.insertSession(session('ses_s3', 'dana@acme.test', 's3'));
      assert.deepEqual(
        await store.signin.revokeSessionsOf({ emails: ['carl@acme.test'], subject: 'carl-sub' }, at),
        ['ses_s1', 'ses_s2'],
      );
      assert.deepEqual(await store.signin.revokeSessionsOf({ emails: ['carl@acme.test'] }, at), []);
      assert.equal((await store.signin.getSession('ses_s3'))?.revokedAt, null);
    });

    it('keeps the groups of a key and of an audit record, and none where none were given', async () => {
      await store.insertKey(key({ id: 'key_g1', hash: '7'.repeat(64), groups: ['eng', 'Contractors'] }));
      await store.insertKey(key({ id: 'key_g0', hash: '8'.repeat(64) }));
      const found = await store.findKeyByHash('7'.repeat(64));
      assert.deepEqual(found?.groups, ['eng', 'Contractors']);
      assert.equal('groups' in ((await store.findKeyByHash('8'.repeat(64))) ?? {}), false);
      const withGroups = auditRecord({ id: 'req_groups', org: 'grp', groups: ['eng'] });
      await store.insertAudit(withGroups);
      await store.insertAudit(
        auditRecord({ id: 'req_nogroups', org: 'grp', time: '2026-10-01T00:00:00.000Z' }),
      );
      const [first, second] = await store.queryAudit({ org: 'grp' });
      assert.deepEqual(first, withGroups);
      assert.deepEqual(await store.getAudit('req_groups'), withGroups);
      assert.equal(await store.getAudit('req_none_such'), undefined);
      assert.equal(second && 'groups' in second, false);
    });
  });
}
