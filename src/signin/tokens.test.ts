import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { idpRefreshTokenOf, looksLikeJwt, refreshToken, sha256Hex, SigningKeys } from './tokens.js';

const OLD = 'old-signing-key-0123456789abcdefghijklmnop';
const NEW = 'new-signing-key-0123456789abcdefghijklmnop';
const ISS = 'http://127.0.0.1:8787';
const who = {
  sessionId: 'ses_1',
  subject: 'dev',
  email: 'dev@acme.test',
  name: 'Dev',
  groups: ['engineers'],
  org: 'acme',
  role: 'member' as const,
};
const at = new Date('2026-12-01T10:00:00Z');
const later = (s: number) => new Date(at.getTime() + s * 1000);

describe('sign-in tokens', () => {
  it('mints the protocol token: HS256, kid of the key, aud claude-gateway, iss the public URL', async () => {
    const token = await new SigningKeys([NEW]).mint(who, ISS, at, 3600);
    assert.ok(looksLikeJwt(token));
    assert.deepEqual(decodeProtectedHeader(token), {
      alg: 'HS256',
      typ: 'JWT',
      kid: sha256Hex(NEW).slice(0, 16),
    });
    const claims = decodeJwt(token);
    assert.deepEqual(
      [
        claims.sub,
        claims.aud,
        claims.iss,
        claims.email,
        claims.groups,
        Number(claims.exp) - Number(claims.iat),
      ],
      ['dev', 'claude-gateway', ISS, 'dev@acme.test', ['engineers'], 3600],
    );
  });

  it('rotates keys: the newest signs, old tokens verify until the old key is dropped', async () => {
    const oldToken = await new SigningKeys([OLD]).mint(who, ISS, at, 3600);
    const rotated = new SigningKeys([NEW, OLD]);
    const v = await rotated.verify(oldToken, ISS, later(10));
    assert.ok(v.ok && v.who.email === 'dev@acme.test' && v.who.sessionId === 'ses_1');
    const fresh = await rotated.mint(who, ISS, at, 3600);
    assert.equal(decodeProtectedHeader(fresh).kid, sha256Hex(NEW).slice(0, 16));
    assert.deepEqual(await new SigningKeys([NEW]).verify(oldToken, ISS, later(10)), {
      ok: false,
      reason: 'invalid',
    });
  });

  it('refuses expired, other-issuer, forged and malformed tokens', async () => {
    const keys = new SigningKeys([NEW]);
    const token = await keys.mint(who, ISS, at, 60);
    assert.deepEqual(await keys.verify(token, ISS, later(61)), { ok: false, reason: 'expired' });
    assert.deepEqual(await keys.verify(token, 'http://other:1', later(1)), { ok: false, reason: 'invalid' });
    const [h, p] = token.split('.');
    assert.deepEqual(await keys.verify(`${h}.${p}.AAAA`, ISS, later(1)), { ok: false, reason: 'invalid' });
    assert.deepEqual(await keys.verify('eyJ.x.y', ISS, later(1)), { ok: false, reason: 'invalid' });
    assert.throws(() => new SigningKeys(['short']), /at least 32 characters/);
  });

  it('seals for Sluice alone: any held key opens, expiry and other keys do not', async () => {
    const sealed = await new SigningKeys([OLD]).seal({ r: 'secret' }, at, 300);
    assert.ok(!sealed.includes('secret'));
    assert.deepEqual((await new SigningKeys([NEW, OLD]).unseal(sealed, later(1)))?.r, 'secret');
    assert.equal(await new SigningKeys([NEW]).unseal(sealed, later(1)), null);
    assert.equal(await new SigningKeys([OLD]).unseal(sealed, later(301)), null);
  });

  it("refresh tokens carry the IdP's token or none, and are new every time", () => {
    const a = refreshToken('idp.refresh/token');
    assert.equal(idpRefreshTokenOf(a), 'idp.refresh/token');
    assert.notEqual(refreshToken('idp.refresh/token'), a);
    assert.equal(idpRefreshTokenOf(refreshToken(null)), null);
    assert.equal(idpRefreshTokenOf('sk-sluice-whatever'), undefined);
  });
});
