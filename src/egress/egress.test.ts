import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { createKey } from '../control/keys.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { EgressPolicy, isPrivateAddress } from './policy.js';
import { startEgressProxy } from './proxy.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('egress policy', () => {
  it('hosts, ports, subdomain wildcards, *, presets; deny wins; anything unlisted is denied', () => {
    const p = new EgressPolicy(
      ['registry.npmjs.org:443', '*.internal.example.com', 'claude-code-essential', 'git.example.com'],
      ['claude-code-nonessential', 'secret.internal.example.com'],
    );
    const d = (host: string, port = 443) => {
      const r = p.decide(host, port);
      return `${r.decision} ${r.rule}`;
    };
    assert.equal(d('registry.npmjs.org'), 'allow allow:registry.npmjs.org:443');
    assert.equal(d('registry.npmjs.org', 80), 'deny default-deny');
    assert.equal(d('a.internal.example.com', 8443), 'allow allow:*.internal.example.com');
    assert.equal(d('internal.example.com'), 'deny default-deny', '*.domain is subdomains only');
    assert.equal(d('secret.internal.example.com'), 'deny deny:secret.internal.example.com');
    assert.equal(d('platform.claude.com'), 'allow allow:claude-code-essential');
    assert.equal(d('statsig.anthropic.com'), 'deny deny:claude-code-nonessential');
    assert.equal(d('GIT.example.com.'), 'allow allow:git.example.com', 'case and trailing dot');
    assert.equal(d('api.anthropic.com'), 'deny default-deny');
    assert.equal(
      new EgressPolicy(['*'], ['anthropic-api']).decide('api.anthropic.com', 443).rule,
      'deny:anthropic-api',
    );
    assert.throws(
      () => new EgressPolicy(['http://x.com'], []),
      /"http:\/\/x\.com" is not a host, \*\.domain, \* or a preset/,
    );
  });

  it('private, loopback, link-local and CGNAT addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      assert.ok(isPrivateAddress(ip), ip);
    for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1111']) assert.ok(!isPrivateAddress(ip), ip);
  });

  it('a bad rule in the config fails with its key path', () => {
    assert.throws(
      () =>
        parseConfig(
          'upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: { upstream: a, egress: { allow: ["ok.example.com", "ftp://x"] } } }',
          'sluice.yaml',
          {},
        ),
      /orgs\.acme\.egress\.allow\.1: "ftp:\/\/x" is not a host/,
    );
  });
});

interface Setup {
  store: Store;
  proxy: { url: string; port: number };
  keys: { acme: string; open: string };
  echoPort: number;
  httpPort: number;
  closed: Promise<void>;
}

async function setup(idleTimeoutMs = 300_000): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-egress-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const echo = createServer((s) => {
    s.on('close', closedResolve);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => echo.close(r)));
  const http = createHttpServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  const config = parseConfig(
    `storage: sqlite:./e.db
egress: { port: 0, idleTimeoutMs: ${idleTimeoutMs} }
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs:
  acme: { upstream: a, egress: { allow: ["127.0.0.1", "package-registries"], deny: [claude-code-nonessential] } }
  open: { upstream: a }
`,
    'sluice.yaml',
    {},
  );
  const store = await openStore(config.storage, dir);
  cleanups.push(() => store.close());
  const keys = {
    acme: (await createKey(store, { org: 'acme', user: 'dev@acme.test', role: 'member' }, new Date())).key,
    open: (await createKey(store, { org: 'open', user: 'dev@open.test', role: 'member' }, new Date())).key,
  };
  const proxy = await startEgressProxy({ config, store });
  cleanups.push(() => proxy.close());
  return {
    store,
    proxy,
    keys,
    echoPort: (echo.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    closed,
  };
}

/** Sends raw bytes to the proxy; resolves with the socket and the first response (head and body). */
function raw(port: number, text: string): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
      if (got.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ socket, head: got });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

const auth = (key: string) => `Proxy-Authorization: Basic ${Buffer.from(`me:${key}`).toString('base64')}\r\n`;

