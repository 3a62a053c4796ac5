/**
 * What a gateway costs a Claude Code client, side by side in one run: the same Messages API load
 * (POST /v1/messages) sent four ways to the upstream stand-in (src/gateway/testing/standin.ts):
 *
 *   (a) direct        straight to the stand-in;
 *   (b) pass-through  a minimal node:http + undici proxy (bench/gateway/pass-through.ts): the floor
 *                     of what any proxy costs;
 *   (c) sluice        `sluice serve` with key check, guard (secrets: redact, pii: log) and one audit
 *                     record per request on a SQLite file in a temporary folder;
 *   (d) portkey       Portkey's open-source gateway (@portkey-ai/gateway) as a child process, with
 *                     x-portkey-provider: anthropic and x-portkey-custom-host pointing at the stand-in.
 *
 * Workloads: whole (JSON) and streamed (SSE) answers; Claude Code-shaped bodies of 50 KB and 500 KB
 * (system prompt, tools, Read results of generated source code without secrets, and a newest turn
 * that differs per request); 1, 16 and 64 requests in flight on keep-alive connections (undici Pool).
 * For each workload the routes run interleaved (warm-up a-d, then rounds of a-d), so noise on the
 * machine hits them alike. Reported per route: requests per second, p50/p99 latency to the last byte
 * of the answer, p50 time to the first byte of the body, and each against (a) and (b).
 *
 * The load generator and the stand-in run in this process, pinned to CPU 0; (b), (c) and (d) are
 * each a process of their own pinned to CPU 1 (`taskset`; `--no-pin` leaves placement to the
 * kernel), so the server under test has a core to itself as a gateway does in production, and the
 * client side costs every route the same. The ratios are what to compare. The stand-in parses every body it receives, so
 * the upstream's own cost is part of every route's numbers, (a) included. Requests per route are the
 * same for every route of a workload, sized from the slowest route's warm-up rate.
 *
 * Portkey 1.15.2 answers every streamed /v1/messages with a 500 under the @hono/node-server it
 * resolves here ("TypeError: immutable"); bench/gateway/portkey-fetch-shim.mjs, preloaded into its
 * process, works around that without changing what it does per request (see that file).
 *
 * To profile Sluice under this load: BENCH_PROFILE_DIR=/tmp/prof node --import tsx bench/gateway.ts
 * (a CPU profile of `sluice serve` is written there when the run ends).
 *
 * Run: node --import tsx bench/gateway.ts [--quick] [--format json] [--no-pin]
 *   --quick        a few requests per route (under a minute in all)
 *   --format json  machine-readable results on stdout instead of tables
 */
import { cpus } from 'node:os';
import { scan } from '../src/guard/scan.js';
import { startStandin } from '../src/gateway/testing/standin.js';
import { messagesBody, type BodyMaker } from './gateway/body.js';
import { client, quantile, run, type Samples, type Target } from './gateway/load.js';
import { spawnSync } from 'node:child_process';
import {
  placement,
  SLUICE_ORG,
  startPassThroughProcess,
  startPortkey,
  startSluice,
} from './gateway/servers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const formatAt = argv.findIndex((a) => a === '--format' || a.startsWith('--format='));
const format = formatAt < 0 ? 'table' : (argv[formatAt]?.split('=')[1] ?? argv[formatAt + 1] ?? 'table');
if (format !== 'table' && format !== 'json')
  throw new Error(`--format: expected table or json, got ${format}`);
const asJson = format === 'json';

/** Seconds of measured load per route and workload, split over `ROUNDS` interleaved rounds. */
const SECONDS = quick ? 0.25 : 5;
const ROUNDS = quick ? 1 : 3;
const MIN_REQUESTS = quick ? 12 : 150;
const MAX_REQUESTS = quick ? 400 : 4000;
const MODES = [false, true];
const SIZES_KB = [50, 500];
const CONCURRENCY = [1, 16, 64];
const UPSTREAM_KEY = 'sk-ant-bench-upstream-key';

