import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSignInSecrets } from '../signin/secrets.js';
import { parseConfig } from './config.js';

const base = `upstreams:
  anthropic: { provider: anthropic, baseUrl: "http://127.0.0.1:9", apiKey: k }
orgs:
  acme: { upstream: anthropic }
`;
const withSignin = (signin: string) => parseConfig(`${base}signin:\n${signin}`, 'sluice.yaml', {});

describe('config signin:', () => {
  it('takes a sign-in section with its defaults', () => {
    const cfg = withSignin(`  publicUrl: http://127.0.0.1:8787/
  issuer: https://idp.example.com
  clientId: sluice
  clientSecretEnv: SLUICE_OIDC_SECRET
  map:
    - { groups: [engineers], org: acme, role: member }
    - { emailDomain: example.com, org: acme }
  signingKeys: [./keys/new.key, ./keys/old.key]
  managedSettings:
    - { groups: [engineers], policy: ./policy.yaml }
`);
    assert.deepEqual(cfg.signin, {
      publicUrl: 'http://127.0.0.1:8787',
      issuer: 'https://idp.example.com',
      clientId: 'sluice',
      clientSecretEnv: 'SLUICE_OIDC_SECRET',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      emailClaim: 'email',
      groupsClaim: 'groups',
      allowedEmailDomains: [],
      map: [
        { groups: ['engineers'], org: 'acme', role: 'member' },
        { emailDomain: 'example.com', org: 'acme', role: 'member' },
      ],
      accessTokenMinutes: 60,
      refreshTokenDays: 30,
      signingKeys: ['./keys/new.key', './keys/old.key'],
      managedSettings: [{ groups: ['engineers'], policy: './policy.yaml' }],
    });
    assert.equal(parseConfig(base, 'sluice.yaml', {}).signin, undefined, 'off unless configured');
  });

  it('fails with the key path and what was expected', () => {
    const minimal = `  publicUrl: http://127.0.0.1:8787
  issuer: https://idp.example.com
  clientId: sluice
  signingKeys: [k]
`;
    assert.throws(
      () => withSignin(`${minimal}  map: [{ org: acme }]\n`),
      /signin: give one of clientSecretEnv or clientSecretFile/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  map: [{ groups: [x], org: nope }]\n`),
      /signin\.map\.0\.org: names org "nope", which is not defined under orgs \(have: acme\)/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  map: []\n`),
      /signin\.map: map at least one group or email domain to an org/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: 'not a name'\n  map: [{ org: acme }]\n`),
      /signin\.clientSecretEnv: expected the name of an environment variable/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  displayName: ''\n  map: [{ org: acme }]\n`),
      /signin\.displayName: expected a name of 1 to 60 characters$/m,
    );
    assert.equal(
      withSignin(`${minimal}  clientSecretEnv: S\n  displayName: Acme SSO\n  map: [{ org: acme }]\n`).signin
        ?.displayName,
      'Acme SSO',
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  scopes: [email]\n  map: [{ org: acme }]\n`),
      /signin\.scopes: must include openid/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  map: [{ org: acme }]\n  scim: {}\n`),
      /signin\.scim: give one of tokenEnv or tokenFile/,
    );
    assert.throws(
      () => withSignin(`${minimal}  clientSecretEnv: S\n  map: [{ org: acme }]\n  scim: { token: abc }\n`),
      /signin\.scim: Unrecognized key/,
    );
    const scim = withSignin(
      `${minimal}  clientSecretEnv: S\n  map: [{ org: acme }]\n  scim: { tokenFile: ./scim.token }\n`,
    );
    assert.deepEqual(scim.signin?.scim, { tokenFile: './scim.token' });
  });

  it('reads SCIM tokens from a file, one a line, and refuses a short one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-scim-secrets-'));
    try {
      await writeFile(join(dir, 'k'), 'k'.repeat(32));
      const long = ['a', 'b'].map((c) => c.repeat(40));
      await writeFile(join(dir, 'scim.token'), `${long[0]}\n\n${long[1]}\n`);
      const cfg = (scim: string) =>
        withSignin(`  publicUrl: http://127.0.0.1:8787
  issuer: https://idp.example.com
  clientId: sluice
  clientSecretEnv: S
  signingKeys: [k]
  map: [{ org: acme }]
  scim: ${scim}
`).signin!;
      const read = await loadSignInSecrets(cfg('{ tokenFile: ./scim.token }'), dir, { S: 'x' });
      assert.deepEqual(read.scimTokens, long);
      await assert.rejects(loadSignInSecrets(cfg('{ tokenEnv: T }'), dir, { S: 'x', T: 'short' }), {
        message: 'signin.scim: $T holds a token of fewer than 32 characters; use a longer random token',
      });
      await assert.rejects(loadSignInSecrets(cfg('{ tokenEnv: T }'), dir, { S: 'x' }), {
        message: 'signin.scim.tokenEnv: environment variable T is not set',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
