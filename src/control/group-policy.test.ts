import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testConfig } from '../gateway/testing/context.js';
import { keptContent } from './content.js';
import { groupPolicy, orgForGroups } from './group-policy.js';

const config =
  testConfig(`{ upstream: anthropic, contentLogging: redacted, guard: { secrets: redact, pii: log },
    groups: {
      contractors: { guard: { secrets: block, pii: redact }, contentLogging: full },
      auditors: { contentLogging: none },
      research: { guard: { secrets: off, pii: off }, contentLogging: full },
      budgeted: { budgets: { daily: 5 } } } }`);
const org = config.orgs.acme!;

describe('group policy: guard actions and content logging per group', () => {
  it('keeps the org itself for callers whose groups set nothing', () => {
    for (const groups of [undefined, [], ['budgeted'], ['not-configured'], ['constructor', '__proto__']])
      assert.equal(orgForGroups(org, groups), org, JSON.stringify(groups));
  });

  it("replaces the org's setting with the group's, in both directions", () => {
    const research = orgForGroups(org, ['research']);
    assert.deepEqual(
      [research.guard.secrets, research.guard.pii, research.contentLogging],
      ['off', 'off', 'full'],
    );
    assert.deepEqual(research.guard.allow, org.guard.allow, 'what a group does not set stays the org’s');
    const auditors = orgForGroups(org, ['auditors']);
    assert.deepEqual([auditors.guard.secrets, auditors.contentLogging], ['redact', 'none']);
  });

  it('takes the strictest when groups disagree: block > redact > log > off, the least content kept', () => {
    assert.deepEqual(groupPolicy(org, ['research', 'contractors', 'auditors', 'budgeted']), {
      secrets: { action: 'block', group: 'contractors' },
      pii: { action: 'redact', group: 'contractors' },
      contentLogging: { mode: 'none', group: 'auditors' },
    });
    const both = orgForGroups(org, ['research', 'contractors']);
    assert.deepEqual([both.guard.secrets, both.guard.pii, both.contentLogging], ['block', 'redact', 'full']);
    assert.equal(orgForGroups(org, ['contractors', 'research']), both, 'one object per outcome, any order');
  });

  it('never lets a group keep content under zero data retention', () => {
    const zdr = testConfig(
      '{ upstream: anthropic, zdr: true, groups: { research: { contentLogging: full } } }',
    ).orgs.acme!;
    const effective = orgForGroups(zdr, ['research']);
    assert.equal(effective.contentLogging, 'full');
    assert.equal(keptContent(effective), 'none');
  });

  it('refuses a bad value with the key path', () => {
    assert.throws(() => testConfig('{ upstream: anthropic, groups: { g: { guard: { secrets: loud } } } }'), {
      message:
        'test.yaml: invalid configuration\n  orgs.acme.groups.g.guard.secrets: Invalid option: expected one of "off"|"log"|"redact"|"block"',
    });
    assert.throws(
      () => testConfig('{ upstream: anthropic, groups: { g: { contentLogging: everything } } }'),
      {
        message:
          'test.yaml: invalid configuration\n  orgs.acme.groups.g.contentLogging: Invalid option: expected one of "none"|"redacted"|"full"',
      },
    );
  });
});