const out = (line = ''): void => {
  if (!asJson) console.log(line);
};
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

interface Stats {
  rps: number;
  p50: number;
  p99: number;
  ttfb50: number;
  ttfb99: number;
  requests: number;
}

function stats(parts: Samples[]): Stats {
  const total = parts.flatMap((p) => p.total);
  const ttfb = parts.flatMap((p) => p.ttfb);
  const requests = parts.reduce((n, p) => n + p.requests, 0);
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  return {
    rps: requests / seconds,
    p50: quantile(total, 0.5),
    p99: quantile(total, 0.99),
    ttfb50: quantile(ttfb, 0.5),
    ttfb99: quantile(ttfb, 0.99),
    requests,
  };
}

// --- The four routes -----------------------------------------------------------------------------

const standin = await startStandin(UPSTREAM_KEY);
// Nothing reads what the stand-in saw: keep its memory flat over the run.
const clearSeen = setInterval(() => (standin.seen.length = 0), 250);
// Two cores: this process (load generator and stand-in) on CPU 0, the server under test on CPU 1,
// as a gateway has its own machine or core in production. --no-pin leaves placement to the kernel.
if (!argv.includes('--no-pin') && cpus().length >= 2) {
  const pinned = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]);
  if (pinned.status === 0) placement.serverCpus = '1';
  else progress('taskset not available: processes are not pinned');
}
const pass = await startPassThroughProcess(standin.url);
const sluice = await startSluice(standin.url, UPSTREAM_KEY);
let portkey: Awaited<ReturnType<typeof startPortkey>> | null = null;
let portkeyError = '';
try {
  portkey = await startPortkey();
} catch (err) {
  portkeyError = (err as Error).message;
  progress(`portkey: not started (${portkeyError}); its column is left out`);
}
const routes: Target[] = [
  { name: 'direct', url: standin.url, headers: { 'x-api-key': UPSTREAM_KEY } },
  { name: 'pass-through', url: pass.url, headers: { 'x-api-key': UPSTREAM_KEY } },
  { name: 'sluice', url: sluice.url, headers: { 'x-api-key': sluice.key } },
];
if (portkey)
  routes.push({
    name: 'portkey',
    url: portkey.url,
    headers: {
      'x-portkey-provider': 'anthropic',
      'x-portkey-custom-host': `${standin.url}/v1`,
      'x-api-key': UPSTREAM_KEY,
    },
  });

// --- Bodies, and a check that they hold nothing the guard would redact ----------------------------

const bodies = new Map<string, BodyMaker>();
for (const kb of SIZES_KB)
  for (const stream of MODES) bodies.set(`${kb}/${stream}`, messagesBody(kb * 1024, stream));
const findings: Record<string, Record<string, number>> = {};
for (const kb of SIZES_KB) {
  const counts: Record<string, number> = {};
  for (const text of (bodies.get(`${kb}/false`) as BodyMaker).texts)
    for (const d of scan(text)) counts[`${d.kind}:${d.rule}`] = (counts[`${d.kind}:${d.rule}`] ?? 0) + 1;
  findings[`${kb}KB`] = counts;
  if (Object.keys(counts).some((k) => k.startsWith('secret:')))
    progress(`warning: the ${kb} KB body holds text the guard takes for a secret: ${JSON.stringify(counts)}`);
}

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? '?',
  node: process.version,
  portkey: portkey ? `child process pid ${portkey.pid}` : `not running: ${portkeyError}`,
};
out(
  `gateway cost on ${machine.cpus} x ${machine.cpu}, Node ${machine.node}; ${quick ? 'quick run' : 'full run'}`,
);
out(
  placement.serverCpus
    ? `load generator and stand-in in this process on CPU 0; pass-through, sluice serve and portkey each their own process on CPU ${placement.serverCpus}`
    : 'load generator and stand-in in this process; pass-through, sluice serve and portkey each their own process; not pinned',
);
out(`sluice org: ${SLUICE_ORG}`);
out(
  `bodies: ${SIZES_KB.map((kb) => `${kb} KB = ${(bodies.get(`${kb}/false`) as BodyMaker).bytes} bytes`).join(', ')}; ` +
    `guard findings per body: ${JSON.stringify(findings)}`,
);
out(
  `latency = ms to the last byte of the answer; ttfb = ms to the first byte of its body; ` +
    `+x = route minus direct; xa, xb = req/s over direct, over pass-through`,
);

