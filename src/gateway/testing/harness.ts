/** A gateway on a temporary SQLite store in front of a stand-in upstream, for tests and benchmarks. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../control/config.js';
import { createKey } from '../../control/keys.js';
import { applyConfig } from '../../control/orgs.js';
import { openStore } from '../../store/index.js';
import { AuditJournal } from '../../store/journal.js';
import type { Store } from '../../store/types.js';
import { startGateway, type RunningGateway } from '../server.js';
import type { CloudCredentials } from '../upstreams/index.js';
import { startStandin, type Standin } from './standin.js';

export interface Harness {
  gateway: RunningGateway;
  standin: Standin;
  store: Store;
  /** The Sluice key of dev@acme.test in org acme. */
  key: string;
  /** The upstream key the stand-in accepts. */
  upstreamKey: string;
  /** The folder the store lives in: every file the gateway wrote. */
  dir: string;
  /** Every log line the gateway wrote, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  upstreamUrl?: string;
  timeoutMs?: number;
  upstreamKey?: string;
  /** YAML appended at the top level of the configuration (for example `prices:`). */
  topLevel?: string;
  /** The gateway's wall clock. */
  clock?: () => Date;
  /** More `server:` settings, as YAML flow-mapping entries (`requestTimeoutMs: 300`). */
  server?: string;
  /** YAML lines added under `upstreams:` (indented two spaces), for cloud upstreams. */
  upstreams?: string;
  /** Environment for `${VAR}` in the configuration. */
  env?: Record<string, string>;
  /** Where cloud upstreams get their credentials. */
  cloud?: CloudCredentials;
}

/** Starts a stand-in and a gateway whose one org `acme` has the settings `org` (YAML flow mapping). */
export async function startHarness(org: string, opts: HarnessOptions = {}): Promise<Harness> {
  const upstreamKey = opts.upstreamKey ?? 'sk-ant-upstream-harness';
  const dir = await mkdtemp(join(tmpdir(), 'sluice-gw-'));
  const standin = await startStandin(upstreamKey);
  const config = parseConfig(
    `server: { host: 127.0.0.1, port: 0${opts.server ? `, ${opts.server}` : ''} }
storage: sqlite:./gw.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: ${opts.upstreamUrl ?? standin.url}, apiKey: "\${UP}", timeoutMs: ${opts.timeoutMs ?? 2000} }
${opts.upstreams ?? ''}
orgs:
  acme: ${org}
${opts.topLevel ?? ''}
`,
    'test.yaml',
    { UP: upstreamKey, ...opts.env },
  );
  const store = await openStore(config.storage, dir);
  await applyConfig(store, config, new Date());
  const { key } = await createKey(store, { org: 'acme', user: 'dev@acme.test', role: 'member' }, new Date());
  const logs: string[] = [];
  const line = (f: Record<string, unknown>, m: string) => void logs.push(JSON.stringify({ ...f, m }));
  const journal = await AuditJournal.open({
    dir: join(dir, 'journal'),
    store,
    pid: process.pid,
    isAlive: () => false,
    onError: (err, what) => void logs.push(JSON.stringify({ err: err.message, m: what })),
  });
  const gateway = await startGateway({
    config,
    store,
    journal,
    logger: { debug: line, info: line, warn: line, error: line },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.cloud ? { cloud: opts.cloud } : {}),
  });
  return {
    gateway,
    standin,
    store,
    key,
    upstreamKey,
    dir,
    logs,
    close: async () => {
      await gateway.close();
      await journal.close();
      await standin.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
