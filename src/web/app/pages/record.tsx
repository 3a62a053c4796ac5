/** One audit record with its request as stored: secrets appear only as the guard's placeholders. */
import { useEffect, useRef } from 'preact/hooks';
import { view } from '../api.js';
import { Async, count, Time, usd, useData } from '../ui.js';
import type { AuditRow } from './requests.js';

interface RecordDetail {
  record: AuditRow & { method: string; upstream: string | null; keyId: string | null };
  request: string | null;
}

/** A request body as people read it: JSON indented, anything else as it is. */
function readable(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function RecordPanel(props: { org: string; id: string; onClose: () => void }) {
  const loaded = useData<RecordDetail>(view(props.org, `records/${encodeURIComponent(props.id)}`));
  const heading = useRef<HTMLHeadingElement>(null);
  // Keyboard users land on what they opened.
  useEffect(() => heading.current?.focus(), [props.id]);
  return (
    <section class="record" aria-labelledby="record-title">
      <h2 id="record-title" tabIndex={-1} ref={heading}>
        Request <code>{props.id}</code>
      </h2>
      <Async loaded={loaded} what="the record">
        {({ record: r, request }) => (
          <>
            <dl class="facts">
              <dt>Time</dt>
              <dd>
                <Time iso={r.time} />
              </dd>
              <dt>User</dt>
              <dd>{r.user ?? '—'}</dd>
              <dt>Request</dt>
              <dd>
                {r.method} {r.path} {r.model ? `(${r.model})` : ''}
              </dd>
              <dt>Status</dt>
              <dd>{r.status}</dd>
              <dt>Guard</dt>
              <dd>
                {r.guard.decision}
                {Object.entries(r.guard.rules).map(([rule, n]) => ` · ${rule} ×${count(n)}`)}
              </dd>
              <dt>Cost</dt>
              <dd>{usd(r.costUsd)}</dd>
            </dl>
            {request === null ? (
              <p class="state empty" role="status">
                The request was not kept: the org's contentLogging is none, zdr is on, or retention cleared
                it.
              </p>
            ) : (
              <>
                <p>
                  As stored: every value the guard detected is replaced by a placeholder such as{' '}
                  <code>[REDACTED:rule:1]</code>.
                </p>
                <pre class="content" tabIndex={0} aria-label="The request as stored">
                  {readable(request)}
                </pre>
              </>
            )}
          </>
        )}
      </Async>
      <button type="button" onClick={props.onClose}>
        Close the request
      </button>
    </section>
  );
}
