/**
 * Company sign-in's state (src/signin): device grants waiting for a browser, and the sessions they
 * start. Tokens are never stored: a device code and a refresh token only as SHA-256 hashes; what
 * must pass from the browser leg to the polling client (the IdP's refresh token) only sealed with a
 * key the store never sees. The same SQL serves both dialects through `SqlRunner`.
 */

import type { Role } from './types.js';

export type DeviceGrantStatus = 'pending' | 'approved' | 'denied';

export interface DeviceGrant {
  id: string;
  /** Hex SHA-256 of the device code the client polls with. */
  deviceHash: string;
  /** `XXXX-XXXX`, normalised (upper case, with the dash). */
  userCode: string;
  status: DeviceGrantStatus;
  /** The session the browser leg started (approved grants). */
  sessionId: string | null;
  /** Sealed (encrypted) hand-over from the browser leg to the client; opaque to the store. */
  sealed: string | null;
  clientIp: string | null;
  createdAt: string;
  expiresAt: string;
  /** The last poll, for `slow_down`. */
  polledAt: string | null;
}

export interface SignInSession {
  id: string;
  org: string;
  /** The IdP's `sub`. */
  subject: string;
  email: string;
  name: string | null;
  groups: string[];
  role: Role;
  /** Hex SHA-256 of the refresh token the client holds now (rotated on every refresh). */
  refreshHash: string | null;
  createdAt: string;
  refreshedAt: string | null;
  /** When the refresh token stops working on its own. */
  expiresAt: string;
  revokedAt: string | null;
}

/** One statement with `?` placeholders: its rows, or how many rows it changed. */
export type SqlRunner = (
  sql: string,
  params: unknown[],
) => Promise<{ rows: Record<string, unknown>[]; changes: number }>;

export interface SignInStore {
  insertDeviceGrant(g: DeviceGrant): Promise<void>;
  findDeviceGrant(
    by: { id: string } | { deviceHash: string } | { userCode: string },
  ): Promise<DeviceGrant | undefined>;
  /** Updates a grant that is still in status `from`; false when it is not (anymore). */
  updateDeviceGrant(
    id: string,
    from: DeviceGrantStatus,
    patch: Partial<Pick<DeviceGrant, 'status' | 'sessionId' | 'sealed'>>,
  ): Promise<boolean>;
  /** Records a poll at `at`; returns the previous poll's time. */
  pollDeviceGrant(id: string, at: string): Promise<string | null>;
  /** Deletes a grant; false when another caller deleted it first (single use). */
  deleteDeviceGrant(id: string): Promise<boolean>;
  /** Deletes grants that expired before `before`. */
  sweepDeviceGrants(before: string): Promise<number>;

  insertSession(s: SignInSession): Promise<void>;
  getSession(id: string): Promise<SignInSession | undefined>;
  findSessionByRefresh(refreshHash: string): Promise<SignInSession | undefined>;
  /** Replaces the refresh hash if it still is `oldHash` and the session is live; false otherwise. */
  rotateRefresh(
    id: string,
    oldHash: string,
    next: { refreshHash: string; at: string; expiresAt: string; groups: string[]; email: string },
  ): Promise<boolean>;
  /** Marks a session revoked; false when no live session has that id. */
  revokeSession(id: string, at: string): Promise<boolean>;
  listSessions(filter?: { org?: string; email?: string }): Promise<SignInSession[]>;
  /**
   * Revokes every live session of a person: whose email is one of `emails` (case-insensitively) or
   * whose IdP subject is `subject`; returns the ids it revoked.
   */
  revokeSessionsOf(
    who: { emails: readonly string[]; subject?: string | null },
    at: string,
  ): Promise<string[]>;
}

