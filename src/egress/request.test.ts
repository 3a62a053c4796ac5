import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseProxyRequest, proxyCredential, type ProxyRequest } from './request.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;
const KEY = `sk-sluice-${'a'.repeat(40)}`;

/** The refusal's status, code and message, or the target. */
const show = (r: ProxyRequest) =>
  r.ok ? r.target : { status: r.error.status, code: r.error.code, message: r.error.message };

describe('parseProxyRequest', () => {
  it('CONNECT: every port outside 1-65535 is refused with egress_bad_request, keeping what it could read', () => {
    for (const port of ['0', '65536', '70000', '99999']) {
      const r = parseProxyRequest('CONNECT', `192.0.2.10:${port}`, {});
      assert.deepEqual(show(r), {
        status: 400,
        code: 'egress_bad_request',
        message: `Sluice egress: port ${port} is out of range (1-65535).`,
      });
      assert.deepEqual(!r.ok && r.attempted, { host: '192.0.2.10', port: Number(port) });
    }
    const long = parseProxyRequest('CONNECT', `h.example:${'9'.repeat(400)}`, {});
    assert.equal(!long.ok && long.error.message, 'Sluice egress: port 99999999… is out of range (1-65535).');
    assert.equal(!long.ok && long.attempted, undefined, 'no record can hold that port');
    assert.deepEqual(show(parseProxyRequest('CONNECT', 'h.example:1', {})), {
      kind: 'tunnel',
      host: 'h.example',
      port: 1,
    });
    assert.equal(
      (parseProxyRequest('CONNECT', 'h.example:65535', {}) as { target: { port: number } }).target.port,
      65535,
    );
  });

  it('CONNECT: hosts come out in one spelling; what is neither a name nor an address is refused', () => {
    const host = (authority: string) => {
      const r = parseProxyRequest('CONNECT', authority, {});
      return r.ok ? r.target.host : r.error.message;
    };
    assert.equal(host('[::ffff:7f00:1]:443'), '127.0.0.1');
    assert.equal(host('[0:0:0:0:0:0:0:1]:443'), '::1');
    assert.equal(host('[0000::0001]:443'), '::1');
    assert.equal(host('[0::]:443'), '::');
    assert.equal(host('[::ffff:a9fe:a9fe]:443'), '169.254.169.254');
    assert.equal(host('[::ffff:0a00:0001]:443'), '10.0.0.1');
    assert.equal(host('127.1:443'), '127.0.0.1');
    assert.equal(host('Registry.NPMJS.org:443'), 'registry.npmjs.org');
    assert.equal(
      host('metadata.google.internal.:80'),
      'metadata.google.internal.',
      'an absolute name stays one',
    );
    assert.equal(host('127.0.0.1.:80'), '127.0.0.1');
    assert.equal(host('bücher.example:443'), 'xn--bcher-kva.example');
    assert.equal(host('１２７.０.０.１:443'), '127.0.0.1', 'full-width digits are an address after IDNA');
    const malformed = 'Sluice egress: CONNECT needs host:port (a name, an IPv4 address or [IPv6]).';
    for (const bad of [
      '::1:443',
      '[not-v6]:443',
      'h.example',
      'user@h.example:443',
      'h.example:443/x',
      'h .example:443',
      'a..b:443',
      ':443',
      '',
    ])
      assert.equal(host(bad), malformed, bad);
  });

  it('plain requests: an absolute http:// URL, its port (1-65535), path and Host; anything else is refused', () => {
    assert.deepEqual(show(parseProxyRequest('GET', 'http://Example.COM/a/b?q=1#frag', {})), {
      kind: 'forward',
      host: 'example.com',
      port: 80,
      path: '/a/b?q=1',
      hostHeader: 'example.com',
    });
    const v6 = parseProxyRequest('POST', 'http://[::ffff:7f00:1]:8080/', {});
    assert.deepEqual(v6.ok && [v6.target.host, v6.target.port], ['127.0.0.1', 8080]);
    const notHttp = 'Sluice egress: expected an absolute http:// URL (use CONNECT for https).';
    for (const url of [
      'https://example.com/',
      '/relative',
      'http://:80/',
      'ftp://x.example/',
      'http://x:70000/',
    ])
      assert.equal((show(parseProxyRequest('GET', url, {})) as { message: string }).message, notHttp, url);
    assert.deepEqual(show(parseProxyRequest('GET', 'http://x.example:0/', {})), {
      status: 400,
      code: 'egress_bad_request',
      message: 'Sluice egress: port 0 is out of range (1-65535).',
    });
  });

  it('the key is the password of Basic proxy credentials; anything else is no key', () => {
    assert.equal(proxyCredential(basic(`me:${KEY}`)), KEY);
    assert.equal(proxyCredential(basic(`me:${encodeURIComponent(KEY)}`)), KEY);
    assert.equal(proxyCredential(basic(':100%')), '100%', 'a malformed escape is taken as written');
    assert.equal(proxyCredential(`basic   ${Buffer.from(`u:${KEY}`).toString('base64')}`), KEY);
    for (const h of [undefined, '', 'Bearer x', basic('no-colon'), 'Basic !!!', 'Basic ====']) {
      assert.equal(proxyCredential(h), undefined, String(h));
    }
    const r = parseProxyRequest('CONNECT', 'h.example:443', { 'proxy-authorization': [basic(`u:${KEY}`)] });
    assert.equal(r.key, KEY);
    const bad = parseProxyRequest('CONNECT', 'h.example:0', { 'proxy-authorization': basic(`u:${KEY}`) });
    assert.equal(bad.key, KEY, 'a refused request still carries its key, to record who tried');
  });

  it('never throws, and every refusal is a 400 egress_bad_request, whatever the line and headers', () => {
    const authority = fc.tuple(
      fc.oneof(
        fc.domain(),
        fc.ipV4(),
        fc.ipV6().map((a) => `[${a}]`),
        fc.string(),
      ),
      fc.oneof(fc.integer({ min: -10, max: 200_000 }).map(String), fc.string()),
    );
    const url = fc.oneof(
      authority.map(([h, p]) => `${h}:${p}`),
      fc.webUrl(),
      authority.map(([h, p]) => `http://${h}:${p}/x`),
      fc.string(),
    );
    const header = fc.oneof(
      fc.string(),
      fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    );
    fc.assert(
      fc.property(fc.constantFrom('CONNECT', 'GET', 'POST'), url, header, (method, u, h) => {
        const r = parseProxyRequest(method, u, { 'proxy-authorization': h });
        if (r.ok) {
          assert.ok(r.target.port >= 1 && r.target.port <= 65535);
          assert.ok(r.target.host.length > 0);
        } else assert.deepEqual([r.error.status, r.error.code], [400, 'egress_bad_request']);
      }),
      { numRuns: 5_000 },
    );
  });
});
