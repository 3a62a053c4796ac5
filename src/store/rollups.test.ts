import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeUsage, splitPeriod, splitUsage } from './rollups.js';
import type { RollupQuery, RollupRow, UsageQuery, UsageRow } from './types.js';

describe('splitPeriod by hour', () => {
  const cases: [string | undefined, string | undefined, ReturnType<typeof splitPeriod>][] = [
    // Mid-hour at both ends: a part-hour read from the records at each, whole hours between.
    [
      '2026-11-10T13:30:00.000Z',
      '2026-11-12T02:15:00.000Z',
      {
        raw: [
          { since: '2026-11-10T13:30:00.000Z', until: '2026-11-10T14:00:00.000Z' },
          { since: '2026-11-12T02:00:00.000Z', until: '2026-11-12T02:15:00.000Z' },
        ],
        whole: { from: '2026-11-10T14', to: '2026-11-12T02' },
      },
    ],
    // On the hour at both ends: nothing from the records.
    [
      '2026-11-10T13:00:00.000Z',
      '2026-11-10T16:00:00.000Z',
      { raw: [], whole: { from: '2026-11-10T13', to: '2026-11-10T16' } },
    ],
    // One millisecond past the hour and one before it.
    [
      '2026-11-10T13:00:00.001Z',
      '2026-11-10T15:59:59.999Z',
      {
        raw: [
          { since: '2026-11-10T13:00:00.001Z', until: '2026-11-10T14:00:00.000Z' },
          { since: '2026-11-10T15:00:00.000Z', until: '2026-11-10T15:59:59.999Z' },
        ],
        whole: { from: '2026-11-10T14', to: '2026-11-10T15' },
      },
    ],
    // Across midnight and a month's end.
    [
      '2026-11-30T23:10:00.000Z',
      '2026-12-01T01:00:00.000Z',
      {
        raw: [{ since: '2026-11-30T23:10:00.000Z', until: '2026-12-01T00:00:00.000Z' }],
        whole: { from: '2026-12-01T00', to: '2026-12-01T01' },
      },
    ],
    // Within one hour, or no whole hour between: all from the records.
    [
      '2026-11-10T13:10:00.000Z',
      '2026-11-10T13:50:00.000Z',
      { raw: [{ since: '2026-11-10T13:10:00.000Z', until: '2026-11-10T13:50:00.000Z' }] },
    ],
    [
      '2026-11-10T13:10:00.000Z',
      '2026-11-10T14:50:00.000Z',
      { raw: [{ since: '2026-11-10T13:10:00.000Z', until: '2026-11-10T14:50:00.000Z' }] },
    ],
    // Equal ends, on the hour or not, and since after until: an empty range, read from the records.
    [
      '2026-11-10T13:00:00.000Z',
      '2026-11-10T13:00:00.000Z',
      { raw: [{ since: '2026-11-10T13:00:00.000Z', until: '2026-11-10T13:00:00.000Z' }] },
    ],
    [
      '2026-11-10T13:20:00.000Z',
      '2026-11-10T13:20:00.000Z',
      { raw: [{ since: '2026-11-10T13:20:00.000Z', until: '2026-11-10T13:20:00.000Z' }] },
    ],
    [
      '2026-11-12T00:00:00.000Z',
      '2026-11-10T00:00:00.000Z',
      { raw: [{ since: '2026-11-12T00:00:00.000Z', until: '2026-11-10T00:00:00.000Z' }] },
    ],
    // Open ends.
    [undefined, undefined, { raw: [], whole: {} }],
    [
      '2026-11-10T13:30:00.000Z',
      undefined,
      {
        raw: [{ since: '2026-11-10T13:30:00.000Z', until: '2026-11-10T14:00:00.000Z' }],
        whole: { from: '2026-11-10T14' },
      },
    ],
    [
      undefined,
      '2026-11-10T13:30:00.000Z',
      {
        raw: [{ since: '2026-11-10T13:00:00.000Z', until: '2026-11-10T13:30:00.000Z' }],
        whole: { to: '2026-11-10T13' },
      },
    ],
    // Times in another form are read as the instants they name, and split as toISOString writes them.
    [
      '2026-11-10',
      '2026-11-10T15:30:00+01:00',
      {
        raw: [{ since: '2026-11-10T14:00:00.000Z', until: '2026-11-10T14:30:00.000Z' }],
        whole: { from: '2026-11-10T00', to: '2026-11-10T14' },
      },
    ],
    // A time the split cannot read goes to the records whole, as given.
    [
      'yesterday',
      '2026-11-10T13:30:00.000Z',
      { raw: [{ since: 'yesterday', until: '2026-11-10T13:30:00.000Z' }] },
    ],
    ['2026-11-10T13:30:00.000Z', 'soon', { raw: [{ since: '2026-11-10T13:30:00.000Z', until: 'soon' }] }],
    // Past four-digit years the keys' widths would not hold: the records, as given.
    [
      '9999-12-31T23:30:00.000Z',
      undefined,
      { raw: [{ since: '9999-12-31T23:30:00.000Z', until: undefined }] },
    ],
  ];
  for (const [since, until, want] of cases)
    it(`[${since}, ${until})`, () => assert.deepEqual(splitPeriod(since, until, 'hour'), want));

  it('by day (the default) splits at midnight', () => {
    assert.deepEqual(splitPeriod('2026-11-10T13:30:00.000Z', '2026-11-12T02:15:00.000Z'), {
      raw: [
        { since: '2026-11-10T13:30:00.000Z', until: '2026-11-11T00:00:00.000Z' },
        { since: '2026-11-12T00:00:00.000Z', until: '2026-11-12T02:15:00.000Z' },
      ],
      whole: { from: '2026-11-11', to: '2026-11-12' },
    });
  });
});

