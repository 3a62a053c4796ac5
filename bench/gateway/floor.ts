/**
 * The floor under issue 19's CPU targets: what the pieces of work a gateway must do per request and
 * a pass-through does not cost on their own, warm, in this one process, for bench/gateway.ts's
 * streamed Claude Code-shaped body (16 conversations taking turns, as at 16 in flight), beside the
 * pass-through's whole CPU per request measured in the same run (its own process, 16 in flight).
 *
 * The targets allow the gateway 0.3× the pass-through's CPU on top of it with content logging
 * `redacted` (1.3×) and 0.2× with `none` (1.2×). The pieces, each CPU time of this process per
 * request over many requests: the body's copy (node:http hands it over in chunks of up to 64 KB;
 * the figure includes the garbage collections its 90 KB of memory outside V8's heap brings on),
 * the body read resumed from the conversation's previous body, the guard over what is new, the key
 * lookup (cached), the journal's begin and end lines, the store's insert (SQLite, in the batches a
 * 20 ms window holds at 1,200 requests a second) and the usage read of the stand-in's answer. The
 * work that ties them together (the request's context, the stages, undici's request from a buffer,
 * the answer's relay) is not in the sum: the sum is a floor, not an estimate.
 *
 * Run: node --import tsx bench/gateway/floor.ts [--kb 90] [--requests 20000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { parseConfig } from '../../src/control/config.js';
import { cachedAuthenticator, createKey } from '../../src/control/keys.js';
import { readMessagesBody, type Resume } from '../../src/gateway/body.js';
import { inspect, priorOf } from '../../src/gateway/inspect.js';
import { startStandin } from '../../src/gateway/testing/standin.js';
import { SseUsageReader } from '../../src/gateway/usage.js';
import { ScanCache } from '../../src/guard/cache.js';
import { prepareScan } from '../../src/guard/scan.js';
import { AuditJournal } from '../../src/store/journal.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { AuditRecord, Store } from '../../src/store/types.js';
import { auditRecord } from '../audit-record.js';
import { messagesBody } from './body.js';
import { cpuNs } from './cpu.js';
import { client, run } from './load.js';
import { startPassThroughProcess } from './servers.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (argv[at + 1] ?? fallback);
};
const KB = Number(arg('kb', '90'));
const N = Number(arg('requests', '20000'));
const SESSIONS = 16;
const KEY = 'sk-ant-bench-upstream-key';

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs of this process per call of `step(i)`, over `n` calls after `n / 10` to warm up. */
async function perCall(n: number, step: (i: number) => void | Promise<void>): Promise<number> {
  for (let i = 0; i < n / 10; i++) await step(i);
  const before = cpuUs();
  for (let i = 0; i < n; i++) await step(i);
  return (cpuUs() - before) / n;
}

const maker = messagesBody(KB * 1024, true);
const bodies = Array.from({ length: 2 * SESSIONS + 64 }, (_v, i) => maker.make(i));
const bodyOf = (i: number): Buffer => bodies[i % bodies.length] as Buffer;

/** A body as node:http delivers it: 64 KB chunks, just written (in the cache), as a socket's read leaves them. */
const chunks: Buffer[] = [];
for (let at = 0; at < bodyOf(0).length; at += 65536)
  chunks.push(Buffer.from(bodyOf(0).subarray(at, at + 65536)));

const org = parseConfig(
  'upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\n' +
    'orgs: { acme: { upstream: a, contentLogging: redacted, guard: { secrets: redact, pii: log } } }',
  'floor.yaml',
  {},
).orgs.acme!;

/** CPU µs per request of the body read (and the guard after it), 16 conversations taking turns. */
function turns(guard: boolean): Promise<number> {
  const cache = new ScanCache();
  const last: (Resume | undefined)[] = new Array<Resume | undefined>(SESSIONS);
  return perCall(N, (i) => {
    const s = i % SESSIONS;
    const b = bodyOf(i);
    const m = readMessagesBody(b, true, last[s]);
    if (guard) m.resume.results = inspect(b, m.content, org, cache, Date.now() + 60_000, priorOf(m)).results;
    last[s] = m.resume;
  });
}

