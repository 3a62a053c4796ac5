import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog } from '../policy/catalog/index.js';
import { evaluate } from '../policy/engine.js';
import { parseConfig } from './config.js';
import { routeProfile } from './route-profile.js';

const config = (orgs: string) =>
  parseConfig(
    `upstreams:
  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: k }
  aws: { provider: bedrock, region: us-east-1 }
  gcp: { provider: vertex, project: p, region: global }
orgs:
${orgs}`,
    'sluice.yaml',
    {},
  );
const of = (orgs: string, name = 'acme') => {
  const c = config(orgs);
  return routeProfile(c, name, c.orgs[name]!);
};
const inference = (p: ReturnType<typeof of>) =>
  evaluate(p.profile, catalog, '2026-11-30').flows.find((f) => f.id === 'inference')!;

describe("an org's profile from its route", () => {
  it("a Bedrock upstream: inference to the customer's AWS account, retention the cloud's", () => {
    const p = of('  acme: { upstream: aws }');
    assert.deepEqual(p.profile, { plan: 'api', provider: 'bedrock', zdr: false });
    assert.deepEqual(p.upstreams, [{ name: 'aws', provider: 'bedrock' }]);
    const flow = inference(p);
    assert.equal(flow.destination, 'aws-bedrock');
    assert.equal(flow.retentionDays, null, "AWS's policy, not Anthropic's");
    assert.deepEqual(p.notes, []);
  });

  it('an Anthropic upstream with zdr: the ZDR rules', () => {
    const p = of(
      '  acme: { upstream: anthropic, zdr: true, profile: { plan: enterprise, provider: anthropic } }',
    );
    const flow = inference(p);
    assert.equal(flow.destination, 'anthropic');
    assert.equal(flow.retentionDays, 0);
  });

  it("the route wins over a written profile's provider, and says so; failover to another cloud is noted", () => {
    const p = of(
      '  acme: { upstream: [aws, gcp], profile: { plan: team, provider: anthropic, env: { CLAUDE_CODE_USE_VERTEX: "1", DISABLE_TELEMETRY: "1" } } }',
    );
    assert.equal(p.profile.provider, 'bedrock');
    assert.equal(p.profile.plan, 'team');
    assert.deepEqual(p.profile.env, { DISABLE_TELEMETRY: '1' });
    assert.equal(inference(p).destination, 'aws-bedrock');
    assert.equal(p.notes.length, 3);
    assert.match(
      p.notes[0]!,
      /profile says provider anthropic; the gateway sends .* to upstream "aws" \(bedrock\)/,
    );
    assert.match(p.notes[1]!, /CLAUDE_CODE_USE_VERTEX .* the clients' format, not the route/);
    assert.match(p.notes[2]!, /fail over to "gcp" \(vertex\): explain that route with --provider vertex/);
  });
});
