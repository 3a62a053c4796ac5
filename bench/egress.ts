/**
 * What the egress proxy (src/egress/proxy.ts) costs a tunnel, against the floor of any TCP relay,
 * side by side in one run. Two targets from the issue:
 *
 * 1. Throughput of large transfers through a CONNECT tunnel within 10% of a direct TCP relay. A
 *    local target serves per connection either N random bytes and closes (download) or reads
 *    everything the client sends and answers with the count (upload). The same transfers go three
 *    ways: (a) direct to the target, a reference; (b) relay, a minimal TCP relay (node:net, connect
 *    and pipe both ways, the client side without Nagle as node:http sets up the proxy's, nothing
 *    else: bench/egress/proxy-child.ts), the baseline; (c) sluice, the egress proxy, HTTP CONNECT
 *    with `Proxy-Authorization: Basic` and a Sluice key, the org allowed to reach 127.0.0.1
 *    (written out, so the private-address check lets it through), a SQLite store.
 *    256 MiB down and 256 MiB up per round, over 1 connection and over 8 at once (32 MiB each);
 *    one warm-up round, then 5 rounds in rotating order (a b c, b c a, c a b, …) so noise on the
 *    machine hits the routes alike. Reported: median MiB/s per route; sluice/relay of the medians
 *    (the target, ≥ 0.90) and of the best rounds; the CPU seconds the relay and the proxy process
 *    spend per GiB carried (process.cpuUsage, user + system, before and after each round), which
 *    shows the proxy's own cost even where something else limits the rate.
 * 2. Memory per idle tunnel: N tunnels (2000) opened through a fresh proxy process to a target that
 *    accepts and stays silent; (RSS, heap used, external + array buffers after − before) / N, each
 *    measured after two full collections (global.gc), the same for the baseline relay. Before the
 *    "before" figure a few tunnels are opened and closed, so code loaded on first use is not charged
 *    to the tunnels. N is lowered, with a note, if the open-file limit (ulimit -n) is too small.
 *
 * Placement: this process (clients and targets) is pinned to CPU 0; the relay and the proxy each
 * run in a process of their own (bench/egress/proxy-child.ts, with --expose-gc) pinned to CPU 1
 * with taskset, as a proxy has its own core in production (`--no-pin` leaves placement to the
 * kernel). The direct route has no middle process and no hop between CPUs, so it is the
 * same-machine ceiling, not a target: on a small VM a hop between CPUs costs much more per byte
 * (in the kernel) than the relay's or the proxy's JavaScript. Other load on the machine moves the
 * figures a lot; the load average is printed at the start and the end.
 *
 * Every tunnel is checked: each client must get exactly the bytes it should (download: all N,
 * upload: the target's count of what it received), and the store must hold one egress record per
 * Sluice tunnel (allow, CONNECT, 127.0.0.1, the target's port, no error) with bytes up and down
 * equal to what went through it. Any failure is listed after the figures and the run exits with an
 * error: figures of a proxy that loses data are not figures.
 *
 * To profile the proxy under this load: BENCH_PROFILE_DIR=/tmp/prof node --import tsx bench/egress.ts
 * (each child process writes a CPU profile there when it exits).
 *
 * Run: node --import tsx bench/egress.ts [--quick] [--no-pin]
 *   --quick   32 MiB per transfer, 2 rounds, 200 idle tunnels (well under a minute)
 *   --no-pin  no taskset: the kernel places the processes
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Memory, Question, Ready, Reply, Request } from './egress/proxy-child.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const MiB = 1024 * 1024;
/** Bytes per transfer (a round), split over the connections. */
const SIZE = (quick ? 32 : 256) * MiB;
const ROUNDS = quick ? 2 : 5;
const CONNS = [1, 8];
const IDLE_WANTED = quick ? 200 : 2000;
/** Tunnels opened and closed before the "before" memory figure. */
const IDLE_WARM = 20;
/** Tunnels being set up at once when opening the idle ones. */
const IDLE_OPENING = 64;
const TARGET_RATIO = 0.9;
const CHUNK = 64 * 1024;
const TSX = import.meta.resolve('tsx');
const CHILD = fileURLToPath(new URL('./egress/proxy-child.ts', import.meta.url));

const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

// --- Placement -----------------------------------------------------------------------------------

let childCpu: string | null = null;
if (!argv.includes('--no-pin') && cpus().length >= 2) {
  const pinned = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]);
  if (pinned.status === 0) childCpu = '1';
  else progress('taskset not available: processes are not pinned');
}

// --- Child processes (bench/egress/proxy-child.ts) -----------------------------------------------

