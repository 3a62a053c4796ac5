/** `sluice init`: write the commented starter configuration. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { starterConfigText } from '../control/starter.js';
import { DEFAULT_CONFIG } from './admin-config.js';
import { CliError } from './exit.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Write a commented starter sluice.yaml')
    .option('--config <file>', 'where to write it', DEFAULT_CONFIG)
    .option('--force', 'overwrite an existing file')
    .addHelpText('after', '\nExample:\n  sluice init && ANTHROPIC_API_KEY=sk-ant-... sluice serve\n')
    .action(async (o: { config: string; force?: boolean }) => {
      try {
        // 0600: the file may come to hold admin tokens.
        await writeFile(o.config, starterConfigText(), { flag: o.force ? 'w' : 'wx', mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new CliError(`${o.config} already exists; pass --force to overwrite it`);
        }
        throw new CliError(`cannot write ${o.config}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      process.stdout.write(`wrote ${o.config}\n`);
    });
}
