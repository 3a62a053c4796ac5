/** `sluice prices`: what each model is charged at (the price dataset with the config's overrides). */
import type { Command } from 'commander';
import { PriceBook, type Price } from '../control/prices.js';
import { DEFAULT_CONFIG, loadAdminConfig } from './admin-config.js';
import { formatOption, table } from './format.js';

const usd = (n: number) => String(Number(n.toFixed(6)));
const cells = (p: Price) => [usd(p.input), usd(p.output), usd(p.cacheWrite), usd(p.cacheRead)];

export function registerPrices(program: Command): void {
  program
    .command('prices')
    .description(
      "List the price every model is charged at, USD per million tokens: the config's prices: first, then the price dataset (@pydantic/genai-prices)",
    )
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--model <id...>', 'only what these model ids are charged at (unknown ones included)')
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExamples:\n  sluice prices\n  sluice prices --model claude-opus-5-5 claude-sonnet-9 --format json\n',
    )
    .action(async (o: { config: string; model?: string[]; format: string }) => {
      const config = await loadAdminConfig(o.config);
      const book = new PriceBook(config.prices);
      const rows = o.model
        ? o.model.map((m) => book.quote(m))
        : book.list().map((l) => ({ model: l.entry, ...l, note: null }));
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        table([
          ['MODEL', 'SOURCE', 'ENTRY', 'IN', 'OUT', 'CACHE W', 'CACHE R'],
          ...rows.map((r) => [r.model, r.source, r.entry, ...cells(r.price)]),
        ]) + rows.flatMap((r) => (r.note ? [`note: ${r.note}\n`] : [])).join(''),
      );
    });
}
