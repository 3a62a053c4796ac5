/** `sluice serve`: run the gateway; on a fresh machine, write a starter config and a first key. */
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { ConfigError, loadConfig, type SluiceConfig } from '../control/config.js';
import { recordAdmin } from '../control/admin-log.js';
import { createKey } from '../control/keys.js';
import { starterConfigText } from '../control/starter.js';
import { ListenError, startSluice, StoreOpenError, TlsError } from '../compose/sluice.js';
import type { Store } from '../store/types.js';
import { DEFAULT_CONFIG } from './admin-config.js';
import { CliError, EXIT } from './exit.js';
import { isAlive } from '../sandbox/session.js';
import { previousStoreWarning } from './store.js';

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the gateway (ANTHROPIC_BASE_URL for Claude Code)')
    .option(
      '--config <file>',
      'configuration file (written if missing; first keys on an empty store)',
      DEFAULT_CONFIG,
    )
    .option('--port <port>', 'listen on this port instead of server.port')
    .option('--no-watch', 'reload the configuration on SIGHUP only, not when its file changes')
    .addHelpText(
      'after',
      '\nExample:\n  ANTHROPIC_API_KEY=sk-ant-... sluice serve\n  # then, in the developer shell:\n  export ANTHROPIC_BASE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=<the printed developer key>\n',
    )
    .action((o: ServeOptions) => serve(o));
}

/** Where the last-resort handlers report: the process's pino logger. */
interface LastResortLogger {
  error(fields: Record<string, unknown>, msg: string): void;
  flush?(): void;
}

/**
 * What an error that escaped every handler may log: its name, code and stack frames, never its
 * message (a message can quote a prompt, a header or a key).
 */
export function escapedError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .map((l) => l.trim());
  const code = (err as NodeJS.ErrnoException).code;
  return { name: err.name, ...(typeof code === 'string' ? { code } : {}), frames };
}

/** How long the audit journal gets to close after an uncaught exception before the process exits anyway. */
const CLOSE_DEADLINE_MS = 10_000;

/**
 * The last resort, for a bug that escaped every handler. A rejection nobody awaited is logged and
 * the gateway keeps serving: one request's bug must not end everyone's. An uncaught exception may
 * have left any state half-changed, so it is logged, the gateway, the audit journal and the store
 * are closed (what the journal began and never ended is replayed as interrupted at the next start),
 * and the process exits 2 for its supervisor to restart it.
 */
export function lastResort(
  logger: LastResortLogger,
  close: () => Promise<void>,
  exit: (code: number) => void,
): void {
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: escapedError(reason) }, 'unhandled rejection (a bug): logged; still serving'),
  );
  let ending = false;
  process.on('uncaughtException', (err) => {
    logger.error(
      { err: escapedError(err) },
      'uncaught exception (a bug): closing the audit journal, then exiting',
    );
    if (ending) return;
    ending = true;
    const bye = (code: number) => {
      logger.flush?.();
      exit(code);
    };
    setTimeout(() => bye(EXIT.usage), CLOSE_DEADLINE_MS).unref();
    close().then(
      () => bye(EXIT.usage),
      (e: unknown) => {
        logger.error({ err: escapedError(e) }, 'closing after an uncaught exception failed');
        bye(EXIT.usage);
      },
    );
  });
}

/** One line: which listener, which address, and what to change. */
function listenAdvice(err: ListenError, configFile: string, portFlag: boolean): string {
  const key =
    err.what === 'the gateway'
      ? `server.port in ${configFile}${portFlag ? '' : ', or --port'}`
      : `egress.port in ${configFile}`;
  const why =
    err.reason === 'in use'
      ? 'Stop what holds it, or choose another port'
      : 'Ports below 1024 need privileges: choose a port from 1024 up';
  return `${err.message}${err.reason === 'in use' ? ' (another sluice serve?)' : ''}. ${why} (${key}).`;
}

/**
 * The keys printed on a fresh store: a member key for the first developer's shell, and an admin key
 * for whoever runs the gateway (the admin API), never the one to paste into a developer's shell.
 */
async function createFirstKeys(store: Store, org: string) {
  const make = async (who: { org: string; user: string; role: 'member' | 'admin' }) => {
    const made = await createKey(store, who, new Date());
    await recordAdmin(store, new Date(), 'serve:first-run', 'key.created', made.record.id, who);
    return { who, key: made.key };
  };
  return {
    member: await make({ org, user: 'dev@localhost', role: 'member' }),
    admin: await make({ org, user: 'admin@localhost', role: 'admin' }),
  };
}

