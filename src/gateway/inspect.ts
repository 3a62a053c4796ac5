/**
 * Stage: inspect. The guard applied to a Messages request (and a count_tokens request): every text
 * that reaches the model is scanned (through the content cache, so a resent history costs only its
 * new bytes), and each detection gets its kind's action for the org: off, log, redact or block.
 *
 * Placeholders are numbered per rule in document order within the request, with no state kept
 * between requests: Claude Code resends the whole history every turn, so turn N+1's redacted
 * history is turn N's, byte for byte, and the prompt cache keeps working across restarts and
 * across gateway instances. The value <-> placeholder map of one request is what restores the
 * values in that request's answer.
 */
import type { OrgConfig } from '../control/config.js';
import { ScanCache, scanSegments } from '../guard/cache.js';
import { PlaceholderVault, redact } from '../guard/redact.js';
import type { Detection, DetectionKind } from '../guard/types.js';

export type GuardAction = 'off' | 'log' | 'redact' | 'block';

/** One string of the request the model reads, and how to put a changed copy back. */
interface Segment {
  text: string;
  set(value: string): void;
}

export interface Inspection {
  decision: 'none' | 'log' | 'redact' | 'block';
  /** How many values were found in all, whatever the actions (the stored copy replaces them all). */
  found: number;
  /** Rule id -> how many values it found (detections whose kind is not `off`). */
  rules: Record<string, number>;
  /** The rules whose action is block, when the decision is `block`. */
  blockedRules: string[];
  /** The request to forward: the same object unless something was redacted. */
  forwarded: unknown;
  redactedForward: boolean;
  /** Each distinct string that changed, before and after redaction (for splicing the raw body). */
  changes: { before: string; after: string }[];
  /** The request with every detected value replaced, whatever the actions: the copy that may be stored. */
  stored: () => unknown;
  /** Placeholders issued for the forwarded request, to restore in the answer. */
  vault: PlaceholderVault;
}

/**
 * The strings of a Messages request that reach the model, in document order: `system`, text blocks,
 * `tool_result` content (strings and nested blocks), `tool_use` inputs (every string value),
 * documents (text and content sources, title, context) and search results. Thinking blocks are
 * skipped: they are the model's own signed output, and changing them breaks their signature.
 */
function segmentsOf(request: Record<string, unknown>): Segment[] {
  const out: Segment[] = [];
  const field = (holder: Record<string, unknown>, key: string) => {
    const value = holder[key];
    if (typeof value === 'string') out.push({ text: value, set: (v) => (holder[key] = v) });
  };
  const anyStrings = (holder: Record<string, unknown> | unknown[], key: string | number): void => {
    const value = (holder as Record<string | number, unknown>)[key];
    if (typeof value === 'string')
      out.push({ text: value, set: (v) => ((holder as Record<string | number, unknown>)[key] = v) });
    else if (Array.isArray(value)) value.forEach((_, i) => anyStrings(value, i));
    else if (value && typeof value === 'object')
      for (const k of Object.keys(value)) anyStrings(value as Record<string, unknown>, k);
  };
  const blocks = (holder: Record<string, unknown>, key: string): void => {
    const content = holder[key];
    if (typeof content === 'string') return field(holder, key);
    if (!Array.isArray(content)) return;
    for (const block of content) {
      if (!block || typeof block !== 'object') continue;
      const b = block as Record<string, unknown>;
      switch (b.type) {
        case 'text':
          field(b, 'text');
          break;
        case 'tool_result':
        case 'search_result':
          blocks(b, 'content');
          field(b, 'title');
          break;
        case 'tool_use':
        case 'server_tool_use':
          anyStrings(b, 'input');
          break;
        case 'document': {
          const source = b.source as Record<string, unknown> | undefined;
          if (source?.type === 'text') field(source, 'data');
          if (source?.type === 'content') blocks(source, 'content');
          field(b, 'title');
          field(b, 'context');
          break;
        }
        default:
          break;
      }
    }
  };
  blocks(request, 'system');
  const messages = request.messages;
  if (Array.isArray(messages))
    for (const m of messages) if (m && typeof m === 'object') blocks(m as Record<string, unknown>, 'content');
  return out;
}

