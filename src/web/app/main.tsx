/** The console's shell: sign-in, the org picker, navigation and the page of the location's hash. */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, setCsrf, type IdpInfo, type SessionInfo } from './api.js';
import { AdminLogPage } from './pages/admin-log.js';
import { EgressPage } from './pages/egress.js';
import { FlowsPage } from './pages/flows.js';
import { GuardPage } from './pages/guard.js';
import { KeysPage } from './pages/keys.js';
import { OverviewPage } from './pages/overview.js';
import { RequestsPage } from './pages/requests.js';
import { UsagePage } from './pages/usage.js';
import { UsersPage } from './pages/users.js';
import { viewerZone } from './ui.js';

export interface PageProps {
  org: string;
  session: SessionInfo;
}

const PAGES = [
  { id: 'overview', title: 'Overview', Page: OverviewPage },
  { id: 'usage', title: 'Usage', Page: UsagePage },
  { id: 'requests', title: 'Requests', Page: RequestsPage },
  { id: 'guard', title: 'Guard', Page: GuardPage },
  { id: 'keys', title: 'Keys', Page: KeysPage },
  { id: 'users', title: 'Users', Page: UsersPage },
  { id: 'admin-log', title: 'Admin log', Page: AdminLogPage },
  { id: 'flows', title: 'Data flows', Page: FlowsPage },
  { id: 'egress', title: 'Egress', Page: EgressPage },
] as const;

/** The page of `#/<id>`; other fragments (the skip link's `#main`) are anchors on the page shown. */
const pageId = () => (location.hash.startsWith('#/') ? location.hash.slice(2) : null);

/** Why the company IdP's sign-in did not complete, as the gateway sent the browser back with it. */
const NO_REASON =
  'It was started in another browser, took more than five minutes, or was used already. Sign in again.';

/** Why the IdP's round trip failed: the gateway's reason for this browser, or (none kept) the likely ones. */
const idpErrorNow = (idp: IdpInfo | null) =>
  new URLSearchParams(location.search).get('signin') === 'failed' ? (idp?.signinError ?? NO_REASON) : null;

function SignIn(props: { onSignedIn: (s: SessionInfo) => void; reason?: string; idp: IdpInfo | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idpError = idpErrorNow(props.idp);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await call<SessionInfo>('POST', '/console/session', { token });
      setToken('');
      props.onSignedIn(s);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Sluice console</h1>
      <p>
        Sign in with an admin token from the gateway's configuration, or a Sluice key with the admin or
        auditor role.
      </p>
      {props.reason && <p role="status">{props.reason}</p>}
      {idpError && (
        <div class="state error" role="alert">
          <strong>Sign-in did not complete.</strong> {idpError}
        </div>
      )}
      {props.idp && (
        <p>
          <a class="button" href="/console/signin">
            Sign in with {props.idp.label}
          </a>
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <label class="field">
          <span>Token or key</span>
          <input
            type="password"
            name="token"
            autocomplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error && (
        <div class="state error" role="alert">
          {error}
        </div>
      )}
    </main>
  );
}

function Shell(props: { session: SessionInfo; onSignOut: () => void }) {
  const { session } = props;
  const [page, setPage] = useState(pageId() ?? 'overview');
  const [org, setOrg] = useState(session.caller.org ?? session.orgs[0] ?? '');
  useEffect(() => {
    const onHash = () => {
      const id = pageId();
      if (id !== null) setPage(id);
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const current = PAGES.find((p) => p.id === page) ?? PAGES[0];
  useEffect(() => {
    document.title = `${current.title} · Sluice console`;
  }, [current]);
  const signOut = async () => {
    await call('DELETE', '/console/session').catch(() => undefined);
    props.onSignOut();
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">Sluice</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === current.id ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {session.caller.org === null ? (
            <label class="field inline">
              <span>Org</span>
              <select value={org} onChange={(e) => setOrg((e.target as HTMLSelectElement).value)}>
                {session.orgs.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span>
              Org <strong>{org}</strong>
            </span>
          )}
          <span>
            {session.caller.user} ({session.caller.role})
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{current.title}</h1>
        <p class="zone">Times in your zone: {viewerZone}.</p>
        {org ? (
          <current.Page key={`${current.id}:${org}`} org={org} session={session} />
        ) : (
          <p class="state empty">No org is configured.</p>
        )}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [reason, setReason] = useState<string | undefined>(undefined);
  const [idp, setIdp] = useState<IdpInfo | null>(null);
  /** Who is signed in (on every load, and after signing out: the IdP's button comes back). */
  const load = () =>
    call<SessionInfo | { signedIn: false; idp?: { label: string }; signinError?: string }>(
      'GET',
      '/console/session',
    ).then(
      (s) => {
        if (!s.signedIn) {
          setIdp(s.idp ? { ...s.idp, ...(s.signinError ? { signinError: s.signinError } : {}) } : null);
          return setSession(null);
        }
        // The IdP's round trip is over: drop its leftovers from the address bar.
        if (location.search) history.replaceState(null, '', `/console${location.hash}`);
        setCsrf(s.csrf);
        setSession(s);
      },
      (err: unknown) => {
        setReason(err instanceof Error ? err.message : String(err));
        setSession(null);
      },
    );
  useEffect(() => void load(), []);
  if (session === undefined)
    return (
      <main id="main">
        <p class="state loading" role="status">
          Loading…
        </p>
      </main>
    );
  if (session === null)
    return (
      <SignIn
        reason={reason}
        idp={idp}
        onSignedIn={(s) => {
          if (location.search) history.replaceState(null, '', `/console${location.hash}`);
          setCsrf(s.csrf);
          setSession(s);
        }}
      />
    );
  return (
    <Shell
      session={session}
      onSignOut={() => {
        setCsrf('');
        setSession(null);
        void load();
      }}
    />
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
