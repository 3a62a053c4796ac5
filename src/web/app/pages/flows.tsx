/** The org's data flows for its real route (`sluice explain --config --org`), with sources as links. */
import { view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, useData } from '../ui.js';

interface Source {
  seed: string;
  section: string;
  url: string;
}
interface Remark {
  id: string;
  message: string;
  sources: Source[];
}
interface Flow {
  id: string;
  enabled: boolean;
  destination: string;
  trainingUse: string;
  retentionDays: number | null;
  unstated: string[];
  data: string[];
  sources: Source[];
  notes: string[];
}
interface Flows {
  at: string;
  route: { upstreams: { name: string; provider: string }[]; notes: string[] };
  flows: Flow[];
  warnings: Remark[];
  notes: Remark[];
}

function Sources({ sources }: { sources: Source[] }) {
  return (
    <ul class="sources">
      {sources.map((s) => (
        <li key={s.url + s.section}>
          <a href={s.url} rel="noreferrer noopener" target="_blank">
            {s.section || s.url}
          </a>
        </li>
      ))}
    </ul>
  );
}

const retention = (f: Flow) =>
  f.retentionDays !== null
    ? `${f.retentionDays} days`
    : f.unstated.includes('retentionDays')
      ? 'unstated'
      : 'other party';

export function FlowsPage({ org }: PageProps) {
  const loaded = useData<Flows>(view(org, 'flows'));
  return (
    <Async loaded={loaded} what="the data flows" empty={(d) => d.flows.length === 0}>
      {(d) => (
        <>
          <p>
            Route: {d.route.upstreams.map((u) => `${u.name} (${u.provider})`).join(' → ') || 'no upstream'};
            as the sources stood on {d.at}.
          </p>
          {d.route.notes.map((n) => (
            <p key={n} class="note">
              {n}
            </p>
          ))}
          {d.warnings.length > 0 && (
            <section aria-labelledby="warnings">
              <h2 id="warnings">Warnings</h2>
              <ul>
                {d.warnings.map((w) => (
                  <li key={w.id}>
                    {w.message} <Sources sources={w.sources} />
                  </li>
                ))}
              </ul>
            </section>
          )}
          <table>
            <caption>Flows</caption>
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">On</th>
                <th scope="col">Destination</th>
                <th scope="col">Training use</th>
                <th scope="col">Retention</th>
                <th scope="col">Data</th>
                <th scope="col">Sources</th>
              </tr>
            </thead>
            <tbody>
              {d.flows.map((f) => (
                <tr key={f.id}>
                  <td>
                    <code>{f.id}</code>
                  </td>
                  <td>{f.enabled ? 'yes' : 'no'}</td>
                  <td>{f.destination}</td>
                  <td>{f.trainingUse}</td>
                  <td>{retention(f)}</td>
                  <td>{f.data.join(', ') || '—'}</td>
                  <td>
                    <Sources sources={f.sources} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Async>
  );
}
