import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csrfMatches, readCookie, sessionCookie, Sessions } from './session.js';

describe('console sessions', () => {
  it('a session is found by its cookie until it expires, then never again', () => {
    let t = 1_000;
    const sessions = new Sessions({ ttlMs: 100, now: () => t });
    const s = sessions.open('sk-sluice-token');
    assert.equal(sessions.find(`other=1; sluice_console=${s.id}`), s);
    assert.equal(sessions.find('sluice_console=forged'), undefined);
    assert.equal(sessions.find(undefined), undefined);
    t += 100;
    assert.equal(sessions.find(`sluice_console=${s.id}`), undefined);
    t -= 100;
    assert.equal(sessions.find(`sluice_console=${s.id}`), undefined, 'expired sessions are dropped');
  });

  it('holds at most `max` sessions, dropping the oldest', () => {
    const sessions = new Sessions({ ttlMs: 100, now: () => 0, max: 2 });
    const [a, b, c] = [sessions.open('a'), sessions.open('b'), sessions.open('c')];
    assert.equal(sessions.find(`sluice_console=${a.id}`), undefined);
    assert.equal(sessions.find(`sluice_console=${b.id}`), b);
    assert.equal(sessions.find(`sluice_console=${c.id}`), c);
  });

  it('CSRF tokens compare exactly; cookies carry their attributes', () => {
    const s = new Sessions({ ttlMs: 3_600_000, now: () => 0 }).open('t');
    assert.ok(csrfMatches(s, s.csrf));
    assert.ok(!csrfMatches(s, undefined));
    assert.ok(!csrfMatches(s, `${s.csrf}x`));
    assert.ok(!csrfMatches(s, s.id));
    assert.equal(
      sessionCookie(s, true, 3_600_000),
      `sluice_console=${s.id}; Path=/console; HttpOnly; SameSite=Strict; Secure; Max-Age=3600`,
    );
    assert.equal(readCookie('a=1; b=x=y', 'b'), 'x=y');
  });
});
