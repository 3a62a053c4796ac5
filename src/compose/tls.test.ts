import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startStandin } from '../gateway/testing/standin.js';
import { startFromFile, type Running } from './testing/running.js';

const UP = 'sk-ant-upstream-tls-test-00000001';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!openssl)
  console.warn('SKIPPING the TLS tests: the openssl CLI is not installed (it makes their certificates)');

/** A self-signed certificate for 127.0.0.1 and localhost, written as `name`.crt and `name`.key in `dir`. */
function certificate(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** The certificate the listener at `port` presents now (a new connection). */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.subject ?? '');
      s.end();
    });
    s.once('error', reject);
  });
}

const config = (standin: string, tls: string) => `server: { host: 127.0.0.1, port: 0${tls} }
storage: sqlite:./sluice.db
upstreams:
  main: { provider: anthropic, baseUrl: ${standin}, apiKey: "\${UP}" }
orgs:
  acme: { upstream: main }
`;

describe('server.tls', { skip: !openssl && 'the openssl CLI is not installed' }, () => {
  it('serves HTTPS to a client trusting the test CA, and takes new files on reload', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = certificate(dir, 'first', 'sluice-first');
    const tlsRunning: Running = await startFromFile(
      config(standin.url, `, tls: { cert: ${first.cert}, key: ${first.key} }`),
      { UP },
    );
    cleanups.push(() => tlsRunning.close());
    const { gateway } = tlsRunning.sluice;
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const ca = await readFile(first.cert);
    const agent = new Agent({ connect: { ca } });
    cleanups.push(() => agent.close());
    const res = await request(`${gateway.url}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'x-api-key': tlsRunning.key,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { type: string }).type, 'message');

    // A client without the CA is refused by its own TLS check.
    await assert.rejects(request(`${gateway.url}/healthz`), /self[- ]signed|unable to verify|certificate/i);

    // Renewed files (same paths), then a reload: new connections get the new certificate.
    const second = certificate(dir, 'second', 'sluice-second');
    const file = await readFile(tlsRunning.file, 'utf8');
    await tlsRunning.write(file.replace(first.cert, second.cert).replace(first.key, second.key));
    assert.equal(new X509Certificate(await readFile(second.cert)).subject, 'CN=sluice-second');
    assert.equal(await presented(gateway.port), 'CN=sluice-first');
    const outcome = await tlsRunning.sluice.reload('test');
    assert.equal(outcome.result, 'applied');
    assert.equal(await presented(gateway.port), 'CN=sluice-second');

    // A key that does not match its certificate: refused, the running certificate stays.
    await tlsRunning.write(file.replace(first.cert, second.cert));
    const bad = await tlsRunning.sluice.reload('test');
    assert.equal(bad.result, 'rejected');
    assert.match(
      bad.result === 'rejected' ? bad.problem : '',
      /^server\.tls: .*(key values mismatch|KEY_VALUES_MISMATCH)/i,
    );
    assert.equal(await presented(gateway.port), 'CN=sluice-second');
  });

  it('a certificate that cannot be used stops the start with the files named', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const a = certificate(dir, 'a', 'a');
    const b = certificate(dir, 'b', 'b');
    await assert.rejects(
      startFromFile(config(standin.url, `, tls: { cert: ${a.cert}, key: ${b.key} }`), { UP }),
      (err: Error) =>
        err.name === 'TlsError' &&
        err.message.startsWith(`server.tls: ${a.cert} and ${b.key} are not a PEM certificate and its key (`),
    );
    await assert.rejects(
      startFromFile(config(standin.url, `, tls: { cert: ${join(dir, 'missing.crt')}, key: ${b.key} }`), {
        UP,
      }),
      {
        name: 'TlsError',
        message: `server.tls: cannot read the certificate ${join(dir, 'missing.crt')}: ENOENT`,
      },
    );
  });

  it('binding beyond loopback without TLS warns at start; with TLS or on loopback it does not', async () => {
    const standin = await startStandin(UP);
    cleanups.push(() => standin.close());
    const open = await startFromFile(config(standin.url, '').replace('host: 127.0.0.1', 'host: 0.0.0.0'), {
      UP,
    });
    cleanups.push(() => open.close());
    const warned = open.logs.filter((l) => l.level === 'warn' && /without TLS/.test(l.msg));
    assert.deepEqual(
      warned.map((l) => l.msg),
      [
        'the gateway listens on 0.0.0.0 without TLS: prompts and Sluice keys cross the network in the clear; set server.tls (docs/operations.md) or put a TLS terminator in front',
      ],
    );
    const local = await startFromFile(config(standin.url, ''), { UP });
    cleanups.push(() => local.close());
    assert.equal(local.logs.filter((l) => /without TLS/.test(l.msg)).length, 0);
  });
});
