/** An org's keys: create (the key is shown once), revoke after a confirmation; both enter the admin log. */
import type { RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { admin, call } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, Field, Time, useData } from '../ui.js';

interface Key {
  id: string;
  user: string;
  role: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  expiresAt: string | null;
}

export function KeysPage({ org, session }: PageProps) {
  const [version, setVersion] = useState(0);
  const loaded = useData<{ keys: Key[] }>(admin(`/orgs/${encodeURIComponent(org)}/keys`), version);
  const [user, setUser] = useState('');
  const [role, setRole] = useState('member');
  const [created, setCreated] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const canManage = session.caller.role === 'admin';

  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      const r = await call<{ key: string }>('POST', admin(`/orgs/${encodeURIComponent(org)}/keys`), {
        user,
        role,
      });
      setCreated(r.key);
      setUser('');
      setVersion(version + 1);
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };
  const askRevoke = (k: Key) => {
    setRevoking(k);
    dialog.current?.showModal();
  };
  const revoke = async () => {
    const k = revoking;
    dialog.current?.close();
    if (!k) return;
    try {
      await call('DELETE', admin(`/orgs/${encodeURIComponent(org)}/keys/${encodeURIComponent(k.id)}`));
      setMessage({ error: false, text: `Key ${k.prefix}… of ${k.user} is revoked.` });
      setVersion(version + 1);
    } catch (err) {
      setMessage({ error: true, text: err instanceof Error ? err.message : String(err) });
    }
  };

  return (
    <>
      {canManage && (
        <form class="filters" onSubmit={create} aria-label="Create a key">
          <Field label="User (email)">
            <input value={user} required onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label="Role">
            <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              <option value="member">member</option>
              <option value="auditor">auditor</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          <button type="submit">Create key</button>
        </form>
      )}
      {created && <CreatedKey value={created} done={() => setCreated(null)} />}
      {message && (
        <p class={message.error ? 'state error' : 'state ok'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <Async loaded={loaded} what="keys" empty={(d) => d.keys.length === 0} emptyText="This org has no keys.">
        {(d) => <KeysTable keys={d.keys} org={org} canManage={canManage} onRevoke={askRevoke} />}
      </Async>
      <RevokeDialog dialog={dialog} revoking={revoking} revoke={revoke} />
    </>
  );
}

/** A key just made: shown this once. */
function CreatedKey({ value, done }: { value: string; done: () => void }) {
  return (
    <div class="created" role="status">
      <p>
        <strong>The new key, shown this once:</strong> copy it now; Sluice keeps only its hash.
      </p>
      <code class="secret" id="created-key">
        {value}
      </code>
      <button type="button" onClick={done}>
        I have copied it
      </button>
    </div>
  );
}

function KeysTable(p: { keys: Key[]; org: string; canManage: boolean; onRevoke: (k: Key) => void }) {
  const { keys, org, canManage, onRevoke } = p;
  return (
    <table>
      <caption>Keys of org {org}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">User</th>
          <th scope="col">Role</th>
          <th scope="col">Created</th>
          <th scope="col">State</th>
          {canManage && <th scope="col">Action</th>}
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id}>
            <td>
              <code>{k.prefix}…</code>
            </td>
            <td>{k.user}</td>
            <td>{k.role}</td>
            <td>
              <Time iso={k.createdAt} />
            </td>
            <td>
              {k.revokedAt ? (
                <>
                  revoked <Time iso={k.revokedAt} />
                </>
              ) : (
                'live'
              )}
            </td>
            {canManage && (
              <td>
                {!k.revokedAt && (
                  <button
                    type="button"
                    onClick={() => onRevoke(k)}
                    aria-label={`Revoke ${k.prefix}… of ${k.user}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Asks before a key is revoked. */
function RevokeDialog(p: {
  dialog: RefObject<HTMLDialogElement | null>;
  revoking: Key | null;
  revoke: () => void;
}) {
  const { dialog, revoking, revoke } = p;
  return (
    <dialog ref={dialog} aria-labelledby="revoke-title">
      <h2 id="revoke-title">Revoke this key?</h2>
      <p>
        {revoking ? `${revoking.prefix}… of ${revoking.user} (${revoking.role})` : ''} stops working at once,
        for every request. This cannot be undone.
      </p>
      <div class="paging">
        <button type="button" onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={revoke}>
          Revoke key
        </button>
      </div>
    </dialog>
  );
}
