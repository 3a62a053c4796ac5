/** `sluice serve`: run the gateway; on a fresh machine, write a starter config and a first key. */
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { ConfigError, loadConfig } from '../control/config.js';
import { recordAdmin } from '../control/admin-log.js';
import { adminLogSettings, startCheckpoints } from '../control/admin-log-publish.js';
import { createKey } from '../control/keys.js';
import { applyConfig } from '../control/orgs.js';
import { starterConfigText } from '../control/starter.js';
import { startEgressProxy } from '../egress/proxy.js';
import { startGateway } from '../gateway/server.js';
import { startSweeper } from '../gateway/sweeper.js';
import { openStore } from '../store/index.js';
import { DEFAULT_CONFIG } from './admin-config.js';
import { CliError } from './exit.js';

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the gateway (ANTHROPIC_BASE_URL for Claude Code)')
    .option('--config <file>', 'configuration file (written with a first key if missing)', DEFAULT_CONFIG)
    .option('--port <port>', 'listen on this port instead of server.port')
    .addHelpText(
      'after',
      '\nExample:\n  ANTHROPIC_API_KEY=sk-ant-... sluice serve\n  # then, in the developer shell:\n  export ANTHROPIC_BASE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=<the printed key>\n',
    )
    .action(async (o: { config: string; port?: string }) => {
      const firstRun = !(await exists(o.config));
      if (firstRun) {
        if (!process.env.ANTHROPIC_API_KEY) {
          throw new CliError(
            `${o.config} does not exist, and ANTHROPIC_API_KEY is not set. Set the upstream key the gateway will hold (export ANTHROPIC_API_KEY=sk-ant-...) and run sluice serve again; clients then get Sluice keys instead.`,
          );
        }
        await writeFile(o.config, starterConfigText(), { flag: 'wx' });
        process.stdout.write(`wrote ${o.config} (starter configuration)\n`);
      }
      let config;
      try {
        config = await loadConfig(o.config);
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
      const store = await openStore(config.storage, dirname(resolve(o.config))).catch((err: Error) => {
        throw new CliError(`cannot open the store: ${err.message}`);
      });
      // SLUICE_LOG_LEVEL=debug adds a line per request (the audit log already has every request).
      const logger = pino({ base: null, level: process.env.SLUICE_LOG_LEVEL ?? 'info' }, pino.destination(2));
      // Before anything is appended: every admin log entry from here on is signed (docs/admin-log.md).
      const adminLog = adminLogSettings(config.adminLog, dirname(resolve(o.config)));
      const stopCheckpoints = await startCheckpoints(store, adminLog, { now: () => new Date(), logger });
      await applyConfig(store, config, new Date(), `config:${o.config}`);
      let firstKey: string | null = null;
      if (firstRun) {
        const first = await createKey(
          store,
          { org: 'default', user: 'admin@localhost', role: 'admin' },
          new Date(),
        );
        firstKey = first.key;
        await recordAdmin(store, new Date(), 'serve:first-run', 'key.created', first.record.id, {
          org: 'default',
          user: 'admin@localhost',
          role: 'admin',
        });
      }
      const gateway = await startGateway({ config, store, logger });
      const stopSweeper = startSweeper(
        store,
        config,
        () => new Date(),
        3_600_000,
        (err) => logger.error({ err: err.message }, 'retention sweep failed'),
      );
      const egress = config.egress ? await startEgressProxy({ config, store, logger }) : null;
      process.stdout.write(`sluice gateway listening on ${gateway.url} (store: ${store.kind})\n`);
      if (egress) {
        process.stdout.write(
          `sluice egress proxy listening on ${egress.url} (clients: HTTPS_PROXY=http://you:<sluice key>@${egress.url.slice(7)}, NO_PROXY=${new URL(gateway.url).hostname})\n`,
        );
        for (const [name, org] of Object.entries(config.orgs))
          if (!org.profile && !org.egress?.allow)
            logger.warn(
              { org: name },
              `org "${name}" has neither a profile nor egress.allow: its clients may reach every host through the egress proxy (recorded, not refused)`,
            );
      }
      if (firstKey) {
        process.stdout.write(
          `\nPoint Claude Code at it (this key is shown once; more with sluice keys create):\n` +
            `export ANTHROPIC_BASE_URL=${gateway.url}\nexport ANTHROPIC_API_KEY=${firstKey}\n`,
        );
      }
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      stopSweeper();
      await egress?.close();
      await gateway.close();
      await stopCheckpoints();
      await store.close();
      process.stdout.write('sluice gateway stopped\n');
    });
}
