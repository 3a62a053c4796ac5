/**
 * SCIM 2.0 provisioning's state (src/signin/scim.ts): the Users and Groups an identity provider
 * (Okta, Entra ID) pushes, and who is in which group. A user's resource is kept as the JSON the IdP
 * sent; the columns beside it are what lookups need: the userName and primary email lower-cased
 * (how sign-in sessions are matched), the externalId, and whether the user is active.
 */

import type { SqlRunner } from './signin.js';

export interface ScimUserRow {
  id: string;
  userName: string;
  externalId: string | null;
  /** The primary email (or the userName when it is one), lower-cased; null when there is none. */
  email: string | null;
  active: boolean;
  /** The resource's attributes as JSON, without `id`, `meta` and `groups` (those are Sluice's). */
  resource: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface ScimGroupRow {
  id: string;
  displayName: string;
  externalId: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Equality conditions a list may be filtered by (all must hold). */
export interface ScimUserQuery {
  id?: string;
  userName?: string;
  externalId?: string;
  email?: string;
}
export interface ScimGroupQuery {
  id?: string;
  displayName?: string;
  externalId?: string;
  member?: string;
}

/** What sign-in needs to know of a person: their SCIM groups, and whether SCIM deactivated them. */
export interface ScimStanding {
  /** Some SCIM user matches the person. */
  provisioned: boolean;
  /** Some matching SCIM user is deactivated (`active: false`). */
  deactivated: boolean;
  /** Display names of the groups the active matching users are in. */
  groups: string[];
}

export interface ScimStore {
  /** False when the userName is taken (case-insensitively). */
  insertUser(u: ScimUserRow): Promise<boolean>;
  getUser(id: string): Promise<ScimUserRow | undefined>;
  listUsers(q: ScimUserQuery, offset: number, limit: number): Promise<{ total: number; rows: ScimUserRow[] }>;
  /** Replaces a user's attributes and bumps its version; 'conflict' when the new userName is taken. */
  updateUser(u: Omit<ScimUserRow, 'createdAt' | 'version'>): Promise<'ok' | 'missing' | 'conflict'>;
  /** Deletes a user and its memberships; false when there was none. */
  deleteUser(id: string): Promise<boolean>;

  insertGroup(g: ScimGroupRow): Promise<boolean>;
  getGroup(id: string): Promise<ScimGroupRow | undefined>;
  listGroups(
    q: ScimGroupQuery,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: ScimGroupRow[] }>;
  updateGroup(g: Omit<ScimGroupRow, 'createdAt' | 'version'>): Promise<'ok' | 'missing' | 'conflict'>;
  deleteGroup(id: string): Promise<boolean>;
  /** The member user ids of a group. */
  members(groupId: string): Promise<string[]>;
  setMembers(groupId: string, add: readonly string[], remove: readonly string[]): Promise<void>;
  /** The groups a user is in. */
  groupsOf(userId: string): Promise<{ id: string; displayName: string }[]>;
  /** The users of these ids that exist. */
  existingUsers(ids: readonly string[]): Promise<string[]>;
  /** How SCIM stands on the person signed in as `email` with IdP subject `subject`. */
  standing(email: string, subject: string): Promise<ScimStanding>;
}

export const SCIM_MIGRATION = {
  description: 'SCIM 2.0 provisioning: users, groups, memberships',
  statements: [
    `CREATE TABLE scim_users (id TEXT PRIMARY KEY, user_name TEXT NOT NULL, user_name_lc TEXT NOT NULL UNIQUE,
      external_id TEXT, email_lc TEXT, active INTEGER NOT NULL, resource TEXT NOT NULL, created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL, version INTEGER NOT NULL)`,
    `CREATE INDEX scim_users_email ON scim_users (email_lc)`,
    `CREATE INDEX scim_users_external ON scim_users (external_id)`,
    `CREATE TABLE scim_groups (id TEXT PRIMARY KEY, display_name TEXT NOT NULL, display_name_lc TEXT NOT NULL UNIQUE,
      external_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL)`,
    `CREATE TABLE scim_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id))`,
    `CREATE INDEX scim_members_user ON scim_members (user_id)`,
  ],
};

const str = (v: unknown): string => String(v);
const opt = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function userFromRow(r: Record<string, unknown>): ScimUserRow {
  return {
    id: str(r.id),
    userName: str(r.user_name),
    externalId: opt(r.external_id),
    email: opt(r.email_lc),
    active: Number(r.active) === 1,
    resource: str(r.resource),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    version: Number(r.version),
  };
}

function groupFromRow(r: Record<string, unknown>): ScimGroupRow {
  return {
    id: str(r.id),
    displayName: str(r.display_name),
    externalId: opt(r.external_id),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    version: Number(r.version),
  };
}

/** A unique index refused the write (SQLite or PostgreSQL). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

async function unique(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/** `WHERE` text and parameters for equality conditions on columns. */
function where(conds: [string, unknown][]): { sql: string; params: unknown[] } {
  const set = conds.filter(([, v]) => v !== undefined);
  return {
    sql: set.length ? `WHERE ${set.map(([c]) => c).join(' AND ')}` : '',
    params: set.map(([, v]) => v),
  };
}

async function page<T>(
  run: SqlRunner,
  table: string,
  w: { sql: string; params: unknown[] },
  offset: number,
  limit: number,
  map: (r: Record<string, unknown>) => T,
): Promise<{ total: number; rows: T[] }> {
  const counted = await run(`SELECT COUNT(*) AS n FROM ${table} ${w.sql}`, w.params);
  const total = Number(counted.rows[0]?.n ?? 0);
  if (limit === 0) return { total, rows: [] };
  const { rows } = await run(
    `SELECT * FROM ${table} ${w.sql} ORDER BY created_at, id LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`,
    w.params,
  );
  return { total, rows: rows.map(map) };
}

function userQueries(
  run: SqlRunner,
): Pick<ScimStore, 'insertUser' | 'getUser' | 'listUsers' | 'updateUser' | 'deleteUser' | 'existingUsers'> {
  return {
    insertUser: (u) =>
      unique(() =>
        run(
          `INSERT INTO scim_users (id, user_name, user_name_lc, external_id, email_lc, active, resource, created_at,
            updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            u.id,
            u.userName,
            u.userName.toLowerCase(),
            u.externalId,
            u.email,
            u.active ? 1 : 0,
            u.resource,
            u.createdAt,
            u.updatedAt,
            u.version,
          ],
        ),
      ),
    async getUser(id) {
      const { rows } = await run(`SELECT * FROM scim_users WHERE id = ?`, [id]);
      return rows[0] ? userFromRow(rows[0]) : undefined;
    },
    listUsers: (q, offset, limit) =>
      page(
        run,
        'scim_users',
        where([
          ['id = ?', q.id],
          ['user_name_lc = ?', q.userName?.toLowerCase()],
          ['external_id = ?', q.externalId],
          ['email_lc = ?', q.email?.toLowerCase()],
        ]),
        offset,
        limit,
        userFromRow,
      ),
    async updateUser(u) {
      let changes = 0;
      const ok = await unique(async () => {
        changes = (
          await run(
            `UPDATE scim_users SET user_name = ?, user_name_lc = ?, external_id = ?, email_lc = ?, active = ?,
              resource = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
            [
              u.userName,
              u.userName.toLowerCase(),
              u.externalId,
              u.email,
              u.active ? 1 : 0,
              u.resource,
              u.updatedAt,
              u.id,
            ],
          )
        ).changes;
      });
      return !ok ? 'conflict' : changes ? 'ok' : 'missing';
    },
    async deleteUser(id) {
      await run(`DELETE FROM scim_members WHERE user_id = ?`, [id]);
      return (await run(`DELETE FROM scim_users WHERE id = ?`, [id])).changes > 0;
    },
    async existingUsers(ids) {
      if (!ids.length) return [];
      const { rows } = await run(`SELECT id FROM scim_users WHERE id IN (${ids.map(() => '?').join(', ')})`, [
        ...ids,
      ]);
      return rows.map((r) => str(r.id));
    },
  };
}

