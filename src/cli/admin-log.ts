/**
 * `sluice admin-log list|verify|key|checkpoint`: the chained log of administrative actions, its check
 * against the signed checkpoints (docs/admin-log.md), the signing key, and an operator's checkpoint.
 * None of them creates a store.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  describeProblem,
  describeVerdict,
  judgeAdminLog,
  type AdminLogVerdict,
} from '../control/admin-log-checkpoint.js';
import { loadOrCreateSigningKey } from '../control/admin-log-key.js';
import {
  adminLogSettings,
  checkpointPublisher,
  checkpointSources,
  trustedKeys,
  type AdminLogSettings,
} from '../control/admin-log-publish.js';
import type { SluiceConfig } from '../control/config.js';
import { openStore } from '../store/index.js';
import type { AdminLogEntry, Store } from '../store/types.js';
import { cliCheckpointLogger, DEFAULT_CONFIG, loadAdminConfig } from './admin-config.js';
import { CliError, EXIT } from './exit.js';
import { formatOption, table } from './format.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function adminLogConfig(file: string): Promise<{ config: SluiceConfig; settings: AdminLogSettings }> {
  const config = await loadAdminConfig(file);
  return { config, settings: adminLogSettings(config.adminLog, dirname(resolve(file))) };
}

/** Reads the log of a store that exists; a missing or unreachable one is an error, never made. */
async function existingLog(
  config: SluiceConfig,
  file: string,
): Promise<{ store: Store; entries: AdminLogEntry[] }> {
  const store = await openStore(config.storage, dirname(resolve(file)), { create: false }).catch(
    (err: Error) => {
      throw new CliError(`cannot open the store: ${err.message}`);
    },
  );
  try {
    return { store, entries: await store.listAdminLog() };
  } catch (err) {
    await store.close();
    throw new CliError(`cannot read the admin log from the store: ${(err as Error).message}`);
  }
}

const asCliError = (err: Error): never => {
  throw new CliError(err.message);
};

function printVerdict(v: AdminLogVerdict, format: string): void {
  if (format === 'json')
    process.stdout.write(
      JSON.stringify({ ...v, problems: v.problems.map((p) => ({ ...p, message: describeProblem(p) })) }) +
        '\n',
    );
  else process.stdout.write(describeVerdict(v));
}

export function registerAdminLog(program: Command): void {
  const log = program
    .command('admin-log')
    .description(
      'The admin audit log: org policy changes and key actions, chained by hash, signed outside the store',
    );

  log
    .command('list', { isDefault: true })
    .description('Print every entry, oldest first')
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice admin-log list --format json\n')
    .action(async (o: { config: string; format: string }) => {
      const { config } = await adminLogConfig(o.config);
      const { store, entries } = await existingLog(config, o.config);
      await store.close();
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
    });

  log
    .command('verify')
    .description(
      'Check the log against its signed checkpoints: exit 0 when intact; 1 naming each truncation, rewrite, entry no checkpoint covers, or checkpoint that does not verify; 2 when the store or the public key cannot be read',
    )
    .option(
      '--config <file>',
      'configuration file (adminLog: names the key and checkpoint files)',
      DEFAULT_CONFIG,
    )
    .option(
      '--checkpoints <file>',
      "also read checkpoints from this file: a log archive, a webhook receiver's file (repeatable)",
      collect,
      [],
    )
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice admin-log verify --config /etc/sluice/sluice.yaml\n  sluice admin-log verify --checkpoints gateway-2.checkpoints --format json\n',
    )
    .action(async (o: { config: string; checkpoints: string[]; format: string }) => {
      const { config, settings } = await adminLogConfig(o.config);
      const { store, entries } = await existingLog(config, o.config);
      await store.close();
      const trusted = await trustedKeys(settings).catch(asCliError);
      const sources = await checkpointSources(
        settings,
        o.checkpoints.map((f) => resolve(f)),
      ).catch(asCliError);
      const verdict = judgeAdminLog(entries, sources, trusted);
      printVerdict(verdict, o.format);
      if (!verdict.ok) process.exitCode = EXIT.findings;
    });

  registerKeyVerb(log);
  registerCheckpointVerb(log);
}

function registerKeyVerb(log: Command): void {
  log
    .command('key')
    .description('Print the public key verifiers need (making the signing key first when there is none)')
    .option('--config <file>', 'configuration file (adminLog.key names the key file)', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .addHelpText('after', '\nExample:\n  sluice admin-log key --format json\n')
    .action(async (o: { config: string; format: string }) => {
      const { settings } = await adminLogConfig(o.config);
      const key = await loadOrCreateSigningKey(settings.keyFile).catch(asCliError);
      const shown = { file: key.file, created: key.created, id: key.id, publicKey: key.text };
      if (o.format === 'json') process.stdout.write(JSON.stringify(shown) + '\n');
      else
        process.stdout.write(
          `${key.created ? 'made' : 'signing'} key ${key.file}\nkey id: ${key.id}\npublic key: ${key.text}\n`,
        );
    });
}

function registerCheckpointVerb(log: Command): void {
  log
    .command('checkpoint')
    .description(
      'Sign a checkpoint of the head that vouches for every entry up to it: after you reviewed the entries verify reports as not covered (a crash between an append and its checkpoint, or a log from before checkpoints). Refuses (exit 1) while verify finds anything else',
    )
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .addOption(formatOption(['table', 'json']))
    .addHelpText(
      'after',
      '\nExample:\n  sluice admin-log verify; sluice admin-log list; sluice admin-log checkpoint\n',
    )
    .action(async (o: { config: string; format: string }) => {
      const { config, settings } = await adminLogConfig(o.config);
      const publisher = checkpointPublisher(settings, { now: () => new Date(), logger: cliCheckpointLogger });
      const key = await publisher.key().catch(asCliError);
      const sources = await checkpointSources(settings).catch(asCliError);
      const { store, entries } = await existingLog(config, o.config);
      await store.close();
      const verdict = judgeAdminLog(entries, sources, await trustedKeys(settings, key));
      const blocking = verdict.problems.filter((p) => p.kind !== 'uncovered' && p.kind !== 'missing-file');
      const runs = verdict.problems.flatMap((p) => (p.kind === 'uncovered' ? [p] : []));
      const last = entries.at(-1);
      if (blocking.length || !last || !runs.length) {
        await publisher.stop();
        if (blocking.length) {
          printVerdict({ ...verdict, problems: blocking }, o.format);
          process.exitCode = EXIT.findings;
        } else if (o.format === 'json') process.stdout.write(JSON.stringify({ signed: null }) + '\n');
        else process.stdout.write('nothing to sign: every entry is covered by a signed checkpoint\n');
        return;
      }
      const signed = await publisher.publish({ covers: 'head', seq: last.seq, head: last.hash });
      await publisher.settled();
      await publisher.stop();
      if (o.format === 'json') process.stdout.write(JSON.stringify({ signed }) + '\n');
      else
        process.stdout.write(
          `signed a checkpoint of entry ${last.seq} with ${key.id}: it vouches for ${entryRanges(runs)}, which no checkpoint covered\n`,
        );
    });
}

/** `entry 4`, `entries 1-3, 7`. */
function entryRanges(runs: { from: number; to: number }[]): string {
  const text = runs.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(', ');
  return runs.length === 1 && runs[0]?.from === runs[0]?.to ? `entry ${text}` : `entries ${text}`;
}