/** Waits until the store holds `n` egress records (they are written after the connection ends). */
async function records(store: Store, n: number) {
  for (let i = 0; i < 500; i++) {
    const rows = await store.queryEgress({});
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${n} egress records`);
}

describe('the egress proxy', () => {
  it('CONNECT: 407 without a key; an allowed tunnel carries bytes both ways and is recorded when it closes', async () => {
    const s = await setup();
    const noKey = await raw(s.proxy.port, `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(noKey.head, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
    assert.match(noKey.head, /proxy-authenticate: Basic realm="sluice"/);
    assert.match(noKey.head, /your Sluice key as the password/);

    const t = await raw(s.proxy.port, `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`);
    assert.match(t.head, /^HTTP\/1\.1 200 Connection Established\r\n\r\n$/);
    const echoed = new Promise<string>((r) => t.socket.once('data', (d: Buffer) => r(d.toString())));
    t.socket.write('ping through the tunnel');
    assert.equal(await echoed, 'ping through the tunnel');
    t.socket.destroy();
    await s.closed; // the far side is closed when the client goes away
    const [rec] = await records(s.store, 1);
    assert.deepEqual(
      [
        rec?.org,
        rec?.user,
        rec?.host,
        rec?.port,
        rec?.method,
        rec?.decision,
        rec?.rule,
        rec?.bytesUp,
        rec?.bytesDown,
      ],
      ['acme', 'dev@acme.test', '127.0.0.1', s.echoPort, 'CONNECT', 'allow', 'allow:127.0.0.1', 23, 23],
    );
  });

  it('denied hosts get a 403 naming the rule; a name that resolves to a private address is refused unless listed', async () => {
    const s = await setup();
    const tele = await raw(
      s.proxy.port,
      `CONNECT statsig.anthropic.com:443 HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(tele.head, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(tele.head, /"type":"permission_error"/);
    assert.match(
      tele.head,
      /statsig\.anthropic\.com:443 is not allowed for this org \(rule deny:claude-code-nonessential\)/,
    );
    const local = await raw(
      s.proxy.port,
      `CONNECT localhost:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.open)}\r\n`,
    );
    assert.match(local.head, /^HTTP\/1\.1 403 /);
    assert.match(local.head, /rule private-address/, 'allow * does not open private addresses');
    const unlisted = await raw(
      s.proxy.port,
      `CONNECT localhost:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(unlisted.head, /rule default-deny/);
    const rows = await records(s.store, 3);
    assert.deepEqual(
      rows.map((r) => r.decision),
      ['deny', 'deny', 'deny'],
    );
  });

  it('plain HTTP is forwarded and recorded; a malformed request line gets a 400 and the proxy lives on', async () => {
    const s = await setup();
    const r = await raw(
      s.proxy.port,
      `GET http://127.0.0.1:${s.httpPort}/path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${s.httpPort}\r\n${auth(s.keys.acme)}connection: close\r\n\r\n`,
    );
    assert.match(r.head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.head, /hello \/path\?q=1$/);
    const [rec] = await records(s.store, 1);
    assert.equal(rec?.method, 'GET');
    const bad = await raw(s.proxy.port, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(bad.head, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const again = await raw(
      s.proxy.port,
      `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(again.head, /^HTTP\/1\.1 200 /);
    again.socket.destroy();
  });

  it('a tunnel closes when the far side closes: the client reads to the end, and the record has both byte counts', async () => {
    const s = await setup();
    const far = createServer((c) => {
      c.on('error', () => undefined);
      c.once('data', (d: Buffer) => c.end(`bye after ${d.length}`));
    });
    await new Promise<void>((r) => far.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => far.close(r)));
    const port = (far.address() as AddressInfo).port;
    const t = await raw(s.proxy.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`);
    let got = '';
    t.socket.on('data', (d: Buffer) => (got += d.toString()));
    const closed = new Promise<void>((r) => t.socket.on('close', () => r()));
    t.socket.write('hello');
    await closed;
    assert.equal(got, 'bye after 5');
    const [rec] = await records(s.store, 1);
    assert.deepEqual([rec?.bytesUp, rec?.bytesDown, rec?.error], [5, 11, null]);
  });

  it('an idle tunnel and a client that never finishes its request line are closed after idleTimeoutMs', async () => {
    const s = await setup(300);
    const t = await raw(s.proxy.port, `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`);
    const started = performance.now();
    await Promise.all([new Promise((r) => t.socket.on('close', r)), s.closed]);
    assert.ok(performance.now() - started >= 250, 'not before the idle timeout');
    const [rec] = await records(s.store, 1);
    assert.equal(rec?.decision, 'allow');
    assert.ok((rec?.durationMs ?? 0) >= 250);

    // Half a request head, then silence: 408 and the connection is closed; the proxy never waits forever.
    const slow = connect(s.proxy.port, '127.0.0.1');
    let answer = '';
    slow.on('data', (d: Buffer) => (answer += d.toString()));
    slow.on('error', () => undefined);
    slow.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x');
    await new Promise((r) => slow.on('close', r));
    assert.equal(answer, 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n');
  });

  it('a far side that sends a lot and closes at once: every byte reaches the client before the tunnel is torn down', async () => {
    const s = await setup();
    const SIZE = 1024 * 1024;
    const payload = Buffer.alloc(SIZE, 7);
    const sent: (() => void)[] = [];
    const far = createServer((c) => {
      c.on('error', () => undefined);
      // The whole payload is handed to the kernel, then the far side closes.
      c.end(payload, () => sent.shift()?.());
    });
    await new Promise<void>((r) => far.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => far.close(r)));
    const port = (far.address() as AddressInfo).port;
    const download = async () => {
      const farDone = new Promise<void>((r) => sent.push(r));
      const t = await raw(s.proxy.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`);
      // The first read may have carried payload after the 200 head.
      let got = Buffer.byteLength(t.head, 'latin1') - (t.head.indexOf('\r\n\r\n') + 4);
      // Not reading while the far side sends and closes: the proxy must hold what it could not
      // deliver yet and deliver it after the far side has gone.
      t.socket.pause();
      await farDone;
      t.socket.on('data', (d: Buffer) => (got += d.length));
      t.socket.resume();
      await new Promise((r) => t.socket.on('close', r));
      return got;
    };
    const sizes = await Promise.all(Array.from({ length: 4 }, download));
    assert.deepEqual(sizes, Array(4).fill(SIZE));
    const rows = await records(s.store, 4);
    assert.deepEqual(
      rows.map((r) => r.bytesDown),
      Array(4).fill(SIZE),
    );
  });
});
