/**
 * Publishing the admin log's checkpoints where the store's owner cannot rewrite them: every entry a
 * process appends is signed right away and written to an append-only file (fsynced before the admin
 * action returns), to the log stream (serve's stderr, one JSON line), and POSTed to a webhook
 * (retried in the background). `startCheckpoints` is what `sluice serve` calls; CLI verbs that
 * append use `attachCheckpoints`. docs/admin-log.md says why every append, and what that guarantees.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import type { Store } from '../store/types.js';
import { onAdminLogAppend } from './admin-log.js';
import {
  compareWithCheckpoints,
  describeProblem,
  signCheckpoint,
  trustedCheckpoints,
  type Checkpoint,
  type CheckpointFields,
  type CheckpointSource,
} from './admin-log-checkpoint.js';
import {
  loadOrCreateSigningKey,
  loadSigningKey,
  parsePublicKey,
  type SigningKey,
  type TrustedKey,
} from './admin-log-key.js';
import type { AdminLogConfig } from './config.js';

/** `adminLog:` with paths made absolute and defaults filled in. */
export interface AdminLogSettings {
  keyFile: string;
  publicKey: string | undefined;
  checkpointFile: string;
  signer: string;
  webhook: { url: string; headers: Record<string, string>; attempts: number } | undefined;
  trust: { publicKey: string; checkpoints: string | undefined }[];
}

/** Resolves `config` against the folder of the config file; the signer defaults to `host`. */
export function adminLogSettings(
  config: AdminLogConfig,
  configDir: string,
  host: string = hostname(),
): AdminLogSettings {
  return {
    keyFile: resolve(configDir, config.key),
    publicKey: config.publicKey,
    checkpointFile: resolve(configDir, config.checkpoints),
    signer: config.signer ?? host,
    webhook: config.webhook,
    trust: config.trust.map((t) => ({
      publicKey: t.publicKey,
      checkpoints: t.checkpoints === undefined ? undefined : resolve(configDir, t.checkpoints),
    })),
  };
}