export const SIGNIN_MIGRATION = {
  description: 'company sign-in: device grants and sessions (hashes only)',
  statements: [
    `CREATE TABLE signin_device_grants (id TEXT PRIMARY KEY, device_hash TEXT NOT NULL UNIQUE,
      user_code TEXT NOT NULL UNIQUE, status TEXT NOT NULL, session_id TEXT, sealed TEXT, client_ip TEXT,
      created_at TEXT NOT NULL, expires_at TEXT NOT NULL, polled_at TEXT)`,
    `CREATE TABLE signin_sessions (id TEXT PRIMARY KEY, org TEXT NOT NULL, subject TEXT NOT NULL,
      email TEXT NOT NULL, name TEXT, groups_json TEXT NOT NULL, role TEXT NOT NULL, refresh_hash TEXT UNIQUE,
      created_at TEXT NOT NULL, refreshed_at TEXT, expires_at TEXT NOT NULL, revoked_at TEXT)`,
    `CREATE INDEX signin_sessions_email ON signin_sessions (org, email)`,
  ],
};

const str = (v: unknown): string => String(v);
const opt = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function grantFromRow(r: Record<string, unknown>): DeviceGrant {
  return {
    id: str(r.id),
    deviceHash: str(r.device_hash),
    userCode: str(r.user_code),
    status: str(r.status) as DeviceGrantStatus,
    sessionId: opt(r.session_id),
    sealed: opt(r.sealed),
    clientIp: opt(r.client_ip),
    createdAt: str(r.created_at),
    expiresAt: str(r.expires_at),
    polledAt: opt(r.polled_at),
  };
}

function sessionFromRow(r: Record<string, unknown>): SignInSession {
  return {
    id: str(r.id),
    org: str(r.org),
    subject: str(r.subject),
    email: str(r.email),
    name: opt(r.name),
    groups: JSON.parse(str(r.groups_json)) as string[],
    role: str(r.role) as Role,
    refreshHash: opt(r.refresh_hash),
    createdAt: str(r.created_at),
    refreshedAt: opt(r.refreshed_at),
    expiresAt: str(r.expires_at),
    revokedAt: opt(r.revoked_at),
  };
}

/** The sign-in queries over one dialect's runner. */
export function signInStore(run: SqlRunner): SignInStore {
  return { ...grantQueries(run), ...sessionQueries(run) };
}

type GrantQueries = Pick<
  SignInStore,
  | 'insertDeviceGrant'
  | 'findDeviceGrant'
  | 'updateDeviceGrant'
  | 'pollDeviceGrant'
  | 'deleteDeviceGrant'
  | 'sweepDeviceGrants'
>;