interface Child {
  ready: Ready;
  ask(question: Question): Promise<Reply>;
  /** Asks the child to close its servers and exit; resolves when it has exited. */
  close(): Promise<void>;
  proc: ChildProcess;
}

const children = new Set<Child>();
let nextId = 1;

async function startChild(args: string[]): Promise<Child> {
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const nodeArgs = [...profile, '--expose-gc', '--import', TSX, CHILD, ...args];
  const proc = childCpu
    ? spawn('taskset', ['-c', childCpu, process.execPath, ...nodeArgs], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let onReady: (r: Ready) => void = () => undefined;
  proc.on('message', (m: Ready | Reply) => {
    if ('type' in m) return onReady(m);
    pending.get(m.id)?.resolve(m);
    pending.delete(m.id);
  });
  proc.once('exit', (code, signal) => {
    const err = new Error(`proxy-child.ts ${args[0]} exited (${code ?? signal})`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    onReady = resolve;
    proc.once('exit', (code) => reject(new Error(`proxy-child.ts ${args[0]} exited with ${code} at start`)));
  });
  const child: Child = {
    ready,
    proc,
    ask: (question) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const req: Request = { ...question, id };
        proc.send(req);
      }),
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        await child.ask({ type: 'close' }).catch(() => undefined);
        await exited;
      }
      children.delete(child);
    },
  };
  children.add(child);
  return child;
}

// --- Targets (in this process) -------------------------------------------------------------------

const payload = randomBytes(CHUNK);
/** What went wrong with the data: reported after the figures, and then the run fails. */
const broken: string[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

/** Writes `bytes` of the random payload to `socket`, minding backpressure. */
async function pump(socket: Socket, bytes: number): Promise<void> {
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    left -= n;
    if (!socket.write(n === CHUNK ? payload : payload.subarray(0, n))) await once(socket, 'drain');
  }
}

/** Per connection: `bytes` of random data, then the end of the stream. */
function sourceServer(bytes: number): Server {
  return createServer((s) => {
    s.on('error', (err) => broken.push(`source socket: ${err.message}`));
    pump(s, bytes).then(
      () => s.end(),
      () => undefined,
    );
  });
}

/** Per connection: reads everything until the client's end, then answers `count\n` and ends. */
const sink = createServer({ allowHalfOpen: true }, (s) => {
  let n = 0;
  s.on('error', (err) => broken.push(`sink socket: ${err.message}`));
  s.on('data', (c: Buffer) => (n += c.length));
  s.on('end', () => s.end(`${n}\n`));
});

/** Accepts connections and holds them, silent. */
const held = new Set<Socket>();
const heldWaiters: { until: (n: number) => boolean; wake: () => void }[] = [];
const heldChanged = () => {
  for (const w of heldWaiters.filter((x) => x.until(held.size))) {
    heldWaiters.splice(heldWaiters.indexOf(w), 1);
    w.wake();
  }
};
const whenHeld = (until: (n: number) => boolean): Promise<void> =>
  until(held.size) ? Promise.resolve() : new Promise((wake) => heldWaiters.push({ until, wake }));
const hold = createServer((s) => {
  held.add(s);
  s.on('error', () => undefined);
  s.on('close', () => {
    held.delete(s);
    heldChanged();
  });
  heldChanged();
});

// --- Clients -------------------------------------------------------------------------------------

type Route = 'direct' | 'relay' | 'sluice';
const ROUTES: Route[] = ['direct', 'relay', 'sluice'];

/** Where each route's children listen: the proxy's port and key, the relay's port per target port. */
interface Via {
  sluice: { port: number; key: string } | null;
  relay: Record<string, number> | null;
}

