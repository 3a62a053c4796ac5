/**
 * What company sign-in costs per request, side by side in one run, on the stand-in upstream and the
 * load generator of bench/gateway.ts (same bodies, same keep-alive clients, same CPU accounting):
 *
 *   (a) sluice:key     `sluice serve` with a Sluice key (x-api-key), the baseline;
 *   (b) sluice:token   the same process, the same org, with a sign-in access token (a JWT Sluice
 *                      signed; verified once, then cached; the session re-read every 5 s);
 *   (c) claude-gateway Anthropic's gateway (`claude gateway`, from @anthropic-ai/claude-code
 *                      2.1.330's native binary) with its own access token (HS256, its jwt_secret),
 *                      on a PostgreSQL database of its own, forwarding to the same stand-in.
 *
 * Both gateways run pinned to CPU 1 (the load generator, the stand-in and the OpenID provider
 * that both need at start stay on CPU 0). CPU per request is user + system time of the gateway's
 * threads over each measured batch (bench/gateway/cpu.ts). Sluice does more per request than
 * Anthropic's gateway (guard scan of every body, an audit record on SQLite, budgets): (b)/(a) is
 * the cost of sign-in; (c) is there for scale, not as a like-for-like.
 *
 * Run: node --import tsx bench/signin.ts [--quick] [--format json] [--no-claude]
 *   --quick      about a second per route and workload, one round
 *   --no-claude  leave out (c) (it needs PostgreSQL at 127.0.0.1:5432 and the native binary)
 *
 * Last, in this process and pinned nowhere: the authenticate stage's own work per call, a cached
 * key lookup against a cached access-token verification (CPU µs, least of three interleaved runs),
 * which the machine's noise blurs far less than a whole request's.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';
import pg from 'pg';
import { startStandin } from '../src/gateway/testing/standin.js';
import { SigningKeys } from '../src/signin/tokens.js';
import { freePort, startTestIdp, type TestIdp } from '../src/signin/testing/idp.js';
import { openStore } from '../src/store/index.js';
import { messagesBody } from './gateway/body.js';
import { cpuNs } from './gateway/cpu.js';
import { client, quantile, run, type Samples } from './gateway/load.js';
import { placement, sluiceOrg, spawnNode } from './gateway/servers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const asJson = argv.includes('--format') && argv[argv.indexOf('--format') + 1] === 'json';
const withClaude = !argv.includes('--no-claude');
const SECONDS = quick ? 1 : 4;
const ROUNDS = quick ? 1 : 3;
const UPSTREAM_KEY = `sk-ant-bench-${randomBytes(8).toString('hex')}`;
const PG_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TSX = import.meta.resolve('tsx');

interface Route {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
}

/** `sluice serve` with sign-in on, a key and an access token for one person of org acme. */
async function startSluiceSignIn(upstream: string, idp: TestIdp) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-signin-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const signingKey = randomBytes(32).toString('base64url');
  await writeFile(join(dir, 'signing.key'), signingKey, { mode: 0o600 });
  await writeFile(
    join(dir, 'sluice.yaml'),
    `server: { host: 127.0.0.1, port: ${port} }
storage: sqlite:./bench.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: "${upstream}", apiKey: "\${ANTHROPIC_API_KEY}", timeoutMs: 60000 }
orgs:
  acme: ${sluiceOrg('none')}
signin:
  publicUrl: ${publicUrl}
  issuer: ${idp.issuer}
  clientId: sluice
  clientSecretEnv: SLUICE_OIDC_SECRET
  map: [{ groups: [engineers], org: acme }]
  signingKeys: [./signing.key]
`,
  );
  const main = resolve('src/cli/main.ts');
  const p = await spawnNode(['--import', TSX, main, 'serve'], /listening on (http:\S+)/, {
    cwd: dir,
    env: { ANTHROPIC_API_KEY: UPSTREAM_KEY, SLUICE_OIDC_SECRET: 'bench-client-secret' },
  });
  const store = await openStore('sqlite:./bench.db', dir);
  const { createKey } = await import('../src/control/keys.js');
  const { key } = await createKey(
    store,
    { org: 'acme', user: 'bench@acme.test', role: 'member' },
    new Date(),
  );
  const session = {
    id: `ses_${randomBytes(12).toString('hex')}`,
    org: 'acme',
    subject: 'bench',
    email: 'bench@acme.test',
    name: 'Bench',
    groups: ['engineers'],
    role: 'member' as const,
  };
  const now = new Date();
  await store.signin.insertSession({
    ...session,
    refreshHash: randomBytes(32).toString('hex'),
    createdAt: now.toISOString(),
    refreshedAt: null,
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    revokedAt: null,
  });
  await store.close();
  const token = await new SigningKeys([signingKey]).mint(
    { ...session, sessionId: session.id },
    publicUrl,
    now,
    3600,
  );
  return {
    key: { name: 'sluice:key', url: publicUrl, headers: { 'x-api-key': key }, pid: p.pid },
    token: {
      name: 'sluice:token',
      url: publicUrl,
      headers: { authorization: `Bearer ${token}` },
      pid: p.pid,
    },
    close: async () => {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Anthropic's gateway on a fresh PostgreSQL database, and an access token it accepts. */
async function startClaudeGateway(upstream: string, idp: TestIdp) {
  const db = `sluice_bench_claude_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-claude-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32).toString('base64url');
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${db}`;
  await writeFile(
    join(dir, 'gateway.yaml'),
    `listen: { host: 127.0.0.1, port: ${port}, public_url: ${publicUrl} }
oidc:
  issuer: ${idp.issuer}
  client_id: sluice
  client_secret: bench-client-secret
  scopes: [openid, profile, email, offline_access, groups]
session: { jwt_secret: "${secret}", ttl_hours: 1 }
store: { postgres_url: "${dbUrl.href}" }
upstreams:
  - provider: anthropic
    base_url: ${upstream}
    auth: { api_key: "${UPSTREAM_KEY}" }
models:
  - { id: claude-test, upstream_model: { anthropic: claude-test } }
`,
  );
  const bin = resolve('node_modules/@anthropic-ai/claude-code/bin/claude.exe');
  const args = ['gateway', '--config', join(dir, 'gateway.yaml')];
  const [cmd, list] = placement.serverCpus
    ? ['taskset', ['-c', placement.serverCpus, bin, ...args]]
    : [bin, args];
  const proc = spawn(cmd, list, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: dir, CLAUDE_GATEWAY_ALLOW_LOOPBACK: '1' },
  });
  let log = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((ready, fail) => {
    const seen = (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
      if (/listening on http/.test(log)) ready();
    };
    proc.stdout.on('data', seen);
    proc.stderr.on('data', seen);
    proc.once('exit', (code) => fail(new Error(`claude gateway exited with ${code}: ${log}`)));
  });
  const kid = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  const token = await new SignJWT({ email: 'bench@acme.test', name: 'Bench', groups: ['engineers'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .setSubject('bench')
    .setAudience('claude-gateway')
    .setIssuer(publicUrl)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
  return {
    route: {
      name: 'claude-gateway',
      url: publicUrl,
      headers: { authorization: `Bearer ${token}` },
      pid: proc.pid as number,
    },
    close: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The authenticate stage's own work, in this process: a cached key lookup (what a key costs per
 * request) against a cached access-token verification (what sign-in costs), CPU µs per call.
 */
async function authMicro(): Promise<{ keyUs: number; tokenUs: number; calls: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-auth-'));
  const store = await openStore('sqlite:./auth.db', dir);
  const { createKey, cachedAuthenticator } = await import('../src/control/keys.js');
  const { SignInService } = await import('../src/signin/service.js');
  const { signinSchema } = await import('../src/control/signin-config.js');
  const { key } = await createKey(
    store,
    { org: 'acme', user: 'bench@acme.test', role: 'member' },
    new Date(),
  );
  const signingKey = randomBytes(32).toString('base64url');
  const config = signinSchema.parse({
    publicUrl: 'http://127.0.0.1:1',
    issuer: 'http://127.0.0.1:2',
    clientId: 'sluice',
    clientSecretEnv: 'S',
    signingKeys: ['k'],
    map: [{ org: 'acme', emailDomain: 'acme.test' }],
  });
  const service = new SignInService({
    config,
    store,
    clientSecret: 'x',
    signingKeys: [signingKey],
    settings: [],
  });
  const session = {
    id: 'ses_bench',
    org: 'acme',
    subject: 'b',
    email: 'bench@acme.test',
    name: null,
    groups: [],
    role: 'member' as const,
  };
  const now = new Date();
  await store.signin.insertSession({
    ...session,
    refreshHash: null,
    createdAt: now.toISOString(),
    refreshedAt: null,
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    revokedAt: null,
  });
  const token = await new SigningKeys([signingKey]).mint(
    { ...session, sessionId: session.id },
    config.publicUrl,
    now,
    3600,
  );
  const lookup = cachedAuthenticator(store);
  const calls = quick ? 20_000 : 200_000;
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 1000; i++) await fn();
    const t0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) await fn();
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / calls;
  };
  // Interleaved, three times each; the least of each is the cost with the least noise.
  const keyUs: number[] = [];
  const tokenUs: number[] = [];
  for (let r = 0; r < 3; r++) {
    keyUs.push(await time(() => lookup.lookup(key)));
    tokenUs.push(await time(() => service.verify(token)));
  }
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return { keyUs: Math.min(...keyUs), tokenUs: Math.min(...tokenUs), calls };
}

interface Result {
  route: string;
  workload: string;
  requests: number;
  rps: number;
  p50: number;
  cpuMsPerRequest: number;
}

/** One workload over every route, interleaved: warm-up, then `ROUNDS` measured rounds each. */
async function workload(routes: Route[], stream: boolean, concurrency: number): Promise<Result[]> {
  const body = messagesBody(50 * 1024, stream);
  const clients = routes.map((r) => client({ name: r.name, url: r.url, headers: r.headers }, concurrency));
  let n = 0;
  const rates: number[] = [];
  for (const c of clients) {
    const warm = await run(c, body, stream, (n += 1000), Math.max(20, concurrency * 4), concurrency);
    rates.push(warm.requests / warm.seconds);
  }
  const perRound = Math.max(concurrency * 4, Math.round((Math.min(...rates) * SECONDS) / ROUNDS));
  const totals = routes.map(() => ({ cpu: 0, seconds: 0, requests: 0, total: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++)
    for (const [i, c] of clients.entries()) {
      const pid = routes[i]!.pid;
      const before = cpuNs(pid);
      const s: Samples = await run(c, body, stream, (n += 1000), perRound, concurrency);
      const t = totals[i]!;
      t.cpu += cpuNs(pid) - before;
      t.seconds += s.seconds;
      t.requests += s.requests;
      t.total.push(...s.total);
    }
  await Promise.all(clients.map((c) => c.close()));
  return routes.map((r, i) => {
    const t = totals[i]!;
    return {
      route: r.name,
      workload: `${stream ? 'stream' : 'json'} 50KB c=${concurrency}`,
      requests: t.requests,
      rps: t.requests / t.seconds,
      p50: quantile(t.total, 0.5),
      cpuMsPerRequest: t.cpu / 1e6 / t.requests,
    };
  });
}

function print(results: Result[]): void {
  const rows = [['workload', 'route', 'requests', 'req/s', 'p50 ms', 'CPU ms/req', 'CPU vs sluice:key']];
  for (const r of results) {
    const base = results.find((b) => b.workload === r.workload && b.route === 'sluice:key')!;
    rows.push([
      r.workload,
      r.route,
      String(r.requests),
      r.rps.toFixed(0),
      r.p50.toFixed(2),
      r.cpuMsPerRequest.toFixed(3),
      `${(r.cpuMsPerRequest / base.cpuMsPerRequest).toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ') + '\n');
}

async function main(): Promise<void> {
  if (cpus().length >= 2) placement.serverCpus = '1';
  const standin = await startStandin(UPSTREAM_KEY);
  const idp = await startTestIdp({
    clientId: 'sluice',
    clientSecret: 'bench-client-secret',
    redirectUri: 'http://127.0.0.1:1/oauth/callback',
    users: {},
  });
  const closers: (() => Promise<unknown>)[] = [() => standin.close(), () => idp.close()];
  try {
    const sluice = await startSluiceSignIn(standin.url, idp);
    closers.push(sluice.close);
    const routes: Route[] = [sluice.key, sluice.token];
    if (withClaude) {
      const claude = await startClaudeGateway(standin.url, idp);
      closers.push(claude.close);
      routes.push(claude.route);
    }
    const load = loadavg().map((l) => l.toFixed(2));
    const results: Result[] = [];
    for (const stream of [false, true])
      for (const concurrency of [1, 16]) results.push(...(await workload(routes, stream, concurrency)));
    const auth = await authMicro();
    const after = loadavg().map((l) => l.toFixed(2));
    if (asJson)
      process.stdout.write(
        JSON.stringify({ loadBefore: load, loadAfter: after, results, auth }, null, 2) + '\n',
      );
    else {
      print(results);
      process.stdout.write(
        `authenticate alone, cached, ${auth.calls} calls: key lookup ${auth.keyUs.toFixed(2)} µs CPU/call, ` +
          `access token ${auth.tokenUs.toFixed(2)} µs CPU/call (${(auth.tokenUs / auth.keyUs).toFixed(2)}x)\n`,
      );
      process.stdout.write(`load average before: ${load.join(' ')}; after: ${after.join(' ')}\n`);
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}

await main();