/** Device authorization grants: pending until the browser leg approves or denies them. */
function grantQueries(run: SqlRunner): GrantQueries {
  return {
    async insertDeviceGrant(g) {
      await run(
        `INSERT INTO signin_device_grants (id, device_hash, user_code, status, session_id, sealed, client_ip,
          created_at, expires_at, polled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          g.id,
          g.deviceHash,
          g.userCode,
          g.status,
          g.sessionId,
          g.sealed,
          g.clientIp,
          g.createdAt,
          g.expiresAt,
          g.polledAt,
        ],
      );
    },
    async findDeviceGrant(by) {
      const [column, value] =
        'id' in by
          ? ['id', by.id]
          : 'deviceHash' in by
            ? ['device_hash', by.deviceHash]
            : ['user_code', by.userCode];
      const { rows } = await run(`SELECT * FROM signin_device_grants WHERE ${column} = ?`, [value]);
      return rows[0] ? grantFromRow(rows[0]) : undefined;
    },
    async updateDeviceGrant(id, from, patch) {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [field, column] of [
        ['status', 'status'],
        ['sessionId', 'session_id'],
        ['sealed', 'sealed'],
      ] as const)
        if (field in patch) {
          sets.push(`${column} = ?`);
          params.push(patch[field] ?? null);
        }
      if (!sets.length) return true;
      const r = await run(`UPDATE signin_device_grants SET ${sets.join(', ')} WHERE id = ? AND status = ?`, [
        ...params,
        id,
        from,
      ]);
      return r.changes > 0;
    },
    async pollDeviceGrant(id, at) {
      const { rows } = await run(`SELECT polled_at FROM signin_device_grants WHERE id = ?`, [id]);
      await run(`UPDATE signin_device_grants SET polled_at = ? WHERE id = ?`, [at, id]);
      return opt(rows[0]?.polled_at);
    },
    async deleteDeviceGrant(id) {
      return (await run(`DELETE FROM signin_device_grants WHERE id = ?`, [id])).changes > 0;
    },
    async sweepDeviceGrants(before) {
      return (await run(`DELETE FROM signin_device_grants WHERE expires_at < ?`, [before])).changes;
    },
  };
}

/** Signed-in sessions: one per device sign-in, its refresh token hashed, revoked for good. */
function sessionQueries(run: SqlRunner): Omit<SignInStore, keyof GrantQueries> {
  const api: Omit<SignInStore, keyof GrantQueries> = {
    async insertSession(s) {
      await run(
        `INSERT INTO signin_sessions (id, org, subject, email, name, groups_json, role, refresh_hash, created_at,
          refreshed_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          s.id,
          s.org,
          s.subject,
          s.email,
          s.name,
          JSON.stringify(s.groups),
          s.role,
          s.refreshHash,
          s.createdAt,
          s.refreshedAt,
          s.expiresAt,
          s.revokedAt,
        ],
      );
    },
    async getSession(id) {
      const { rows } = await run(`SELECT * FROM signin_sessions WHERE id = ?`, [id]);
      return rows[0] ? sessionFromRow(rows[0]) : undefined;
    },
    async findSessionByRefresh(refreshHash) {
      const { rows } = await run(`SELECT * FROM signin_sessions WHERE refresh_hash = ?`, [refreshHash]);
      return rows[0] ? sessionFromRow(rows[0]) : undefined;
    },
    async rotateRefresh(id, oldHash, next) {
      const r = await run(
        `UPDATE signin_sessions SET refresh_hash = ?, refreshed_at = ?, expires_at = ?, groups_json = ?, email = ?
         WHERE id = ? AND refresh_hash = ? AND revoked_at IS NULL`,
        [next.refreshHash, next.at, next.expiresAt, JSON.stringify(next.groups), next.email, id, oldHash],
      );
      return r.changes > 0;
    },
    async revokeSession(id, at) {
      const r = await run(
        `UPDATE signin_sessions SET revoked_at = ?, refresh_hash = NULL WHERE id = ? AND revoked_at IS NULL`,
        [at, id],
      );
      return r.changes > 0;
    },
    async listSessions(filter = {}) {
      const { rows } = await run(
        `SELECT * FROM signin_sessions WHERE (CAST(? AS TEXT) IS NULL OR org = ?) AND (CAST(? AS TEXT) IS NULL OR email = ?) ORDER BY created_at, id`,
        [filter.org ?? null, filter.org ?? null, filter.email ?? null, filter.email ?? null],
      );
      return rows.map(sessionFromRow);
    },
    async revokeSessionsOf(who, at) {
      const emails = [...new Set(who.emails.map((e) => e.toLowerCase()))];
      const conds = [
        ...(emails.length ? [`LOWER(email) IN (${emails.map(() => '?').join(', ')})`] : []),
        ...(who.subject ? ['subject = ?'] : []),
      ];
      if (!conds.length) return [];
      const params = [...emails, ...(who.subject ? [who.subject] : [])];
      const { rows } = await run(
        `SELECT id FROM signin_sessions WHERE revoked_at IS NULL AND (${conds.join(' OR ')}) ORDER BY id`,
        params,
      );
      const ids: string[] = [];
      for (const r of rows) if (await api.revokeSession(str(r.id), at)) ids.push(str(r.id));
      return ids;
    },
  };
  return api;
}
