import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.js';
import { sweepCutoffs } from './retention.js';

const config = parseConfig(
  `
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs:
  short: { upstream: a, retentionDays: 7, flaggedRetentionDays: 30 }
  long: { upstream: a, retentionDays: 90, flaggedRetentionDays: 20 }
`,
  'sluice.yaml',
  {},
);

describe('retention cutoffs', () => {
  it("gives each org its own, and records of no org the longest of any org's", () => {
    const cuts = sweepCutoffs(config, new Date('2026-12-06T00:00:00.000Z'));
    assert.deepEqual(Object.fromEntries(cuts), {
      short: {
        before: '2026-11-29T00:00:00.000Z',
        contentBefore: '2026-11-29T00:00:00.000Z',
        flaggedBefore: '2026-11-06T00:00:00.000Z',
      },
      long: {
        before: '2026-09-07T00:00:00.000Z',
        contentBefore: '2026-09-07T00:00:00.000Z',
        flaggedBefore: '2026-11-16T00:00:00.000Z',
      },
      null: {
        before: '2026-09-07T00:00:00.000Z',
        contentBefore: '2026-09-07T00:00:00.000Z',
        flaggedBefore: '2026-11-06T00:00:00.000Z',
      },
    });
  });

  it('sweeps no record of no org when no org is configured', () => {
    assert.equal(sweepCutoffs({ ...config, orgs: {} }, new Date()).size, 0);
  });
});
