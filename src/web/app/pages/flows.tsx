/**
 * The org's data flows for its real route (`sluice explain --config --org`): a diagram of boxes and
 * arrows (CSS, no chart drawing) from the developer's machine to each destination, with training use,
 * retention, data and sources as links; the same as a table for reading and copying.
 */
import { useState } from 'preact/hooks';
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

/** Flows grouped by where they go, in the order the explain output first names each destination. */
function byDestination(flows: Flow[]): [string, Flow[]][] {
  const groups = new Map<string, Flow[]>();
  for (const f of flows) groups.set(f.destination, [...(groups.get(f.destination) ?? []), f]);
  return [...groups.entries()];
}

/** Each distinct page once (a flow often cites several sections of one page). */
const distinct = (sources: Source[]) => [...new Map(sources.map((s) => [s.url, s])).values()];

function FlowItem({ f }: { f: Flow }) {
  const unstated = f.unstated.length > 0 || f.trainingUse === 'unstated';
  return (
    <li class={f.enabled ? 'flow' : 'flow off'}>
      <p class="flow-head">
        <code>{f.id}</code> <span class="pill">{f.enabled ? 'on' : 'off for this route'}</span>
        {unstated && <span class="pill warn">⚠ unstated in the sources (see the warnings)</span>}
      </p>
      <dl class="facts">
        <dt>Training use</dt>
        <dd>{f.trainingUse}</dd>
        <dt>Retention</dt>
        <dd>{retention(f)}</dd>
        <dt>Data</dt>
        <dd>{f.data.join(', ') || '—'}</dd>
      </dl>
      <Sources sources={distinct(f.sources)} />
    </li>
  );
}

/** Boxes and arrows in CSS: the developer's machine on the left, one arrow to each destination. */
function Diagram({ d }: { d: Flows }) {
  const route = d.route.upstreams.map((u) => `${u.name} (${u.provider})`).join(' → ') || 'no upstream';
  return (
    <figure class="flowmap" aria-labelledby="flowmap-caption">
      <figcaption id="flowmap-caption">
        Where data goes from a developer's machine on the route {route}; a dashed arrow is a flow that is off
        for this route.
      </figcaption>
      <div class="flowmap-body">
        <div class="node origin">
          <strong>Developer machine</strong>
          <span>Claude Code, through Sluice to {route}</span>
        </div>
        <ul class="targets" aria-label="Destinations">
          {byDestination(d.flows).map(([dest, flows]) => {
            const on = flows.some((f) => f.enabled);
            return (
              <li key={dest} class={on ? 'target' : 'target off'}>
                <span class="edge" aria-hidden="true" />
                <section class="node" aria-label={`Destination ${dest}`}>
                  <h3>{dest}</h3>
                  <ul class="flows">
                    {flows.map((f) => (
                      <FlowItem key={f.id} f={f} />
                    ))}
                  </ul>
                </section>
              </li>
            );
          })}
        </ul>
      </div>
    </figure>
  );
}

function FlowsTable({ d }: { d: Flows }) {
  return (
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
  );
}

export function FlowsPage({ org }: PageProps) {
  const loaded = useData<Flows>(view(org, 'flows'));
  const [asTable, setAsTable] = useState(false);
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
            <section aria-labelledby="warnings" class="warnings">
              <h2 id="warnings" tabIndex={-1}>
                Warnings
              </h2>
              <ul>
                {d.warnings.map((w) => (
                  <li key={w.id}>
                    {w.message} <Sources sources={w.sources} />
                  </li>
                ))}
              </ul>
            </section>
          )}
          <div class="view-switch" role="group" aria-label="Show the flows as">
            <button type="button" aria-pressed={!asTable} onClick={() => setAsTable(false)}>
              Diagram
            </button>
            <button type="button" aria-pressed={asTable} onClick={() => setAsTable(true)}>
              Table
            </button>
          </div>
          {asTable ? <FlowsTable d={d} /> : <Diagram d={d} />}
        </>
      )}
    </Async>
  );
}
