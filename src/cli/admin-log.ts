/** `sluice admin-log`: the chained log of administrative actions, and its integrity check. */
import type { Command } from 'commander';
import { verifyChain } from '../control/admin-log.js';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { EXIT } from './exit.js';
import { formatOption, table } from './format.js';

export function registerAdminLog(program: Command): void {
  const log = program
    .command('admin-log')
    .description('The admin audit log: org policy changes and key actions, each chained to the last by hash');

  log
    .command('list', { isDefault: true })
    .description('Print every entry, oldest first')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .action(async (o: { config: string; format: string }) => {
      const { store } = await openConfiguredStore(o.config);
      try {
        const entries = await store.listAdminLog();
        if (o.format === 'json') {
          for (const e of entries) process.stdout.write(JSON.stringify(e) + '\n');
          return;
        }
        process.stdout.write(
          table([
            ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'DETAILS'],
            ...entries.map((e) => [
              String(e.seq),
              e.time,
              e.actor,
              e.action,
              e.target,
              JSON.stringify(e.details),
            ]),
          ]),
        );
      } finally {
        await store.close();
      }
    });

  log
    .command('verify')
    .description(
      'Check the chain: exit 0 when intact, 1 naming the first entry that was edited, removed or reordered',
    )
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .action(async (o: { config: string; format: string }) => {
      const { store } = await openConfiguredStore(o.config);
      let check;
      try {
        check = verifyChain(await store.listAdminLog());
      } finally {
        await store.close();
      }
      if (o.format === 'json') process.stdout.write(JSON.stringify(check) + '\n');
      else if (check.ok) process.stdout.write(`admin log intact: ${check.entries} entries\n`);
      else process.stdout.write(`admin log broken at entry ${check.seq}: ${check.reason}\n`);
      if (!check.ok) process.exitCode = EXIT.findings;
    });
}
