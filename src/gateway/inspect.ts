/**
 * Stage: inspect. The guard applied to a Messages request (and a count_tokens request): every
 * string of the request, keys included, is scanned but the few `readMessagesBody` leaves out (see
 * body.ts), and each detection gets its kind's action for the org: off, log, redact or block.
 *
 * The body is never rebuilt: `readMessagesBody` lists the byte spans of the string literals to
 * scan, the content cache recognises a literal it has seen by its bytes (Claude Code resends
 * the whole history every turn, so a request costs only its new literals), and redaction splices
 * new literals into the original bytes (a key is a literal like any other, so a redacted key is
 * still valid JSON). Every other byte is forwarded as the client sent it.
 *
 * Placeholders are numbered per rule in document order within the request, with no state kept
 * between requests: turn N+1's redacted history is turn N's, byte for byte, so the prompt cache
 * keeps working, across restarts and across gateway instances. The value <-> placeholder map of
 * one request is what restores the values in that request's answer.
 */
import type { OrgConfig } from '../control/config.js';
import { allowMatcher } from '../guard/allowlist.js';
import { type ScanCache, scanEncoded } from '../guard/cache.js';
import { PlaceholderVault, redact } from '../guard/redact.js';
import type { Detection } from '../guard/types.js';
import { BodyError, type MessagesBody, type ScanResult, type Span } from './body.js';

export type GuardAction = 'off' | 'log' | 'redact' | 'block';

export interface Inspection {
  decision: 'none' | 'log' | 'redact' | 'block';
  /** How many values were found in all, whatever the actions (the stored copy replaces them all). */
  found: number;
  /** Rule id -> how many values it found (detections whose kind is not `off`). */
  rules: Record<string, number>;
  /** The rules whose action is block, when the decision is `block`. */
  blockedRules: string[];
  /** The body to forward: the same buffer unless something was redacted. */
  forwarded: Buffer;
  /**
   * The body with every detected value replaced, whatever the actions: the copy that may be stored
   * (the body itself when nothing was found: no copy).
   */
  storedBytes: () => Buffer;
  /** Placeholders issued for the forwarded body, to restore in the answer. */
  vault: PlaceholderVault;
  /** What was found in each span, for the next request of the conversation (`prior`). */
  results: ScanResult[];
}

/** The result of a span where nothing was found (its text is not kept). */
const NOTHING: ScanResult = { text: '', detections: [] };

/** Each org's `guard.allow`, compiled once per loaded configuration. */
const allowed = new WeakMap<OrgConfig['guard'], (value: string) => boolean>();

/**
 * The action an org takes for a detection: its kind's action, unless that PII kind is switched off
 * or the value is on the org's allowlist.
 */
function actionFor(org: OrgConfig, d: Detection): GuardAction {
  if (d.kind === 'pii' && org.guard.piiKinds[d.rule] === false) return 'off';
  let isAllowed = allowed.get(org.guard);
  if (!isAllowed) allowed.set(org.guard, (isAllowed = allowMatcher(org.guard.allow)));
  if (isAllowed(d.value)) return 'off';
  return d.kind === 'secret' ? org.guard.secrets : org.guard.pii;
}

function decodeLiteral(encoded: Buffer): string {
  try {
    const value: unknown = JSON.parse(encoded.toString('utf8'));
    if (typeof value === 'string') return value;
  } catch {
    // reported below
  }
  throw new BodyError('a string in the body is not valid JSON', true);
}

