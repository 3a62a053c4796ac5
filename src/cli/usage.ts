/** `sluice usage`: requests, tokens and spend for a period, by user, model or org. */
import { Option, type Command } from 'commander';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { formatOption, table } from './format.js';
import { parseSince } from './logs.js';

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('Print usage and spend from the audit records, by user, model or org')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--since <when>', 'a date or a duration such as 1h or 7d', '30d')
    .addOption(new Option('--by <what>', 'group by').choices(['user', 'model', 'org']).default('user'))
    .option(
      '--telemetry',
      "Claude Code's own metrics (OTLP) per user instead: tokens, cost, sessions, lines, commits, events",
    )
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExamples:\n  sluice usage --org acme --since 7d --by model\n  sluice usage --telemetry --since 7d\n',
    )
    .action(
      async (o: {
        config: string;
        org?: string;
        since: string;
        by: 'user' | 'model' | 'org';
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
          const rows = await store.usage({ ...(o.org ? { org: o.org } : {}), since, by: o.by });
          if (o.format === 'json') {
            process.stdout.write(
              JSON.stringify({ since, until: now.toISOString(), by: o.by, rows }, null, 2) + '\n',
            );
            return;
          }
          const total = rows.reduce((n, r) => n + r.costUsd, 0);
          const unpriced = rows.reduce((n, r) => n + r.unpriced, 0);
          process.stdout.write(
            table([
              [o.by.toUpperCase(), 'REQUESTS', 'IN', 'OUT', 'CACHE W', 'CACHE R', 'USD'],
              ...rows.map((r) => [
                r.key,
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
        } finally {
          await store.close();
        }
      },
    );
}
