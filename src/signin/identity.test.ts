import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signinSchema } from '../control/signin-config.js';
import { identityFrom } from './identity.js';

const cfg = signinSchema.parse({
  publicUrl: 'http://127.0.0.1:8787',
  issuer: 'http://127.0.0.1:9999',
  clientId: 'sluice',
  clientSecretEnv: 'S',
  signingKeys: ['k'],
  allowedEmailDomains: ['example.com', 'contractors.example'],
  map: [
    { groups: ['admins'], org: 'acme', role: 'admin' },
    { groups: ['engineers'], org: 'acme' },
    { emailDomain: 'contractors.example', org: 'vendors' },
  ],
});

describe('identity from IdP claims', () => {
  it('maps groups and domains to org and role, first rule wins', () => {
    const base = { sub: 'u1', email: 'dev@example.com', email_verified: true, name: 'Dev' };
    assert.deepEqual(identityFrom({ ...base, groups: ['engineers', 'admins'] }, cfg), {
      subject: 'u1',
      email: 'dev@example.com',
      name: 'Dev',
      groups: ['engineers', 'admins'],
      org: 'acme',
      role: 'admin',
    });
    assert.equal(identityFrom({ ...base, groups: 'engineers' }, cfg).role, 'member');
    assert.equal(identityFrom({ sub: 'c', email: 'c@Contractors.Example' }, cfg).org, 'vendors');
  });

  it('refuses, saying why: no subject, no or unverified email, other domain, no rule fits', () => {
    assert.throws(() => identityFrom({ email: 'a@example.com' }, cfg), /sent no subject/);
    assert.throws(() => identityFrom({ sub: 'x' }, cfg), /sent no email \(claim "email"\)/);
    assert.throws(
      () => identityFrom({ sub: 'x', email: 'a@example.com', email_verified: false }, cfg),
      /a@example\.com is not verified/,
    );
    assert.throws(
      () => identityFrom({ sub: 'x', email: 'a@evil.test' }, cfg),
      /email domain evil\.test may not sign in/,
    );
    assert.throws(
      () => identityFrom({ sub: 'x', email: 'a@example.com', groups: ['sales'] }, cfg),
      /a@example\.com is in no group or domain that signin\.map gives access to/,
    );
  });
});
