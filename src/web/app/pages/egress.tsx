/** Hosts the org's clients reached through the egress proxy, with allow and deny counts and rules. */
import { admin } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Time, useData } from '../ui.js';

interface EgressRecord {
  id: string;
  time: string;
  user: string | null;
  host: string;
  port: number;
  decision: 'allow' | 'deny';
  rule: string;
}

interface Host {
  target: string;
  allowed: number;
  denied: number;
  rules: Set<string>;
  last: string;
}

function byHost(records: EgressRecord[]): Host[] {
  const hosts = new Map<string, Host>();
  for (const r of records) {
    const target = `${r.host}:${r.port}`;
    const h = hosts.get(target) ?? { target, allowed: 0, denied: 0, rules: new Set(), last: r.time };
    if (r.decision === 'allow') h.allowed++;
    else h.denied++;
    h.rules.add(r.rule);
    if (r.time > h.last) h.last = r.time;
    hosts.set(target, h);
  }
  return [...hosts.values()].sort((a, b) => b.denied - a.denied || b.allowed - a.allowed);
}

export function EgressPage({ org }: PageProps) {
  const loaded = useData<{ records: EgressRecord[] }>(
    admin(`/orgs/${encodeURIComponent(org)}/egress?since=7d&limit=1000`),
  );
  return (
    <Async
      loaded={loaded}
      what="egress records"
      empty={(d) => d.records.length === 0}
      emptyText="No connections through the egress proxy in the last week."
    >
      {(d) => (
        <>
          <table>
            <caption>Hosts reached in the last week (newest 1,000 connections)</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Allowed</th>
                <th scope="col">Denied</th>
                <th scope="col">Rules</th>
                <th scope="col">Last</th>
              </tr>
            </thead>
            <tbody>
              {byHost(d.records).map((h) => (
                <tr key={h.target} class={h.denied ? 'denied' : undefined}>
                  <td>
                    <code>{h.target}</code>
                  </td>
                  <td>{count(h.allowed)}</td>
                  <td>{count(h.denied)}</td>
                  <td>{[...h.rules].join(', ')}</td>
                  <td>
                    <Time iso={h.last} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Refused connections</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Host</th>
                <th scope="col">Rule</th>
              </tr>
            </thead>
            <tbody>
              {d.records
                .filter((r) => r.decision === 'deny')
                .slice(0, 100)
                .map((r) => (
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
        </>
      )}
    </Async>
  );
}
