/**
 * The PostgreSQL the tests use, and the loud skip when it is not there: a test file that needs it
 * says SKIPPED on stderr, or, under SLUICE_REQUIRE_POSTGRES=1 (`.ci/run`), fails a test instead.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, it } from 'node:test';
import pg from 'pg';
import { quoteIdent } from '../postgres.js';

/** SLUICE_TEST_POSTGRES_URL, else the local server's `test` database. */
export const TEST_POSTGRES_URL =
  process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sayMissing(url: string, what: string): void {
  const line = `PostgreSQL not reachable at ${new URL(url).host}: ${what} SKIPPED`;
  if (process.env.SLUICE_REQUIRE_POSTGRES === '1')
    it('PostgreSQL is required here (SLUICE_REQUIRE_POSTGRES=1)', () => assert.fail(line));
  else process.stderr.write(`\n!!! ${line} !!!\n\n`);
}

/** Whether the tests' PostgreSQL answers; when it does not, `what` is said to be skipped (see above). */
export async function postgresUp(what: string, url = TEST_POSTGRES_URL): Promise<boolean> {
  const up = await withClient(url, async () => true).catch(() => false);
  if (!up) sayMissing(url, what);
  return up;
}

/**
 * A new schema `<prefix>_<random>` for this test file, dropped after its tests; null (said loudly)
 * when the server does not answer.
 */
export async function testSchema(
  prefix: string,
  what: string,
  url = TEST_POSTGRES_URL,
): Promise<string | null> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const made = await withClient(url, (c) => c.query(`CREATE SCHEMA ${quoteIdent(schema)}`)).then(
    () => true,
    () => false,
  );
  if (!made) {
    sayMissing(url, what);
    return null;
  }
  after(() => withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)));
  return schema;
}
