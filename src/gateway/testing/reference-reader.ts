/**
 * The reference the body reader is tested and fuzzed against (body.test.ts, test/fuzz/targets/
 * body.ts): what the model reads of a request, found by walking `JSON.parse`'s output, which keeps a
 * repeated key's last value as the upstream's parser does. Written from the rule in body.ts's
 * header, not from the reader's code.
 */

/**
 * The reference, written from the rule rather than from the reader: every key and string of the
 * request as `JSON.parse` sees it (a repeated key keeps its last value, as the upstream's parser
 * does), but the model's name, block ids, opaque `encrypted_*` values, a thinking block's `thinking`
 * and `signature`, a redacted thinking block's `data`, and a base64 source's `data`.
 */
export function modelReads(request: unknown): string[] {
  const out: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const any = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(any);
    else if (isObject(v))
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        any(x);
      }
  };
  /** Each entry's key, and its value unless `skip` says otherwise; `inner` reads the value. */
  const entries = (
    o: Record<string, unknown>,
    skip: (k: string) => boolean,
    inner: (k: string) => (v: unknown) => void,
  ) => {
    for (const [k, v] of Object.entries(o)) {
      out.push(k);
      if (!(typeof v === 'string' && skip(k))) inner(k)(v);
    }
  };
  const blocks = (v: unknown): void => (Array.isArray(v) ? v.forEach(block) : any(v));
  const source = (s: unknown): void =>
    isObject(s)
      ? entries(
          s,
          (k) => k === 'data' && s.type === 'base64',
          (k) => (k === 'content' ? blocks : any),
        )
      : any(s);
  const block = (b: unknown): void =>
    isObject(b)
      ? entries(
          b,
          (k) =>
            ['id', 'tool_use_id', 'encrypted_content', 'encrypted_index'].includes(k) ||
            (b.type === 'thinking' && (k === 'thinking' || k === 'signature')) ||
            (b.type === 'redacted_thinking' && k === 'data'),
          (k) => (k === 'content' || k === 'citations' ? blocks : k === 'source' ? source : any),
        )
      : any(b);
  const message = (m: unknown): void =>
    isObject(m)
      ? entries(
          m,
          () => false,
          (k) => (k === 'content' ? blocks : any),
        )
      : any(m);
  if (isObject(request))
    entries(
      request,
      (k) => k === 'model',
      (k) =>
        k === 'messages'
          ? (v) => (Array.isArray(v) ? v.forEach(message) : any(v))
          : k === 'system'
            ? blocks
            : any,
    );
  return out;
}

/** What the gateway requires of a parsed request (the last of a repeated key counts). */
export function isMessagesRequest(r: Record<string, unknown>): boolean {
  return (
    typeof r.model === 'string' &&
    r.model !== '' &&
    Array.isArray(r.messages) &&
    (!Object.hasOwn(r, 'max_tokens') || typeof r.max_tokens === 'number')
  );
}

/** Multiset difference: the items of `want` that `have` lacks (each item of `have` used once). */
export function missing(have: string[], want: string[]): string[] {
  const left = new Map<string, number>();
  for (const h of have) left.set(h, (left.get(h) ?? 0) + 1);
  return want.filter((w) => {
    const n = left.get(w) ?? 0;
    if (n) left.set(w, n - 1);
    return !n;
  });
}
