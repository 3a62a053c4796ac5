/**
 * One workload against one `sluice serve` (or the pass-through) for a fixed number of requests, for
 * profiling a change in isolation: `BENCH_PROFILE_DIR` profiles the server as in bench/gateway.ts,
 * `BENCH_WRAP` runs it under a wrapper (`valgrind --tool=callgrind ...`). Prints the server's CPU ms
 * per request over the measured requests (after a warm-up).
 *
 * Run: node --import tsx bench/gateway/one.ts [--route none|redacted|full|pass-through|ladder:N] [--kb 90]
 *        [--json] [--concurrency 1] [--requests 2000] [--warm 200]
 */
import { startStandin } from '../../src/gateway/testing/standin.js';
import { messagesBody } from './body.js';
import { cpuNs } from './cpu.js';
import { client, quantile, run } from './load.js';
import { sluiceOrg, startLadderProcess, startPassThroughProcess, startSluice } from './servers.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (argv[at + 1] ?? fallback);
};
const route = arg('route', 'redacted');
const kb = Number(arg('kb', '90'));
const stream = !argv.includes('--json');
const concurrency = Number(arg('concurrency', '1'));
const requests = Number(arg('requests', '2000'));
const warm = Number(arg('warm', '200'));
const KEY = 'sk-ant-bench-upstream-key';

const standin = await startStandin(KEY);
const clearSeen = setInterval(() => (standin.seen.length = 0), 250);
const server =
  route === 'pass-through'
    ? { ...(await startPassThroughProcess(standin.url)), key: KEY }
    : route.startsWith('ladder:')
      ? { ...(await startLadderProcess(standin.url, Number(route.slice(7)))), key: KEY }
      : await startSluice(standin.url, KEY, sluiceOrg(route as 'none' | 'redacted' | 'full'));
console.log(`server pid ${server.pid}`);
const c = client({ name: route, url: server.url, headers: { 'x-api-key': server.key } }, concurrency);
const body = messagesBody(kb * 1024, stream);
await run(c, body, stream, 0, warm, concurrency);
await new Promise((r) => setTimeout(r, 50));
console.log('measuring');
const before = cpuNs(server.pid);
const s = await run(c, body, stream, warm, requests, concurrency);
await new Promise((r) => setTimeout(r, 50));
const cpu = (cpuNs(server.pid) - before) / 1e6 / requests;
console.log(
  `${route} ${stream ? 'stream' : 'json'} ${kb} KB x${concurrency}: ${requests} requests, ` +
    `cpu ${cpu.toFixed(3)} ms/request, p50 ${quantile(s.total, 0.5).toFixed(2)} ms, ` +
    `${(s.requests / s.seconds).toFixed(0)} req/s`,
);
await c.close();
clearInterval(clearSeen);
await server.close();
await standin.close();
