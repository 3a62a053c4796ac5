/**
 * A bounded soak of the real `sluice serve` (a child process) with faults injected: does memory
 * stay flat, and is every request on record, after minutes of mixed traffic and bad days?
 *
 * Traffic (`--concurrency` clients, default 8, until `--minutes` are up, default 20): streamed and
 * whole Messages requests, one in five carrying an AWS key the guard redacts, and one in ten an
 * egress CONNECT tunnel that echoes 4 KB. Faults: one request in 25 meets an upstream that resets
 * mid-answer (streamed or whole); with `--postgres`, every backend of the gateway is killed
 * (pg_terminate_backend) every 20 s; halfway through, the gateway is killed with SIGKILL and
 * started again on the same folder (clients wait for it).
 *
 * Reported: requests and tunnels, answers by status or error code, client-side failures (a
 * connection lost to the kill), records missing (every x-sluice-request-id a client saw and every
 * request the upstream saw must have one: anything but 0 fails the run), the gateway's RSS (after a
 * warm-up, at the end, the peak, and sampled 24 times a run) for each of its two lives, and its CPU
 * time per request. Egress records are counted against the tunnels that worked.
 *
 * Run:     node --import tsx bench/soak.ts [--minutes 20] [--concurrency 8] [--postgres]
 * Example: node --import tsx bench/soak.ts --minutes 2
 * Exit codes: 0 no record missing, 1 a record missing (or a tunnel lost), 2 usage or runtime error.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/index.js';
import {
  ask,
  createKeys,
  pgSchema,
  records,
  serve,
  until,
  writeConfig,
  type Seen,
  type Served,
} from '../test/faults/harness.js';
import { startFaultyUpstream } from '../test/faults/upstream.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    postgres: { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
const concurrency = Number(args.concurrency);
if (!(minutes > 0) || !(concurrency > 0)) {
  console.error('usage: node --import tsx bench/soak.ts [--minutes N] [--concurrency N] [--postgres]');
  process.exit(2);
}

const TICK = 100; // /proc clock ticks per second (USER_HZ)
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(status(pid))?.[1]) * 1024;
const peakOf = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(status(pid))?.[1]) * 1024;
/** User + system CPU seconds of a process so far. */
const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICK;
};