function groupQueries(
  run: SqlRunner,
): Omit<
  ScimStore,
  'insertUser' | 'getUser' | 'listUsers' | 'updateUser' | 'deleteUser' | 'existingUsers' | 'standing'
> {
  return {
    insertGroup: (g) =>
      unique(() =>
        run(
          `INSERT INTO scim_groups (id, display_name, display_name_lc, external_id, created_at, updated_at, version)
            VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [
            g.id,
            g.displayName,
            g.displayName.toLowerCase(),
            g.externalId,
            g.createdAt,
            g.updatedAt,
            g.version,
          ],
        ),
      ),
    async getGroup(id) {
      const { rows } = await run(`SELECT * FROM scim_groups WHERE id = ?`, [id]);
      return rows[0] ? groupFromRow(rows[0]) : undefined;
    },
    listGroups: (q, offset, limit) =>
      page(
        run,
        'scim_groups',
        where([
          ['id = ?', q.id],
          ['display_name_lc = ?', q.displayName?.toLowerCase()],
          ['external_id = ?', q.externalId],
          ['id IN (SELECT group_id FROM scim_members WHERE user_id = ?)', q.member],
        ]),
        offset,
        limit,
        groupFromRow,
      ),
    async updateGroup(g) {
      let changes = 0;
      const ok = await unique(async () => {
        changes = (
          await run(
            `UPDATE scim_groups SET display_name = ?, display_name_lc = ?, external_id = ?, updated_at = ?,
              version = version + 1 WHERE id = ?`,
            [g.displayName, g.displayName.toLowerCase(), g.externalId, g.updatedAt, g.id],
          )
        ).changes;
      });
      return !ok ? 'conflict' : changes ? 'ok' : 'missing';
    },
    async deleteGroup(id) {
      await run(`DELETE FROM scim_members WHERE group_id = ?`, [id]);
      return (await run(`DELETE FROM scim_groups WHERE id = ?`, [id])).changes > 0;
    },
    async members(groupId) {
      const { rows } = await run(`SELECT user_id FROM scim_members WHERE group_id = ? ORDER BY user_id`, [
        groupId,
      ]);
      return rows.map((r) => str(r.user_id));
    },
    async setMembers(groupId, add, remove) {
      for (const id of remove)
        await run(`DELETE FROM scim_members WHERE group_id = ? AND user_id = ?`, [groupId, id]);
      for (const id of add)
        await unique(() => run(`INSERT INTO scim_members (group_id, user_id) VALUES (?, ?)`, [groupId, id]));
    },
    async groupsOf(userId) {
      const { rows } = await run(
        `SELECT g.id, g.display_name FROM scim_groups g JOIN scim_members m ON m.group_id = g.id
          WHERE m.user_id = ? ORDER BY g.display_name`,
        [userId],
      );
      return rows.map((r) => ({ id: str(r.id), displayName: str(r.display_name) }));
    },
  };
}

/** The SCIM queries over one dialect's runner. */
export function scimStore(run: SqlRunner): ScimStore {
  const groups = groupQueries(run);
  return {
    ...userQueries(run),
    ...groups,
    async standing(email, subject) {
      const lc = email.toLowerCase();
      const { rows } = await run(
        `SELECT id, active FROM scim_users WHERE user_name_lc = ? OR email_lc = ? OR external_id = ?`,
        [lc, lc, subject],
      );
      const active = rows.filter((r) => Number(r.active) === 1).map((r) => str(r.id));
      const names = new Set<string>();
      for (const id of active) for (const g of await groups.groupsOf(id)) names.add(g.displayName);
      return {
        provisioned: rows.length > 0,
        deactivated: rows.length > active.length,
        groups: [...names].sort(),
      };
    },
  };
}
