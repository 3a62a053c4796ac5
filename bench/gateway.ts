/**
 * What a gateway costs a Claude Code client, side by side in one run: the same Messages API load
 * (POST /v1/messages) sent several ways to the upstream stand-in (src/gateway/testing/standin.ts):
 *
 *   (a) direct        straight to the stand-in;
 *   (b) pass-through  a minimal node:http + undici proxy (bench/gateway/pass-through.ts): the floor
 *                     of what any proxy costs;
 *   (c) sluice:none, sluice:redacted, sluice:full
 *                     `sluice serve` with key check, guard (secrets: redact, pii: log) and one audit
 *                     record per request on a SQLite file in a temporary folder, one process per
 *                     content logging mode;
 *   (d) portkey       Portkey's open-source gateway (@portkey-ai/gateway) as a child process, with
 *                     x-portkey-provider: anthropic and x-portkey-custom-host pointing at the stand-in
 *                     (left out of --quick runs, and by --no-portkey).
 *
 * CPU per request is what the cost is judged by (this machine's two cores are shared by client,
 * upstream and server, so latency under load says little): user + system time of all the server's
 * threads, read from /proc before and after each measured batch (bench/gateway/cpu.ts), divided by
 * the requests of the batch, and printed as a ratio to the pass-through's in the same run.
 *
 * Workloads: whole (JSON) and streamed (SSE) answers; Claude Code-shaped bodies of 50, 90 and
 * 500 KB (system prompt, tools, Read results of generated source code without secrets, and a newest
 * turn that differs per request); 1 and 16 requests in flight on keep-alive connections (undici
 * Pool), 64 as well with --c64. At 1 in flight the added p50 and p99 over the pass-through are the
 * latency figures this machine can show.
 * For each workload the routes run interleaved (warm-up a-d, then rounds of a-d), so noise on the
 * machine hits them alike. Reported per route: requests per second, p50/p99 latency to the last byte
 * of the answer, p50 time to the first byte of the body, CPU ms per request, and each against (b).
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
 * Run: node --import tsx bench/gateway.ts [--quick] [--format json] [--no-pin] [--no-portkey] [--c64]
 *        [--only TEXT] [--compare DIR] [--seconds N]
 *   --quick        about a second per route and workload, one round, no portkey (a few minutes)
 *   --format json  machine-readable results on stdout instead of tables
 *   --only TEXT    only the workloads whose label ('stream 90 KB x1', ...) holds TEXT not followed by
 *                  a digit ('x1' does not pick 'x16')
 *   --compare DIR  also DIR's sluice serve (another checkout) as routes base:none, base:redacted
 *   --seconds N    seconds of measured load per route and workload (default 5; more for A/B runs)
 */
import { cpus } from 'node:os';
import { scan } from '../src/guard/scan.js';
import { startStandin } from '../src/gateway/testing/standin.js';
import { messagesBody, type BodyMaker } from './gateway/body.js';
import { cpuNs } from './gateway/cpu.js';
import { client, quantile, run, type Samples, type Target } from './gateway/load.js';
import { spawnSync } from 'node:child_process';
import {
  placement,
  sluiceOrg,
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
const withPortkey = !quick && !argv.includes('--no-portkey');
// --only 'stream 90' runs the workloads whose label ('json 50 KB x1', ...) holds that text, not
// followed by a digit ('x1' is not 'x16').
const onlyAt = argv.indexOf('--only');
const onlyText = onlyAt < 0 ? null : (argv[onlyAt + 1] ?? '');
const only =
  onlyText === null ? null : new RegExp(`${onlyText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`);
// --compare DIR: also run DIR's `sluice serve` (another checkout, e.g. `git archive main` unpacked
// with this node_modules linked in) as routes base:none and base:redacted, for a before/after in one run.
const compareAt = argv.indexOf('--compare');
const compare = compareAt < 0 ? null : (argv[compareAt + 1] ?? '.');
const COMPARED = ['none', 'redacted'] as const;

/** Seconds of measured load per route and workload, split over `ROUNDS` interleaved rounds. */
const secondsAt = argv.indexOf('--seconds');
const SECONDS = secondsAt >= 0 ? Number(argv[secondsAt + 1]) : quick ? 1 : 5;
const ROUNDS = quick ? 1 : 3;
const MIN_REQUESTS = quick ? 20 : 150;
const MAX_REQUESTS = quick ? 300 : 600 * SECONDS;
const MODES = [false, true];
const SIZES_KB = [50, 90, 500];
const CONCURRENCY = argv.includes('--c64') ? [1, 16, 64] : [1, 16];
const CONTENT = ['none', 'redacted', 'full'] as const;
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
  requests: number;
  /** Server CPU ms per request (all its threads); NaN for the direct route (no server process). */
  cpuMs: number;
}

