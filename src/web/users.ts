/**
 * The people of an org: everyone with a key and everyone signed in through the company IdP, with
 * their roles, groups, spend this month against their limits, live sign-in sessions and when they
 * were last seen; and revoking all a user holds, through the admin API (keys) and company sign-in
 * (sessions).
 */
import type { AdminApi, Caller } from '../control/admin-api.js';
import type { SluiceConfig } from '../control/config.js';
import type { SignInSession } from '../store/signin.js';
import type { KeyRecord, Store } from '../store/types.js';
import type { Sessions } from './session.js';
import { budgetsView, type BudgetLine } from './views.js';

export interface UserKey {
  id: string;
  prefix: string;
  role: string;
  createdAt: string;
}

export interface UserSession {
  id: string;
  createdAt: string;
  refreshedAt: string | null;
  expiresAt: string;
}

export interface OrgUser {
  user: string;
  /** The roles of the user's live keys and sessions, highest first. */
  roles: string[];
  groups: string[];
  keys: UserKey[];
  revokedKeys: number;
  sessions: UserSession[];
  /** This UTC month. */
  requests: number;
  costUsd: number;
  limits: BudgetLine[];
  /** The newest of: the last audit record, the last sign-in or refresh. */
  lastSeen: string | null;
}

const ROLE_ORDER = ['admin', 'auditor', 'member'];
const later = (a: string | null, b: string | null) => (a === null ? b : b === null || a > b ? a : b);

function blank(user: string): OrgUser {
  return {
    user,
    roles: [],
    groups: [],
    keys: [],
    revokedKeys: 0,
    sessions: [],
    requests: 0,
    costUsd: 0,
    limits: [],
    lastSeen: null,
  };
}

function addKey(u: OrgUser, k: KeyRecord, now: string): void {
  for (const g of k.groups ?? []) if (!u.groups.includes(g)) u.groups.push(g);
  const live = !k.revokedAt && (!k.expiresAt || k.expiresAt > now);
  if (!live) {
    u.revokedKeys++;
    return;
  }
  u.keys.push({ id: k.id, prefix: k.prefix, role: k.role, createdAt: k.createdAt });
  if (!u.roles.includes(k.role)) u.roles.push(k.role);
}

function addSession(u: OrgUser, s: SignInSession, now: string): void {
  for (const g of s.groups) if (!u.groups.includes(g)) u.groups.push(g);
  u.lastSeen = later(u.lastSeen, s.refreshedAt ?? s.createdAt);
  if (s.revokedAt || s.expiresAt <= now) return;
  u.sessions.push({ id: s.id, createdAt: s.createdAt, refreshedAt: s.refreshedAt, expiresAt: s.expiresAt });
  if (!u.roles.includes(s.role)) u.roles.push(s.role);
}

/** Every user of `org` (keys' users and signed-in users), sorted by name. */
export async function usersView(store: Store, config: SluiceConfig, org: string, now: Date) {
  const at = now.toISOString();
  const users = new Map<string, OrgUser>();
  const get = (name: string) => users.get(name) ?? users.set(name, blank(name)).get(name)!;
  for (const k of await store.listKeys({ org })) addKey(get(k.user), k, at);
  for (const s of await store.signin.listSessions({ org })) addSession(get(s.email), s, at);
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  for (const row of await store.usage({ org, by: 'user', since: month })) {
    const u = get(row.key);
    u.requests = row.requests;
    u.costUsd = row.costUsd;
  }
  const perUser = config.orgs[org]?.budgets?.perUser;
  const spent = new Map((await budgetsView(store, config, org, now)).users.map((l) => [l.user, l.lines]));
  await Promise.all(
    [...users.values()].map(async (u) => {
      const [last] = await store.queryAudit({ org, user: u.user, limit: 1 });
      u.lastSeen = later(u.lastSeen, last?.time ?? null);
      u.roles.sort((a, b) => ROLE_ORDER.indexOf(a) - ROLE_ORDER.indexOf(b));
      u.groups.sort();
      u.limits = (['daily', 'monthly'] as const).flatMap((span) => {
        const limit = perUser?.[span];
        if (limit === undefined) return [];
        return [spent.get(u.user)?.find((l) => l.span === span) ?? fresh(span, limit, now)];
      });
    }),
  );
  return {
    org,
    users: [...users.values()].sort((a, b) => a.user.localeCompare(b.user)),
  };
}

/** A limit nothing was spent against yet in its period. */
function fresh(span: 'daily' | 'monthly', limit: number, now: Date): BudgetLine {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const resets =
    span === 'daily' ? new Date(Date.UTC(y, m, now.getUTCDate() + 1)) : new Date(Date.UTC(y, m + 1, 1));
  return { span, limitUsd: limit, usedUsd: 0, leftUsd: limit, resets: resets.toISOString() };
}

export interface RevokeUserDeps {
  api: AdminApi;
  store: Store;
  clock: () => Date;
  /** Ends one sign-in session and enters it in the admin log (company sign-in's revoke). */
  revokeSession: (id: string, actor: string) => Promise<boolean>;
  sessions: Sessions;
}

/**
 * Revokes every live key of `user` in `org` (through the admin API: its rules, its admin-log
 * entries, the gateway's key cache) and every live sign-in session (company sign-in's revoke),
 * and closes the user's open console sessions. Needs the admin role in `org`.
 */
export async function revokeUser(
  d: RevokeUserDeps,
  who: { authorization?: string; caller?: Caller },
  org: string,
  user: string,
) {
  const actor = await d.api.authorize(who.caller ?? who.authorization, org, 'admin');
  const now = d.clock().toISOString();
  const keys = (await d.store.listKeys({ org, user })).filter(
    (k) => !k.revokedAt && (!k.expiresAt || k.expiresAt > now),
  );
  for (const k of keys)
    await d.api.handle({
      method: 'DELETE',
      path: `/orgs/${encodeURIComponent(org)}/keys/${encodeURIComponent(k.id)}`,
      query: new URLSearchParams(),
      authorization: who.authorization,
      ...(who.caller ? { caller: who.caller } : {}),
      body: async () => Buffer.alloc(0),
    });
  const live = (await d.store.signin.listSessions({ org, email: user })).filter(
    (s) => !s.revokedAt && s.expiresAt > now,
  );
  const sessions: string[] = [];
  for (const s of live) if (await d.revokeSession(s.id, `console:${actor.user}`)) sessions.push(s.id);
  d.sessions.closeSignedIn(org, user);
  return { org, user, keys: keys.map((k) => k.id), sessions };
}
