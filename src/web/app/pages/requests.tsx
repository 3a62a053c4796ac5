/** The audit log: filters (user, model, status, guard decision, since) and keyset paging. */
import { useEffect, useState } from 'preact/hooks';
import { view } from '../api.js';
import type { PageProps } from '../main.js';
import { Async, count, Field, Time, usd, useData } from '../ui.js';

export interface AuditRow {
  id: string;
  time: string;
  user: string | null;
  sessionId: string | null;
  model: string | null;
  path: string;
  status: number;
  errorType: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number;
  guard: { decision: string; rules: Record<string, number> };
}

const FILTERS = ['user', 'model', 'status', 'decision', 'since'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const none: Filters = { user: '', model: '', status: '', decision: '', since: '7d' };

export function RecordsTable({
  records,
  caption,
  onShow,
}: {
  records: AuditRow[];
  caption: string;
  /** Offers each record's stored request (a button per row). */
  onShow?: (r: AuditRow) => void;
}) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">User</th>
          <th scope="col">Model</th>
          <th scope="col">Status</th>
          <th scope="col">Guard</th>
          <th scope="col">Tokens in/out</th>
          <th scope="col">Cost</th>
          <th scope="col">Latency</th>
          {onShow && <th scope="col">Request</th>}
        </tr>
      </thead>
      <tbody>
        {records.map((r) => (
          <tr key={r.id}>
            <td>
              <Time iso={r.time} />
            </td>
            <td>{r.user ?? '—'}</td>
            <td>{r.model ?? '—'}</td>
            <td>
              {r.status}
              {r.errorType ? ` ${r.errorType}` : ''}
            </td>
            <td>
              {r.guard.decision}
              {Object.keys(r.guard.rules).length ? ` (${Object.keys(r.guard.rules).join(', ')})` : ''}
            </td>
            <td>
              {count(r.inputTokens)} / {count(r.outputTokens)}
            </td>
            <td>{usd(r.costUsd)}</td>
            <td>{Math.round(r.latencyMs)} ms</td>
            {onShow && (
              <td>
                <button
                  type="button"
                  onClick={() => onShow(r)}
                  aria-label={`Show the request ${r.id} of ${r.user ?? 'no user'}`}
                >
                  Show
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RequestsPage({ org }: PageProps) {
  const [draft, setDraft] = useState<Filters>(none);
  const [applied, setApplied] = useState<Filters>(none);
  const [cursors, setCursors] = useState<string[]>([]);
  const params = new URLSearchParams();
  for (const k of FILTERS) if (applied[k]) params.set(k, applied[k]);
  const cursor = cursors[cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  const [live, setLive] = useState(false);
  const [tick, setTick] = useState(0);
  // The live view: the newest page again every 3 seconds while it is on.
  useEffect(() => {
    if (!live || cursor) return;
    const timer = setInterval(() => setTick((n) => n + 1), 3_000);
    return () => clearInterval(timer);
  }, [live, cursor]);
  const loaded = useData<{ records: AuditRow[]; next: string | null }>(
    view(org, 'requests', params.toString()),
    tick,
  );
  return (
    <>
      <RequestFilters
        draft={draft}
        setDraft={setDraft}
        apply={() => {
          setCursors([]);
          setApplied(draft);
        }}
        live={live}
        setLive={setLive}
      />
      <Async
        loaded={loaded}
        what="requests"
        empty={(d) => d.records.length === 0}
        emptyText="No requests match these filters."
      >
        {(d) => (
          <>
            <RecordsTable
              records={d.records}
              caption={`Requests, newest first (page ${cursors.length + 1})`}
            />
            <div class="paging">
              <button type="button" disabled={cursors.length === 0} onClick={() => setCursors([])}>
                Newest
              </button>
              <button
                type="button"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Newer
              </button>
              <button
                type="button"
                disabled={!d.next}
                onClick={() => d.next && setCursors([...cursors, d.next])}
              >
                Older
              </button>
            </div>
          </>
        )}
      </Async>
    </>
  );
}

/** The filter form (applied on submit) and the live switch. */
function RequestFilters(p: {
  draft: Filters;
  setDraft: (f: Filters) => void;
  apply: () => void;
  live: boolean;
  setLive: (on: boolean) => void;
}) {
  const { draft, setDraft, apply, live, setLive } = p;
  const set = (k: keyof Filters) => (e: Event) =>
    setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <form
      class="filters"
      aria-label="Filter requests"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <Field label="User">
        <input value={draft.user} onInput={set('user')} />
      </Field>
      <Field label="Model">
        <input value={draft.model} onInput={set('model')} />
      </Field>
      <Field label="Status">
        <input value={draft.status} onInput={set('status')} inputMode="numeric" />
      </Field>
      <Field label="Guard decision">
        <select value={draft.decision} onChange={set('decision')}>
          <option value="">any</option>
          {['none', 'log', 'redact', 'block', 'error', 'fail-open'].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Since (7d, 24h or a date)">
        <input value={draft.since} onInput={set('since')} />
      </Field>
      <button type="submit">Apply</button>
      <label class="field inline live">
        <input
          type="checkbox"
          checked={live}
          onChange={(e) => setLive((e.target as HTMLInputElement).checked)}
        />
        <span>Live (newest page, every 3 s)</span>
      </label>
    </form>
  );
}