interface Measured extends Samples {
  cpuNs: number;
}

function stats(parts: Measured[]): Stats {
  const total = parts.flatMap((p) => p.total);
  const ttfb = parts.flatMap((p) => p.ttfb);
  const requests = parts.reduce((n, p) => n + p.requests, 0);
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const cpu = parts.reduce((n, p) => n + p.cpuNs, 0);
  return {
    rps: requests / seconds,
    p50: quantile(total, 0.5),
    p99: quantile(total, 0.99),
    ttfb50: quantile(ttfb, 0.5),
    requests,
    cpuMs: cpu / 1e6 / requests,
  };
}

// --- The routes -------------------------------------------------------------------------------------

const standin = await startStandin(UPSTREAM_KEY);
// Nothing reads what the stand-in saw: keep its memory flat over the run.
const clearSeen = setInterval(() => (standin.seen.length = 0), 250);
// Two cores: this process (load generator and stand-in) on CPU 0, the servers under test on CPU 1,
// as a gateway has its own machine or core in production. --no-pin leaves placement to the kernel.
if (!argv.includes('--no-pin') && cpus().length >= 2) {
  const pinned = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]);
  if (pinned.status === 0) placement.serverCpus = '1';
  else progress('taskset not available: processes are not pinned');
}
const pass = await startPassThroughProcess(standin.url);
const sluices = await Promise.all(CONTENT.map((c) => startSluice(standin.url, UPSTREAM_KEY, sluiceOrg(c))));
const bases = compare
  ? await Promise.all(COMPARED.map((c) => startSluice(standin.url, UPSTREAM_KEY, sluiceOrg(c), compare)))
  : [];
let portkey: Awaited<ReturnType<typeof startPortkey>> | null = null;
let portkeyError = withPortkey ? '' : 'left out (--quick or --no-portkey)';
if (withPortkey)
  try {
    portkey = await startPortkey();
  } catch (err) {
    portkeyError = (err as Error).message;
    progress(`portkey: not started (${portkeyError}); its column is left out`);
  }