async function pieces(dir: string): Promise<[string, number][]> {
  prepareScan();
  const out: [string, number][] = [];
  out.push(['copy the body (Buffer.concat)', await perCall(N, () => void Buffer.concat(chunks))]);
  // 16 conversations taking turns: each read resumes from its own previous body. The guard's cost
  // is read and guard together less the read alone.
  const readUs = await turns(false);
  out.push(['read the body, resumed', readUs]);
  out.push(['the guard over what is new (inspect)', (await turns(true)) - readUs]);
  const store = new SqliteStore(join(dir, 'audit.db'));
  await store.migrate();
  const { key } = await createKey(store, { org: 'acme', user: 'u@acme.test', role: 'member' }, new Date());
  const auth = cachedAuthenticator(store);
  out.push(['the key lookup (cached)', await perCall(N, () => auth.lookup(key).then(() => undefined))]);
  const nothing = (async () => undefined) as unknown as Store['insertAudit'];
  const journal = await AuditJournal.open({
    dir: join(dir, 'journal'),
    store: { insertAudit: nothing, insertAudits: nothing, insertEgress: nothing } as unknown as Store,
    pid: process.pid,
    isAlive: () => false,
    onError: () => undefined,
  });
  // Records made beforehand (a record's id and time cost more to make than to journal).
  const journaled = Array.from({ length: 64 }, () => auditRecord());
  out.push([
    'journal: begin and end lines',
    await perCall(N, (i) => {
      const r = journaled[i % journaled.length] as AuditRecord;
      journal.begin(r);
      journal.end(r);
    }),
  ]);
  await journal.close();
  const batch = 24;
  const records = (n: number): AuditRecord[] => Array.from({ length: n }, () => auditRecord({ org: 'acme' }));
  const storeUs = await perCall(N / batch, () => store.insertAudits(records(batch)));
  const makeUs = await perCall(N / batch, () => void records(batch));
  out.push([`store insert (SQLite, ${batch} per commit)`, (storeUs - makeUs) / batch]);
  await store.close();
  out.push(['usage read of the answer', await usageUs()]);
  return out;
}

/** The stand-in's streamed answer, read by the relay's usage reader. */
async function usageUs(): Promise<number> {
  const standin = await startStandin(KEY);
  try {
    const res = await request(`${standin.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: bodyOf(0),
    });
    const answer = Buffer.from(await res.body.arrayBuffer());
    return await perCall(N, () => new SseUsageReader().push(answer));
  } finally {
    await standin.close();
  }
}

/** The pass-through's CPU µs per request: its own process, 16 in flight, this body. */
async function passThroughUs(): Promise<number> {
  const standin = await startStandin(KEY);
  const clearSeen = setInterval(() => (standin.seen.length = 0), 250);
  const server = await startPassThroughProcess(standin.url);
  const c = client({ name: 'pass-through', url: server.url, headers: { 'x-api-key': KEY } }, SESSIONS);
  try {
    await run(c, maker, true, 0, 1000, SESSIONS);
    const before = cpuNs(server.pid);
    const requests = 4000;
    await run(c, maker, true, 1000, requests, SESSIONS);
    return (cpuNs(server.pid) - before) / 1000 / requests;
  } finally {
    await c.close();
    clearInterval(clearSeen);
    await server.close();
    await standin.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-floor-'));
try {
  console.log(
    `streamed ${KB} KB Claude Code-shaped body (${bodyOf(0).length} bytes), ${SESSIONS} conversations ` +
      `taking turns, ${N} requests per piece; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const pt = await passThroughUs();
  const list = await pieces(dir);
  const sum = list.reduce((a, [, us]) => a + us, 0);
  for (const [what, us] of list) console.log(`${what.padEnd(42)} ${us.toFixed(1).padStart(7)} µs`);
  console.log(
    `${'sum (a floor: the glue between them is not in it)'.padEnd(42)} ${sum.toFixed(1).padStart(7)} µs`,
  );
  console.log(`${'pass-through, whole request (16 in flight)'.padEnd(42)} ${pt.toFixed(1).padStart(7)} µs`);
  for (const [target, share] of [
    ['1.3× (guard on, content redacted)', 0.3],
    ['1.2× (content logging none)', 0.2],
  ] as const)
    console.log(
      `room under ${target}: ${(share * pt).toFixed(1)} µs; the floor is ${(sum / (share * pt)).toFixed(2)}× that`,
    );
} finally {
  await rm(dir, { recursive: true, force: true });
}
