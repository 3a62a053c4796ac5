/** Shared pieces of every page: data loading with its loading, error and empty states, and times. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from './api.js';

export type Loaded<T> =
  { state: 'loading' } | { state: 'error'; error: string; status: number } | { state: 'ok'; data: T };

/** GETs `url` whenever it (or `version`) changes. */
export function useData<T>(url: string | null, version = 0): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (url === null) return;
    let live = true;
    // A new address shows the loading state; a refresh of the same one keeps what is shown.
    if (shown.current !== url) setLoaded({ state: 'loading' });
    shown.current = url;
    call<T>('GET', url).then(
      (data) => live && setLoaded({ state: 'ok', data }),
      (err: unknown) =>
        live &&
        setLoaded({
          state: 'error',
          error: err instanceof Error ? err.message : String(err),
          status: err instanceof ApiError ? err.status : 0,
        }),
    );
    return () => {
      live = false;
    };
  }, [url, version]);
  return loaded;
}

/** Renders `children(data)` once loaded; a status line while loading; the gateway's message on error. */
export function Async<T>(props: {
  loaded: Loaded<T>;
  what: string;
  empty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ComponentChildren;
}) {
  const l = props.loaded;
  if (l.state === 'loading')
    return (
      <p class="state loading" role="status">
        Loading {props.what}…
      </p>
    );
  if (l.state === 'error')
    return (
      <div class="state error" role="alert">
        <strong>Could not load {props.what}.</strong> {l.error}
      </div>
    );
  if (props.empty?.(l.data))
    return (
      <p class="state empty" role="status">
        {props.emptyText ?? `No ${props.what} yet.`}
      </p>
    );
  return <>{props.children(l.data)}</>;
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A time in the viewer's zone, with the ISO time as its machine-readable value. */
export function Time({ iso }: { iso: string | null }) {
  if (!iso) return <span>—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={`${iso} (UTC)`}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

export const viewerZone = zone;

export const usd = (n: number | null) => (n === null ? '—' : n === 0 ? '$0' : `$${n.toFixed(n < 1 ? 4 : 2)}`);
export const count = (n: number) => n.toLocaleString();

export function Field(props: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}
