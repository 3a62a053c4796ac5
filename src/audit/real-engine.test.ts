import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runAudit } from './audit.js';
import { defaultDeps } from './deps.js';
import { fixture, type Fixture } from './testing/machine.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

/** The audit with the real policy engine and guard bound (`defaultDeps`), not the stand-ins. */
describe('audit with the real policy engine', () => {
  it('reports telemetry-on on a bare Anthropic-API machine, and not once managed settings opt out', async () => {
    const f = await fixture();
    fixtures.push(f);
    const before = await runAudit(f.machine, defaultDeps);
    const telemetry = before.explain.flows.find((fl) => fl.id === 'telemetry');
    assert.equal(telemetry?.enabled, true);
    assert.ok(before.findings.some((x) => x.id === 'telemetry-on'));

    await f.write('managed/managed-settings.json', {
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0' },
    });
    const afterOptOut = await runAudit(f.machine, defaultDeps);
    for (const id of ['telemetry', 'error-reporting', 'feedback'] as const) {
      assert.equal(afterOptOut.explain.flows.find((fl) => fl.id === id)?.enabled, false, id);
    }
    assert.ok(!afterOptOut.findings.some((x) => x.id === 'telemetry-on'));
  });

  it('takes the provider from CLAUDE_CODE_USE_BEDROCK in settings env: inference to aws-bedrock, governed there', async () => {
    const f = await fixture();
    fixtures.push(f);
    await f.write('home/.claude/settings.json', { env: { CLAUDE_CODE_USE_BEDROCK: '1' } });
    const result = await runAudit(f.machine, defaultDeps, { flags: { plan: 'api' } });
    const inference = result.explain.flows.find((fl) => fl.id === 'inference');
    assert.equal(inference?.destination, 'aws-bedrock');
    assert.equal(inference?.retentionDays, null);
    assert.equal(result.explain.flows.find((fl) => fl.id === 'telemetry')?.enabled, false);
  });
});
