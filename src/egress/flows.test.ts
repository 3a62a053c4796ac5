import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { routeProfile } from '../control/route-profile.js';
import { derivedEgress, flowsFor, orgEgress } from './flows.js';
import { EgressPolicy } from './policy.js';

const AT = '2026-11-30';
const config = (org: string) =>
  parseConfig(
    `upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: ${org} }`,
    'sluice.yaml',
    {},
  ).orgs.acme!;
const lists = (org: string) => {
  const { allow, deny } = orgEgress(config(org), AT);
  return { allow, deny };
};
const decide = (org: string, host: string, port = 443) => {
  const { allow, deny } = orgEgress(config(org), AT);
  const d = new EgressPolicy(allow, deny).decide(host, port);
  return `${d.decision} ${d.rule}`;
};

describe('egress and the policy model', () => {
  it('a * inside a name matches within one label; one that leaves fewer than two fixed labels is refused', () => {
    const p = new EgressPolicy(['bedrock-runtime.*.amazonaws.com:443', '*-aiplatform.googleapis.com'], []);
    const d = (host: string) => p.decide(host, 443).decision;
    assert.equal(d('bedrock-runtime.us-east-1.amazonaws.com'), 'allow');
    assert.equal(d('bedrock-runtime.evil.example.amazonaws.com'), 'deny', 'one label, not several');
    assert.equal(d('s3.us-east-1.amazonaws.com'), 'deny');
    assert.equal(d('europe-west1-aiplatform.googleapis.com'), 'allow');
    assert.equal(d('aiplatform.googleapis.com.evil.com'), 'deny');
    assert.throws(() => new EgressPolicy(['api.*.com'], []), /needs at least two fixed labels after it/);
  });

  it('names the data flow and use of the hosts the client contacts', () => {
    assert.deepEqual(flowsFor('api.anthropic.com', 443).flows, ['inference', 'telemetry']);
    assert.deepEqual(flowsFor('http-intake.logs.us5.datadoghq.com', 443).flows, ['telemetry']);
    assert.deepEqual(flowsFor('browser-intake-us5-datadoghq.com', 443).flows, ['error-reporting']);
    assert.deepEqual(flowsFor('o1.ingest.sentry.io', 443).flows, ['error-reporting']);
    assert.deepEqual(flowsFor('bedrock-runtime.eu-west-1.amazonaws.com', 443).flows, ['inference']);
    assert.deepEqual(flowsFor('downloads.claude.ai', 443).flows, ['client']);
    assert.deepEqual(flowsFor('registry.npmjs.org', 443).flows, ['packages']);
    assert.deepEqual(flowsFor('mcp-proxy.anthropic.com', 443).flows, ['third-party']);
    assert.deepEqual(flowsFor('example.com', 443), { flows: [], uses: [] });
    assert.deepEqual(flowsFor('api.anthropic.com', 80).flows, [], 'the port counts');
  });

  it('a direct-API profile with telemetry on: essential and non-essential allowed, the API itself denied', () => {
    const rules = derivedEgress({ plan: 'api', provider: 'anthropic' }, AT);
    assert.deepEqual(
      rules.map((r) => `${r.list} ${r.rule}`),
      ['allow claude-code-essential', 'deny anthropic-api', 'allow claude-code-nonessential'],
    );
    assert.match(rules[1]!.why, /the model route is the gateway/);
    assert.match(rules[2]!.why, /leaves telemetry and error-reporting on/);
  });

  it('a profile that switches non-essential traffic off denies that preset, naming the rules that said so', () => {
    const rules = derivedEgress(
      { plan: 'team', provider: 'anthropic', env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' } },
      AT,
    );
    const nonessential = rules.find((r) => r.rule === 'claude-code-nonessential')!;
    assert.equal(nonessential.list, 'deny');
    assert.match(nonessential.why, /turns telemetry and error reporting off \(rules: .*nonessential/);
    // One opt-out alone leaves the other flow on, so the preset stays allowed.
    const half = derivedEgress(
      { plan: 'api', provider: 'anthropic', env: { DISABLE_ERROR_REPORTING: '1' } },
      AT,
    );
    assert.equal(
      half.find((r) => r.rule === 'claude-code-nonessential')!.why,
      'the profile leaves telemetry on',
    );
  });

  it('a Bedrock-only org allows Bedrock and denies the Anthropic API and non-essential traffic (off by default there)', () => {
    const org =
      '{ upstream: a, profile: { plan: enterprise, provider: bedrock, env: { CLAUDE_CODE_USE_BEDROCK: "1" } } }';
    assert.deepEqual(lists(org), {
      allow: ['claude-code-essential', 'bedrock'],
      deny: ['anthropic-api', 'claude-code-nonessential'],
    });
    assert.equal(decide(org, 'bedrock-runtime.us-east-1.amazonaws.com'), 'allow allow:bedrock');
    assert.equal(decide(org, 'api.anthropic.com'), 'deny deny:anthropic-api');
    assert.equal(decide(org, 'http-intake.logs.us5.datadoghq.com'), 'deny deny:claude-code-nonessential');
    assert.equal(decide(org, 'registry.npmjs.org'), 'deny default-deny', 'nothing else leaves');
    // The provider can come from the profile's environment, as the client reads it.
    const viaEnv =
      '{ upstream: a, profile: { plan: api, provider: anthropic, env: { CLAUDE_CODE_USE_VERTEX: "1" } } }';
    assert.ok(lists(viaEnv).allow.includes('vertex'));
  });

  it("the presets follow the org's route: a profile written for the API, sent to Bedrock by the gateway", () => {
    const c = parseConfig(
      `upstreams: { aws: { provider: bedrock, region: us-east-1 } }\norgs: { acme: { upstream: aws, profile: { plan: enterprise, provider: anthropic } } }`,
      'sluice.yaml',
      {},
    );
    const org = c.orgs.acme!;
    assert.deepEqual(orgEgress(org, AT).allow, ['claude-code-essential', 'claude-code-nonessential']);
    const routed = orgEgress(org, AT, routeProfile(c, 'acme', org).profile);
    // The client still speaks the Anthropic format to the gateway (no CLAUDE_CODE_USE_BEDROCK), so
    // its non-essential traffic stays on: the route changes where inference goes, not the client.
    assert.deepEqual(routed.allow, ['claude-code-essential', 'bedrock', 'claude-code-nonessential']);
    assert.deepEqual(routed.deny, ['anthropic-api']);
  });

  it('written rules add to the profile and override its opposite decision on the same rule', () => {
    const org =
      '{ upstream: a, profile: { plan: api, provider: anthropic, env: { DISABLE_TELEMETRY: "1", DISABLE_ERROR_REPORTING: "1" } }, egress: { allow: [anthropic-api, package-registries], deny: ["*.pypi.org"] } }';
    const { rules, allow, deny } = orgEgress(config(org), AT);
    assert.deepEqual(allow, ['claude-code-essential', 'anthropic-api', 'package-registries']);
    assert.deepEqual(deny, ['claude-code-nonessential', '*.pypi.org']);
    assert.deepEqual(
      rules.filter((r) => r.why.startsWith('written')).map((r) => `${r.list} ${r.rule}`),
      ['allow anthropic-api', 'allow package-registries', 'deny *.pypi.org'],
    );
  });

  it('without a profile the written lists stand; with neither, every host is allowed and recorded', () => {
    assert.deepEqual(lists('{ upstream: a }'), { allow: ['*'], deny: [] });
    assert.deepEqual(lists('{ upstream: a, egress: { deny: [anthropic-api] } }'), {
      allow: ['*'],
      deny: ['anthropic-api'],
    });
    assert.deepEqual(lists('{ upstream: a, egress: { allow: [claude-code-essential] } }'), {
      allow: ['claude-code-essential'],
      deny: [],
    });
  });

  it("the org's zdr setting reaches the profile, and a bad profile field fails with its key path", () => {
    assert.equal(config('{ upstream: a, zdr: true, profile: { plan: api, provider: anthropic } }').zdr, true);
    assert.throws(
      () => config('{ upstream: a, profile: { plan: hobby, provider: anthropic } }'),
      /orgs\.acme\.profile\.plan: expected one of free, pro, max, team, enterprise, api, gov, got "hobby"/,
    );
  });
});
