/**
 * What the Bedrock route costs next to the Anthropic route, against the floor of any proxy.
 * One `sluice serve` process with two orgs (same guard, same audit record on SQLite): `api` goes to
 * a Messages API stand-in, `aws` to the Bedrock stand-in (src/gateway/testing/clouds.ts), so each
 * of its requests is translated, SigV4-signed with credentials from the AWS default chain (the
 * process environment) and its binary event stream decoded back into server-sent events. The floor
 * is the minimal node:http + undici proxy of bench/gateway/pass-through.ts in front of the
 * Messages stand-in.
 *
 * Measured per route, interleaved in rounds so machine noise hits them alike: requests per second,
 * p50 latency to the last byte, and CPU per request of the server process (user + system time from
 * /proc/<pid>/stat across the route's batches, divided by its requests). The load generator and
 * the stand-ins run in this process on CPU 0; the servers under test are pinned to CPU 1.
 *
 * Run: node --import tsx bench/cloud-routes.ts [--quick] [--format json]
 * Profile: BENCH_PROFILE_DIR=/tmp/prof node --import tsx bench/cloud-routes.ts --quick
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { awsTestCredentials, startBedrockStandin } from '../src/gateway/testing/clouds.js';
import { startStandin } from '../src/gateway/testing/standin.js';
import { messagesBody } from './gateway/body.js';
import { client, quantile, run, type Target } from './gateway/load.js';
import { placement, spawnNode, startPassThroughProcess } from './gateway/servers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const asJson = argv.includes('--format') && argv[argv.indexOf('--format') + 1] === 'json';
const TSX = import.meta.resolve('tsx');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const progress = (m: string) => process.stderr.write(`${m}\n`);

/** User + system CPU milliseconds the process has used so far. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

if (cpus().length >= 2 && spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]).status === 0)
  placement.serverCpus = '1';

const UPSTREAM_KEY = 'sk-ant-bench';
const standin = await startStandin(UPSTREAM_KEY);
const creds = awsTestCredentials();
const aws = await startBedrockStandin({ region: 'us-east-1', credentials: creds });
const clearSeen = setInterval(() => {
  for (const s of [standin.seen, aws.seen, aws.inner.seen]) s.length = 0;
}, 250);

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-cloud-'));
await writeFile(
  join(dir, 'sluice.yaml'),
  `server: { host: 127.0.0.1, port: 0 }
storage: sqlite:./bench.db
upstreams:
  api: { provider: anthropic, baseUrl: "${standin.url}", apiKey: "${UPSTREAM_KEY}", timeoutMs: 60000 }
  aws: { provider: bedrock, region: us-east-1, baseUrl: "${aws.url}", timeoutMs: 60000, models: { claude-test: "us.anthropic.claude-test-v1:0" } }
orgs:
  api: { upstream: api, contentLogging: none, guard: { secrets: redact, pii: log } }
  aws: { upstream: aws, contentLogging: none, guard: { secrets: redact, pii: log } }
`,
);
const main = resolve('src/cli/main.ts');
const keyOf = (org: string) => {
  const r = spawnSync(
    process.execPath,
    ['--import', TSX, main, 'keys', 'create', '--org', org, '--user', `bench@${org}.test`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trimEnd().split('\n').pop() as string;
};
const keys = { api: keyOf('api'), aws: keyOf('aws') };
// BENCH_PROFILE_DIR=/tmp/prof writes a CPU profile of `sluice serve` there when it exits.
const profile = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  : [];
const sluice = await spawnNode([...profile, '--import', TSX, main, 'serve'], /listening on (http:\S+)/, {
  cwd: dir,
  env: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey },
});
const sluiceUrl = sluice.match[1] as string;
const pass = await startPassThroughProcess(standin.url);
interface Route {
  target: Target;
  pid: number;
}
const routes: Route[] = [
  { target: { name: 'pass-through', url: pass.url, headers: { 'x-api-key': UPSTREAM_KEY } }, pid: pass.pid },
  {
    target: { name: 'sluice anthropic', url: sluiceUrl, headers: { 'x-api-key': keys.api } },
    pid: sluice.pid,
  },
  { target: { name: 'sluice bedrock', url: sluiceUrl, headers: { 'x-api-key': keys.aws } }, pid: sluice.pid },
];

const workloads = [
  { stream: true, bytes: 50_000, concurrency: 16 },
  { stream: false, bytes: 50_000, concurrency: 16 },
  { stream: true, bytes: 50_000, concurrency: 1 },
];
const ROUNDS = quick ? 2 : 5;
const PER_ROUND = quick ? 40 : 300;
const results: Record<string, unknown>[] = [];
let turn = 0;
for (const w of workloads) {
  const body = messagesBody(w.bytes, w.stream);
  const label = `${w.stream ? 'stream' : 'whole'} ${w.bytes / 1000} KB @${w.concurrency}`;
  const acc = new Map<string, { total: number[]; seconds: number; requests: number; cpu: number }>();
  const clients = routes.map((r) => ({ route: r, c: client(r.target, w.concurrency) }));
  for (const { c } of clients) await run(c, body, w.stream, (turn += 1000), 20, w.concurrency);
  for (let round = 0; round < ROUNDS; round++)
    for (const { route, c } of clients) {
      const before = cpuMs(route.pid);
      const s = await run(c, body, w.stream, (turn += 1000), PER_ROUND, w.concurrency);
      const a = acc.get(route.target.name) ?? { total: [], seconds: 0, requests: 0, cpu: 0 };
      a.total.push(...s.total);
      a.seconds += s.seconds;
      a.requests += s.requests;
      a.cpu += cpuMs(route.pid) - before;
      acc.set(route.target.name, a);
    }
  for (const { c } of clients) await c.close();
  for (const [name, a] of acc)
    results.push({
      workload: label,
      route: name,
      rps: a.requests / a.seconds,
      p50: quantile(a.total, 0.5),
      cpuMsPerRequest: a.cpu / a.requests,
    });
  progress(`done: ${label}`);
}

clearInterval(clearSeen);
await sluice.close();
await pass.close();
await aws.close();
await standin.close();
await rm(dir, { recursive: true, force: true });

if (asJson)
  process.stdout.write(`${JSON.stringify({ pinned: placement.serverCpus !== null, results }, null, 2)}\n`);
else {
  const f = (n: unknown, d = 1) => (typeof n === 'number' ? n.toFixed(d) : '?');
  process.stdout.write(
    `cloud routes on ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${quick ? 'quick' : 'full'} run; servers ${placement.serverCpus ? 'pinned to CPU 1' : 'not pinned'}\n\n`,
  );
  process.stdout.write('workload               route              req/s    p50 ms   CPU ms/req\n');
  for (const r of results)
    process.stdout.write(
      `${String(r.workload).padEnd(22)} ${String(r.route).padEnd(17)} ${f(r.rps).padStart(7)} ${f(r.p50, 2).padStart(9)} ${f(r.cpuMsPerRequest, 3).padStart(11)}\n`,
    );
}