/** One life of the gateway process: memory after warm-up and at its end, CPU, requests. */
interface Life {
  pid: number;
  warmRss: number;
  endRss: number;
  peakRss: number;
  cpu: number;
  requests: number;
  /** RSS sampled on a clock through the life, MB. */
  series: number[];
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-soak-'));
const up = await startFaultyUpstream();
// Tunnels die with the gateway at the kill: their far ends see resets.
const echo = createServer((s) => s.on('error', () => s.destroy()).pipe(s));
await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
const echoPort = (echo.address() as AddressInfo).port;
const pg = args.postgres ? await pgSchema() : null;
if (args.postgres && !pg) {
  console.error('--postgres: PostgreSQL not reachable at 127.0.0.1:5432 (db test)');
  process.exit(2);
}
const storage = pg ? pg.url : 'sqlite:./.sluice/sluice.db';
await writeConfig(dir, {
  storage,
  upstreams: { faulty: { url: up.url } },
  orgs: { acme: { upstream: 'faulty', extra: 'contentLogging: redacted, egress: { allow: ["127.0.0.1"] }' } },
  extra: 'egress: { host: 127.0.0.1, port: 0 }',
});
const [key] = (await createKeys(storage, dir, [['acme', 'soak@acme.test']])) as [string];

let gw: Served = await serve(dir);
// Whatever ends this process ends the gateway under test too.
process.on('exit', () => gw.child.kill('SIGKILL'));
/** Resolves while the gateway is up; replaced by a pending one while it restarts. */
let ready: Promise<void> = Promise.resolve();
const egressPort = async () => {
  const line = await until('the egress proxy line', () =>
    gw.lines.find((l) => l.startsWith('sluice egress proxy listening')),
  );
  return Number(/:(\d+) /.exec(line)?.[1]);
};
let proxyPort = await egressPort();

const started = Date.now();
const deadline = started + minutes * 60_000;
const saw: Seen[] = [];
const byAnswer: Record<string, number> = {};
let clientFailures = 0;
let tunnels = 0;
let tunnelFailures = 0;
let backendsKilled = 0;
const lives: Life[] = [];
let lifeRequests = 0;
let warmRss = 0;
let series: number[] = [];
const count = (k: string) => (byAnswer[k] = (byAnswer[k] ?? 0) + 1);

/** A CONNECT through the egress proxy to the echo server, 4 KB there and back. */
function tunnel(): Promise<void> {
  const payload = Buffer.alloc(4096, 7);
  return new Promise((resolveTunnel, reject) => {
    const s = connect(proxyPort, '127.0.0.1', () =>
      s.write(
        `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from(`soak:${key}`).toString('base64')}\r\n\r\n`,
      ),
    );
    let got = Buffer.alloc(0);
    let open = false;
    s.setTimeout(30_000, () => s.destroy(new Error('tunnel timed out')));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (!open) {
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!got.subarray(0, 12).toString().startsWith('HTTP/1.1 200'))
          return s.destroy(new Error('refused'));
        open = true;
        got = got.subarray(end + 4);
        s.write(payload);
      }
      if (got.length >= payload.length) {
        s.end();
        resolveTunnel();
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed early')));
  });
}

/**
 * An AWS access key id the guard detects: AKIA and 16 random base32 characters, any of them (one
 * with `XXXX` in it once passed as a placeholder; the allowlist now takes only x-filled values).
 */
function awsKey(): string {
  return `AKIA${[...randomBytes(16)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('')}`;
}

async function one(i: number): Promise<void> {
  await ready;
  if (i % 10 === 8) {
    try {
      await tunnel();
      tunnels++;
    } catch {
      tunnelFailures++;
    }
    return;
  }
  const secret = i % 5 === 2;
  const fault = i % 25 === 24 ? (i % 2 ? 'fault-reset-json' : 'fault-reset-sse') : 'claude-test';
  try {
    const seen = await ask(gw.url, key, {
      model: fault,
      stream: i % 2 === 0,
      text: secret ? `deploy with ${awsKey()} please` : `request ${i}`,
    });
    saw.push(seen);
    lifeRequests++;
    const streamError = /event: error\ndata: .*"api_error".*\n\n$/.test(seen.body);
    count(
      seen.cut
        ? '200 cut (whole answer reset)'
        : streamError
          ? '200 + upstream_stream_error event'
          : (seen.code ?? String(seen.status)),
    );
  } catch {
    clientFailures++;
  }
}

function endLife(): void {
  lives.push({
    pid: gw.pid,
    warmRss,
    endRss: rssOf(gw.pid),
    peakRss: peakOf(gw.pid),
    cpu: cpuOf(gw.pid),
    requests: lifeRequests,
    series,
  });
  lifeRequests = 0;
  series = [];
}

// Faults on a clock: the SIGKILL halfway, backends killed every 20 s with PostgreSQL, and RSS
// after a warm-up (a tenth of each life, at least 15 s).
const warmAfter = Math.max(15_000, (deadline - started) / 10);
const timers: NodeJS.Timeout[] = [];
timers.push(setTimeout(() => (warmRss = rssOf(gw.pid)), warmAfter));
timers.push(
  setTimeout(
    () => {
      let done!: () => void;
      ready = new Promise((r) => (done = r));
      endLife();
      gw.child.kill('SIGKILL');
      void gw.exited.then(async () => {
        gw = await serve(dir);
        proxyPort = await egressPort();
        timers.push(setTimeout(() => (warmRss = rssOf(gw.pid)), warmAfter));
        warmRss = 0;
        done();
      });
    },
    (deadline - started) / 2,
  ),
);
timers.push(
  setInterval(
    () => {
      if (gw.child.exitCode === null && gw.child.signalCode === null)
        series.push(Math.round(rssOf(gw.pid) / 2 ** 20));
    },
    Math.max(5_000, (deadline - started) / 24),
  ),
);
if (pg)
  timers.push(
    setInterval(() => {
      void pg.client
        .query<{ ok: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
          [pg.app],
        )
        .then((r) => (backendsKilled += r.rows.filter((x) => x.ok).length));
    }, 20_000),
  );

let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) await one(next++);
  }),
);
for (const t of timers) clearTimeout(t);
if (!warmRss) warmRss = rssOf(gw.pid);
endLife();
await gw.stop();

