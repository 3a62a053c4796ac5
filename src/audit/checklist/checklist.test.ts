import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { catalog } from '../../policy/catalog/index.js';
import { runAudit } from '../audit.js';
import { defaultDeps } from '../deps.js';
import { fixture, NOW, type Fixture } from '../testing/machine.js';
import type { ProfileFlags } from '../types.js';
import { matchAdminLog } from './attestations.js';
import { failsAt, ITEMS, runChecklist } from './checklist.js';
import { toMarkdown, toSarif, toTable } from './report.js';
import type { Attestation, ChecklistEvidence, ChecklistItem, GatewayOrg, StoreView } from './types.js';

const fixtures: Fixture[] = [];
after(() => Promise.all(fixtures.map((f) => f.cleanup())));

/** A machine that follows the org's rules: gateway URL, no bypass, .env denied, non-essential traffic off. */
async function goodMachine(): Promise<Fixture> {
  const f = await fixture({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:8787', ANTHROPIC_API_KEY: 'sk-sluice-x' });
  fixtures.push(f);
  await f.write('managed/managed-settings.json', {
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
    permissions: { deny: ['Read(./.env)', 'Bash(git push:*)'], disableBypassPermissionsMode: 'disable' },
  });
  return f;
}

const GATEWAY: GatewayOrg = {
  file: '/etc/sluice/sluice.yaml',
  name: 'acme',
  listen: { host: '127.0.0.1', port: 8787 },
  upstreamProvider: 'anthropic',
  zdr: false,
  contentLogging: 'redacted',
  guard: { secrets: 'redact', pii: 'log' },
  profile: { plan: 'team', provider: 'anthropic' },
  egressProxy: true,
  budgets: false,
  rateLimits: false,
};

const STORE: StoreView = {
  requests: 12,
  attributed: 12,
  users: ['dev@acme.test'],
  models: ['claude-test'],
  latest: '2026-02-28T10:00:00.000Z',
  keys: [{ user: 'dev@acme.test', role: 'member', revoked: false }],
  egress: [{ host: 'api.anthropic.com', port: 443, decision: 'deny', user: 'dev@acme.test', time: '' }],
  adminLog: { entries: 3, intact: true },
};

async function evidence(
  f: Fixture,
  over: Partial<ChecklistEvidence> = {},
  flags: ProfileFlags = { plan: 'team', clientVersion: '2.1.330' },
): Promise<ChecklistEvidence> {
  const audit = await runAudit(f.machine, defaultDeps, { flags });
  return {
    now: NOW,
    audit,
    gateway: GATEWAY,
    store: STORE,
    attestations: [],
    attestationsFile: 'sluice-attestations.yaml',
    maxAgeDays: 180,
    ...over,
  };
}

const item = (items: ChecklistItem[], id: string) => items.find((i) => i.id === id) as ChecklistItem;
const attested = (a: Attestation[], seq = 5) => matchAdminLog(a, []).map((x) => ({ ...x, adminLogSeq: seq }));

describe('sluice checklist answers', () => {
  it('has an answer for every readiness item of the catalog, and none for an item the catalog lacks', () => {
    const ids = new Set(catalog.flatMap((r) => r.effects.flatMap((e) => ('check' in e ? [e.check] : []))));
    assert.deepEqual([...ids].sort(), Object.keys(ITEMS).sort());
  });

  it('a machine and gateway that follow the rules pass what Sluice can see; the rest cannot be told', async () => {
    const r = runChecklist(await evidence(await goodMachine()));
    const by = (s: string) => r.items.filter((i) => i.status === s).map((i) => i.id);
    assert.deepEqual(by('fail'), []);
    assert.deepEqual(by('cannot-tell'), [
      'opt-out-request-form',
      'usage-scopes-documented',
      'adoption-approved',
      'usage-permissions',
    ]);
    assert.ok(by('pass').includes('approved-route') && by('pass').includes('audit-trail'));
    assert.ok(!r.items.some((i) => i.audience === 'zdr'), 'no ZDR items without ZDR');
    assert.match(
      item(r.items, 'adoption-approved').fix ?? '',
      /sluice checklist attest adoption-approved --by/,
    );
    for (const i of r.items) assert.ok(i.sources.length > 0 && i.rules.length > 0, i.id);
  });

  it('an org with sandboxed sessions: the path is drawn and the repositories named as evidence', async () => {
    const sandbox = { repositories: ['https://github.com/acme/*'], egressAllow: ['registry.npmjs.org'] };
    const r = runChecklist(await evidence(await goodMachine(), { gateway: { ...GATEWAY, sandbox } }));
    assert.ok(
      item(r.items, 'data-path-diagrammed').evidence.includes(
        'sandboxed sessions: `sluice explain --config /etc/sluice/sluice.yaml --org acme --sandbox` shows their path (inference through the gateway, git through the git proxy, egress only to registry.npmjs.org)',
      ),
    );
    const permissions = item(r.items, 'usage-permissions');
    assert.ok(
      permissions.evidence.includes(
        'sandboxed sessions only on: https://github.com/acme/* (orgs.acme.sandbox)',
      ),
    );
    assert.equal(permissions.status, 'cannot-tell', 'who may use Claude Code elsewhere is still not known');
  });

  it('without the gateway configuration, organization items say so', async () => {
    const r = runChecklist(await evidence(await goodMachine(), { gateway: undefined, store: undefined }));
    const route = item(r.items, 'access-route-decided');
    assert.equal(route.status, 'cannot-tell');
    assert.equal(route.fix, 'Run with --config sluice.yaml (and --org) on the gateway host.');
  });

  it('fails input restrictions when personal data is not inspected, and the route when the API was reached', async () => {
    const f = await goodMachine();
    const r = runChecklist(
      await evidence(f, {
        gateway: { ...GATEWAY, guard: { secrets: 'redact', pii: 'off' } },
        store: {
          ...STORE,
          egress: [{ host: 'api.anthropic.com', port: 443, decision: 'allow', user: 'x', time: '' }],
        },
      }),
    );
    const input = item(r.items, 'input-restrictions');
    assert.equal(input.status, 'fail');
    assert.ok(input.evidence.includes('personal (customer) data is not inspected at all'));
    const route = item(r.items, 'approved-route');
    assert.equal(route.status, 'fail');
    assert.ok(route.evidence.includes('api.anthropic.com:443 allowed 1× through the egress proxy'));
    assert.ok(failsAt(r, 'high'));
  });

  it('audit logging fails with no requests recorded or a broken admin log', async () => {
    const f = await goodMachine();
    const none = runChecklist(await evidence(f, { store: { ...STORE, requests: 0, attributed: 0 } }));
    assert.equal(item(none.items, 'audit-logging-operational').status, 'fail');
    const broken = runChecklist(
      await evidence(f, {
        store: {
          ...STORE,
          adminLog: { entries: 3, intact: false, brokenAt: 2, reason: 'its content was changed' },
        },
      }),
    );
    assert.deepEqual(item(broken.items, 'audit-logging-operational').evidence, [
      'the admin log is broken at entry 2: its content was changed',
    ]);
  });

  it('individual items: bypass allowed and an opted-in consumer fail; an unknown consumer choice cannot be told', async () => {
    const f = await fixture();
    fixtures.push(f);
    const optedIn = runChecklist(
      await evidence(f, { gateway: undefined, store: undefined }, { plan: 'pro', trainingOptIn: true }),
    );
    assert.equal(item(optedIn.items, 'opt-out-enabled').status, 'fail');
    assert.equal(item(optedIn.items, 'dangerous-operations-restricted').status, 'fail');
    assert.equal(item(optedIn.items, 'no-credentials-in-inputs').status, 'fail', '.env is readable');
    const unknown = runChecklist(
      await evidence(f, { gateway: undefined, store: undefined }, { plan: 'pro' }),
    );
    assert.equal(item(unknown.items, 'opt-out-enabled').status, 'cannot-tell');
    assert.ok(!unknown.items.some((i) => i.audience === 'team'), 'no team items for a consumer plan');
  });

  it('attestations answer what Sluice cannot see, never override a failure, and go stale', async () => {
    const f = await goodMachine();
    const e = await evidence(f, {
      attestations: attested([
        { item: 'adoption-approved', answer: 'yes', by: 'ciso', date: '2026-02-01', note: 'SEC-142' },
        { item: 'usage-permissions', answer: 'no', by: 'lead', date: '2026-02-01' },
        { item: 'usage-scopes-documented', answer: 'yes', by: 'lead', date: '2025-06-01' },
        { item: 'input-restrictions', answer: 'yes', by: 'lead', date: '2026-02-01' },
        { item: 'opt-out-request-form', answer: 'yes', by: 'lead', date: '2026-02-01', org: 'other' },
      ]),
      gateway: { ...GATEWAY, guard: { secrets: 'log', pii: 'log' } },
    });
    const r = runChecklist(e);
    const approved = item(r.items, 'adoption-approved');
    assert.equal(approved.status, 'pass');
    assert.ok(
      approved.evidence.includes('attested "yes" by ciso on 2026-02-01: SEC-142 (admin log entry 5)'),
    );
    assert.equal(item(r.items, 'usage-permissions').status, 'fail');
    const stale = item(r.items, 'usage-scopes-documented');
    assert.equal(stale.status, 'fail');
    assert.match(stale.evidence.at(-1) ?? '', /273 days ago: older than 180 days, due for review$/);
    assert.equal(item(r.items, 'input-restrictions').status, 'fail', 'evidence wins over an attestation');
    assert.equal(item(r.items, 'opt-out-request-form').status, 'cannot-tell', 'attested for another org');
  });

  it('ZDR items: present only when ZDR is claimed; an ineligible plan fails; MCP servers cannot be told', async () => {
    const f = await goodMachine();
    await f.write('project/.mcp.json', { mcpServers: { jira: { command: 'jira-mcp' } } });
    await f.write('home/.claude.json', { projects: {}, enableAllProjectMcpServers: true });
    await f.write('home/.claude/settings.json', { enableAllProjectMcpServers: true });
    const team = runChecklist(
      await evidence(f, { gateway: { ...GATEWAY, zdr: true } }, { plan: 'team', zdr: true }),
    );
    assert.equal(item(team.items, 'zdr-eligible-setup').status, 'fail');
    const zdrOrg = {
      ...GATEWAY,
      zdr: true,
      profile: { plan: 'enterprise' as const, provider: 'anthropic' as const },
    };
    const ent = runChecklist(await evidence(f, { gateway: zdrOrg }, { plan: 'enterprise', zdr: true }));
    assert.equal(item(ent.items, 'zdr-eligible-setup').status, 'pass');
    const mcp = item(ent.items, 'zdr-integrations-reviewed');
    assert.equal(mcp.status, 'cannot-tell');
    assert.match(mcp.evidence[0] ?? '', /ZDR does not cover jira \(project\)/);
    assert.equal(item(ent.items, 'zdr-enabled-per-organization').status, 'cannot-tell');
  });

  it('--fail-on and --strict decide the exit', async () => {
    const r = runChecklist(await evidence(await goodMachine()));
    assert.equal(failsAt(r, 'high'), false);
    assert.equal(failsAt(r, 'high', true), true, 'adoption-approved cannot be told and is high');
    assert.equal(failsAt(r, 'none', true), false);
  });

  it('prints table, markdown and SARIF with status, evidence and source', async () => {
    const f = await goodMachine();
    const r = runChecklist(
      await evidence(f, { gateway: { ...GATEWAY, guard: { secrets: 'redact', pii: 'off' } } }),
    );
    const table = toTable(r);
    assert.match(
      table,
      /^Readiness checklist for org acme \(plan team, Claude Code 2\.1\.330\), 2026-03-01: \d+ pass, 1 fail, 4 cannot tell$/m,
    );
    assert.match(table, /^FAIL {9}input-restrictions \(corporate, high\)$/m);
    assert.match(table, /source: training-risk-by-access-route-article\.md, “SECTION 07: /);
    assert.match(toMarkdown(r), /^\| FAIL \| \*\*input-restrictions\*\*: Input restrictions: /m);
    const sarif = toSarif(r, GATEWAY.file) as {
      runs: { results: { ruleId: string; level: string; kind: string }[] }[];
    };
    const results = sarif.runs[0]?.results ?? [];
    assert.deepEqual(
      results.filter((x) => x.kind === 'fail').map((x) => [x.ruleId, x.level]),
      [['input-restrictions', 'error']],
    );
    assert.equal(results.length, 5, 'one result per item that fails or cannot be told');
    const run = (sarif as unknown as { runs: { properties: { assumptions: string[] } }[] }).runs[0];
    assert.deepEqual(run?.properties.assumptions, r.assumptions);
  });
});