/** `body` with the literal at each span replaced by the JSON encoding of its new text. */
function splice(body: Buffer, edits: { span: Span; text: string }[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const { span, text } of edits) {
    parts.push(body.subarray(at, span.start), Buffer.from(JSON.stringify(text), 'utf8'));
    at = span.end;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}

/**
 * The previous body's results, and which spans are its own: `[from, to)` at the same index, and
 * `tail` (the spans after `messages`, moved) at index `i - tail.from + tail.previousFrom`.
 */
export interface Prior {
  results: readonly (ScanResult | undefined)[];
  from: number;
  to: number;
  tail?: { from: number; to: number; previousFrom: number };
}

/** What `message` took over from the conversation's previous read (its results, when it has any). */
export function priorOf(message: MessagesBody): Prior | undefined {
  const results = message.previous?.results;
  if (!results) return undefined;
  return { results, ...message.reused, ...(message.reusedTail ? { tail: message.reusedTail } : {}) };
}

function priorResult(prior: Prior, i: number): ScanResult | undefined {
  if (i >= prior.from && i < prior.to) return prior.results[i];
  const t = prior.tail;
  return t && i >= t.from && i < t.to ? prior.results[i - t.from + t.previousFrom] : undefined;
}

/**
 * Inspects the literals at `spans` (from `readMessagesBody`, in document order) of `body`.
 * Throws `GuardTimeoutError` past `deadline`, `BodyError` for a literal that does not decode.
 */
export function inspect(
  body: Buffer,
  spans: readonly Span[],
  org: OrgConfig,
  cache: ScanCache,
  deadline: number,
  prior?: Prior,
): Inspection {
  // Both kinds, every rule: actions are applied after the scan, so one cache entry serves every org.
  // Spans taken over from the conversation's previous body stand for the same bytes: their results
  // are reused without even a cache lookup; the rest go through the content cache. Texts are kept
  // only where something was found (they are needed to redact): the array serves the next request.
  const results: ScanResult[] = new Array<ScanResult>(spans.length);
  const todo: number[] = [];
  for (let i = 0; i < spans.length; i++) {
    const known = prior ? priorResult(prior, i) : undefined;
    if (known) results[i] = known;
    else todo.push(i);
  }
  if (todo.length) {
    const scanned = scanEncoded(
      todo.map((i) => body.subarray((spans[i] as Span).start, (spans[i] as Span).end)),
      decodeLiteral,
      { deadline },
      cache,
    );
    todo.forEach((i, j) => {
      const r = scanned[j] as ScanResult;
      results[i] = r.detections.length ? r : NOTHING;
    });
  }
  // Spans where something was found (usually none): the only ones actions are looked up for.
  const hits: number[] = [];
  for (let i = 0; i < results.length; i++) if ((results[i] as ScanResult).detections.length) hits.push(i);
  const rules: Record<string, number> = {};
  const blocked = new Set<string>();
  let redactAny = false;
  let logAny = false;
  let total = 0;
  const toRedact = hits.map((i) => {
    const { detections } = results[i] as ScanResult;
    total += detections.length;
    return detections.filter((d) => {
      const action = actionFor(org, d);
      if (action === 'off') return false;
      rules[d.rule] = (rules[d.rule] ?? 0) + 1;
      if (action === 'block') blocked.add(d.rule);
      if (action === 'log') logAny = true;
      if (action !== 'redact') return false;
      redactAny = true;
      return true;
    });
  });
  const decision = blocked.size ? 'block' : redactAny ? 'redact' : logAny ? 'log' : 'none';
  const vault = new PlaceholderVault();
  const edits: { span: Span; text: string }[] = [];
  if (decision === 'redact')
    toRedact.forEach((list, h) => {
      const i = hits[h] as number;
      if (list.length)
        edits.push({ span: spans[i] as Span, text: redact((results[i] as ScanResult).text, list, vault) });
    });
  const storedBytes = (): Buffer => {
    // Every detected value goes, logged ones too.
    const storeVault = new PlaceholderVault();
    const all: { span: Span; text: string }[] = [];
    for (const i of hits) {
      const { text, detections } = results[i] as ScanResult;
      all.push({ span: spans[i] as Span, text: redact(text, detections, storeVault) });
    }
    return all.length ? splice(body, all) : body;
  };
  return {
    decision,
    found: total,
    rules,
    blockedRules: [...blocked].sort(),
    forwarded: edits.length ? splice(body, edits) : body,
    vault,
    results,
    storedBytes,
  };
}
