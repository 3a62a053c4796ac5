/**
 * Company sign-in's sessions as an administrator sees them (`sluice signin sessions|revoke` and the
 * admin API's `/orgs/:org/sessions`): who is signed in, since when, until when; and ending a
 * session, or every session of a person, with an admin log entry each. A gateway that did not end
 * the session itself refuses its tokens within its 5 s session cache.
 */
import type { SignInSession } from '../store/signin.js';
import type { Store } from '../store/types.js';
import { recordAdmin } from './admin-log.js';

/** A session without its refresh token's hash, with its state at `now`. */
export interface SessionView {
  id: string;
  org: string;
  user: string;
  subject: string;
  name: string | null;
  groups: string[];
  role: string;
  state: 'live' | 'revoked' | 'expired';
  createdAt: string;
  refreshedAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
}

function view(s: SignInSession, now: Date): SessionView {
  const state = s.revokedAt ? 'revoked' : s.expiresAt <= now.toISOString() ? 'expired' : 'live';
  return {
    id: s.id,
    org: s.org,
    user: s.email,
    subject: s.subject,
    name: s.name,
    groups: s.groups,
    role: s.role,
    state,
    createdAt: s.createdAt,
    refreshedAt: s.refreshedAt,
    expiresAt: s.expiresAt,
    revokedAt: s.revokedAt,
  };
}

/** Sessions of an org and/or a person (email, any case), oldest first; live ones only unless `all`. */
export async function listSignInSessions(
  store: Store,
  filter: { org?: string; user?: string; all?: boolean },
  now: Date,
): Promise<SessionView[]> {
  const user = filter.user?.toLowerCase();
  const sessions = await store.signin.listSessions(filter.org ? { org: filter.org } : {});
  return sessions
    .filter((s) => user === undefined || s.email.toLowerCase() === user)
    .map((s) => view(s, now))
    .filter((s) => filter.all || s.state === 'live');
}

export type RevokeTarget = { id: string; org?: string } | { user: string; org?: string };

/**
 * Ends the live session `id`, or every live session of `user` (within `org` when given); returns
 * the sessions it ended, each entered in the admin log as `signin.revoked` by `actor`.
 */
export async function revokeSignInSessions(
  store: Store,
  now: Date,
  actor: string,
  target: RevokeTarget,
): Promise<SessionView[]> {
  const live = await listSignInSessions(store, { ...(target.org ? { org: target.org } : {}) }, now);
  const chosen =
    'id' in target
      ? live.filter((s) => s.id === target.id)
      : live.filter((s) => s.user.toLowerCase() === target.user.toLowerCase());
  const ended: SessionView[] = [];
  for (const s of chosen) {
    if (!(await store.signin.revokeSession(s.id, now.toISOString()))) continue;
    await recordAdmin(store, now, actor, 'signin.revoked', s.id, { by: actor, org: s.org, user: s.user });
    ended.push({ ...s, state: 'revoked', revokedAt: now.toISOString() });
  }
  return ended;
}
