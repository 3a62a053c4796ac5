/** Opens the store a `storage:` URL names and brings its schema up to date. */
import { resolve } from 'node:path';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type { Store } from './types.js';

/** `sqlite:PATH` (relative to `cwd`) or `postgres://…`/`postgresql://…`; runs migrations before returning. */
export async function openStore(url: string, cwd: string = process.cwd()): Promise<Store> {
  let store: Store;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new Error('storage: sqlite: needs a file path, for example sqlite:./.sluice/sluice.db');
    store = new SqliteStore(path === ':memory:' ? path : resolve(cwd, path));
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    store = new PostgresStore({ connectionString: url });
  } else {
    throw new Error(`storage: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