/** The action an org takes for a detection: its kind's action, unless that PII kind is switched off. */
function actionFor(org: OrgConfig, d: Detection): GuardAction {
  if (d.kind === 'pii' && org.guard.piiKinds[d.rule] === false) return 'off';
  return d.kind === 'secret' ? org.guard.secrets : org.guard.pii;
}

/** Does this org's guard scan at all (for actions, or for a stored copy that must hold no value)? */
export function guardScans(org: OrgConfig): boolean {
  return (
    org.guard.secrets !== 'off' || org.guard.pii !== 'off' || (!org.zdr && org.contentLogging !== 'none')
  );
}

/**
 * Inspects `request` (parsed JSON of a Messages or count_tokens body; redacted in place when the
 * actions say so). Throws `GuardTimeoutError` past `deadline`.
 */
export function inspect(
  request: Record<string, unknown>,
  org: OrgConfig,
  cache: ScanCache,
  deadline: number,
): Inspection {
  const segments = segmentsOf(request);
  const kinds: DetectionKind[] = ['secret', 'pii'];
  const found = scanSegments(
    segments.map((s) => s.text),
    { kinds, deadline },
    cache,
  );
  const rules: Record<string, number> = {};
  const blocked = new Set<string>();
  let redactAny = false;
  let logAny = false;
  const toRedact: Detection[][] = found.map((list) =>
    list.filter((d) => {
      const action = actionFor(org, d);
      if (action === 'off') return false;
      rules[d.rule] = (rules[d.rule] ?? 0) + 1;
      if (action === 'block') blocked.add(d.rule);
      if (action === 'log') logAny = true;
      if (action !== 'redact') return false;
      redactAny = true;
      return true;
    }),
  );
  const vault = new PlaceholderVault();
  const originals = segments.map((s) => s.text);
  const decision = blocked.size ? 'block' : redactAny ? 'redact' : logAny ? 'log' : 'none';
  const changes = new Map<string, string>();
  if (decision === 'redact')
    segments.forEach((s, i) => {
      const list = toRedact[i] as Detection[];
      if (!list.length) return;
      const after = redact(s.text, list, vault);
      changes.set(s.text, after);
      s.set(after);
    });
  return {
    decision,
    found: found.reduce((n, list) => n + list.length, 0),
    rules,
    blockedRules: [...blocked].sort(),
    forwarded: request,
    redactedForward: decision === 'redact',
    changes: [...changes].map(([before, after]) => ({ before, after })),
    vault,
    stored: () => {
      // Every detected value goes, logged ones too; placeholders agree with the forwarded copy.
      const copy = structuredClone(request);
      const storedSegments = segmentsOf(copy);
      const storeVault = new PlaceholderVault();
      storedSegments.forEach((s, i) => {
        const all = found[i] ?? [];
        const base = originals[i] as string;
        s.set(all.length ? redact(base, all, storeVault) : base);
      });
      return copy;
    },
  };
}

export { ScanCache };

/**
 * The raw body with each changed string literal replaced, every other byte as the client sent it;
 * null when a literal is not found as `JSON.stringify` writes it (the client escaped it some other
 * way), and the caller re-serialises instead. Finding the literal, quotes included, costs a native
 * byte search over the body; re-serialising a long conversation costs many times more.
 */
export function spliceLiterals(body: Buffer, changes: { before: string; after: string }[]): Buffer | null {
  const edits: { at: number; length: number; bytes: Buffer }[] = [];
  for (const { before, after } of changes) {
    const needle = Buffer.from(JSON.stringify(before), 'utf8');
    const bytes = Buffer.from(JSON.stringify(after), 'utf8');
    let from = 0;
    let found = 0;
    for (;;) {
      const at = body.indexOf(needle, from);
      if (at < 0) break;
      edits.push({ at, length: needle.length, bytes });
      found++;
      from = at + needle.length;
    }
    if (!found) return null;
  }
  edits.sort((a, b) => a.at - b.at);
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    // Two literals can only overlap if one search matched across string boundaries: do not guess.
    if (e.at < at) return null;
    parts.push(body.subarray(at, e.at), e.bytes);
    at = e.at + e.length;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}