type Route = Target & { pid: number | null };
const routes: Route[] = [
  { name: 'direct', url: standin.url, headers: { 'x-api-key': UPSTREAM_KEY }, pid: null },
  { name: 'pass-through', url: pass.url, headers: { 'x-api-key': UPSTREAM_KEY }, pid: pass.pid },
  ...CONTENT.map((c, i) => {
    const s = sluices[i] as (typeof sluices)[number];
    return { name: `sluice:${c}`, url: s.url, headers: { 'x-api-key': s.key }, pid: s.pid };
  }),
  ...bases.map((s, i) => ({
    name: `base:${COMPARED[i] as string}`,
    url: s.url,
    headers: { 'x-api-key': s.key },
    pid: s.pid,
  })),
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
    pid: portkey.pid,
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
    ? `load generator and stand-in in this process on CPU 0; every server under test its own process on CPU ${placement.serverCpus}`
    : 'load generator and stand-in in this process; every server under test its own process; not pinned',
);
out(`sluice org: ${sluiceOrg().replace('none', '<mode>')}`);
out(
  `bodies: ${SIZES_KB.map((kb) => `${kb} KB = ${(bodies.get(`${kb}/false`) as BodyMaker).bytes} bytes`).join(', ')}; ` +
    `guard findings per body: ${JSON.stringify(findings)}`,
);
out(
  `latency = ms to the last byte of the answer; ttfb = ms to the first byte of its body; cpu = server ` +
    `CPU ms per request (user + system, all threads); /pt = over the pass-through; +pt = minus the pass-through`,
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
      if (only !== null && !only.test(label)) continue;
      progress(`${label} ...`);
      const body = bodies.get(`${kb}/${stream}`) as BodyMaker;
      const clients = routes.map((t) => client(t, concurrency));
      const errors: Record<string, string> = {};
      const attempt = async (i: number, count: number): Promise<Measured | null> => {
        const c = clients[i] as (typeof clients)[number];
        const pid = (routes[i] as Route).pid;
        if (errors[c.target.name]) return null;
        try {
          const before = pid === null ? NaN : cpuNs(pid);
          const s = await run(c, body, stream, turn, count, concurrency);
          // Work a server does just after its last answer (a batched audit insert) is its cost too.
          await new Promise((r) => setTimeout(r, 10));
          const after = pid === null ? NaN : cpuNs(pid);
          turn += count;
          return { ...s, cpuNs: after - before };
        } catch (err) {
          errors[c.target.name] = (err as Error).message.slice(0, 400);
          return null;
        }
      };
      // Warm-up: opens every connection, and runs each route's code paths hot.
      const warm = quick ? concurrency + 8 : 2 * concurrency + 20;
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
      const parts: Measured[][] = routes.map(() => []);
      for (let r = 0; r < ROUNDS; r++)
        for (const [i] of routes.entries()) {
          const s = await attempt(i, perRound);
          if (s) (parts[i] as Measured[]).push(s);
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
          : stats(parts[i] as Measured[]);
      results.push(row);

      const get = (name: string): Stats | null => {
        const s = row.routes[name];
        return s && !('error' in s) ? s : null;
      };
      const b = get('pass-through');
      out(`\n${label} (${row.requestsPerRoute} requests per route, ${ROUNDS} round(s))`);
      out('route             req/s   req/pt  cpu ms  cpu/pt  p50 ms  p99 ms  ttfb50   +p50pt   +p99pt');
      for (const t of routes) {
        const s = get(t.name);
        if (!s) {
          out(`${t.name.padEnd(14)} failed: ${(row.routes[t.name] as { error: string }).error}`);
          continue;
        }
        out(
          `${t.name.padEnd(14)} ${f(s.rps, 0, 8)} ${f(b ? s.rps / b.rps : NaN, 2, 8)} ${f(s.cpuMs, 3)} ` +
            `${f(b ? s.cpuMs / b.cpuMs : NaN)} ${f(s.p50)} ${f(s.p99)} ${f(s.ttfb50)} ` +
            `${signed(b ? s.p50 - b.p50 : NaN, 8)} ${signed(b ? s.p99 - b.p99 : NaN, 8)}`,
        );
      }
    }

clearInterval(clearSeen);
await portkey?.close();
await Promise.all([...sluices, ...bases].map((s) => s.close()));
await pass.close();
await standin.close();
const seconds = (performance.now() - started) / 1000;

// --- Summary ----------------------------------------------------------------------------------------

const sluiceRoutes = [
  ...CONTENT.map((c) => `sluice:${c}`),
  ...bases.map((_, i) => `base:${COMPARED[i] as string}`),
];
const summary = results.map((r) => {
  const at = (name: string): Stats | null => {
    const s = r.routes[name];
    return s && !('error' in s) ? s : null;
  };
  const b = at('pass-through');
  return {
    workload: `${r.mode} ${r.kb} KB x${r.concurrency}`,
    ...Object.fromEntries(
      sluiceRoutes.map((name) => {
        const s = at(name);
        return [
          name,
          {
            cpuOverPassThrough: s && b ? s.cpuMs / b.cpuMs : NaN,
            rpsOverPassThrough: s && b ? s.rps / b.rps : NaN,
            addedP50Ms: s && b ? s.p50 - b.p50 : NaN,
            addedP99Ms: s && b ? s.p99 - b.p99 : NaN,
          },
        ];
      }),
    ),
  };
});

if (asJson) {
  console.log(
    JSON.stringify({ machine, quick, rounds: ROUNDS, findings, seconds, results, summary }, null, 2),
  );
} else {
  out('\nsummary, each sluice route over the pass-through: CPU per request / req/s / added p50 ms');
  out(`workload             ${sluiceRoutes.map((n) => n.padEnd(26)).join('')}`);
  for (const s of summary) {
    const cells = sluiceRoutes.map((name) => {
      const v = (s as unknown as Record<string, Record<string, number>>)[name] as Record<string, number>;
      return `${f(v.cpuOverPassThrough ?? NaN, 2, 5)} ${f(v.rpsOverPassThrough ?? NaN, 2, 5)} ${signed(v.addedP50Ms ?? NaN, 7)}`.padEnd(
        26,
      );
    });
    out(`${s.workload.padEnd(20)} ${cells.join('')}`);
  }
  out(`\n${results.length} workloads x ${routes.length} routes in ${seconds.toFixed(0)} s`);
}
