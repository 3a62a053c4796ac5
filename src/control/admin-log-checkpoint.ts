/**
 * Signed checkpoints of the admin log, and the check of a log against them. A checkpoint says
 * "entry `seq` of the log has hash `head`", signed with Ed25519 by a key kept outside the store; since
 * each hash commits to every entry before it, one checkpoint pins the whole log up to `seq`.
 * `covers: 'entry'` is made by the process that appended that entry (every append gets one);
 * `covers: 'head'` is made by `sluice admin-log checkpoint` after an operator reviewed the log, and
 * vouches for every entry up to `seq`. See docs/admin-log.md for the guarantee this gives.
 */
import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import type { AdminLogEntry } from '../store/types.js';
import { verifyChain } from './admin-log.js';
import type { SigningKey, TrustedKey } from './admin-log-key.js';

export const CHECKPOINT_TYPE = 'sluice.admin-log.checkpoint';

const checkpointSchema = z
  .object({
    type: z.literal(CHECKPOINT_TYPE),
    v: z.literal(1),
    covers: z.enum(['entry', 'head']),
    seq: z.number().int().positive(),
    head: z.string().regex(/^[0-9a-f]{64}$/),
    /** When it was signed (ISO 8601). */
    time: z.string(),
    /** Which gateway or operator signed it (`adminLog.signer`, default the host name). */
    signer: z.string(),
    /** The id of the key that signed it. */
    key: z.string(),
    /** Base64 Ed25519 signature over the other fields (see `signedBytes`). */
    sig: z.string(),
  })
  .strict();

export type Checkpoint = z.infer<typeof checkpointSchema>;
export type CheckpointFields = Pick<Checkpoint, 'covers' | 'seq' | 'head' | 'time' | 'signer'>;

/** What is signed: a fixed prefix (so the signature means nothing elsewhere) and the fields in order. */
function signedBytes(c: Omit<Checkpoint, 'sig'>): Buffer {
  const fields = [c.type, c.v, c.covers, c.seq, c.head, c.time, c.signer, c.key];
  return Buffer.from(`sluice admin-log checkpoint\n${JSON.stringify(fields)}`, 'utf8');
}

export function signCheckpoint(key: SigningKey, fields: CheckpointFields): Checkpoint {
  const unsigned = { type: CHECKPOINT_TYPE, v: 1, ...fields, key: key.id } as const;
  return { ...unsigned, sig: sign(null, signedBytes(unsigned), key.privateKey).toString('base64') };
}

/**
 * The checkpoints in a file's text, by line: a checkpoint on its own (the checkpoint file, a webhook
 * receiver's archive) or inside a log line's `adminLogCheckpoint` (the gateway's log stream). Lines that
 * hold no checkpoint are skipped, so a whole log archive can be read.
 */
export function checkpointLines(text: string): { line: number; checkpoint: Checkpoint | undefined }[] {
  const found: { line: number; checkpoint: Checkpoint | undefined }[] = [];
  text.split('\n').forEach((raw, i) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return;
    }
    if (value && typeof value === 'object' && 'adminLogCheckpoint' in value) value = value.adminLogCheckpoint;
    if (!value || typeof value !== 'object' || (value as { type?: unknown }).type !== CHECKPOINT_TYPE) return;
    const parsed = checkpointSchema.safeParse(value);
    found.push({ line: i + 1, checkpoint: parsed.success ? parsed.data : undefined });
  });
  return found;
}

/** A file checkpoints are read from; `text` undefined when it does not exist. */
export interface CheckpointSource {
  path: string;
  text: string | undefined;
}

export type AdminLogProblem =
  | { kind: 'missing-file'; path: string }
  | { kind: 'malformed' | 'bad-signature'; path: string; lines: number[] }
  | { kind: 'untrusted-key'; path: string; lines: number[]; key: string; trusted: string[] }
  | { kind: 'chain'; seq: number; reason: string }
  | { kind: 'truncated'; last: number; seq: number; signer: string; time: string }
  | { kind: 'rewritten'; seq: number; signer: string; time: string; later: number }
  | { kind: 'uncovered'; from: number; to: number };

export interface AdminLogVerdict {
  ok: boolean;
  entries: number;
  /** Checkpoints whose signature verified with a trusted key. */
  checkpoints: number;
  problems: AdminLogProblem[];
}

/** Checks `entries` (in seq order) against the checkpoints in `sources` that a key in `trusted` signed. */
export function judgeAdminLog(
  entries: readonly AdminLogEntry[],
  sources: readonly CheckpointSource[],
  trusted: readonly TrustedKey[],
): AdminLogVerdict {
  const { valid, problems } = trustedCheckpoints(sources, trusted);
  const chain = verifyChain(entries);
  if (!chain.ok) problems.push({ kind: 'chain', seq: chain.seq, reason: chain.reason });
  problems.push(...compareWithCheckpoints(entries, valid));
  return { ok: problems.length === 0, entries: entries.length, checkpoints: valid.length, problems };
}

