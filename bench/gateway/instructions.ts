/**
 * A fixed number of Claude Code-shaped requests through the real gateway in this one process
 * (src/gateway/testing/harness.ts: SQLite store, stand-in upstream, undici client, one session, one
 * request at a time), to be counted by callgrind, which counts instructions and so gives the same
 * figure on a loaded machine. The cost of one request is the difference of two runs divided by the
 * difference of their request counts, which cancels start-up:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node --import tsx \
 *     bench/gateway/instructions.ts --requests 100 [--mode redacted] [--kb 90] [--json]
 *   (and again with --requests 300; callgrind_annotate prints each total)
 *
 * Without valgrind it prints process CPU ms per request, as a quick check.
 */
import { Pool } from 'undici';
import { startHarness } from '../../src/gateway/testing/harness.js';
import { messagesBody } from './body.js';
import { sluiceOrg } from './servers.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (argv[at + 1] ?? fallback);
};
const mode = arg('mode', 'redacted') as 'none' | 'redacted' | 'full';
const requests = Number(arg('requests', '100'));
const kb = Number(arg('kb', '90'));
const stream = !argv.includes('--json');

// Budgets far past what valgrind's slowdown (~50x) needs: a scan or an answer must not time out.
const org = sluiceOrg(mode).replace('pii: log', 'pii: log, timeoutMs: 600000');
const h = await startHarness(org, { timeoutMs: 600_000 });
const pool = new Pool(h.gateway.url, { connections: 1 });
const body = messagesBody(kb * 1024, stream);
const headers = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'x-api-key': h.key,
  'x-claude-code-session-id': 'instructions',
};
// Warm-up, so both runs compile the same code before the requests that differ in number.
const send = async (n: number): Promise<void> => {
  const res = await pool.request({ method: 'POST', path: '/v1/messages', headers, body: body.make(n) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
};
for (let n = 0; n < 50; n++) await send(n);
// Markers for `callgrind_control --dump` (bench/gateway/callgrind.sh): a dump at each counts what ran between.
const marker = async (what: string): Promise<void> => {
  console.log(what);
  if (process.env.BENCH_MARKER_WAIT)
    await new Promise((r) => setTimeout(r, Number(process.env.BENCH_MARKER_WAIT)));
};
await marker('measuring');
const cpu = process.cpuUsage();
for (let n = 0; n < requests; n++) await send(50 + n);
const used = process.cpuUsage(cpu);
await marker('measured');
console.log(
  `${mode} ${stream ? 'stream' : 'json'} ${kb} KB: ${requests} requests, ` +
    `${((used.user + used.system) / 1000 / requests).toFixed(3)} ms CPU per request (whole process)`,
);
await pool.close();
await h.close();
