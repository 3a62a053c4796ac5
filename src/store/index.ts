/** Opens the store a `storage:` URL names and brings its schema up to date. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type { Store } from './types.js';

export interface OpenStoreOptions {
  /**
   * false: open only a store that is already there, as it is: no file, folder or schema is made and no
   * migration runs, and a missing SQLite file or an unreachable database is an error. For verbs that
   * only read, where a store made on the spot would answer for the one that is missing.
   */
  create?: boolean;
}

/** `sqlite:PATH` (relative to `cwd`) or `postgres://…`/`postgresql://…`; runs migrations before returning. */
export async function openStore(url: string, cwd: string, options: OpenStoreOptions = {}): Promise<Store> {
  const create = options.create ?? true;
  let store: Store;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new Error('storage: sqlite: needs a file path, for example sqlite:./.sluice/sluice.db');
    const file = path === ':memory:' ? path : resolve(cwd, path);
    if (!create) await mustExist(file);
    store = new SqliteStore(file);
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    store = new PostgresStore({ connectionString: url });
  } else {
    throw new Error(`storage: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
  }
  try {
    if (create) await store.migrate();
    else await store.ping();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

async function mustExist(file: string): Promise<void> {
  if (file === ':memory:') throw new Error('sqlite::memory: is empty until something creates it');
  try {
    if ((await stat(file)).isFile()) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  throw new Error(`no SQLite database at ${file}`);
}