/** One tunnel as its egress record should show it. */
interface Tunnel {
  port: number;
  up: number;
  down: number;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** A connection to `target` by `route`; for sluice, after the 200, with any bytes that came with it. */
async function open(route: Route, target: number, via: Via): Promise<{ socket: Socket; rest: Buffer }> {
  if (route === 'direct') return { socket: await dial(target), rest: Buffer.alloc(0) };
  if (route === 'relay') {
    const port = via.relay?.[target];
    if (!port) throw new Error(`no relay for port ${target}`);
    return { socket: await dial(port), rest: Buffer.alloc(0) };
  }
  if (!via.sluice) throw new Error('no sluice proxy');
  const socket = await dial(via.sluice.port);
  const auth = Buffer.from(`me:${via.sluice.key}`).toString('base64');
  socket.write(
    `CONNECT 127.0.0.1:${target} HTTP/1.1\r\nHost: 127.0.0.1:${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
  );
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onEnd = () => onError(new Error(`CONNECT: the proxy closed before answering: ${got.toString()}`));
    const onData = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      cleanup();
      socket.pause();
      const head = got.subarray(0, end).toString('latin1');
      if (!/^HTTP\/1\.1 200 /.test(head)) {
        socket.destroy();
        return reject(new Error(`CONNECT 127.0.0.1:${target} refused: ${got.toString()}`));
      }
      resolve({ socket, rest: got.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
  });
}

/** Reads a tunnel until it closes: the byte count, the start of the text, and any socket error. */
function readAll(socket: Socket, first: Buffer): Promise<{ bytes: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    let bytes = first.length;
    let text = first.toString('latin1');
    let error: string | undefined;
    socket.on('data', (c: Buffer) => {
      bytes += c.length;
      if (text.length < 64) text += c.toString('latin1');
    });
    socket.on('error', (err) => (error = err.message));
    socket.once('close', () => resolve({ bytes, text, ...(error ? { error } : {}) }));
    socket.resume();
  });
}

/** Transfers through each route, and how many of them lost data. */
const transfers: Record<Route, { done: number; failed: number }> = {
  direct: { done: 0, failed: 0 },
  relay: { done: 0, failed: 0 },
  sluice: { done: 0, failed: 0 },
};
function tally(route: Route, problem: string | null): void {
  transfers[route].done++;
  if (!problem) return;
  transfers[route].failed++;
  broken.push(`${route}: ${problem}`);
}

async function download(route: Route, source: number, bytes: number, via: Via): Promise<Tunnel> {
  const { socket, rest } = await open(route, source, via);
  const got = await readAll(socket, rest);
  tally(
    route,
    got.bytes !== bytes || got.error
      ? `a download of ${bytes} bytes ended after ${got.bytes} (${bytes - got.bytes} lost)${got.error ? `, ${got.error}` : ''}`
      : null,
  );
  // The proxy counts what it read from the target: all of it.
  return { port: source, up: 0, down: bytes };
}

async function upload(route: Route, sinkPort: number, bytes: number, via: Via): Promise<Tunnel> {
  const { socket, rest } = await open(route, sinkPort, via);
  const answer = readAll(socket, rest);
  await pump(socket, bytes).catch(() => undefined);
  socket.end();
  const got = await answer;
  tally(
    route,
    got.text !== `${bytes}\n` || got.error
      ? `an upload of ${bytes} bytes, the target answered ${JSON.stringify(got.text)}${got.error ? `, ${got.error}` : ''}`
      : null,
  );
  return { port: sinkPort, up: bytes, down: `${bytes}\n`.length };
}

/**
 * Whether the proxy wrote one record per tunnel (allowed, CONNECT, 127.0.0.1, no error) with the bytes
 * each way that went through it: null if so, else what is wrong.
 */
async function checkRecords(child: Child, tunnels: Tunnel[]): Promise<string | null> {
  const { records = [] } = await child.ask({ type: 'records', n: tunnels.length });
  const wrong = records.filter(
    (r) =>
      r.decision !== 'allow' ||
      r.method !== 'CONNECT' ||
      r.host !== '127.0.0.1' ||
      r.rule !== 'allow:127.0.0.1' ||
      r.org !== 'bench' ||
      r.error !== null,
  );
  if (wrong.length) return `egress records not as expected: ${JSON.stringify(wrong.slice(0, 3))}`;
  const key = (t: Tunnel) => `port ${t.port} up ${t.up} down ${t.down}`;
  const count = (keys: string[]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const want = count(tunnels.map(key));
  const got = count(records.map((r) => key({ port: r.port, up: r.bytesUp, down: r.bytesDown })));
  const diff = [...new Set([...want.keys(), ...got.keys()])]
    .filter((k) => want.get(k) !== got.get(k))
    .map((k) => `${k}: expected ${want.get(k) ?? 0} records, found ${got.get(k) ?? 0}`);
  if (records.length !== tunnels.length || diff.length)
    return `${tunnels.length} tunnels, ${records.length} egress records; ${diff.slice(0, 5).join('; ')}`;
  return null;
}

// --- The run -------------------------------------------------------------------------------------

const root = await mkdtemp(join(tmpdir(), 'sluice-bench-egress-'));
const servers: Server[] = [];
// Interrupted: the children exit when their IPC channel closes; the temporary folder goes here.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const c of children) c.proc.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  });
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`Load average at start: ${load()} (${cpus().length} CPUs)`);
try {
  // Targets: a source per transfer size (whole, and split over the most connections), a sink, a hold.
  const sizes = [...new Set(CONNS.map((c) => SIZE / c))];
  const sources = new Map<number, number>();
  for (const bytes of sizes) {
    const s = sourceServer(bytes);
    servers.push(s);
    sources.set(bytes, await listen(s));
  }
  servers.push(sink, hold);
  const sinkPort = await listen(sink);
  const holdPort = await listen(hold);

  // --- 1. Throughput -----------------------------------------------------------------------------
  const relay = await startChild(['relay', [...sources.values(), sinkPort].join(',')]);
  const sluice = await startChild(['sluice', await mkdtemp(join(root, 'throughput-'))]);
  if (relay.ready.kind !== 'relay' || sluice.ready.kind !== 'sluice') throw new Error('children mixed up');
  const via: Via = {
    relay: relay.ready.ports,
    sluice: { port: sluice.ready.port, key: sluice.ready.key },
  };
  const sluiceTunnels: Tunnel[] = [];
  const cpuOf = async (c: Child) => (await c.ask({ type: 'cpu' })).cpuMicros as number;

  /** One round: SIZE bytes over `conns` connections by `route`; MiB/s and the middle process's CPU s/GiB. */
  async function round(route: Route, dir: 'download' | 'upload', conns: number) {
    const middle = route === 'relay' ? relay : route === 'sluice' ? sluice : null;
    const cpu0 = middle ? await cpuOf(middle) : 0;
    const per = SIZE / conns;
    const t0 = performance.now();
    const tunnels = await Promise.all(
      Array.from({ length: conns }, () =>
        dir === 'download'
          ? download(route, sources.get(per) as number, per, via)
          : upload(route, sinkPort, per, via),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = middle ? ((await cpuOf(middle)) - cpu0) / 1e6 : NaN;
    if (route === 'sluice') sluiceTunnels.push(...tunnels);
    return { mibps: SIZE / MiB / seconds, cpuPerGiB: cpuSeconds / (SIZE / (1024 * MiB)) };
  }

  console.log(
    `Throughput: ${SIZE / MiB} MiB per round, ${ROUNDS} rounds in rotating order after one warm-up; ` +
      (childCpu ? 'clients and targets on CPU 0, relay and proxy on CPU 1' : 'not pinned'),
  );
  console.log(
    '                 median MiB/s                     sluice/relay    target     median CPU s/GiB',
  );
  console.log('transfer  conns   direct   relay  sluice       median   best      ≥ 0.90      relay   sluice');
  const ratios: number[] = [];
  for (const dir of ['download', 'upload'] as const)
    for (const conns of CONNS) {
      progress(`${dir}, ${conns} connection(s): warm-up and ${ROUNDS} rounds`);
      for (const route of ROUTES) await round(route, dir, conns);
      const rates: Record<Route, number[]> = { direct: [], relay: [], sluice: [] };
      const cpu: Record<Route, number[]> = { direct: [], relay: [], sluice: [] };
      for (let r = 0; r < ROUNDS; r++)
        for (let i = 0; i < ROUTES.length; i++) {
          const route = ROUTES[(r + i) % ROUTES.length] as Route;
          const res = await round(route, dir, conns);
          rates[route].push(res.mibps);
          cpu[route].push(res.cpuPerGiB);
        }
      const m = (route: Route) => median(rates[route]);
      const ratio = m('sluice') / m('relay');
      const best = Math.max(...rates.sluice) / Math.max(...rates.relay);
      ratios.push(ratio);
      const cells = [
        dir.padEnd(8),
        String(conns).padStart(6),
        ...ROUTES.map((r) => m(r).toFixed(0).padStart(8)),
        ratio.toFixed(3).padStart(12),
        best.toFixed(3).padStart(6),
        (ratio >= TARGET_RATIO ? 'met' : 'NOT MET').padStart(11),
        median(cpu.relay).toFixed(2).padStart(10),
        median(cpu.sluice).toFixed(2).padStart(8),
      ];
      console.log(cells.join(' '));
    }
  const worst = Math.min(...ratios);
  console.log(
    `Target (tunnel throughput ≥ ${TARGET_RATIO.toFixed(2)} × the direct TCP relay, medians): ${worst >= TARGET_RATIO ? 'met' : 'not met'} (lowest sluice/relay ${worst.toFixed(3)})`,
  );
  for (const route of ROUTES)
    console.log(
      `Transfers ${route.padEnd(6)}: ${transfers[route].done} (warm-up included), ${transfers[route].failed ? `${transfers[route].failed} LOST DATA` : 'all bytes arrived'}`,
    );
  const throughputRecords = await checkRecords(sluice, sluiceTunnels);
  if (throughputRecords) broken.push(`records: ${throughputRecords}`);
  console.log(
    `Egress records: ${sluiceTunnels.length} Sluice tunnels, ${throughputRecords ? `MISMATCH: ${throughputRecords}` : 'one record each, bytes up and down as sent'}`,
  );
  await relay.close();
  await sluice.close();

  // --- 2. Memory per idle tunnel -----------------------------------------------------------------
  const limit = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  // This process holds two sockets per tunnel (client and target side), and so does the proxy.
  const fit = limit === 'unlimited' ? Infinity : Math.floor((Number(limit) - 200) / 2);
  const N = Math.min(IDLE_WANTED, fit);

  /** Opens `n` tunnels to the hold target by `route`, IDLE_OPENING at a time; resolves once all are held. */
  async function openIdle(route: Route, n: number, via: Via): Promise<Socket[]> {
    const sockets: Socket[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: Math.min(IDLE_OPENING, n) }, async () => {
        while (started < n) {
          started++;
          const { socket, rest } = await open(route, holdPort, via);
          socket.on('error', () => undefined);
          if (rest.length) throw new Error(`${route}: the silent target sent ${rest.length} bytes`);
          sockets.push(socket);
        }
      }),
    );
    await whenHeld((h) => h >= n);
    return sockets;
  }

  async function closeIdle(sockets: Socket[]): Promise<void> {
    for (const s of sockets) s.destroy();
    await whenHeld((h) => h === 0);
  }

  const kbPer = (bytes: number, n: number) => (bytes / n / 1024).toFixed(2);

  console.log();
  console.log(
    `Memory per idle tunnel: ${N} tunnels held open through a fresh process, (after − before) / ${N}, after two full GCs` +
      (N < IDLE_WANTED ? ` (ulimit -n is ${limit}: ${N} instead of ${IDLE_WANTED})` : ''),
  );
  console.log('route    tunnels   RSS KB/tunnel  heap used KB/tunnel  external+arrayBuffers KB/tunnel');
  for (const route of ['relay', 'sluice'] as const) {
    progress(`idle tunnels: ${route}`);
    const child =
      route === 'relay'
        ? await startChild(['relay', String(holdPort)])
        : await startChild(['sluice', await mkdtemp(join(root, 'idle-'))]);
    const idleVia: Via =
      child.ready.kind === 'relay'
        ? { relay: child.ready.ports, sluice: null }
        : { relay: null, sluice: { port: child.ready.port, key: child.ready.key } };
    const tunnels: Tunnel[] = [];
    await closeIdle(await openIdle(route, IDLE_WARM, idleVia));
    tunnels.push(...Array.from({ length: IDLE_WARM }, () => ({ port: holdPort, up: 0, down: 0 })));
    // The warm-up tunnels' records are written before the "before" figure.
    if (route === 'sluice') await child.ask({ type: 'records', n: IDLE_WARM });
    const before = (await child.ask({ type: 'mem' })).mem as Memory;
    const sockets = await openIdle(route, N, idleVia);
    const after = (await child.ask({ type: 'mem' })).mem as Memory;
    await closeIdle(sockets);
    tunnels.push(...Array.from({ length: N }, () => ({ port: holdPort, up: 0, down: 0 })));
    const idleRecords = route === 'sluice' ? await checkRecords(child, tunnels) : null;
    await child.close();
    const buffers = (m: Memory) => m.external + m.arrayBuffers;
    console.log(
      [
        route.padEnd(8),
        String(N).padStart(7),
        kbPer(after.rss - before.rss, N).padStart(15),
        kbPer(after.heapUsed - before.heapUsed, N).padStart(20),
        kbPer(buffers(after) - buffers(before), N).padStart(32),
      ].join(' '),
    );
    if (idleRecords) broken.push(`records: ${idleRecords}`);
    if (route === 'sluice')
      console.log(
        `Egress records: ${tunnels.length} idle tunnels (warm-up included), ${idleRecords ? `MISMATCH: ${idleRecords}` : 'one record each, 0 bytes each way'}`,
      );
  }
  console.log(`Load average at end: ${load()}`);
  if (broken.length) {
    console.log();
    console.log(
      `DATA CHECK FAILED (${broken.length} problems; the figures above measured a proxy that lost data):`,
    );
    for (const b of broken.slice(0, 10)) console.log(`  ${b}`);
    if (broken.length > 10) console.log(`  … and ${broken.length - 10} more`);
    throw new Error(`bench/egress.ts: ${broken.length} tunnels or records not as expected (see above)`);
  }
} finally {
  for (const c of children) c.proc.kill('SIGTERM');
  for (const s of servers) s.close();
  for (const s of held) s.destroy();
  await rm(root, { recursive: true, force: true });
}
