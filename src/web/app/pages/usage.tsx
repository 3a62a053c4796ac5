/** Usage by user or by model over a period, from the admin API's usage route. */
import { useState } from 'preact/hooks';
import { admin, view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Field, Time, usd, useData } from '../ui.js';

interface UsageRow {
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number;
  unpriced: number;
}

interface BudgetLine {
  span: 'daily' | 'monthly';
  limitUsd: number;
  usedUsd: number;
  leftUsd: number;
  resets: string;
}
interface Budgets {
  orgLines: BudgetLine[];
  users: { user: string; lines: BudgetLine[] }[];
}

function BudgetRows({ who, lines }: { who: string; lines: BudgetLine[] }) {
  return (
    <>
      {lines.map((l) => (
        <tr key={`${who}:${l.span}`} class={l.leftUsd === 0 ? 'denied' : undefined}>
          <td>{who}</td>
          <td>{l.span}</td>
          <td>{usd(l.limitUsd)}</td>
          <td>{usd(l.usedUsd)}</td>
          <td>{usd(l.leftUsd)}</td>
          <td>
            <Time iso={l.resets} />
          </td>
        </tr>
      ))}
    </>
  );
}

function BudgetsTable({ org }: { org: string }) {
  const loaded = useData<Budgets>(view(org, 'budgets'));
  return (
    <Async
      loaded={loaded}
      what="budgets"
      empty={(d) => d.orgLines.length === 0 && d.users.length === 0}
      emptyText={`Org ${org} has no spend limits (orgs.${org}.budgets).`}
    >
      {(d) => (
        <table>
          <caption>Spend limits: used and left in the current UTC day and month</caption>
          <thead>
            <tr>
              <th scope="col">Who</th>
              <th scope="col">Period</th>
              <th scope="col">Limit</th>
              <th scope="col">Used</th>
              <th scope="col">Left</th>
              <th scope="col">Resets</th>
            </tr>
          </thead>
          <tbody>
            <BudgetRows who={`org ${org}`} lines={d.orgLines} />
            {d.users.map((u) => (
              <BudgetRows key={u.user} who={u.user} lines={u.lines} />
            ))}
          </tbody>
        </table>
      )}
    </Async>
  );
}

export function UsagePage({ org }: PageProps) {
  const [by, setBy] = useState('user');
  const [since, setSince] = useState('30d');
  const loaded = useData<{ usage: UsageRow[] }>(
    admin(`/orgs/${encodeURIComponent(org)}/usage?by=${by}&since=${encodeURIComponent(since)}`),
  );
  return (
    <>
      <BudgetsTable org={org} />
      <div class="filters">
        <Field label="By">
          <select value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value)}>
            <option value="user">user</option>
            <option value="model">model</option>
          </select>
        </Field>
        <Field label="Period">
          <select value={since} onChange={(e) => setSince((e.target as HTMLSelectElement).value)}>
            <option value="24h">Last day</option>
            <option value="7d">Last week</option>
            <option value="30d">Last month</option>
          </select>
        </Field>
      </div>
      <Async
        loaded={loaded}
        what="usage"
        empty={(d) => d.usage.length === 0}
        emptyText="No usage in this period."
      >
        {(d) => (
          <table>
            <caption>Usage by {by}</caption>
            <thead>
              <tr>
                <th scope="col">{by === 'user' ? 'User' : 'Model'}</th>
                <th scope="col">Requests</th>
                <th scope="col">Input tokens</th>
                <th scope="col">Output tokens</th>
                <th scope="col">Cache write / read</th>
                <th scope="col">Spend</th>
                <th scope="col">Unpriced</th>
              </tr>
            </thead>
            <tbody>
              {d.usage.map((u) => (
                <tr key={u.key}>
                  <td>{u.key}</td>
                  <td>{count(u.requests)}</td>
                  <td>{count(u.inputTokens)}</td>
                  <td>{count(u.outputTokens)}</td>
                  <td>
                    {count(u.cacheCreationInputTokens)} / {count(u.cacheReadInputTokens)}
                  </td>
                  <td>{usd(u.costUsd)}</td>
                  <td>{count(u.unpriced)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </>
  );
}