// --- Workloads, routes interleaved ------------------------------------------------------------------

interface Workload {
  mode: 'json' | 'stream';
  kb: number;
  bodyBytes: number;
  concurrency: number;
  requestsPerRoute: number;
  routes: Record<string, Stats | { error: string }>;
}
const results: Workload[] = [];
let turn = 0;
const started = performance.now();

const f = (x: number, digits = 2, width = 7): string =>
  (Number.isFinite(x) ? x.toFixed(digits) : '-').padStart(width);
const signed = (x: number, width = 7): string =>
  (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(2) : '-').padStart(width);

for (const stream of MODES)
  for (const kb of SIZES_KB)
    for (const concurrency of CONCURRENCY) {
      const mode = stream ? 'stream' : 'json';
      const label = `${mode} ${kb} KB x${concurrency}`;
      progress(`${label} ...`);
      const body = bodies.get(`${kb}/${stream}`) as BodyMaker;
      const clients = routes.map((t) => client(t, concurrency));
      const errors: Record<string, string> = {};
      const attempt = async (i: number, count: number): Promise<Samples | null> => {
        const c = clients[i] as (typeof clients)[number];
        if (errors[c.target.name]) return null;
        try {
          const s = await run(c, body, stream, turn, count, concurrency);
          turn += count;
          return s;
        } catch (err) {
          errors[c.target.name] = (err as Error).message.slice(0, 400);
          return null;
        }
      };
      // Warm-up: opens every connection, and runs each route's code paths hot.
      const warm = quick ? concurrency + 4 : 2 * concurrency + 20;
      let slowest = Infinity;
      for (const [i] of routes.entries()) {
        const s = await attempt(i, warm);
        if (s) slowest = Math.min(slowest, s.requests / s.seconds);
      }
      const perRoute = Math.min(
        MAX_REQUESTS,
        Math.max(MIN_REQUESTS, 4 * concurrency, Math.round((slowest * SECONDS) / ROUNDS) * ROUNDS),
      );
      const perRound = Math.ceil(perRoute / ROUNDS);
      const parts: Samples[][] = routes.map(() => []);
      for (let r = 0; r < ROUNDS; r++)
        for (const [i] of routes.entries()) {
          const s = await attempt(i, perRound);
          if (s) (parts[i] as Samples[]).push(s);
        }
      await Promise.all(clients.map((c) => c.close()));
      const row: Workload = {
        mode,
        kb,
        bodyBytes: body.bytes,
        concurrency,
        requestsPerRoute: perRound * ROUNDS,
        routes: {},
      };
      for (const [i, t] of routes.entries())
        row.routes[t.name] = errors[t.name]
          ? { error: errors[t.name] as string }
          : stats(parts[i] as Samples[]);
      results.push(row);

      const get = (name: string): Stats | null => {
        const s = row.routes[name];
        return s && !('error' in s) ? s : null;
      };
      const a = get('direct');
      const b = get('pass-through');
      out(`\n${label} (${row.requestsPerRoute} requests per route, ${ROUNDS} round(s))`);
      out('route           req/s      xa      xb  p50 ms  p99 ms  ttfb50    +p50    +p99  +ttfb50');
      for (const t of routes) {
        const s = get(t.name);
        if (!s) {
          out(`${t.name.padEnd(12)} failed: ${(row.routes[t.name] as { error: string }).error}`);
          continue;
        }
        out(
          `${t.name.padEnd(12)} ${f(s.rps, 0, 8)} ${f(a ? s.rps / a.rps : NaN)} ${f(b ? s.rps / b.rps : NaN)} ` +
            `${f(s.p50)} ${f(s.p99)} ${f(s.ttfb50)} ${signed(a ? s.p50 - a.p50 : NaN)} ` +
            `${signed(a ? s.p99 - a.p99 : NaN)} ${signed(a ? s.ttfb50 - a.ttfb50 : NaN, 8)}`,
        );
      }
      const c = get('sluice');
      const d = get('portkey');
      if (c && b && a)
        out(
          `  sluice/passthrough throughput ratio ${(c.rps / b.rps).toFixed(2)}; ` +
            `sluice vs portkey ${d ? `${(c.rps / d.rps).toFixed(2)}x req/s, p99 ${signed(c.p99 - d.p99, 0)} ms` : 'n/a'}; ` +
            `sluice added p99 ${signed(c.p99 - a.p99, 0)} ms${concurrency === 16 ? ' (@16)' : ''}`,
        );
    }

