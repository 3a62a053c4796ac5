/**
 * `sluice store copy`: move every key, record, counter and the admin log from one store to another
 * (SQLite or PostgreSQL either way), resumable, verified at the end. Also the one-line warning
 * `serve` prints when its store is empty while the default SQLite file still holds records.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { verifyChain } from '../control/admin-log.js';
import {
  copyStore,
  CopyInterruptedError,
  CopyRefusedError,
  countTables,
  holdsRecords,
  type TableCopy,
  type TableCount,
  type TableProgress,
} from '../store/copy.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { CliError, EXIT } from './exit.js';
import { canShowProgress, formatOption, table } from './format.js';

export interface CopyReport {
  ok: boolean;
  from: string;
  to: string;
  tables: (TableCopy & { destination: number })[];
  adminLog: { entries: number; head: string | null; chain: 'intact' | string; sameHead: boolean };
}

/** Prints a URL without its password. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/** `--batch`: a whole number from 1 to 50,000. */
function parseBatch(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50_000)
    throw new CliError(`--batch: expected a whole number from 1 to 50000, got "${value}"`);
  return n;
}

/** Checks the copy: rows per table on both sides, and the destination's admin-log chain and head. */
export async function verifyStoreCopy(
  from: Store,
  to: Store,
): Promise<{ counts: TableCount[]; adminLog: CopyReport['adminLog']; ok: boolean }> {
  const counts = await countTables(from, to);
  const theirs = await from.listAdminLog();
  const ours = await to.listAdminLog();
  const check = verifyChain(ours);
  const head = ours.at(-1)?.hash ?? null;
  const adminLog = {
    entries: ours.length,
    head,
    chain: check.ok ? ('intact' as const) : `broken at entry ${check.seq}: ${check.reason}`,
    sameHead: head === (theirs.at(-1)?.hash ?? null),
  };
  const ok = check.ok && adminLog.sameHead && counts.every((c) => c.source === c.destination);
  return { counts, adminLog, ok };
}

async function open(url: string, role: 'from' | 'to'): Promise<Store> {
  // The source is read as it is (never created or migrated); the destination is made and migrated.
  return openStore(url, process.cwd(), { create: role === 'to' }).catch((err: Error) => {
    throw new CliError(`--${role}: cannot open ${redactUrl(url)}: ${err.message}`);
  });
}

function progressLine(p: TableProgress): string {
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
  return `\r\x1b[2Kcopying ${p.table}: ${p.done}/${p.total} (${pct}%)${p.resumedAt ? `, resumed at ${p.resumedAt}` : ''}`;
}

function printReport(r: CopyReport, format: string): void {
  if (format === 'json') {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  process.stdout.write(
    table([
      ['TABLE', 'SOURCE', 'DESTINATION', 'COPIED NOW', 'ALREADY THERE'],
      ...r.tables.map((t) => [
        t.table,
        String(t.source),
        String(t.destination),
        String(t.copied),
        String(t.resumedAt),
      ]),
    ]),
  );
  const log = r.adminLog;
  process.stdout.write(
    `admin log: ${log.entries} entries, chain ${log.chain}` +
      `${log.head ? `, head ${log.head.slice(0, 16)}…` : ''}${log.sameHead ? ' (same as the source)' : ' (NOT the source head)'}\n`,
  );
  process.stdout.write(
    r.ok
      ? `verified: ${redactUrl(r.to)} holds every row of ${redactUrl(r.from)}\n`
      : 'NOT verified: the counts or the admin log differ (see above)\n',
  );
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('Move a store between SQLite and PostgreSQL');

  store
    .command('copy')
    .description(
      'Copy every key, audit and egress record, usage counter, telemetry sum and the admin log (chain intact) into another store, then verify. Resumable: run it again after an interruption. Exit 0 verified, 1 verification failed, 2 could not copy',
    )
    .requiredOption('--from <url>', 'source store: sqlite:PATH or postgres://… (read only)')
    .requiredOption('--to <url>', 'destination store: sqlite:PATH or postgres://… (made and migrated)')
    .option('--batch <rows>', 'rows per transaction', '1000')
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice store copy --from sqlite:./.sluice/sluice.db --to postgres://sluice@db.internal/sluice\n  sluice store copy --from postgres://sluice@db.internal/sluice --to sqlite:./backup.db --format json\n',
    )
    .action(async (o: { from: string; to: string; batch: string; format: string }) => {
      const batchSize = parseBatch(o.batch);
      const from = await open(o.from, 'from');
      let to: Store | undefined;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      const tty = canShowProgress();
      try {
        to = await open(o.to, 'to');
        const copied = await copyStore(from, to, {
          batchSize,
          signal: stop.signal,
          ...(tty ? { onProgress: (p) => process.stderr.write(progressLine(p)) } : {}),
        }).catch((err: Error) => {
          if (tty) process.stderr.write('\n');
          if (err instanceof CopyInterruptedError)
            throw new CliError(
              `${err.message}; what was copied stays: run the same command again to continue`,
            );
          if (err instanceof CopyRefusedError) throw new CliError(err.message);
          throw new CliError(`copy failed: ${err.message}; run the same command again to continue`);
        });
        if (tty) process.stderr.write('\r\x1b[2K');
        const verdict = await verifyStoreCopy(from, to);
        const report: CopyReport = {
          ok: verdict.ok,
          from: redactUrl(o.from),
          to: redactUrl(o.to),
          tables: copied.map((t) => ({
            ...t,
            destination: verdict.counts.find((c) => c.table === t.table)?.destination ?? 0,
          })),
          adminLog: verdict.adminLog,
        };
        printReport(report, o.format);
        if (!report.ok) process.exitCode = EXIT.findings;
      } finally {
        process.removeListener('SIGINT', onSignal);
        await from.close();
        await to?.close();
      }
    });
}

/** The store `serve` used before any `storage:` was set, relative to the config's folder. */
export const DEFAULT_STORE = 'sqlite:./.sluice/sluice.db';

/**
 * One line for `serve` when its store holds no keys and no records while the default SQLite file
 * (the store before `storage:` was changed) does; undefined otherwise. Never creates that file.
 */
export async function previousStoreWarning(
  store: Store,
  storage: string,
  configDir: string,
): Promise<string | undefined> {
  const previous = resolve(configDir, DEFAULT_STORE.slice('sqlite:'.length));
  if (storage.startsWith('sqlite:') && resolve(configDir, storage.slice('sqlite:'.length)) === previous)
    return undefined;
  const now = await holdsRecords(store);
  if (now.keys || now.records) return undefined;
  const old = await openStore(`sqlite:${previous}`, configDir, { create: false }).catch(() => undefined);
  if (!old) return undefined;
  try {
    const held = await holdsRecords(old).catch(() => ({ keys: 0, records: 0 }));
    if (!held.keys && !held.records) return undefined;
    return `warning: this store is empty, but ${previous} holds ${held.keys} keys and ${held.records} records; to move them: stop serve, then sluice store copy --from sqlite:${previous} --to <storage URL> into a new, empty store (docs/operations.md#moving-a-store)`;
  } finally {
    await old.close();
  }
}
