import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { resolveSandbox, transcriptRule } from './policy.js';

const config = parseConfig(
  `upstreams: { anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: k } }
forges:
  github: { baseUrl: "https://github.com", tokenEnv: GH_TOKEN }
orgs:
  acme: { upstream: anthropic, contentLogging: redacted, sandbox: { repositories: ["https://github.com/acme/*"] } }
  off: { upstream: anthropic, sandbox: { enabled: false, repositories: ["https://github.com/acme/*"] } }
  plain: { upstream: anthropic }
`,
  'sluice.yaml',
  {},
);
const env = { GH_TOKEN: 'ghp_policytesttoken' };

describe('sandbox policy for one request', () => {
  it('resolves an allowed repository to its forge and token', () => {
    const r = resolveSandbox(config, 'acme', 'https://github.com/acme/widgets.git/', env);
    assert.equal(r.repository, 'https://github.com/acme/widgets.git');
    assert.equal(r.forgeName, 'github');
    assert.equal(r.token, 'ghp_policytesttoken');
    assert.deepEqual(r.transcript, {
      keep: true,
      scrub: ['secret', 'pii'],
      why: 'contentLogging is redacted: kept with secrets and personal data replaced',
    });
  });

  it('says why not, naming the setting', () => {
    const refusal = (org: string, repo: string, e: Record<string, string> = env) => {
      try {
        resolveSandbox(config, org, repo, e);
      } catch (err) {
        return (err as Error).message;
      }
      return 'allowed';
    };
    assert.equal(
      refusal('nope', 'https://github.com/acme/w'),
      'no org "nope" in the configuration (orgs: acme, off, plain)',
    );
    assert.equal(
      refusal('plain', 'https://github.com/acme/w'),
      'org "plain" has no sandbox policy (orgs.plain.sandbox), so it may not run sandboxed sessions',
    );
    assert.equal(
      refusal('off', 'https://github.com/acme/w'),
      'sandboxed sessions are switched off for org "off" (orgs.off.sandbox.enabled)',
    );
    assert.equal(
      refusal('acme', 'https://github.com/other/w'),
      'org "acme" may not run sandboxed sessions on https://github.com/other/w (allowed: https://github.com/acme/*)',
    );
    assert.equal(
      refusal('acme', 'git@github.com:acme/w.git'),
      '--repo git@github.com:acme/w.git: expected a URL such as https://github.com/acme/widgets.git',
    );
    assert.equal(
      refusal('acme', 'https://github.com/acme/w', {}),
      'forges.github.tokenEnv: GH_TOKEN is not set in the environment of this command',
    );
  });

  it('keeps transcripts only as content logging allows, never under ZDR', () => {
    assert.equal(transcriptRule({ zdr: true, contentLogging: 'full' }).keep, false);
    assert.equal(transcriptRule({ zdr: false, contentLogging: 'none' }).keep, false);
    assert.deepEqual(transcriptRule({ zdr: false, contentLogging: 'full' }), {
      keep: true,
      scrub: ['secret'],
      why: 'contentLogging is full: kept with secrets replaced',
    });
  });
});
