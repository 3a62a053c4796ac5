/** Hosts the org's clients reached through the egress proxy: expected by the org's flows or not, and refusals. */
import { useState } from 'preact/hooks';
import { view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Field, Time, useData } from '../ui.js';

interface Host {
  target: string;
  allowed: number;
  denied: number;
  rules: string[];
  last: string;
  flows: string[];
  uses: string[];
  expected: boolean;
}
interface Refusal {
  id: string;
  time: string;
  user: string | null;
  host: string;
  port: number;
  rule: string;
}
interface EgressView {
  hosts: Host[];
  refused: Refusal[];
  partial: boolean;
}

export function EgressPage({ org }: PageProps) {
  const [since, setSince] = useState('7d');
  const loaded = useData<EgressView>(view(org, 'egress', `since=${encodeURIComponent(since)}`));
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
        what="egress records"
        empty={(d) => d.hosts.length === 0}
        emptyText="No connections through the egress proxy in this period."
      >
        {(d) => (
          <>
            {d.partial && <p role="status">Counted over the newest connections only (a partial scan).</p>}
            <HostsTable hosts={d.hosts} />
            <RefusedTable refused={d.refused} />
          </>
        )}
      </Async>
    </>
  );
}

function HostsTable({ hosts }: { hosts: Host[] }) {
  return (
    <table>
      <caption>Hosts reached (unexpected first: no flow of the org's route predicts them)</caption>
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Expected</th>
          <th scope="col">Flows</th>
          <th scope="col">Allowed</th>
          <th scope="col">Denied</th>
          <th scope="col">Rules</th>
          <th scope="col">Last</th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((h) => (
          <tr key={h.target} class={h.expected ? undefined : 'denied'}>
            <td>
              <code>{h.target}</code>
            </td>
            <td>{h.expected ? 'yes' : 'no'}</td>
            <td title={h.uses.join('; ')}>{h.flows.join(', ') || 'unknown host'}</td>
            <td>{count(h.allowed)}</td>
            <td>{count(h.denied)}</td>
            <td>{h.rules.join(', ')}</td>
            <td>
              <Time iso={h.last} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RefusedTable({ refused }: { refused: Refusal[] }) {
  return refused.length === 0 ? (
    <p class="state empty">No connection was refused in this period.</p>
  ) : (
    <table>
      <caption>Refused connections, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">User</th>
          <th scope="col">Host</th>
          <th scope="col">Rule</th>
        </tr>
      </thead>
      <tbody>
        {refused.map((r) => (
          <tr key={r.id}>
            <td>
              <Time iso={r.time} />
            </td>
            <td>{r.user ?? '—'}</td>
            <td>
              <code>
                {r.host}:{r.port}
              </code>
            </td>
            <td>{r.rule}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