/** The checkpoints whose signature verifies with a trusted key, and a problem for every other one. */
export function trustedCheckpoints(
  sources: readonly CheckpointSource[],
  trusted: readonly TrustedKey[],
): { valid: Checkpoint[]; problems: AdminLogProblem[] } {
  const byId = new Map(trusted.map((k) => [k.id, k]));
  const valid: Checkpoint[] = [];
  const problems: AdminLogProblem[] = [];
  for (const { path, text } of sources) {
    if (text === undefined) {
      problems.push({ kind: 'missing-file', path });
      continue;
    }
    const malformed: number[] = [];
    const bad: number[] = [];
    const untrusted = new Map<string, number[]>();
    for (const { line, checkpoint: c } of checkpointLines(text)) {
      const key = c && byId.get(c.key);
      if (!c) malformed.push(line);
      else if (!key) untrusted.set(c.key, [...(untrusted.get(c.key) ?? []), line]);
      else if (!verify(null, signedBytes(c), key.key, Buffer.from(c.sig, 'base64'))) bad.push(line);
      else valid.push(c);
    }
    if (malformed.length) problems.push({ kind: 'malformed', path, lines: malformed });
    if (bad.length) problems.push({ kind: 'bad-signature', path, lines: bad });
    for (const [key, lines] of untrusted)
      problems.push({ kind: 'untrusted-key', path, lines, key, trusted: trusted.map((k) => k.id) });
  }
  return { valid, problems };
}

/** Truncation (the log ends before a checkpoint), rewrites (a hash differs) and entries no checkpoint covers. */
export function compareWithCheckpoints(
  entries: readonly AdminLogEntry[],
  valid: readonly Checkpoint[],
): AdminLogProblem[] {
  const problems: AdminLogProblem[] = [];
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const last = entries.at(-1)?.seq ?? 0;
  const furthest = valid.reduce<Checkpoint | undefined>((a, c) => (a && a.seq >= c.seq ? a : c), undefined);
  if (furthest && furthest.seq > last)
    problems.push({
      kind: 'truncated',
      last,
      seq: furthest.seq,
      signer: furthest.signer,
      time: furthest.time,
    });
  const differing = valid
    .filter((c) => {
      const e = bySeq.get(c.seq);
      return e !== undefined && e.hash !== c.head;
    })
    .sort((a, b) => a.seq - b.seq);
  const [first, ...later] = differing;
  if (first)
    problems.push({
      kind: 'rewritten',
      seq: first.seq,
      signer: first.signer,
      time: first.time,
      later: later.length,
    });
  const own = new Set(valid.filter((c) => c.covers === 'entry').map((c) => c.seq));
  const vouched = Math.max(0, ...valid.filter((c) => c.covers === 'head').map((c) => c.seq));
  const runs: { from: number; to: number }[] = [];
  for (const e of entries) {
    if (own.has(e.seq) || e.seq <= vouched) continue;
    const run = runs.at(-1);
    if (run && run.to === e.seq - 1) run.to = e.seq;
    else runs.push({ from: e.seq, to: e.seq });
  }
  return [...problems, ...runs.map((r) => ({ kind: 'uncovered' as const, ...r }))];
}

const ranges = (ns: number[]) =>
  ns
    .reduce<[number, number][]>((acc, n) => {
      const prev = acc.at(-1);
      if (prev && prev[1] === n - 1) prev[1] = n;
      else acc.push([n, n]);
      return acc;
    }, [])
    .map(([a, b]) => (a === b ? String(a) : `${a}-${b}`))
    .join(', ');

const linesAt = (path: string, lines: number[]) =>
  `admin log checkpoints in ${path}, line${lines.length === 1 ? '' : 's'} ${ranges(lines)}`;

/** One line a person can act on. */
export function describeProblem(p: AdminLogProblem): string {
  switch (p.kind) {
    case 'missing-file':
      return `admin log checkpoints missing: ${p.path} does not exist`;
    case 'malformed':
      return `${linesAt(p.path, p.lines)}: not a well-formed checkpoint`;
    case 'bad-signature':
      return `${linesAt(p.path, p.lines)}: bad signature (altered after signing)`;
    case 'untrusted-key':
      return `${linesAt(p.path, p.lines)}: signed by key ${p.key}, which is not trusted here (trusted: ${p.trusted.join(', ') || 'none'})`;
    case 'chain':
      return `admin log broken at entry ${p.seq}: ${p.reason}`;
    case 'truncated':
      return `admin log truncated: ${p.last === 0 ? 'it is empty' : `it ends at entry ${p.last}`}, but ${p.signer} signed a checkpoint of entry ${p.seq} at ${p.time}`;
    case 'rewritten':
      return `admin log rewritten at entry ${p.seq}: its hash differs from the one ${p.signer} signed at ${p.time}${p.later ? ` (and ${p.later} later checkpoint${p.later === 1 ? ' differs' : 's differ'} too)` : ''}`;
    case 'uncovered':
      return p.from === p.to
        ? `admin log entry ${p.from} is not covered by a signed checkpoint: appended outside Sluice, or its checkpoint was lost`
        : `admin log entries ${p.from}-${p.to} are not covered by a signed checkpoint: appended outside Sluice, or their checkpoints were lost`;
  }
}

/** The verdict as the lines `sluice admin-log verify` prints. */
export function describeVerdict(v: AdminLogVerdict): string {
  if (!v.ok) return v.problems.map((p) => describeProblem(p) + '\n').join('');
  if (v.entries === 0) return 'admin log intact: 0 entries\n';
  return `admin log intact: ${v.entries} ${v.entries === 1 ? 'entry' : 'entries'}, each covered by a signed checkpoint\n`;
}
