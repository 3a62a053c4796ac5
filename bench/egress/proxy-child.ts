/**
 * The process under test for bench/egress.ts, one of two kinds, driven over the IPC channel:
 *
 *   proxy-child.ts sluice DIR        the Sluice egress proxy (src/egress/proxy.ts) on a SQLite store in
 *                                    DIR, org `bench` allowed to reach 127.0.0.1 only, one key;
 *   proxy-child.ts relay PORT,PORT…  the baseline: a minimal TCP relay, one listener per target port
 *                                    that connects to 127.0.0.1:PORT and pipes both ways.
 *
 * Started by bench/egress.ts with --expose-gc (pinned to a CPU of its own with taskset), it answers
 * `mem` (memory after two full collections), `cpu` (process.cpuUsage), `records` (waits until the
 * proxy has written at least n egress records, then returns them) and `close`.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseConfig } from '../../src/control/config.js';
import { createKey } from '../../src/control/keys.js';
import { startEgressProxy } from '../../src/egress/proxy.js';
import { openStore } from '../../src/store/index.js';
import type { EgressRecord } from '../../src/store/types.js';

export type Question = { type: 'mem' } | { type: 'cpu' } | { type: 'records'; n: number } | { type: 'close' };
export type Request = Question & { id: number };

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export type Ready =
  | { type: 'ready'; kind: 'sluice'; port: number; key: string }
  | { type: 'ready'; kind: 'relay'; ports: Record<string, number> };

export interface Reply {
  id: number;
  mem?: Memory;
  /** process.cpuUsage(), user + system, microseconds. */
  cpuMicros?: number;
  records?: EgressRecord[];
}

/** How long a tunnel may sit idle before the proxy closes it: longer than any run. */
export const IDLE_TIMEOUT_MS = 600_000;

const send = (m: Ready | Reply): Promise<void> =>
  new Promise((resolve, reject) =>
    process.send?.(m, undefined, {}, (err) => (err ? reject(err) : resolve())),
  );

// The driver is gone: nothing else will ask for anything.
process.on('disconnect', () => process.exit(1));

const [kind, arg] = process.argv.slice(2);
let close: () => Promise<void>;
let records: (n: number) => Promise<EgressRecord[]> = async () => [];

if (kind === 'sluice' && arg) {
  const config = parseConfig(
    `storage: sqlite:./egress.db
egress: { host: 127.0.0.1, port: 0, idleTimeoutMs: ${IDLE_TIMEOUT_MS}, maxConnections: 10000 }
upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }
orgs:
  bench: { upstream: a, egress: { allow: ["127.0.0.1"] } }
`,
    'bench.yaml',
    {},
  );
  const store = await openStore(config.storage, arg);
  const { key } = await createKey(
    store,
    { org: 'bench', user: 'bench@bench.test', role: 'member' },
    new Date(),
  );
  // Count the records as they are written (the proxy writes one when a tunnel ends), so the driver
  // can wait for them instead of polling.
  const insert = store.insertEgress.bind(store);
  let written = 0;
  const waiting: { n: number; wake: () => void }[] = [];
  store.insertEgress = async (r) => {
    await insert(r);
    written++;
    for (const w of waiting.filter((x) => written >= x.n)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.wake();
    }
  };
  records = async (n) => {
    if (written < n) await new Promise<void>((wake) => waiting.push({ n, wake }));
    return store.queryEgress({ limit: written + 1 });
  };
  const proxy = await startEgressProxy({
    config,
    store,
    logger: { warn: () => undefined, error: (f, m) => console.error(m, f) },
  });
  close = async () => {
    await proxy.close();
    await store.close();
  };
  await send({ type: 'ready', kind: 'sluice', port: proxy.port, key });
} else if (kind === 'relay' && arg) {
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  for (const target of arg.split(',').map(Number)) {
    // The client side as node:http sets it up for the egress proxy (half-open allowed, no Nagle);
    // the upstream side with net.connect's defaults, as the proxy connects.
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client: Socket) => {
      const upstream = connect({ host: '127.0.0.1', port: target, allowHalfOpen: true });
      const fail = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', fail);
      upstream.on('error', fail);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports[target] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  close = async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
  await send({ type: 'ready', kind: 'relay', ports });
} else {
  throw new Error('usage: proxy-child.ts sluice DIR | relay PORT[,PORT…]');
}

const collect = () => {
  if (!global.gc) throw new Error('run with --expose-gc');
  global.gc();
  global.gc();
};

process.on('message', (req: Request) => {
  void (async () => {
    switch (req.type) {
      case 'mem': {
        collect();
        const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
        return send({ id: req.id, mem: { rss, heapUsed, external, arrayBuffers } });
      }
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        return send({ id: req.id, cpuMicros: user + system });
      }
      case 'records':
        return send({ id: req.id, records: await records(req.n) });
      case 'close':
        await close();
        await send({ id: req.id });
        process.exit(0);
    }
  })();
});