describe('splitUsage', () => {
  const row = (key: string, requests: number, costUsd: number): UsageRow => ({
    key,
    requests,
    inputTokens: requests,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd,
    unpriced: 0,
  });
  /** splitUsage over readers that log what they were asked and answer fixed rows. */
  async function run(q: UsageQuery, rollupRows: Partial<RollupRow>[] = []) {
    const asked: { records: UsageQuery[]; rollups: RollupQuery[] } = { records: [], rollups: [] };
    const rows = await splitUsage(
      q,
      async (r) => {
        asked.records.push(r);
        return [row('(none)', 1, 0.5)];
      },
      async (r) => {
        asked.rollups.push(r);
        return rollupRows.map((x) => ({ ...row('', 0, 0), ...x }) as RollupRow);
      },
    );
    return { rows, asked };
  }

  it('by org: whole hours from the hourly rollups (null org as "(none)"), part-hours from the records', async () => {
    const { rows, asked } = await run(
      { org: 'acme', since: '2026-11-10T13:30:00.000Z', until: '2026-11-10T18:00:00.000Z', by: 'org' },
      [{ org: null, requests: 2, inputTokens: 2, costUsd: 1 }],
    );
    assert.deepEqual(asked, {
      records: [
        { org: 'acme', by: 'org', since: '2026-11-10T13:30:00.000Z', until: '2026-11-10T14:00:00.000Z' },
      ],
      rollups: [
        { org: 'acme', hourly: true, fromHour: '2026-11-10T14', toHour: '2026-11-10T18', by: ['org'] },
      ],
    });
    assert.deepEqual(rows, [row('(none)', 3, 1.5)]);
  });

  it('by org with no period: the hourly rollups alone', async () => {
    const { asked } = await run({ by: 'org' });
    assert.deepEqual(asked, { records: [], rollups: [{ hourly: true, by: ['org'] }] });
  });

  it('by hour: whole hours keyed by hour from the hourly rollups', async () => {
    const { rows, asked } = await run({ since: '2026-11-10T13:00:00.000Z', by: 'hour' }, [
      { hour: '2026-11-10T15', requests: 4, inputTokens: 4, costUsd: 2 },
    ]);
    assert.deepEqual(asked.rollups, [{ hourly: true, fromHour: '2026-11-10T13', by: ['hour'] }]);
    assert.deepEqual(asked.records, []);
    assert.deepEqual(rows, [row('2026-11-10T15', 4, 2)]);
  });

  it('by org for one user: whole days from the daily rollups (the hourly ones have no user)', async () => {
    const { asked } = await run({
      org: 'acme',
      user: 'a@acme.test',
      since: '2026-11-10T13:30:00.000Z',
      by: 'org',
    });
    assert.deepEqual(asked, {
      records: [
        {
          org: 'acme',
          user: 'a@acme.test',
          by: 'org',
          since: '2026-11-10T13:30:00.000Z',
          until: '2026-11-11T00:00:00.000Z',
        },
      ],
      rollups: [{ org: 'acme', user: 'a@acme.test', fromDay: '2026-11-11', by: ['org'] }],
    });
  });

  it('by hour for one user: the records alone, times read as instants', async () => {
    const q: UsageQuery = {
      org: 'acme',
      user: 'a@acme.test',
      since: '2026-11-10T14:30:00+01:00',
      by: 'hour',
    };
    const { asked } = await run(q);
    assert.deepEqual(asked, { records: [{ ...q, since: '2026-11-10T13:30:00.000Z' }], rollups: [] });
  });

  it('mergeUsage sums equal keys and sorts by spend, then key', () => {
    assert.deepEqual(mergeUsage([row('b', 1, 1), row('a', 1, 1), row('c', 1, 3), row('b', 2, 0.5)]), [
      row('c', 1, 3),
      row('b', 3, 1.5),
      row('a', 1, 1),
    ]);
  });
});
