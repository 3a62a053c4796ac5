/** `sluice usage`: requests, tokens and spend for a period, by user, model, org or UTC hour. */
import { Option, type Command } from 'commander';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { formatOption, table } from './format.js';
import type { Store } from '../store/types.js';
import { parseSince } from './logs.js';

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('Print usage and spend from the audit records, by user, model, org or UTC hour')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--since <when>', 'a date or a duration such as 1h or 7d', '30d')
    .addOption(
      new Option('--by <what>', 'group by (hour: each UTC hour, oldest first)')
        .choices(['user', 'model', 'org', 'hour'])
        .default('user'),
    )
    .option(
      '--telemetry',
      "Claude Code's own metrics (OTLP) per user instead: tokens, cost, sessions, lines, commits, events",
    )
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExamples:\n  sluice usage --org acme --since 7d --by model\n  sluice usage --since 1d --by hour\n' +
        '  sluice usage --telemetry --since 7d\n',
    )
    .action(
      async (o: {
        config: string;
        org?: string;
        since: string;
        by: 'user' | 'model' | 'org' | 'hour';
        format: string;
        telemetry?: boolean;
      }) => {
        const now = new Date();
        const since = parseSince(o.since, now);
        const { store } = await openConfiguredStore(o.config);
        try {
          if (o.telemetry) {
            const day = since.slice(0, 10);
            const rows = await store.telemetryUsage({ ...(o.org ? { org: o.org } : {}), sinceDay: day });
            process.stdout.write(
              o.format === 'json'
                ? JSON.stringify({ since: day, rows }, null, 2) + '\n'
                : table([
                    ['USER', 'METRIC', 'VALUE', 'SESSIONS'],
                    ...rows.map((r) => [
                      r.user,
                      r.metric,
                      String(Number(r.value.toFixed(6))),
                      String(r.sessions),
                    ]),
                  ]),
            );
            return;
          }
          await printUsage(store, o, since, now);
        } finally {
          await store.close();
        }
      },
    );
}

interface UsageOptions {
  org?: string;
  by: 'user' | 'model' | 'org' | 'hour';
  format: string;
}

/** Usage from the audit records, as a table or JSON. */
async function printUsage(store: Store, o: UsageOptions, since: string, now: Date): Promise<void> {
  const found = await store.usage({ ...(o.org ? { org: o.org } : {}), since, by: o.by });
  // By spend, as the store sorts; hours read best in time order.
  const rows = o.by === 'hour' ? found.sort((a, b) => (a.key < b.key ? -1 : 1)) : found;
  if (o.format === 'json') {
    process.stdout.write(JSON.stringify({ since, until: now.toISOString(), by: o.by, rows }, null, 2) + '\n');
    return;
  }
  const total = rows.reduce((n, r) => n + r.costUsd, 0);
  const unpriced = rows.reduce((n, r) => n + r.unpriced, 0);
  process.stdout.write(
    table([
      [o.by.toUpperCase(), 'REQUESTS', 'IN', 'OUT', 'CACHE W', 'CACHE R', 'USD'],
      ...rows.map((r) => [
        o.by === 'hour' ? `${r.key}:00Z` : r.key,
        String(r.requests),
        String(r.inputTokens),
        String(r.outputTokens),
        String(r.cacheCreationInputTokens),
        String(r.cacheReadInputTokens),
        r.costUsd.toFixed(4) + (r.unpriced ? ` (+${r.unpriced} unpriced)` : ''),
      ]),
    ]) +
      `total $${total.toFixed(4)} since ${since}${unpriced ? `; ${unpriced} successful requests had no price` : ''}\n`,
  );
}
