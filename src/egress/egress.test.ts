import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../control/config.js';
import { createKey } from '../control/keys.js';
import { catalog } from '../policy/catalog/index.js';
import type { Rule } from '../policy/rule.js';
import { openStore } from '../store/index.js';
import { AuditJournal } from '../store/journal.js';
import type { Store } from '../store/types.js';
import { EgressPolicy } from './policy.js';
import { startEgressProxy, type EgressOptions } from './proxy.js';

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

  it('a misspelt preset or a bare word is refused at config load with its key path and a suggestion', () => {
    const load =
      (allow: string, deny = '[]') =>
      () =>
        parseConfig(
          `upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: { upstream: a, egress: { allow: ${allow}, deny: ${deny} } } }`,
          'sluice.yaml',
          {},
        );
    assert.throws(
      load('[registry.npmjs.org, package-registry]'),
      (err: Error) =>
        err.message ===
        'sluice.yaml: invalid configuration\n  orgs.acme.egress.allow.1: "package-registry" is not a preset, and a host name needs a dot (only localhost has none); did you mean package-registries?',
    );
    assert.throws(
      load('[]', '[claude-code-nonesential]'),
      /orgs\.acme\.egress\.deny\.0: "claude-code-nonesential" is not a preset, .*did you mean claude-code-nonessential\?/,
    );
    assert.throws(
      load('[package.registries]'),
      /"package\.registries" is not a preset; did you mean package-registries\?/,
    );
    assert.throws(
      load('["intranet:8080"]'),
      /"intranet:8080" is not a preset, and a host name needs a dot \(only localhost has none\); presets are anthropic-api, claude-code-essential, /,
    );
    // Hosts, addresses, localhost and the wildcards are still hosts.
    for (const ok of ['localhost:8080', '"*"', '"[::1]"', '127.0.0.1', 'vertex.example.com', '"*.internal"'])
      assert.doesNotThrow(load(`[${ok}]`), ok);
  });
});

interface Setup {
  store: Store;
  /** A new key for `org`. */
  keyFor: (org: string) => Promise<string>;
  proxy: { url: string; port: number };
  keys: { acme: string; open: string };
  echoPort: number;
  httpPort: number;
  closed: Promise<void>;
}

