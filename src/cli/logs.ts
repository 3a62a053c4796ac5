/** `sluice logs`: the gateway's audit records. */
import type { Command } from 'commander';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { parseSince as parseSinceText, SINCE_EXPECTED } from '../control/since.js';
import { CliError } from './exit.js';
import { formatOption, table } from './format.js';

/** An ISO date, or a duration back from `now` such as 30m, 1h, 7d. */
export function parseSince(value: string, now: Date): string {
  const since = parseSinceText(value, now);
  if (since === undefined) throw new CliError(`--since: expected ${SINCE_EXPECTED}, got "${value}"`);
  return since;
}

/** `--limit`: a positive whole number. */
export function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit: expected a positive whole number, got "${value}"`);
  return limit;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('Print audit records, newest first (with --format json: one JSON object per line)')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--org <org>', 'only this org')
    .option('--user <email>', 'only this user')
    .option('--since <when>', 'a date or a duration such as 1h or 7d')
    .option('--limit <n>', 'at most this many records', '100')
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice logs --org acme --since 1d --format json | jq .model\n')
    .action(
      async (o: {
        config: string;
        org?: string;
        user?: string;
        since?: string;
        limit: string;
        format: string;
      }) => {
        const limit = parseLimit(o.limit);
        const since = o.since ? parseSince(o.since, new Date()) : undefined;
        const { store } = await openConfiguredStore(o.config);
        try {
          const records = await store.queryAudit({
            ...(o.org ? { org: o.org } : {}),
            ...(o.user ? { user: o.user } : {}),
            ...(since ? { since } : {}),
            limit,
          });
          if (o.format === 'json') {
            // Content is never printed here: it stays in the store, as the org's logging mode allows.
            for (const { requestContent: _q, responseContent: _r, ...rec } of records) {
              process.stdout.write(JSON.stringify(rec) + '\n');
            }
            return;
          }
          const rows = [
            ['TIME', 'ORG', 'USER', 'MODEL', 'STATUS', 'IN', 'OUT', 'CACHE W/R', 'USD', 'MS', 'GUARD'],
            ...records.map((r) => [
              r.time,
              r.org ?? '-',
              r.user ?? '-',
              r.model ?? '-',
              String(r.status),
              String(r.inputTokens),
              String(r.outputTokens),
              `${r.cacheCreationInputTokens}/${r.cacheReadInputTokens}`,
              r.costUsd === null ? '-' : r.costUsd.toFixed(4),
              r.latencyMs.toFixed(0),
              r.guard.decision,
            ]),
          ];
          process.stdout.write(table(rows));
        } finally {
          await store.close();
        }
      },
    );
}
