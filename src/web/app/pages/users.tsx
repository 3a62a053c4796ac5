/**
 * The org's people: everyone with a key or a company sign-in, their roles and groups, spend this
 * month against their limits, their sessions and when they were last seen. An admin revokes all a
 * user holds (keys and sessions) after a confirmation; each revocation enters the admin log.
 */
import type { RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { call, view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Time, usd, useData } from '../ui.js';

interface BudgetLine {
  span: 'daily' | 'monthly';
  limitUsd: number;
  usedUsd: number;
  leftUsd: number;
  resets: string;
}
interface OrgUser {
  user: string;
  roles: string[];
  groups: string[];
  keys: { id: string; prefix: string; role: string; createdAt: string }[];
  revokedKeys: number;
  sessions: { id: string; createdAt: string; refreshedAt: string | null; expiresAt: string }[];
  requests: number;
  costUsd: number;
  limits: BudgetLine[];
  lastSeen: string | null;
}

/** Sessions the console opened carry this prefix; the others are Claude Code's (or `sluice login`'s). */
const kind = (id: string) => (id.startsWith('ses_console_') ? 'console' : 'Claude Code');

const holds = (u: OrgUser) =>
  [
    u.keys.length ? `${u.keys.length} live key${u.keys.length > 1 ? 's' : ''}` : '',
    u.sessions.length ? `${u.sessions.length} session${u.sessions.length > 1 ? 's' : ''}` : '',
  ]
    .filter(Boolean)
    .join(' and ');

function UserRow({ u, onRevoke }: { u: OrgUser; onRevoke?: (u: OrgUser) => void }) {
  return (
    <tr>
      <th scope="row">{u.user}</th>
      <td>{u.roles.join(', ') || '—'}</td>
      <td>{u.groups.join(', ') || '—'}</td>
      <td>
        {u.keys.map((k) => (
          <div key={k.id}>
            <code>{k.prefix}…</code> {k.role}
          </div>
        ))}
        {u.revokedKeys > 0 && <div class="note">{u.revokedKeys} revoked or expired</div>}
        {u.keys.length === 0 && u.revokedKeys === 0 && '—'}
      </td>
      <td>
        {u.sessions.map((s) => (
          <div key={s.id}>
            {kind(s.id)}, since <Time iso={s.createdAt} />
          </div>
        ))}
        {u.sessions.length === 0 && '—'}
      </td>
      <td>
        {count(u.requests)} requests, {usd(u.costUsd)}
      </td>
      <td>
        {u.limits.map((l) => (
          <div key={l.span}>
            {l.span}: {usd(l.usedUsd)} of {usd(l.limitUsd)} ({usd(l.leftUsd)} left)
          </div>
        ))}
        {u.limits.length === 0 && 'none'}
      </td>
      <td>
        <Time iso={u.lastSeen} />
      </td>
      {onRevoke && (
        <td>
          {(u.keys.length > 0 || u.sessions.length > 0) && (
            <button type="button" class="danger" onClick={() => onRevoke(u)} aria-label={`Revoke ${u.user}`}>
              Revoke
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

function RevokeDialog(props: {
  dialog: RefObject<HTMLDialogElement | null>;
  user: OrgUser | null;
  onRevoke: () => void;
}) {
  const { dialog, user } = props;
  return (
    <dialog ref={dialog} aria-labelledby="revoke-user-title">
      <h2 id="revoke-user-title">Revoke this user?</h2>
      <p>
        {user ? `${user.user}: ${holds(user)}` : ''} stop working at once, on this gateway and (within
        seconds) on others sharing the store. Each revocation enters the admin log. This cannot be undone;
        they can be given a new key or sign in again.
      </p>
      <div class="paging">
        <button type="button" onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onRevoke}>
          Revoke keys and sessions
        </button>
      </div>
    </dialog>
  );
}

export function UsersPage({ org, session }: PageProps) {
  const [version, setVersion] = useState(0);
  const loaded = useData<{ users: OrgUser[] }>(view(org, 'users'), version);
  const [revoking, setRevoking] = useState<OrgUser | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const canManage = session.caller.role === 'admin';
  const ask = (u: OrgUser) => {
    setRevoking(u);
    dialog.current?.showModal();
  };
  const revoke = async () => {
    const u = revoking;
    dialog.current?.close();
    if (!u) return;
    try {
      const r = await call<{ keys: string[]; sessions: string[] }>('POST', view(org, 'users/revoke'), {
        user: u.user,
      });
      setMessage({
        error: false,
        text: `${u.user}: ${r.keys.length} key(s) and ${r.sessions.length} session(s) revoked.`,
      });
      setVersion(version + 1);
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <>
      {message && (
        <p class={message.error ? 'state error' : 'state ok'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <Async
        loaded={loaded}
        what="users"
        empty={(d) => d.users.length === 0}
        emptyText="This org has no users yet."
      >
        {(d) => (
          <table>
            <caption>Users of org {org} (spend this UTC month)</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Roles</th>
                <th scope="col">Groups</th>
                <th scope="col">Keys</th>
                <th scope="col">Sessions</th>
                <th scope="col">This month</th>
                <th scope="col">Limits</th>
                <th scope="col">Last seen</th>
                {canManage && <th scope="col">Action</th>}
              </tr>
            </thead>
            <tbody>
              {d.users.map((u) => (
                <UserRow key={u.user} u={u} {...(canManage ? { onRevoke: ask } : {})} />
              ))}
            </tbody>
          </table>
        )}
      </Async>
      <RevokeDialog dialog={dialog} user={revoking} onRevoke={revoke} />
    </>
  );
}