// Every request a client saw an id for, and every one the upstream saw, must have a record.
const all = await records(storage, dir);
const wanted = new Set([...saw.map((s) => s.id).filter((id): id is string => !!id), ...up.requestIds]);
const missing = [...wanted].filter((id) => !all.has(id));
const interrupted = [...all.values()].filter((r) => r.errorType === 'gateway_interrupted').length;
const leaked = [...all.values()].filter((r) => /AKIA[A-Z2-7]{16}/.test(r.requestContent ?? '')).length;
const redacted = [...all.values()].filter((r) => r.requestContent?.includes('[REDACTED')).length;
const store = await openStore(storage, dir);
const egressRows = await store.queryEgress({ limit: 1_000_000 });
const egressRecords = egressRows.length;
const egressInterrupted = egressRows.filter((r) => r.error === 'proxy_interrupted').length;
await store.close();
// What the journal still holds after the last stop (a clean stop leaves nothing).
const journalDir = join(dir, '.sluice/journal');
const leftInJournal = readdirSync(journalDir).flatMap((slot) =>
  readdirSync(join(journalDir, slot))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => `${slot}/${f}`),
);

const requests = saw.length;
const cpu = lives.reduce((a, l) => a + l.cpu, 0);
console.log(`soak: ${minutes} min, ${concurrency} clients, store ${pg ? 'PostgreSQL' : 'SQLite'}`);
console.log(`requests answered   ${requests} (${(requests / (minutes * 60)).toFixed(0)}/s)`);
console.log(`answers             ${JSON.stringify(byAnswer)}`);
console.log(`client failures     ${clientFailures} (connections lost to the kill -9)`);
console.log(
  `tunnels             ${tunnels} ok, ${tunnelFailures} failed; ${egressRecords} egress records ` +
    `(${Math.max(0, tunnels - egressRecords)} fewer than tunnels that worked; ${egressInterrupted} proxy_interrupted)`,
);
console.log(`journal left        ${leftInJournal.length ? leftInJournal.join(' ') : 'nothing'}`);
console.log(`upstream resets     ${up.resets}`);
if (pg) console.log(`PG backends killed  ${backendsKilled}`);
console.log(`records             ${all.size} (${interrupted} gateway_interrupted)`);
console.log(`records missing     ${missing.length}`);
console.log(`secrets             ${redacted} records with a redaction, ${leaked} with a key in clear`);
for (const [i, l] of lives.entries())
  console.log(
    `gateway life ${i + 1}      ${l.requests} requests; RSS ${mb(l.warmRss)} after warm-up, ${mb(l.endRss)} at end ` +
      `(${l.endRss >= l.warmRss ? '+' : ''}${mb(l.endRss - l.warmRss)}), peak ${mb(l.peakRss)}; CPU ${l.cpu.toFixed(1)} s`,
  );
for (const [i, l] of lives.entries()) console.log(`RSS, life ${i + 1}       ${l.series.join(' ')} MB`);
console.log(
  `CPU per request     ${((cpu / Math.max(1, requests)) * 1000).toFixed(2)} ms (gateway process, user + system)`,
);

echo.close();
await up.close();
await pg?.drop();
await rm(dir, { recursive: true, force: true });
process.exit(missing.length || leaked || tunnelFailures > lives.length * concurrency ? 1 : 0);