/** The keys checkpoints may be signed with: this gateway's (given, or from settings) and `trust`'s. */
export async function trustedKeys(settings: AdminLogSettings, own?: TrustedKey): Promise<TrustedKey[]> {
  let mine = own ?? (settings.publicKey === undefined ? undefined : parsePublicKey(settings.publicKey));
  if (!mine) {
    try {
      mine = await loadSigningKey(settings.keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new Error(
        `no public key to check the admin log with: ${settings.keyFile} does not exist and adminLog.publicKey is not set (sluice serve or sluice admin-log key makes the key)`,
        { cause: err },
      );
    }
  }
  const all = [mine, ...settings.trust.map((t) => parsePublicKey(t.publicKey))];
  return [...new Map(all.map((k) => [k.id, k])).values()];
}

/** The checkpoint files to read: this gateway's, `trust`'s, and `extra` (log archives, say). */
export async function checkpointSources(
  settings: AdminLogSettings,
  extra: readonly string[] = [],
): Promise<CheckpointSource[]> {
  const paths = [settings.checkpointFile, ...settings.trust.flatMap((t) => t.checkpoints ?? []), ...extra];
  return Promise.all(
    [...new Set(paths)].map(async (path) => {
      try {
        return { path, text: await readFile(path, 'utf8') };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, text: undefined };
        throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
}

/** pino's shape, as much of it as is used here. */
export interface CheckpointLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** POSTs `body` (JSON) and resolves to the status code; the network enters here. */
export type WebhookPost = (
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
) => Promise<number>;

export interface CheckpointDeps {
  now: () => Date;
  /** Problems go to `error`; with `stream`, every checkpoint goes to `info` as `adminLogCheckpoint`. */
  logger: CheckpointLogger;
  /** Write each checkpoint to the log stream (serve: yes; CLI verbs keep their stderr for people). */
  stream?: boolean;
  post?: WebhookPost;
  /** Waits between webhook attempts; rejects when `signal` aborts. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const postWithUndici: WebhookPost = async (url, headers, body, signal) => {
  const res = await request(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
    signal,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.dump();
  return res.statusCode;
};

export interface CheckpointPublisher {
  /** The signing key, read (or made, 0600) on first use. */
  key(): Promise<SigningKey & { created: boolean }>;
  /** Signs a checkpoint, writes it to the stream, queues the webhook, and appends it to the file (fsynced). */
  publish(fields: Omit<CheckpointFields, 'time' | 'signer'>): Promise<Checkpoint>;
  /** Resolves when every webhook delivery under way has ended, delivered or given up. */
  settled(): Promise<void>;
  /** Abandons webhook retries (each is logged as not delivered) and stops signing appends. */
  stop(): Promise<void>;
}

/** Signs and publishes checkpoints; the key is read on first use. */
export function checkpointPublisher(settings: AdminLogSettings, deps: CheckpointDeps): CheckpointPublisher {
  let key: ReturnType<CheckpointPublisher['key']> | undefined;
  let writing = Promise.resolve();
  const webhook = webhookDelivery(settings, deps);
  const publisher: CheckpointPublisher = {
    key: () => (key ??= loadOrCreateSigningKey(settings.keyFile)),
    async publish(fields) {
      const signed = signCheckpoint(await publisher.key(), {
        ...fields,
        time: deps.now().toISOString(),
        signer: settings.signer,
      });
      // The stream and the webhook first: a file that cannot be written must not cost the other copies.
      if (deps.stream) deps.logger.info({ adminLogCheckpoint: signed }, 'admin log checkpoint');
      webhook.send(signed);
      // One write per line, in order, each durable before the admin action is acknowledged.
      const line = JSON.stringify(signed) + '\n';
      const written = writing.then(() => appendDurably(settings.checkpointFile, line));
      writing = written.catch(() => undefined);
      await written;
      return signed;
    },
    settled: () => webhook.settled(),
    stop: () => webhook.stop(),
  };
  return publisher;
}

/** Signs every entry recordAdmin appends to `store` from now on; `stop` ends that. */
export function attachCheckpoints(
  store: Store,
  settings: AdminLogSettings,
  deps: CheckpointDeps,
): CheckpointPublisher {
  const publisher = checkpointPublisher(settings, deps);
  const detach = onAdminLogAppend(store, async (entry) => {
    try {
      await publisher.publish({ covers: 'entry', seq: entry.seq, head: entry.hash });
    } catch (err) {
      deps.logger.error(
        { seq: entry.seq, err: (err as Error).message },
        `admin log entry ${entry.seq} has no checkpoint in ${settings.checkpointFile} (${(err as Error).message}): verify reports it until sluice admin-log checkpoint covers it`,
      );
    }
  });
  return {
    ...publisher,
    async stop() {
      detach();
      await publisher.stop();
    },
  };
}

/**
 * What `sluice serve` calls before it appends anything: reads or makes the key (a key it cannot use
 * stops the start), logs the public key, checks the store against the checkpoints it can read (an
 * error line for every truncation, rewrite or bad checkpoint), and signs each append from then on.
 */
export async function startCheckpoints(
  store: Store,
  settings: AdminLogSettings,
  deps: CheckpointDeps,
): Promise<() => Promise<void>> {
  const publisher = attachCheckpoints(store, settings, { stream: true, ...deps });
  let key: SigningKey & { created: boolean };
  try {
    key = await publisher.key();
  } catch (err) {
    await publisher.stop();
    throw new Error(`admin log signing key: ${(err as Error).message}`, { cause: err });
  }
  deps.logger.info(
    { adminLogKey: { id: key.id, publicKey: key.text, file: key.file } },
    key.created ? 'admin log signing key created' : 'admin log signing key',
  );
  const { valid, problems } = trustedCheckpoints(
    await checkpointSources(settings),
    await trustedKeys(settings, key),
  );
  problems.push(...compareWithCheckpoints(await store.listAdminLog(), valid));
  // Entries no checkpoint covers are left to verify: on a shared store they may be another gateway's.
  for (const p of problems)
    if (p.kind !== 'uncovered' && p.kind !== 'missing-file')
      deps.logger.error({ adminLogProblem: p }, `${describeProblem(p)} (see sluice admin-log verify)`);
  return () => publisher.stop();
}

async function appendDurably(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The webhook sink: each checkpoint POSTed in the background, retried with doubling waits. */
function webhookDelivery(settings: AdminLogSettings, deps: CheckpointDeps) {
  const hook = settings.webhook;
  const post = deps.post ?? postWithUndici;
  const wait = deps.wait ?? ((ms, signal) => delay(ms, undefined, { signal }));
  const stopping = new AbortController();
  const pending = new Set<Promise<void>>();
  // An admin verb may run with ${VAR}s unset (config.ts allowUnsetEnv): never send the placeholder.
  const unset = hook && [hook.url, ...Object.values(hook.headers)].some((v) => /\$\{\w+\}/.test(v));
  const fail = (c: Checkpoint, why: string) =>
    deps.logger.error(
      { seq: c.seq },
      `admin log checkpoint of entry ${c.seq} not delivered to adminLog.webhook: ${why}`,
    );
  async function deliver(c: Checkpoint, url: string, attempts: number): Promise<void> {
    const body = JSON.stringify(c);
    for (let attempt = 1; ; attempt++) {
      let outcome: string;
      try {
        const status = await post(url, hook?.headers ?? {}, body, stopping.signal);
        if (status >= 200 && status < 300) return;
        outcome = `it answered ${status}`;
      } catch (err) {
        outcome = (err as Error).message;
      }
      if (stopping.signal.aborted) return fail(c, 'the process stopped before it answered');
      if (attempt >= attempts) return fail(c, `${outcome} (${attempt} attempts)`);
      try {
        await wait(Math.min(60_000, 1000 * 2 ** (attempt - 1)), stopping.signal);
      } catch {
        return fail(c, 'the process stopped before it answered');
      }
    }
  }
  return {
    send(c: Checkpoint) {
      if (!hook) return;
      if (unset) return fail(c, 'its url or headers name an environment variable that is not set');
      const p = deliver(c, hook.url, hook.attempts).finally(() => pending.delete(p));
      pending.add(p);
    },
    settled: async () => void (await Promise.all(pending)),
    async stop() {
      stopping.abort();
      await Promise.all(pending);
    },
  };
}
