/**
 * The egress proxy inside a real `sluice serve` process, probed the way an attacker would: a port
 * out of range must not end the process (gateway included), and no spelling of a private address
 * gets through an org that allows every host.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanEnv, createKeyCli, serve, sluice, type Served } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Sends one request to the proxy and resolves with everything it answers before closing. */
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolveAnswer, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('end', () => resolveAnswer(got));
    socket.on('error', reject);
  });
}

async function start(): Promise<{ dir: string; served: Served; proxyPort: number; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-egress-proc-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: 0 }\nstorage: sqlite:./.sluice/sluice.db\negress: { port: 0 }\nupstreams:\n  anthropic: { provider: anthropic, baseUrl: "http://127.0.0.1:9", apiKey: "\${ANTHROPIC_API_KEY}" }\norgs:\n  open: { upstream: anthropic }\n`,
  );
  const key = createKeyCli(dir, 'open', 'dev@open.test');
  const served = await serve(dir, [], cleanEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' }));
  cleanups.push(() => served.stop());
  const line = await served.line(/^sluice egress proxy listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { dir, served, proxyPort: Number(/:(\d+) /.exec(line)?.[1]), key };
}

const connectTo = (target: string, key: string) =>
  `CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from(`me:${key}`).toString('base64')}\r\n\r\n`;

describe('the egress proxy in a real sluice serve process', () => {
  it('a CONNECT to a port out of range is refused with a 400; the process and its gateway live on', async () => {
    const { served, proxyPort, key } = await start();
    for (const target of ['192.0.2.10:70000', '192.0.2.10:65536', '192.0.2.10:0', '192.0.2.10:99999']) {
      const answer = await ask(proxyPort, connectTo(target, key));
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, target);
      assert.match(answer, /"type":"invalid_request_error"/, target);
      assert.match(answer, /Sluice egress: port \d+ is out of range \(1-65535\)/, target);
    }
    // Still serving: the gateway answers and the proxy decides the next request.
    assert.equal((await fetch(`${served.url}/healthz`)).status, 200);
    const next = await ask(proxyPort, connectTo('127.0.0.1:9', key));
    assert.match(next, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.equal(served.child.exitCode, null, served.stderr());
  });

  it('IPv6 spellings of loopback, private and metadata addresses are refused for an org that allows every host', async () => {
    const { dir, served, proxyPort, key } = await start();
    const spellings = [
      '[::ffff:7f00:1]',
      '[0:0:0:0:0:0:0:1]',
      '[0000::0001]',
      '[0::]',
      '[::ffff:a9fe:a9fe]',
      '[::ffff:0a00:0001]',
      '[::ffff:127.0.0.1]',
      '[::127.0.0.1]',
      '[::7f00:1]',
      '[64:ff9b::a9fe:a9fe]',
      '[2002:7f00:1::]',
    ];
    for (const host of spellings) {
      const answer = await ask(proxyPort, connectTo(`${host}:${served.url.split(':').pop()}`, key));
      assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/, host);
      assert.match(answer, /rule private-address/, host);
    }
    let rows: { host: string; decision: string; rule: string }[] = [];
    for (let i = 0; i < 200 && rows.length < spellings.length; i++) {
      const log = sluice(dir, ['egress', 'log', '--format', 'json']);
      rows = log.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as (typeof rows)[number]);
    }
    assert.deepEqual(
      rows.map((r) => `${r.decision} ${r.rule}`),
      spellings.map(() => 'deny private-address'),
    );
    // Recorded under the address's one spelling, whatever the client wrote.
    assert.deepEqual(
      new Set(rows.map((r) => r.host)),
      new Set([
        '127.0.0.1',
        '::1',
        '::',
        '169.254.169.254',
        '10.0.0.1',
        '::7f00:1',
        '64:ff9b::a9fe:a9fe',
        '2002:7f00:1::',
      ]),
    );
    assert.equal(served.child.exitCode, null);
  });
});
