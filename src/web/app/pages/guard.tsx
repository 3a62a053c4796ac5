/** Guard decisions by rule, decision and user: rule ids and counts only, never a secret value. */
import { useRef, useState } from 'preact/hooks';
import { view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Field, useData } from '../ui.js';
import { RecordPanel } from './record.js';
import { RecordsTable, type AuditRow } from './requests.js';

interface GuardView {
  decisions: Record<string, number>;
  rules: { rule: string; findings: number; requests: number }[];
  users: { user: string; decisions: Record<string, number> }[];
  days: { day: string; decisions: Record<string, number> }[];
  sessions: { session: string; user: string | null; decisions: Record<string, number> }[];
  flagged: AuditRow[];
  partial: boolean;
}

const summary = (d: Record<string, number>) =>
  Object.entries(d)
    .map(([k, n]) => `${k} ${count(n)}`)
    .join(', ');

function SessionsTable({ sessions }: { sessions: GuardView['sessions'] }) {
  return (
    <table>
      <caption>By session (the 50 with the most decisions)</caption>
      <thead>
        <tr>
          <th scope="col">Session</th>
          <th scope="col">User</th>
          <th scope="col">Decisions</th>
        </tr>
      </thead>
      <tbody>
        {sessions.map((x) => (
          <tr key={x.session}>
            <td>
              <code>{x.session}</code>
            </td>
            <td>{x.user ?? '—'}</td>
            <td>{summary(x.decisions)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The decisions by rule, user, UTC day and session, as tables. */
function Breakdown({ d }: { d: GuardView }) {
  return (
    <>
      <table>
        <caption>By rule</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Requests</th>
            <th scope="col">Findings</th>
          </tr>
        </thead>
        <tbody>
          {d.rules.map((r) => (
            <tr key={r.rule}>
              <td>
                <code>{r.rule}</code>
              </td>
              <td>{count(r.requests)}</td>
              <td>{count(r.findings)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>By user</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {d.users.map((u) => (
            <tr key={u.user}>
              <td>{u.user}</td>
              <td>{summary(u.decisions)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>By day (UTC)</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {d.days.map((x) => (
            <tr key={x.day}>
              <td>{x.day}</td>
              <td>{summary(x.decisions)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <SessionsTable sessions={d.sessions} />
    </>
  );
}

export function GuardPage({ org }: PageProps) {
  const [since, setSince] = useState('7d');
  const [shown, setShown] = useState<string | null>(null);
  // Closing the request puts the focus back on the button that opened it.
  const opener = useRef<HTMLElement | null>(null);
  const show = (id: string) => {
    opener.current = document.activeElement as HTMLElement | null;
    setShown(id);
  };
  const close = () => {
    setShown(null);
    opener.current?.focus();
  };
  const loaded = useData<GuardView>(view(org, 'guard', `since=${encodeURIComponent(since)}`));
  return (
    <>
      <Field label="Period">
        <select value={since} onChange={(e) => setSince((e.target as HTMLSelectElement).value)}>
          <option value="24h">Last day</option>
          <option value="7d">Last week</option>
          <option value="30d">Last month</option>
        </select>
      </Field>
      <Async
        loaded={loaded}
        what="guard decisions"
        empty={(d) => Object.keys(d.decisions).length === 0}
        emptyText="The guard found nothing in this period."
      >
        {(d) => (
          <>
            <p>Decisions: {summary(d.decisions)}.</p>
            {d.partial && <p role="status">Counted over the newest records only (a partial scan).</p>}
            <Breakdown d={d} />
            <RecordsTable
              records={d.flagged}
              caption="Latest requests with a guard decision"
              onShow={(r) => show(r.id)}
            />
            {shown && <RecordPanel key={shown} org={org} id={shown} onClose={close} />}
          </>
        )}
      </Async>
    </>
  );
}
