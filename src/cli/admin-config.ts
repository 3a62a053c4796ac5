/** Opening the configured store for an admin verb (config errors become exit-2 CLI errors). */
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { adminLogSettings, attachCheckpoints, type CheckpointLogger } from '../control/admin-log-publish.js';
import { ConfigError, loadConfig, type SluiceConfig } from '../control/config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { CliError } from './exit.js';

export const DEFAULT_CONFIG = './sluice.yaml';

/** Loads `file` for an admin verb: unset ${VAR}s allowed (admin verbs never contact an upstream). */
export async function loadAdminConfig(file: string): Promise<SluiceConfig> {
  await missingConfig(file);
  try {
    return await loadConfig(file, process.env, { allowUnsetEnv: true });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** A config that does not exist is a usage error that says how to make one. */
export async function missingConfig(file: string): Promise<void> {
  if (
    await access(file).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    )
  )
    throw new CliError(
      `${file} does not exist. Run sluice init to write a starter configuration, or pass --config <file>.`,
    );
}

/** Loads `file` (unset ${VAR}s allowed: admin verbs never contact an upstream) and opens its store. */
export async function openConfiguredStore(file: string): Promise<{ config: SluiceConfig; store: Store }> {
  const config = await loadAdminConfig(file);
  // A relative sqlite path is relative to the config file, wherever the verb runs from.
  const store = await openStore(config.storage, dirname(resolve(file))).catch((err: Error) => {
    throw new CliError(`cannot open the store: ${err.message}`);
  });
  // A verb that appends to the admin log signs the entry as serve would (file and webhook).
  attachCheckpoints(store, adminLogSettings(config.adminLog, dirname(resolve(file))), {
    now: () => new Date(),
    logger: cliCheckpointLogger,
  });
  return { config, store };
}

/** CLI verbs keep stderr for people: no checkpoint lines, and a problem as one `sluice:` line. */
export const cliCheckpointLogger: CheckpointLogger = {
  info: () => undefined,
  error: (_fields, message) => process.stderr.write(`sluice: ${message}\n`),
};
