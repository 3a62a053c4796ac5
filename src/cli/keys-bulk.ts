/**
 * `sluice keys create --from users.csv`: one key per row (columns email, org, role, groups, expires),
 * every row checked before any key is made, so a bad row makes nothing and names its row number.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { recordAdmin } from '../control/admin-log.js';
import { cliActor } from './actor.js';
import { GROUP_NAME, type SluiceConfig } from '../control/config.js';
import { createKey, type NewKey } from '../control/keys.js';
import type { KeyRecord, Role, Store } from '../store/types.js';
import { CliError } from './exit.js';
import { table } from './format.js';
import { parseExpires } from './expires.js';

export const CSV_COLUMNS = ['email', 'org', 'role', 'groups', 'expires'] as const;
const ROLES: readonly Role[] = ['member', 'admin', 'auditor'];
/** Something shaped like an address; the mail system decides the rest. */
const EMAIL = /^[^\s@,;"]+@[^\s@,;"]+\.[^\s@,;"]+$/;

/** A row as read: the file's row number (the header is row 1) and the key to make. */
export interface UserRow {
  row: number;
  who: NewKey;
}

/**
 * The rows of a users CSV as keys to make, or a CliError naming the first bad row. Groups are
 * separated by `;` or spaces; an empty role is `member`, an empty expires never.
 */
export function parseUsersCsv(text: string, file: string, config: SluiceConfig, now: Date): UserRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    }) as typeof records;
  } catch (err) {
    throw new CliError(`${file}: not valid CSV: ${(err as Error).message}`);
  }
  if (!records.length)
    throw new CliError(`${file}: no rows (expected a header ${CSV_COLUMNS.join(',')} and a row per user)`);
  const header = Object.keys(records[0]!.record);
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length || !header.includes('email') || !header.includes('org'))
    throw new CliError(
      `${file} row 1: expected the columns ${CSV_COLUMNS.join(', ')} (email and org required), got ${header.join(', ')}`,
    );
  const seen = new Map<string, number>();
  return records.map(({ record: r, info }) => {
    const row = info.lines;
    const bad = (what: string): never => {
      throw new CliError(`${file} row ${row}: ${what}; no key was created`);
    };
    const email = r.email ?? '';
    if (!EMAIL.test(email)) bad(`"${email}" is not an email address`);
    const org = r.org ?? '';
    if (!Object.hasOwn(config.orgs, org))
      bad(`no org "${org}" (orgs: ${Object.keys(config.orgs).join(', ') || 'none'})`);
    const role = (r.role || 'member') as Role;
    if (!ROLES.includes(role)) bad(`role "${role}" is not one of ${ROLES.join(', ')}`);
    const groups = (r.groups ?? '').split(/[;\s]+/).filter(Boolean);
    const declared = config.orgs[org]?.groups ?? {};
    for (const g of groups)
      if (!GROUP_NAME.test(g) || !Object.hasOwn(declared, g))
        bad(`no group "${g}" in orgs.${org}.groups (groups: ${Object.keys(declared).join(', ') || 'none'})`);
    let expiresAt: Date | undefined;
    if (r.expires) {
      try {
        expiresAt = parseExpires(r.expires, now);
      } catch (err) {
        bad((err as Error).message.replace(/^--expires/, 'expires'));
      }
    }
    const id = `${org}\u0000${email.toLowerCase()}`;
    const before = seen.get(id);
    if (before !== undefined) bad(`${email} in ${org} is already on row ${before}`);
    seen.set(id, row);
    return {
      row,
      who: {
        org,
        user: email,
        role,
        ...(groups.length ? { groups } : {}),
        ...(expiresAt ? { expiresAt } : {}),
      },
    };
  });
}

export interface CreatedKey {
  row: number;
  key: string;
  record: KeyRecord;
}

/**
 * Makes the keys of `rows` (already checked), each with its admin-log entry. Should the store fail
 * part-way, the keys made so far are revoked (none was shown) and the error says so.
 */
export async function createKeys(store: Store, rows: readonly UserRow[], now: Date): Promise<CreatedKey[]> {
  const made: CreatedKey[] = [];
  try {
    for (const { row, who } of rows) {
      const { key, record } = await createKey(store, who, now);
      made.push({ row, key, record });
      await recordAdmin(store, now, cliActor(), 'key.created', record.id, {
        org: record.org,
        user: record.user,
        role: record.role,
        ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
        ...(record.groups ? { groups: record.groups } : {}),
      });
    }
  } catch (err) {
    for (const m of made) {
      await store.revokeKey(m.record.id, now.toISOString()).catch(() => undefined);
      await recordAdmin(store, now, cliActor(), 'key.revoked', m.record.id, {
        reason: 'bulk create failed',
      }).catch(() => undefined);
    }
    throw new CliError(
      `creating keys failed at row ${rows[made.length]?.row ?? '?'}: ${(err as Error).message}; the ${made.length} keys made before it were revoked, none was shown`,
    );
  }
  return made;
}

/** CSV text of the created keys, for the `--out` file. */
export function keysCsv(created: readonly CreatedKey[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = created.map(({ key, record: r }) =>
    [r.user, r.org, r.role, (r.groups ?? []).join(';'), r.expiresAt ?? '', r.id, key].map(q).join(','),
  );
  return ['email,org,role,groups,expires,id,key', ...lines].join('\n') + '\n';
}

/** Reads the CSV, checks every row, makes every key, and prints them (or writes them to `out`, mode 0600). */
export async function createKeysFromCsv(
  store: Store,
  config: SluiceConfig,
  o: { from: string; out?: string; format: string },
  now: Date,
): Promise<void> {
  const text = await readFile(o.from, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`--from: cannot read ${o.from}: ${err.code ?? err.message}`);
  });
  const rows = parseUsersCsv(text, o.from, config, now);
  // The file is made before any key, so a key is never made that cannot be handed over.
  if (o.out)
    await writeFile(o.out, '', { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      throw new CliError(
        err.code === 'EEXIST'
          ? `--out: ${o.out} already exists; pick a new file`
          : `--out: cannot write ${o.out}: ${err.code ?? err.message}`,
      );
    });
  const created = await createKeys(store, rows, now);
  if (o.out) {
    await writeFile(o.out, keysCsv(created), { mode: 0o600 });
    const shown = created.map(({ row, record: r }) => ({ row, id: r.id, user: r.user, org: r.org }));
    if (o.format === 'json') process.stdout.write(JSON.stringify({ created: shown, out: o.out }) + '\n');
    else
      process.stdout.write(
        `created ${created.length} keys; they are in ${o.out} (mode 0600), shown nowhere else\n`,
      );
    return;
  }
  if (o.format === 'json') {
    const list = created.map(({ row, key, record: r }) => ({
      row,
      id: r.id,
      user: r.user,
      org: r.org,
      role: r.role,
      groups: r.groups ?? [],
      expiresAt: r.expiresAt,
      key,
    }));
    process.stdout.write(JSON.stringify(list) + '\n');
    return;
  }
  process.stdout.write(
    `created ${created.length} keys. Each is shown once and stored only as a hash; give them to the users now:\n` +
      table([
        ['EMAIL', 'ORG', 'ROLE', 'GROUPS', 'ID', 'KEY'],
        ...created.map(({ key, record: r }) => [
          r.user,
          r.org,
          r.role,
          r.groups?.join(',') ?? '-',
          r.id,
          key,
        ]),
      ]),
  );
}
