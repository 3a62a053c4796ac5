import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SignInClientError } from './client.js';
import {
  discover,
  gatewayBase,
  pollForTokens,
  refreshTokens,
  type ClientDeps,
  type DeviceAuthorization,
  type GatewayEndpoints,
} from './client.js';

const endpoints: GatewayEndpoints = {
  base: 'https://gw.test',
  deviceAuthorization: 'https://gw.test/oauth/device_authorization',
  token: 'https://gw.test/oauth/token',
};

/** A token endpoint that answers `answers` in turn, on a clock that only sleeping moves. */
function scripted(answers: [number, object][]) {
  let clock = 1_000_000;
  const waits: number[] = [];
  const bodies: string[] = [];
  const deps: ClientDeps = {
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms / 1000);
      clock += ms;
    },
    fetch: (async (_url: string, init: RequestInit) => {
      bodies.push(String(init.body));
      const [status, body] = answers.shift() ?? [500, {}];
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch,
  };
  return { deps, waits, bodies, at: () => clock };
}

const grant = (expiresAt: number): DeviceAuthorization => ({
  deviceCode: 'dc',
  userCode: 'BCDF-GHJK',
  verificationUri: 'https://gw.test/device',
  interval: 5,
  expiresAt,
});

describe('sign-in client: the device flow from a terminal (RFC 8628)', () => {
  it('polls every interval, adds 5 seconds for good on slow_down, and returns the tokens', async () => {
    const s = scripted([
      [400, { error: 'authorization_pending' }],
      [429, { error: 'slow_down' }],
      [400, { error: 'authorization_pending' }],
      [200, { access_token: 'at', refresh_token: 'rt', expires_in: 3600, email: 'dev@example.com' }],
    ]);
    const tokens = await pollForTokens(endpoints, grant(s.at() + 600_000), s.deps);
    assert.deepEqual(s.waits, [5, 5, 10, 10]);
    assert.deepEqual(tokens, {
      accessToken: 'at',
      refreshToken: 'rt',
      email: 'dev@example.com',
      expiresAt: s.at() + 3_600_000,
    });
    assert.equal(
      s.bodies[0],
      'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc',
    );
  });

  it('ends on access_denied, on expired_token, and when the code runs out, with what to do', async () => {
    const denied = scripted([[400, { error: 'access_denied' }]]);
    await assert.rejects(pollForTokens(endpoints, grant(denied.at() + 600_000), denied.deps), {
      message: 'the sign-in was denied in the browser (or by the identity provider)',
    });
    const expired = scripted([[400, { error: 'expired_token' }]]);
    await assert.rejects(pollForTokens(endpoints, grant(expired.at() + 600_000), expired.deps), {
      message: 'the code expired before the sign-in was completed; run `sluice login` again',
    });
    const slow = scripted(Array.from({ length: 50 }, () => [400, { error: 'authorization_pending' }]));
    await assert.rejects(pollForTokens(endpoints, grant(slow.at() + 12_000), slow.deps), /code expired/);
    assert.equal(slow.bodies.length, 2, 'no poll after the code expired');
  });

  it('refreshes; a refusal is `refused`, a 503 is not', async () => {
    const ok = scripted([[200, { access_token: 'at2', expires_in: 60 }]]);
    assert.deepEqual(await refreshTokens(endpoints.token, 'rt1', ok.deps), {
      accessToken: 'at2',
      refreshToken: 'rt1',
      expiresAt: ok.at() + 60_000,
    });
    const refused = scripted([[401, { error: 'invalid_grant' }]]);
    await assert.rejects(refreshTokens(endpoints.token, 'rt1', refused.deps), (e: SignInClientError) => {
      assert.equal(e.refused, true);
      assert.match(e.message, /refused to renew the sign-in/);
      return true;
    });
    const later = scripted([[503, { error: 'temporarily_unavailable' }]]);
    await assert.rejects(refreshTokens(endpoints.token, 'rt1', later.deps), (e: SignInClientError) => {
      assert.equal(e.refused, false);
      assert.equal(e.message, 'the gateway could not renew the sign-in now: 503 temporarily_unavailable');
      return true;
    });
  });

  it('takes https, or http on loopback only, and endpoints on the gateway’s origin only', async () => {
    assert.equal(gatewayBase('https://gw.test/'), 'https://gw.test');
    assert.equal(gatewayBase('http://127.0.0.1:8787'), 'http://127.0.0.1:8787');
    assert.throws(() => gatewayBase('http://gw.test'), {
      message:
        "http://gw.test is not https: sign-in sends tokens, so only https (or http on this machine's loopback) is used",
    });
    const doc = (token: string) =>
      ({
        fetch: (async () =>
          new Response(
            JSON.stringify({
              device_authorization_endpoint: 'https://gw.test/oauth/device_authorization',
              token_endpoint: token,
            }),
          )) as typeof fetch,
      }) satisfies Pick<ClientDeps, 'fetch'>;
    assert.equal(
      (await discover('https://gw.test', doc('https://gw.test/oauth/token'))).token,
      endpoints.token,
    );
    await assert.rejects(discover('https://gw.test', doc('https://evil.test/oauth/token')), {
      message:
        'https://gw.test/.well-known/oauth-authorization-server: token_endpoint is not an absolute URL on https://gw.test; is this a Sluice gateway?',
    });
  });
});