interface ServeOptions {
  config: string;
  port?: string;
  watch: boolean;
}

/** The configuration `serve` runs: written on a first run, read, with --port applied. */
async function serveConfig(o: ServeOptions): Promise<SluiceConfig> {
  const firstRun = !(await exists(o.config));
  if (firstRun) {
    if (!process.env.ANTHROPIC_API_KEY) {
      throw new CliError(
        `${o.config} does not exist, and ANTHROPIC_API_KEY is not set. Set the upstream key the gateway will hold (export ANTHROPIC_API_KEY=sk-ant-...) and run sluice serve again; clients then get Sluice keys instead.`,
      );
    }
    await writeFile(o.config, starterConfigText(), { flag: 'wx', mode: 0o600 });
    process.stdout.write(`wrote ${o.config} (starter configuration)\n`);
  }
  let config: SluiceConfig;
  try {
    config = await loadConfig(o.config, process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  if (o.port !== undefined) {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new CliError(`--port: expected 0-65535, got "${o.port}"`);
    config.server.port = port;
  }
  return config;
}

/** Runs the gateway until SIGINT or SIGTERM; SIGHUP reloads. */
async function serve(o: ServeOptions): Promise<void> {
  const config = await serveConfig(o);
  // SLUICE_LOG_LEVEL=debug adds a line per request (the audit log already has every request).
  const logger = pino({ base: null, level: process.env.SLUICE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const port = config.server.port;
  const sluice = await startSluice(config, {
    configDir: dirname(resolve(o.config)),
    logger,
    actor: `config:${o.config}`,
    pid: process.pid,
    isAlive,
    // A reload reads the file as start-up did, --port included.
    loadConfig: async () => {
      const next = await loadConfig(o.config, process.env);
      next.server.port = port;
      return next;
    },
    ...(o.watch ? { watchFile: o.config } : {}),
    env: process.env,
  }).catch((err: Error) => {
    if (err instanceof ListenError) throw new CliError(listenAdvice(err, o.config, o.port !== undefined));
    throw err instanceof StoreOpenError || err instanceof TlsError ? new CliError(err.message) : err;
  });
  lastResort(
    logger,
    () => sluice.close(),
    (code) => process.exit(code),
  );
  // First run: the store has no key yet (whether the config was just written or came from init).
  const firstOrg = 'default' in config.orgs ? 'default' : Object.keys(config.orgs)[0];
  const firstKeys =
    firstOrg !== undefined && (await sluice.store.listKeys()).length === 0
      ? await createFirstKeys(sluice.store, firstOrg)
      : null;
  const moved = await previousStoreWarning(sluice.store, config.storage, dirname(resolve(o.config))).catch(
    () => undefined,
  );
  if (moved) process.stderr.write(`sluice: ${moved}\n`);
  announce(sluice, firstKeys);
  // SIGHUP: reload sluice.yaml (so does writing it); SIGINT, SIGTERM: stop. See docs/operations.md.
  const reload = () => void sluice.reload('SIGHUP');
  process.on('SIGHUP', reload);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.off('SIGHUP', reload);
  await sluice.close();
  process.stdout.write('sluice gateway stopped\n');
}

/** Where the gateway (and egress proxy) listen, and the first keys, each shown once. */
function announce(
  sluice: Awaited<ReturnType<typeof startSluice>>,
  firstKeys: Awaited<ReturnType<typeof createFirstKeys>> | null,
): void {
  const { gateway, egress } = sluice;
  process.stdout.write(`sluice gateway listening on ${gateway.url} (store: ${sluice.store.kind})\n`);
  if (egress)
    process.stdout.write(
      `sluice egress proxy listening on ${egress.url} (clients: HTTPS_PROXY=http://you:<sluice key>@${egress.url.slice(7)}, NO_PROXY=${new URL(gateway.url).hostname})\n`,
    );
  if (firstKeys) {
    const { member, admin } = firstKeys;
    process.stdout.write(
      `\nFirst keys, each shown once (more with sluice keys create).\n\n` +
        `For a developer's shell (org ${member.who.org}, user ${member.who.user}, role member):\n` +
        `export ANTHROPIC_BASE_URL=${gateway.url}\nexport ANTHROPIC_API_KEY=${member.key}\n\n` +
        `For you, the administrator (org ${admin.who.org}, user ${admin.who.user}, role admin: creates and revokes keys; keep it out of developers' shells):\n` +
        `SLUICE_ADMIN_KEY=${admin.key}\n`,
    );
  }
}
