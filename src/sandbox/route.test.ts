import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { renderSandboxPaths, sandboxRoute } from './route.js';

const AT = '2026-11-30';
const config = parseConfig(
  `upstreams:
  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: k }
  aws: { provider: bedrock, region: us-east-1 }
forges:
  github: { baseUrl: "https://github.com", tokenEnv: GH_TOKEN }
orgs:
  acme:
    upstream: anthropic
    contentLogging: redacted
    profile: { plan: team, provider: anthropic, clientVersion: 2.1.330 }
    sandbox: { repositories: ["https://github.com/acme/*"], egress: { allow: [registry.npmjs.org] } }
  noisy:
    upstream: anthropic
    profile: { plan: team, provider: anthropic, clientVersion: 2.1.330 }
    sandbox: { repositories: ["https://github.com/acme/*"], egress: { allow: [claude-code-nonessential] } }
  private: { upstream: aws, zdr: true, sandbox: { repositories: ["https://github.com/acme/*"] } }
  off: { upstream: anthropic, sandbox: { enabled: false, repositories: ["https://github.com/acme/*"] } }
  plain: { upstream: anthropic }
`,
  'sluice.yaml',
  {},
);

const pathOf = (org: string, flow: string) =>
  sandboxRoute(config, org, AT).paths.find((p) => p.flow === flow);

describe('a sandboxed session as a route of the policy model', () => {
  it('inference leaves through the gateway; telemetry the egress rules do not allow is off', () => {
    const route = sandboxRoute(config, 'acme', AT);
    assert.equal(pathOf('acme', 'inference')?.path, 'gateway');
    const telemetry = route.paths.find((p) => p.flow === 'telemetry');
    assert.equal(telemetry?.path, 'blocked');
    assert.ok(telemetry.hosts.length > 0 && telemetry.hosts.every((h) => h.decision === 'deny'));
    const flow = route.result.flows.find((f) => f.id === 'telemetry');
    assert.equal(flow?.enabled, false);
    assert.deepEqual(flow?.data, []);
    assert.match(flow?.notes.at(-1) ?? '', /^In a sandbox: off: the session's egress proxy allows none/);
    // The same client outside the sandbox sends it: the difference is the sandbox's.
    assert.equal(pathOf('noisy', 'telemetry')?.path, 'egress');
  });

  it("a flow whose hosts the org's sandbox egress allows goes through the egress proxy, recorded", () => {
    const install = pathOf('acme', 'install-update');
    assert.equal(install?.path, 'egress');
    assert.deepEqual(install?.hosts, [{ host: 'registry.npmjs.org:443', decision: 'allow' }]);
  });

  it('local data stays inside and goes with the sandbox; the transcript follows the content logging', () => {
    assert.equal(pathOf('acme', 'local-transcripts')?.path, 'inside');
    const zdr = sandboxRoute(config, 'private', AT);
    assert.match(
      zdr.result.notes.find((n) => n.id === 'sandbox-transcript')?.message ?? '',
      /zero data retention: no session content is kept/,
    );
    assert.equal(zdr.result.flows.find((f) => f.id === 'inference')?.destination, 'aws-bedrock');
  });

  it('names git and the loopback-only network, citing the cloud-execution section', () => {
    const route = sandboxRoute(config, 'acme', AT);
    const git = route.result.notes.find((n) => n.id === 'sandbox-git');
    assert.match(
      git?.message ?? '',
      /https:\/\/github\.com\/acme\/\*.*claude\/<session>.*token stays on the host/,
    );
    assert.equal(git?.sources[0]?.section, 'Cloud execution: Data flow and dependencies');
    const text = renderSandboxPaths(route);
    assert.match(text, /^ {2}git {2,}https:\/\/github\.com\/acme\/\*/m);
    assert.match(text, /^ {2}anything else {2,}no route: the sandbox has loopback only$/m);
    assert.doesNotMatch(text, /^ {2}third-party/m, 'flows off for the client anyway are not listed');
  });

  it('refuses an org that may not run sandboxes, naming the setting', () => {
    assert.throws(
      () => sandboxRoute(config, 'plain', AT),
      /^Error: org "plain" has no enabled sandbox policy \(orgs\.plain\.sandbox\), so it runs no sandboxed sessions$/,
    );
    assert.throws(() => sandboxRoute(config, 'off', AT), /org "off" has no enabled sandbox policy/);
    assert.throws(() => sandboxRoute(config, 'nobody', AT), /no org "nobody" in the configuration/);
  });
});
