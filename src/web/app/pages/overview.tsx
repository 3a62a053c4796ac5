/** Requests, tokens, spend and guard decisions over a day, a week or a month, for one org. */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Field, Time, usd, useData } from '../ui.js';

interface Bucket {
  start: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  guard: Record<string, number>;
}
interface Overview {
  span: string;
  buckets: Bucket[];
  partial: boolean;
}

const flagged = (b: Bucket) => Object.values(b.guard).reduce((a, n) => a + n, 0);

function Chart({ buckets }: { buckets: Bucket[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [
      buckets.map((b) => Date.parse(b.start) / 1000),
      buckets.map((b) => b.requests),
      buckets.map(flagged),
    ];
    const plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth),
        height: 260,
        series: [
          {},
          { label: 'Requests', stroke: '#1f5fbf', width: 2 },
          { label: 'Guard decisions', stroke: '#b3261e', width: 2, dash: [6, 4] },
        ],
        axes: [{}, { label: 'count' }],
      },
      data,
      el,
    );
    return () => plot.destroy();
  }, [buckets]);
  return (
    <figure>
      <div ref={box} class="chart" role="img" aria-label="Requests and guard decisions over time" />
      <figcaption>
        Requests (solid) and guard decisions (dashed) per period; the table below has the figures.
      </figcaption>
    </figure>
  );
}

export function OverviewPage({ org }: PageProps) {
  const [span, setSpan] = useState('week');
  const loaded = useData<Overview>(view(org, 'overview', `span=${span}`));
  return (
    <>
      <Field label="Period">
        <select value={span} onChange={(e) => setSpan((e.target as HTMLSelectElement).value)}>
          <option value="day">Last day (hourly)</option>
          <option value="week">Last week (daily)</option>
          <option value="month">Last month (daily)</option>
        </select>
      </Field>
      <Async
        loaded={loaded}
        what="the overview"
        empty={(d) => d.buckets.every((b) => b.requests === 0 && flagged(b) === 0)}
        emptyText={`No requests from org ${org} in this period.`}
      >
        {(d) => (
          <>
            <Totals buckets={d.buckets} />
            {d.partial && (
              <p role="status">Guard decisions counted over the newest records only (a partial scan).</p>
            )}
            <Chart buckets={d.buckets} />
            <PeriodTable buckets={d.buckets} />
          </>
        )}
      </Async>
    </>
  );
}

/** Requests, tokens, spend and guard decisions over the whole period. */
function Totals({ buckets }: { buckets: Bucket[] }) {
  const total = buckets.reduce(
    (t, b) => ({
      requests: t.requests + b.requests,
      tokens: t.tokens + b.inputTokens + b.outputTokens,
      cost: t.cost + b.costUsd,
      guard: t.guard + flagged(b),
    }),
    { requests: 0, tokens: 0, cost: 0, guard: 0 },
  );
  return (
    <dl class="totals">
      <div>
        <dt>Requests</dt>
        <dd>{count(total.requests)}</dd>
      </div>
      <div>
        <dt>Tokens</dt>
        <dd>{count(total.tokens)}</dd>
      </div>
      <div>
        <dt>Spend</dt>
        <dd>{usd(total.cost)}</dd>
      </div>
      <div>
        <dt>Guard decisions</dt>
        <dd>{count(total.guard)}</dd>
      </div>
    </dl>
  );
}

function PeriodTable({ buckets }: { buckets: Bucket[] }) {
  return (
    <table>
      <caption>Per period</caption>
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">Requests</th>
          <th scope="col">Input tokens</th>
          <th scope="col">Output tokens</th>
          <th scope="col">Spend</th>
          <th scope="col">Guard decisions</th>
        </tr>
      </thead>
      <tbody>
        {buckets.map((b) => (
          <tr key={b.start}>
            <td>
              <Time iso={b.start} />
            </td>
            <td>{count(b.requests)}</td>
            <td>{count(b.inputTokens)}</td>
            <td>{count(b.outputTokens)}</td>
            <td>{usd(b.costUsd)}</td>
            <td>
              {Object.entries(b.guard)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ') || '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