clearInterval(clearSeen);
await portkey?.close();
await sluice.close();
await pass.close();
await standin.close();
const seconds = (performance.now() - started) / 1000;

// --- Summary ----------------------------------------------------------------------------------------

const summary = SIZES_KB.flatMap((kb) =>
  MODES.map((stream) => {
    const rows = results.filter((r) => r.kb === kb && r.mode === (stream ? 'stream' : 'json'));
    const at = (conc: number, name: string): Stats | null => {
      const s = rows.find((r) => r.concurrency === conc)?.routes[name];
      return s && !('error' in s) ? s : null;
    };
    const ratio = (conc: number, x: string, y: string): number => {
      const p = at(conc, x);
      const q = at(conc, y);
      return p && q ? p.rps / q.rps : NaN;
    };
    const added16 = (at(16, 'sluice')?.p99 ?? NaN) - (at(16, 'direct')?.p99 ?? NaN);
    const overPass16 = (at(16, 'sluice')?.p99 ?? NaN) - (at(16, 'pass-through')?.p99 ?? NaN);
    return {
      workload: `${stream ? 'stream' : 'json'} ${kb} KB`,
      sluiceOverPassThrough: Object.fromEntries(
        CONCURRENCY.map((n) => [n, ratio(n, 'sluice', 'pass-through')]),
      ),
      sluiceOverPortkey: Object.fromEntries(CONCURRENCY.map((n) => [n, ratio(n, 'sluice', 'portkey')])),
      sluiceAddedP99At16: added16,
      sluiceP99OverPassThroughAt16: overPass16,
    };
  }),
);

if (asJson) {
  console.log(
    JSON.stringify(
      { machine, quick, rounds: ROUNDS, sluiceOrg: SLUICE_ORG, findings, seconds, results, summary },
      null,
      2,
    ),
  );
} else {
  out(`\nsummary (throughput ratios at concurrency ${CONCURRENCY.join(' / ')}):`);
  out(
    'workload          sluice/passthrough     sluice/portkey         sluice added p99 @16 (over pass-through)',
  );
  for (const s of summary) {
    const three = (o: Record<string, number>): string =>
      CONCURRENCY.map((n) => f(o[n] ?? NaN, 2, 5))
        .join(' ')
        .padEnd(22);
    out(
      `${s.workload.padEnd(17)} ${three(s.sluiceOverPassThrough)} ${three(s.sluiceOverPortkey)} ${signed(s.sluiceAddedP99At16, 0)} ms (${signed(s.sluiceP99OverPassThroughAt16, 0)} ms)`,
    );
  }
  out(`\n${results.length} workloads x ${routes.length} routes in ${seconds.toFixed(0)} s`);
}
