import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runAudit } from './audit.js';
import { managedSettingsFor, parsePolicy, type OrgPolicy } from './policy-file.js';
import { fixture, testDeps, type Fixture } from './testing/machine.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

const POLICY: OrgPolicy = {
  allowedPlans: ['team', 'enterprise'],
  allowedProviders: ['anthropic'],
  zdrRequired: true,
  nonEssentialTrafficForbidden: true,
  maxLocalRetentionDays: 14,
  mcpAllowlist: ['github'],
  requiredDenyRules: ['Read(./secrets/**)'],
  gatewayUrl: 'https://llm.corp.example',
};

describe('policy file', () => {
  it('parses YAML and JSON', () => {
    const yaml = parsePolicy(
      'allowedPlans: [team]\nzdrRequired: true\nmcpAllowlist:\n  - github\n',
      'p.yaml',
    );
    assert.deepEqual(yaml, { allowedPlans: ['team'], zdrRequired: true, mcpAllowlist: ['github'] });
    assert.deepEqual(parsePolicy('{"maxLocalRetentionDays": 7}', 'p.json'), { maxLocalRetentionDays: 7 });
  });

  it('names the bad key and what was expected', () => {
    assert.throws(
      () => parsePolicy('allowedPlans: [team, gold]', 'p.yaml'),
      /p\.yaml: invalid policy\n\s+allowedPlans\.1: /,
    );
    assert.throws(() => parsePolicy('maxLocalRetentionDays: 0', 'p.yaml'), /maxLocalRetentionDays: .*>=\s*1/);
    assert.throws(() => parsePolicy('zdrRequried: true', 'p.yaml'), /\(root\): .*zdrRequried/);
    assert.throws(() => parsePolicy('gatewayUrl: not a url', 'p.yaml'), /gatewayUrl:/);
    assert.throws(() => parsePolicy('a: [', 'p.yaml'), /p\.yaml: not valid YAML or JSON/);
  });

  it('generates managed settings that enforce the policy', () => {
    const { settings, notes } = managedSettingsFor(POLICY);
    assert.deepEqual(settings.env, {
      ANTHROPIC_BASE_URL: 'https://llm.corp.example',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_FEEDBACK_COMMAND: '1',
      DISABLE_BUG_COMMAND: '1',
      CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
      CLAUDE_CODE_USE_BEDROCK: '0',
      CLAUDE_CODE_USE_VERTEX: '0',
      CLAUDE_CODE_USE_FOUNDRY: '0',
    });
    assert.equal(settings.cleanupPeriodDays, 14);
    assert.deepEqual(settings.permissions, {
      deny: ['Read(./secrets/**)', 'Read(./.env)', 'Read(./.env.*)', 'Read(**/.env)', 'Read(**/.env.*)'],
      disableBypassPermissionsMode: 'disable',
    });
    assert.deepEqual(settings.allowedMcpServers, [{ serverName: 'github' }]);
    assert.equal(settings.allowManagedMcpServersOnly, true);
    assert.ok(notes.some((n) => n.startsWith('allowedPlans')));
    assert.ok(notes.some((n) => n.startsWith('zdrRequired')));
    const bedrock = managedSettingsFor({ allowedProviders: ['bedrock'] }).settings.env as Record<
      string,
      string
    >;
    assert.equal(bedrock.CLAUDE_CODE_USE_BEDROCK, '1');
  });

  it('a machine that breaks every rule gets one policy-* finding per rule', async () => {
    const f = await fixture({ CLAUDE_CODE_USE_VERTEX: '1' });
    fixtures.push(f);
    await f.write('home/.claude/settings.json', { cleanupPeriodDays: 90 });
    await f.write('home/.claude.json', {
      mcpServers: { notes: { command: 'notes-mcp' }, github: { command: 'gh' } },
    });
    const r = await runAudit(f.machine, testDeps, { policy: { rules: POLICY, file: 'org.yaml' } });
    const policy = r.findings.filter((x) => x.id.startsWith('policy-'));
    assert.deepEqual(policy.map((x) => x.id).sort(), [
      'policy-allowed-plans',
      'policy-allowed-providers',
      'policy-gateway-url',
      'policy-max-local-retention-days',
      'policy-mcp-allowlist',
      'policy-non-essential-traffic-forbidden',
      'policy-required-deny-rules',
      'policy-zdr-required',
    ]);
    assert.match(policy.find((x) => x.id === 'policy-allowed-plans')!.message, /assumed/);
    assert.match(policy.find((x) => x.id === 'policy-mcp-allowlist')!.message, /"notes"/);
  });

  it('a machine whose managed directory holds the generated file has no policy findings', async () => {
    const f = await fixture({ CLAUDE_CODE_USE_VERTEX: '1', ANTHROPIC_BASE_URL: 'https://elsewhere.example' });
    fixtures.push(f);
    await f.write('managed/managed-settings.json', managedSettingsFor(POLICY).settings);
    // What users set themselves is overridden or blocked by the managed file.
    await f.write('home/.claude/settings.json', {
      cleanupPeriodDays: 90,
      permissions: { defaultMode: 'default' },
    });
    await f.write('home/.claude.json', {
      mcpServers: { notes: { command: 'notes-mcp' }, github: { command: 'gh' } },
    });
    const r = await runAudit(f.machine, testDeps, {
      flags: { plan: 'enterprise', zdr: true },
      policy: { rules: POLICY, file: 'org.yaml' },
    });
    assert.deepEqual(
      r.findings.filter((x) => x.id.startsWith('policy-')),
      [],
    );
    assert.equal(r.retentionDays, 14);
    assert.equal(r.profile.provider, 'anthropic');
    assert.deepEqual(
      r.mcpServers.filter((s) => s.active).map((s) => s.name),
      ['github'],
    );
    // The generated file also clears the configuration findings it is meant to fix.
    const rest = r.findings.map((x) => x.id);
    for (const id of ['secrets-readable', 'telemetry-on', 'bypass-permissions-allowed'])
      assert.ok(!rest.includes(id), id);
  });
});
