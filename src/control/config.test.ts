import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';
import { starterConfigText } from './starter.js';

const env = { ANTHROPIC_API_KEY: 'sk-ant-test' };

describe('config', () => {
  it("parses issue 13's cloud configuration as written", async () => {
    const text = await readFile('test/fixtures/cloud/issue-13.yaml', 'utf8');
    const cfg = parseConfig(text, '/etc/sluice/sluice.yaml', {
      ANTHROPIC_API_KEY: 'a',
      FOUNDRY_API_KEY: 'f',
    });
    assert.deepEqual(cfg.upstreams.aws, {
      provider: 'bedrock',
      region: 'us-east-1',
      baseUrl: 'http://127.0.0.1:9000',
      models: { 'claude-sonnet-4-5': 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
      timeoutMs: 600_000,
    });
    assert.deepEqual(cfg.upstreams.gcp, {
      provider: 'vertex',
      project: 'my-project',
      region: 'global',
      credentials: '/etc/sluice/sa.json',
      models: {},
      timeoutMs: 600_000,
    });
    assert.equal(cfg.upstreams.azure?.provider === 'foundry' && cfg.upstreams.azure.apiKey, 'f');
    assert.deepEqual(cfg.orgs.acme?.upstream, ['aws', 'anthropic']);
    assert.deepEqual(cfg.orgs.acme?.models, ['claude-sonnet-4-5']);
  });

  it('cloud upstreams and failover lists fail with the key path and what was expected', () => {
    const bad =
      (upstreams: string, org = '{ upstream: x }') =>
      () =>
        parseConfig(`upstreams:\n  x: ${upstreams}\norgs:\n  acme: ${org}\n`, 'sluice.yaml', {});
    assert.throws(bad('{ provider: bedrock }'), /upstreams\.x\.region: /);
    assert.throws(bad('{ provider: foundry, apiKey: k }'), /upstreams\.x: give one of baseUrl or resource/);
    assert.throws(bad('{ provider: gemini }'), /upstreams\.x\.provider: /);
    assert.throws(
      bad('{ provider: bedrock, region: us-east-1 }', '{ upstream: [x, y, x] }'),
      /orgs\.acme\.upstream\.1: names upstream "y", which is not defined[\s\S]*orgs\.acme\.upstream\.2: names upstream "x" twice/,
    );
    assert.throws(
      bad('{ provider: bedrock, region: us-east-1 }', '{ upstream: x, models: [] }'),
      /orgs\.acme\.models: list at least one model/,
    );
  });

  it('the starter config parses, with the upstream key read from the environment', () => {
    const cfg = parseConfig(starterConfigText(), 'sluice.yaml', env);
    assert.equal(cfg.server.port, 8787);
    assert.equal(cfg.storage, 'sqlite:./.sluice/sluice.db');
    assert.deepEqual(cfg.upstreams.anthropic, {
      provider: 'anthropic',
      baseUrl: 'https://api.anthropic.com',
      apiKey: 'sk-ant-test',
      models: {},
      timeoutMs: 600_000,
    });
    assert.deepEqual(
      { ...cfg.orgs.default, guard: undefined },
      {
        upstream: 'anthropic',
        zdr: false,
        contentLogging: 'none',
        retentionDays: 30,
        restore: false,
        guard: undefined,
        budgets: {},
        rateLimits: {},
        unpricedModel: 'dearest',
        flaggedRetentionDays: 730,
      },
    );
    assert.equal(cfg.orgs.default?.guard.secrets, 'redact');
  });

  it('an unset ${VAR} is an error naming the key path and the variable', () => {
    assert.throws(() => parseConfig(starterConfigText(), 'sluice.yaml', {}), {
      name: 'ConfigError',
      message: 'sluice.yaml: upstreams.anthropic.apiKey: environment variable ANTHROPIC_API_KEY is not set',
    });
  });

  it('admin verbs may leave an unset ${VAR} as written', () => {
    const cfg = parseConfig(starterConfigText(), 'sluice.yaml', {}, { allowUnsetEnv: true });
    assert.equal(
      cfg.upstreams.anthropic?.provider === 'anthropic' && cfg.upstreams.anthropic.apiKey,
      '${ANTHROPIC_API_KEY}',
    );
  });

  it('a bad value fails with the key path and what was expected', () => {
    const text = starterConfigText().replace('contentLogging: none', 'contentLogging: everything');
    assert.throws(
      () => parseConfig(text, 'sluice.yaml', env),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith('sluice.yaml: invalid configuration\n  orgs.default.contentLogging: ') &&
        /none.*redacted.*full/.test(err.message),
    );
  });

  it('an org naming a missing upstream fails with the names that exist', () => {
    const text = starterConfigText().replace('upstream: anthropic', 'upstream: bedrock');
    assert.throws(() => parseConfig(text, 'sluice.yaml', env), {
      message:
        'sluice.yaml: invalid configuration\n  orgs.default.upstream: names upstream "bedrock", which is not defined under upstreams (have: anthropic)',
    });
  });

  it("an upstream name only an object's prototype has is missing too (found writing the fuzz target)", () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const text = starterConfigText().replace('upstream: anthropic', `upstream: ${name}`);
      assert.throws(() => parseConfig(text, 'sluice.yaml', env), {
        message: `sluice.yaml: invalid configuration\n  orgs.default.upstream: names upstream "${name}", which is not defined under upstreams (have: anthropic)`,
      });
    }
  });

  it('a key named __proto__ is refused with its path, not silently dropped', () => {
    const text = starterConfigText().replace('orgs:\n', 'orgs:\n  __proto__: { upstream: anthropic }\n');
    assert.ok(text.includes('__proto__'));
    assert.throws(() => parseConfig(text, 'sluice.yaml', env), {
      message:
        'sluice.yaml: invalid configuration\n  orgs.__proto__: "__proto__" cannot be used as a name (it would be dropped); choose another',
    });
  });

  it('a personal-data kind that does not exist is refused, naming the ones that do', () => {
    const text = starterConfigText().replace('pii: log', 'pii: log\n      piiKinds: { emails: false }');
    assert.throws(() => parseConfig(text, 'sluice.yaml', env), {
      message:
        'sluice.yaml: invalid configuration\n  orgs.default.guard.piiKinds.emails: unknown personal-data kind; expected one of email, phone, credit-card, iban, us-ssn',
    });
  });

  it('an allowlist entry that would allow every value is refused', () => {
    const text = starterConfigText().replace('pii: log', "pii: log\n      allow: ['*@acme-corp.io', '*']");
    assert.throws(() => parseConfig(text, 'sluice.yaml', env), {
      message:
        'sluice.yaml: invalid configuration\n  orgs.default.guard.allow.1: would allow every value; set the kind to off instead',
    });
  });

  it('unknown keys and broken YAML are refused', () => {
    assert.throws(
      () => parseConfig(starterConfigText() + 'extra: 1\n', 'sluice.yaml', env),
      /\(root\): Unrecognized key/,
    );
    assert.throws(
      () => parseConfig('server: [', 'sluice.yaml', env),
      /^ConfigError: sluice.yaml: not valid YAML/,
    );
  });

  it('adminLog: a config without it gets the default key and checkpoint files; mistakes name the key', () => {
    assert.deepEqual(parseConfig(starterConfigText(), 'sluice.yaml', env).adminLog, {
      key: '.sluice/admin-log.key',
      checkpoints: '.sluice/admin-log.checkpoints',
      trust: [],
    });
    const bad = (adminLog: string) => () =>
      parseConfig(`${starterConfigText()}\nadminLog: ${adminLog}\n`, 'sluice.yaml', env);
    assert.throws(bad('{ publicKey: abc }'), {
      message:
        'sluice.yaml: invalid configuration\n  adminLog.publicKey: not a public key: expected the base64 text sluice admin-log key prints',
    });
    assert.throws(bad('{ webhook: { url: "ftp://audit.example" } }'), {
      message:
        'sluice.yaml: invalid configuration\n  adminLog.webhook.url: expected an http:// or https:// URL',
    });
    assert.throws(bad('{ keyFile: x }'), {
      message: 'sluice.yaml: invalid configuration\n  adminLog: Unrecognized key: "keyFile"',
    });
  });
});

