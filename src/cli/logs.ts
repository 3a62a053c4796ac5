/** `sluice logs`: the gateway's audit records. */
import type { Command } from 'commander';
import { DEFAULT_CONFIG, openConfiguredStore } from './admin-config.js';
import { parseSince as parseSinceText, SINCE_EXPECTED } from '../control/since.js';
import { CliError } from './exit.js';
import { formatOption, table } from './format.js';
import type { AuditRecord } from '../store/types.js';

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

/** One record for people: its fields, then its content as stored (redacted), or why there is none. */
export function describeRecord(r: AuditRecord): string {
  const rules = Object.entries(r.guard.rules).map(([rule, n]) => `${rule} ×${n}`);
  const lines = [
    `id:        ${r.id}`,
    `time:      ${r.time}`,
    `org:       ${r.org ?? '-'}`,
    `user:      ${r.user ?? '-'}`,
    ...(r.groups?.length ? [`groups:    ${r.groups.join(', ')}`] : []),
    `key:       ${r.keyId ?? '-'}`,
    `session:   ${r.sessionId ?? '-'}`,
    `request:   ${r.method} ${r.path}${r.model ? ` (model ${r.model}${r.stream ? ', streamed' : ''})` : ''}`,
    `status:    ${r.status}${r.errorType ? ` ${r.errorType}` : ''}`,
    `upstream:  ${r.upstream ?? '-'}${r.upstreamsTried.length > 1 ? ` (tried ${r.upstreamsTried.join(', ')})` : ''}`,
    `tokens:    in ${r.inputTokens}, out ${r.outputTokens}, cache write ${r.cacheCreationInputTokens}, cache read ${r.cacheReadInputTokens}`,
    `cost:      ${r.costUsd === null ? '- (no price)' : `$${r.costUsd.toFixed(6)}`}`,
    `latency:   ${r.latencyMs.toFixed(1)} ms (Sluice's own share ${r.overheadMs.toFixed(1)} ms)`,
    `guard:     ${r.guard.decision}${rules.length ? ` (${rules.join(', ')})` : ''}`,
  ];
  const content = (label: string, text: string | null, why: string) =>
    text === null
      ? `\n${label}: not kept (${why})\n`
      : `\n${label}:\n${text}${text.endsWith('\n') ? '' : '\n'}`;
  return (
    lines.join('\n') +
    '\n' +
    content(
      'request content, as stored (what the guard redacted is replaced)',
      r.requestContent,
      "the org's contentLogging is none, or zdr is on, or retention cleared it",
    ) +
    content(
      'response content',
      r.responseContent,
      'kept only under contentLogging: full, without zdr, until retention clears it',
    )
  );
}

function registerLogsShow(logs: Command): void {
  logs
    .command('show')
    .description('Print one audit record with its content as stored (redacted), if the org keeps content')
    .argument('<id>', 'the record id (the id column of sluice logs --format json, x-sluice-request-id)')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice logs show req_0123abcd\n  sluice logs show req_0123abcd --format json | jq -r .requestContent\n',
    )
    .action(async (id: string, o: { config: string; format: string }) => {
      const { store } = await openConfiguredStore(o.config);
      try {
        const record = await store.getAudit(id);
        if (!record)
          throw new CliError(`no audit record ${id} (see sluice logs; retention may have deleted it)`);
        process.stdout.write(o.format === 'json' ? JSON.stringify(record) + '\n' : describeRecord(record));
      } finally {
        await store.close();
      }
    });
}

export function registerLogs(program: Command): void {
  const logs = program
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
  // `logs show <id> --format json`: options after `show` are its own, not the list's.
  logs.enablePositionalOptions();
  registerLogsShow(logs);
}