async function setup(
  idleTimeoutMs = 300_000,
  more: { egress?: string; orgs?: string; options?: Partial<EgressOptions> } = {},
): Promise<Setup> {
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
egress: { port: 0, idleTimeoutMs: ${idleTimeoutMs}${more.egress ?? ''} }
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs:
  acme: { upstream: a, egress: { allow: ["127.0.0.1", "package-registries"], deny: [claude-code-nonessential] } }
  open: { upstream: a }
${more.orgs ?? ''}`,
    'sluice.yaml',
    {},
  );
  const store = await openStore(config.storage, dir);
  cleanups.push(() => store.close());
  const keys = {
    acme: (await createKey(store, { org: 'acme', user: 'dev@acme.test', role: 'member' }, new Date())).key,
    open: (await createKey(store, { org: 'open', user: 'dev@open.test', role: 'member' }, new Date())).key,
  };
  const proxy = await startEgressProxy({ config, store, ...more.options });
  cleanups.push(() => proxy.close());
  return {
    store,
    keyFor: async (org) =>
      (await createKey(store, { org, user: `dev@${org}.test`, role: 'member' }, new Date())).key,
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

/** The store with one method replaced (fault injection for the proxy's own error paths). */
function storeWith(store: Store, name: keyof Store, fn: (...args: unknown[]) => unknown): Store {
  return new Proxy(store, {
    get(target, p) {
      if (p === name) return fn;
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Log lines the proxy writes, for assertions. */
function capture() {
  const lines: string[] = [];
  const log = (fields: Record<string, unknown>, msg: string) =>
    lines.push(`${msg} ${JSON.stringify(fields)}`);
  return { lines, logger: { warn: log, error: log } };
}

describe('egress records when the store refuses them', () => {
  it('are kept and written once it is back; while they fill the backlog, nothing more leaves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-egress-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await openStore('sqlite:./e.db', dir);
    cleanups.push(() => store.close());
    const { key } = await createKey(
      store,
      { org: 'open', user: 'dev@open.test', role: 'member' },
      new Date(),
    );
    const config = parseConfig(
      'egress: { port: 0 }\nupstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { open: { upstream: a, egress: { allow: [registry.npmjs.org] } } }',
      'sluice.yaml',
      {},
    );
    let failing = true;
    const flaky = storeWith(store, 'insertEgress', (r: unknown) =>
      failing ? Promise.reject(new Error('disk full')) : store.insertEgress(r as never),
    );
    const { lines, logger } = capture();
    const proxy = await startEgressProxy({
      config,
      store: flaky,
      logger,
      recordBacklog: 2,
      recordRetryMs: 10,
    });
    cleanups.push(() => proxy.close());
    const connect = (host: string) => raw(proxy.port, `CONNECT ${host}:443 HTTP/1.1\r\n${auth(key)}\r\n`);
    for (const host of ['a.example.com', 'b.example.com'])
      assert.match((await connect(host)).head, /^HTTP\/1\.1 403 /);
    // Both records are refused, in whatever order their writes fail, and wait in the backlog.
    for (let i = 0; i < 2_000 && proxy.recordsWaiting() < 2; i++) await new Promise((t) => setImmediate(t));
    assert.equal(proxy.recordsWaiting(), 2);
    assert.ok(lines.length >= 1 && lines.every((l) => l === 'egress record not written {"err":"disk full"}'));
    const held = await connect('registry.npmjs.org');
    assert.match(held.head, /^HTTP\/1\.1 503 /);
    assert.match(
      held.head,
      /could not handle this request \(its store is not taking records, and nothing leaves unrecorded\)/,
    );
    failing = false;
    const rows = await records(store, 2);
    for (let i = 0; i < 2_000 && proxy.recordsWaiting() > 0; i++) await new Promise((t) => setImmediate(t));
    assert.equal(proxy.recordsWaiting(), 0);
    assert.deepEqual(rows.map((r) => r.host).sort(), ['a.example.com', 'b.example.com']);
    assert.match((await connect('c.example.com')).head, /^HTTP\/1\.1 403 /, 'accepting again');
    const after = await records(store, 3);
    assert.equal(new Set(after.map((r) => r.id)).size, 3, 'each record once');
  });
});

const unhandled: unknown[] = [];
process.on('unhandledRejection', (err) => unhandled.push(err));

describe('the egress proxy under attack and faults', () => {
  it('a CONNECT to a port out of range is a 400 recorded for the key user; the proxy serves on', async () => {
    const s = await setup();
    const r = await raw(s.proxy.port, `CONNECT 127.0.0.1:70000 HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`);
    assert.match(r.head, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(
      r.head.endsWith(
        '\r\n\r\n{"type":"error","error":{"type":"invalid_request_error","message":"Sluice egress: port 70000 is out of range (1-65535)."}}',
      ),
      r.head,
    );
    const [rec] = await records(s.store, 1);
    assert.deepEqual(
      [rec?.user, rec?.host, rec?.port, rec?.decision, rec?.rule],
      ['dev@acme.test', '127.0.0.1', 70000, 'deny', 'bad-request'],
    );
    const next = await raw(
      s.proxy.port,
      `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(next.head, /^HTTP\/1\.1 200 /);
    next.socket.destroy();
    const notHttp = await raw(s.proxy.port, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(
      notHttp.head,
      /"type":"invalid_request_error","message":"Sluice egress: the request is not valid HTTP\."/,
    );
    assert.deepEqual(unhandled, []);
  });

  it('IPv6 spellings of private addresses are refused for an allow-all org; a written rule meets every spelling', async () => {
    const s = await setup(300_000, { orgs: '  zero: { upstream: a, egress: { allow: ["0.0.0.0"] } }\n' });
    const spellings = [
      '[::ffff:7f00:1]',
      '[0:0:0:0:0:0:0:1]',
      '[0000::0001]',
      '[0::]',
      '[::ffff:a9fe:a9fe]',
      '[::ffff:0a00:0001]',
      '127.1',
      '2130706433',
    ];
    for (const host of spellings) {
      const r = await raw(s.proxy.port, `CONNECT ${host}:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.open)}\r\n`);
      assert.match(r.head, /^HTTP\/1\.1 403 Forbidden\r\n/, host);
      assert.match(r.head, /rule private-address/, host);
    }
    // acme writes out 127.0.0.1: the mapped spelling is the same address, so the same rule.
    const mapped = await raw(
      s.proxy.port,
      `CONNECT [::ffff:7f00:1]:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(mapped.head, /^HTTP\/1\.1 200 /);
    mapped.socket.destroy();
    // Even written out, the unspecified address (the local host on Linux) is no destination.
    const zero = await raw(
      s.proxy.port,
      `CONNECT [::ffff:0:0]:${s.echoPort} HTTP/1.1\r\n${auth(await s.keyFor('zero'))}\r\n`,
    );
    assert.match(zero.head, /rule private-address/);
    const zeroV4 = await raw(
      s.proxy.port,
      `CONNECT 0.0.0.0:${s.echoPort} HTTP/1.1\r\n${auth(await s.keyFor('zero'))}\r\n`,
    );
    assert.match(zeroV4.head, /rule private-address/);
    const rows = await records(s.store, spellings.length + 3);
    assert.deepEqual(
      rows
        .filter((r) => r.user === 'dev@open.test')
        .map((r) => r.host)
        .sort(),
      ['10.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '169.254.169.254', '::', '::1', '::1'],
      'recorded under the one spelling of each address',
    );
  });

  it('names are resolved once, every address is checked, and the connection goes to the checked address', async () => {
    const answers: Record<string, string[]> = {
      'mapped.example': ['93.184.216.34', '::ffff:7f00:1'],
      'echo.example': ['::ffff:127.0.0.1'],
      'garbage.example': ['not an address'],
    };
    const asked: string[] = [];
    const s = await setup(300_000, {
      orgs: '  named: { upstream: a, egress: { allow: ["echo.example", "*.example"] } }\n',
      options: {
        lookup: async (host) => {
          asked.push(host);
          const a = answers[host];
          if (!a) throw new Error('ENOTFOUND');
          return a;
        },
      },
    });
    const key = await s.keyFor('named');
    const ask = (host: string) =>
      raw(s.proxy.port, `CONNECT ${host}:${s.echoPort} HTTP/1.1\r\n${auth(key)}\r\n`);
    assert.match((await ask('mapped.example')).head, /rule private-address/, 'one private answer is enough');
    assert.match((await ask('garbage.example')).head, /rule dns-failure/);
    assert.match((await ask('nowhere.example')).head, /rule dns-failure/);
    const t = await ask('echo.example');
    assert.match(t.head, /^HTTP\/1\.1 200 /, 'written out, so it may be private; reached at 127.0.0.1');
    const echoed = new Promise<string>((r) => t.socket.once('data', (d: Buffer) => r(d.toString())));
    t.socket.write('through');
    assert.equal(await echoed, 'through');
    t.socket.destroy();
    assert.deepEqual(asked, ['mapped.example', 'garbage.example', 'nowhere.example', 'echo.example']);
  });

  it("an org's policy is evaluated per day: a catalog rule's validFrom takes effect without a restart", async () => {
    let now = new Date('2026-11-30T23:59:00Z');
    const quiet: Rule = {
      id: 'test-telemetry-off-from-december',
      summary: 'test: telemetry and error reporting end on 2026-12-01',
      when: {},
      validFrom: '2026-12-01',
      effects: [
        { flow: 'telemetry', set: { enabled: false }, note: 'test' },
        { flow: 'error-reporting', set: { enabled: false }, note: 'test' },
      ],
      sources: [],
      example: { profile: { plan: 'team', provider: 'anthropic' }, at: '2026-12-01', expect: {} },
    };
    const s = await setup(300_000, {
      orgs: '  dated: { upstream: a, profile: { plan: team, provider: anthropic } }\n',
      options: {
        clock: () => now,
        policyCatalog: [...catalog, quiet],
        lookup: () => Promise.reject(new Error('ENOTFOUND')),
      },
    });
    const key = await s.keyFor('dated');
    const ask = async () =>
      (await raw(s.proxy.port, `CONNECT statsig.anthropic.com:443 HTTP/1.1\r\n${auth(key)}\r\n`)).head;
    // Allowed by policy on the 30th (so it gets as far as DNS, which has no answer here) ...
    assert.match(await ask(), /rule dns-failure/);
    now = new Date('2026-12-01T00:00:01Z');
    // ... and denied by the same process from the 1st.
    assert.match(await ask(), /rule deny:claude-code-nonessential/);
    const rows = await records(s.store, 2);
    assert.deepEqual(rows.map((r) => [r.time, r.rule]).sort(), [
      ['2026-11-30T23:59:00.000Z', 'dns-failure'],
      ['2026-12-01T00:00:01.000Z', 'deny:claude-code-nonessential'],
    ]);
  });

  it('connections over egress.maxConnections are answered 503 egress_busy; a freed slot serves again', async () => {
    const s = await setup(300_000, { egress: ', maxConnections: 2' });
    const open = (key = s.keys.acme) =>
      raw(s.proxy.port, `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(key)}\r\n`);
    const [a, b] = [await open(), await open()];
    assert.match(a.head, /^HTTP\/1\.1 200 /);
    assert.match(b.head, /^HTTP\/1\.1 200 /);
    const busy = await open();
    assert.match(busy.head, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(busy.head, /retry-after: 1\r\n/);
    assert.ok(
      busy.head.endsWith(
        '{"type":"error","error":{"type":"api_error","message":"Sluice egress: the proxy is serving its limit of 2 connections, so this one was not served. Try again shortly; if it keeps happening, ask your administrator to raise egress.maxConnections."}}',
      ),
    );
    const plain = await raw(
      s.proxy.port,
      `GET http://127.0.0.1:${s.httpPort}/ HTTP/1.1\r\nHost: x\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(plain.head, /^HTTP\/1\.1 503 /);
    assert.match(plain.head, /connection: close/i);
    a.socket.destroy();
    // The proxy notices the freed slot when the socket's close reaches it; ask until then.
    let again = '';
    for (let i = 0; i < 200 && !again.startsWith('HTTP/1.1 200'); i++) {
      const r = await open();
      again = r.head;
      if (!again.startsWith('HTTP/1.1 200')) r.socket.destroy();
      else r.socket.destroy();
    }
    assert.match(again, /^HTTP\/1\.1 200 /);
    b.socket.destroy();
  });

  it('a failure inside the proxy is answered 503 and logged, never thrown; the next request is served', async () => {
    let broken = false;
    const { lines, logger } = capture();
    const s = await setup(300_000, {
      options: {
        logger,
        clock: () => {
          if (broken) throw new Error('clock failed');
          return new Date();
        },
      },
    });
    broken = true;
    const tunnel = await raw(
      s.proxy.port,
      `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(tunnel.head, /^HTTP\/1\.1 503 /);
    assert.match(
      tunnel.head,
      /"message":"Sluice egress could not handle this request \(it failed inside the proxy\), so nothing was sent\./,
    );
    const plain = await raw(
      s.proxy.port,
      `GET http://127.0.0.1:${s.httpPort}/ HTTP/1.1\r\nHost: x\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(plain.head, /^HTTP\/1\.1 503 /);
    assert.deepEqual(lines, [
      'egress request failed {"err":"clock failed"}',
      'egress request failed {"err":"clock failed"}',
    ]);
    broken = false;
    const next = await raw(
      s.proxy.port,
      `CONNECT 127.0.0.1:${s.echoPort} HTTP/1.1\r\n${auth(s.keys.acme)}\r\n`,
    );
    assert.match(next.head, /^HTTP\/1\.1 200 /);
    next.socket.destroy();
    assert.deepEqual(unhandled, []);
  });

  it('a store that fails: a key it cannot check is a 503, a record it cannot write is logged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-egress-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await openStore('sqlite:./e.db', dir);
    cleanups.push(() => store.close());
    const { key } = await createKey(
      store,
      { org: 'open', user: 'dev@open.test', role: 'member' },
      new Date(),
    );
    const config = parseConfig(
      'egress: { port: 0 }\nupstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { open: { upstream: a } }',
      'sluice.yaml',
      {},
    );
    const noKeys = storeWith(store, 'findKeyByHash', () => Promise.reject(new Error('database is locked')));
    const { lines, logger } = capture();
    const a = await startEgressProxy({ config, store: noKeys, logger });
    cleanups.push(() => a.close());
    const r = await raw(a.port, `CONNECT 127.0.0.1:1 HTTP/1.1\r\n${auth(key)}\r\n`);
    assert.match(r.head, /^HTTP\/1\.1 503 /);
    assert.match(r.head, /could not handle this request \(its store did not answer when checking your key\)/);
    const noRecords = storeWith(store, 'insertEgress', () => {
      throw new Error('disk full');
    });
    const b = await startEgressProxy({ config, store: noRecords, logger });
    cleanups.push(() => b.close());
    const denied = await raw(b.port, `CONNECT 127.0.0.1:1 HTTP/1.1\r\n${auth(key)}\r\n`);
    assert.match(denied.head, /^HTTP\/1\.1 403 /);
    for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((t) => setImmediate(t));
    assert.deepEqual(lines, [
      'egress key lookup failed {"err":"database is locked"}',
      'egress record not written {"err":"disk full"}',
    ]);
    assert.deepEqual(unhandled, []);
  });
});