describe('config: sandboxed sessions', () => {
  const base = (org: string, top = '') =>
    `upstreams: { anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: k } }
forges:
  github: { baseUrl: "https://github.com", tokenEnv: GH_TOKEN }
${top}orgs:
  acme: { upstream: anthropic, sandbox: ${org} }
`;
  const sandboxEnv = { GH_TOKEN: 'ghp_sandboxtesttoken' };
  const invalid = (text: string, ...lines: string[]) =>
    assert.throws(() => parseConfig(text, 'sluice.yaml', sandboxEnv), {
      message: ['sluice.yaml: invalid configuration', ...lines.map((l) => `  ${l}`)].join('\n'),
    });

  it('a sandbox section takes its defaults; a forge names its token, never holds it', () => {
    const cfg = parseConfig(
      base('{ repositories: ["https://github.com/acme/*"] }'),
      'sluice.yaml',
      sandboxEnv,
    );
    assert.deepEqual(cfg.orgs.acme?.sandbox, {
      enabled: true,
      repositories: ['https://github.com/acme/*'],
      egress: { allow: [], deny: [] },
      limits: { cpus: 2, memoryMb: 4096, processes: 512, wallMinutes: 60, diskMb: 2048 },
      permissionMode: 'bypassPermissions',
      env: {},
    });
    assert.deepEqual(cfg.forges.github, {
      baseUrl: 'https://github.com',
      tokenEnv: 'GH_TOKEN',
      username: 'x-access-token',
    });
    assert.deepEqual(cfg.sandbox, { uid: 65534, gid: 65534, transcripts: './.sluice/transcripts' });
    // Neither the gateway's configuration nor what applyConfig stores can hold the token.
    assert.ok(!JSON.stringify(cfg).includes('ghp_sandboxtesttoken'));
  });

  it('a repository under no forge is refused, naming the forges there are', () => {
    invalid(
      base('{ repositories: ["https://gitlab.com/acme/widgets.git"] }'),
      'orgs.acme.sandbox.repositories.0: lies under no forge; add its forge under forges: with a baseUrl and token (have: github)',
    );
  });

  it('repository and forge URLs: https only (http for loopback), no credentials, * only last', () => {
    invalid(
      base(
        '{ repositories: ["http://github.com/acme/w", "https://me:pw@github.com/acme/w", "https://github.com/*/w"] }',
      ),
      'orgs.acme.sandbox.repositories.0: expected https:// (http:// is accepted only for a loopback host)',
      'orgs.acme.sandbox.repositories.1: must not carry credentials; put the token under forges:',
      'orgs.acme.sandbox.repositories.2: path segment "*" is not allowed (letters, digits, . _ ~ - only; * only as the last segment)',
    );
    const local = base('{ repositories: ["http://127.0.0.1:9418/acme/w.git"] }').replace(
      'https://github.com"',
      'http://127.0.0.1:9418"',
    );
    assert.equal(parseConfig(local, 'sluice.yaml', sandboxEnv).orgs.acme?.sandbox?.repositories.length, 1);
  });

  it('limits, environment and egress rules are checked with the key path', () => {
    invalid(
      base(
        '{ repositories: ["https://github.com/acme/w"], limits: { memoryMb: 100 }, env: { HTTPS_PROXY: x, "1X": y }, egress: { allow: ["bad host!"] } }',
      ),
      'orgs.acme.sandbox.limits.memoryMb: at least 256',
      'orgs.acme.sandbox.env.HTTPS_PROXY: Sluice sets this inside the sandbox itself; it cannot be overridden',
      'orgs.acme.sandbox.env.1X: not a variable name',
      'orgs.acme.sandbox.egress.allow.0: "bad host!" is not a host, *.domain, * or a preset (anthropic-api, claude-code-essential, claude-code-nonessential, bedrock, vertex, foundry, package-registries)',
    );
  });

  it('an empty repository list, a root sandbox user and a token written out are refused', () => {
    invalid(
      base('{ repositories: [] }', 'sandbox: { uid: 0 }\n').replace(
        'tokenEnv: GH_TOKEN',
        'tokenEnv: ghp-abc',
      ),
      'forges.github.tokenEnv: expected the name of an environment variable',
      'sandbox.uid: must not be 0 (root)',
      'orgs.acme.sandbox.repositories: list at least one repository URL the sandboxes may clone',
    );
  });
});