describe('egress records through the audit journal', () => {
  it('are journaled before the client is answered; only when neither journal nor store takes them does nothing leave', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-egress-journal-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await openStore('sqlite:./e.db', dir);
    cleanups.push(() => store.close());
    const { key } = await createKey(
      store,
      { org: 'open', user: 'dev@open.test', role: 'member' },
      new Date(),
    );
    const config = parseConfig(
      'egress: { port: 0 }\nupstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { open: { upstream: a, egress: { allow: [registry.npmjs.org] } } }',
      'sluice.yaml',
      {},
    );
    let failing = true;
    const flaky = storeWith(store, 'insertEgress', (r: unknown) =>
      failing ? Promise.reject(new Error('disk full')) : store.insertEgress(r as never),
    );
    const journalDir = join(dir, 'journal');
    const journal = await AuditJournal.open({
      dir: journalDir,
      store: flaky,
      pid: process.pid,
      isAlive: () => false,
      onError: () => undefined,
      retryMs: 10,
      drainEveryMs: 10,
    });
    const { lines, logger } = capture();
    const proxy = await startEgressProxy({
      config,
      store: flaky,
      logger,
      journal,
      recordBacklog: 1,
      recordRetryMs: 10,
    });
    cleanups.push(async () => {
      await proxy.close();
      await journal.close();
    });
    const connect = (host: string) => raw(proxy.port, `CONNECT ${host}:443 HTTP/1.1\r\n${auth(key)}\r\n`);
    const journaled = () =>
      readdirSync(journalDir)
        .flatMap((slot) =>
          readdirSync(join(journalDir, slot))
            .filter((f) => f.endsWith('.jsonl'))
            .map((f) => join(journalDir, slot, f)),
        )
        .map((f) => readFileSync(f, 'utf8'))
        .join('');
    // The store refuses every record: the journal takes them, and the proxy goes on.
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com']) {
      assert.match((await connect(host)).head, /^HTTP\/1\.1 403 /);
      assert.match(
        journaled(),
        new RegExp(`\\{"ge":\\{[^\\n]*"host":"${host.replace(/\./g, '\\.')}"`),
        'on disk when answered',
      );
    }
    assert.equal(proxy.recordsWaiting(), 0, 'none waits in the proxy');
    // The journal's folder goes: records go to the store directly, which still refuses; once the
    // backlog is full, nothing leaves.
    rmSync(journalDir, { recursive: true, force: true });
    assert.match((await connect('d.example.com')).head, /^HTTP\/1\.1 403 /);
    for (let i = 0; i < 2_000 && proxy.recordsWaiting() < 1; i++) await new Promise((t) => setImmediate(t));
    const held = await connect('registry.npmjs.org');
    assert.match(held.head, /^HTTP\/1\.1 503 /);
    assert.match(held.head, /its store is not taking records, and nothing leaves unrecorded/);
    assert.ok(
      lines.includes(
        'egress record not journaled; writing it to the store directly {"err":"the audit journal\'s folder ' +
          join(journalDir, '0') +
          ' was removed; restart the gateway to begin a new one"}',
      ),
      lines.join('\n'),
    );
    failing = false;
    const rows = await records(store, 4);
    assert.deepEqual(rows.map((r) => r.host).sort(), [
      'a.example.com',
      'b.example.com',
      'c.example.com',
      'd.example.com',
    ]);
  });
});
