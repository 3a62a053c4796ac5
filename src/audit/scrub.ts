/**
 * Redacting secrets at rest in transcripts and history.jsonl, in place. Only JSON string values change, so every
 * line stays valid JSON and sessions can still be resumed; files are replaced atomically with mode, owner and
 * mtime kept (the client's retention sweep keys on mtime, so a scrub must not make old files look new).
 */
import { randomBytes } from 'node:crypto';
import { chown, open, rename, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readConfiguration, retentionOf } from './audit.js';
import { redactLine } from './jsonl.js';
import { readLines } from './lines.js';
import { ageDays, listFiles, type Progress } from './local-data.js';
import type { Inspector, Machine } from './types.js';

export interface ScrubFileResult {
  file: string;
  status: 'redacted' | 'would-redact' | 'clean' | 'busy' | 'removed' | 'would-remove' | 'error';
  /** Line numbers changed (1-based). */
  lines: number[];
  /** Secrets replaced, by detector id. */
  redactions: Record<string, number>;
  /** Lines that are not JSON: left as they are. */
  unparseableLines: number[];
  error?: string;
}

const FLUSH_BYTES = 1 << 20;

/** Redacts one JSONL file; with `dryRun` only reports what it would change. */
export async function scrubFile(
  file: string,
  inspector: Inspector,
  dryRun = false,
): Promise<ScrubFileResult> {
  const result: ScrubFileResult = { file, status: 'clean', lines: [], redactions: {}, unparseableLines: [] };
  let before;
  try {
    before = await stat(file);
  } catch (err) {
    return { ...result, status: 'error', error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  const temp = join(dirname(file), `.${basename(file)}.sluice-${randomBytes(6).toString('hex')}.tmp`);
  const out = dryRun ? undefined : await open(temp, 'wx', before.mode & 0o7777);
  let buffer: string[] = [];
  let buffered = 0;
  const flush = async () => {
    if (out && buffer.length) await out.write(buffer.join(''));
    buffer = [];
    buffered = 0;
  };
  try {
    for await (const line of readLines(file)) {
      const redacted = redactLine(line.text, inspector);
      let text = line.text;
      if (redacted === null) result.unparseableLines.push(line.number);
      else if (redacted.text !== line.text) {
        text = redacted.text;
        result.lines.push(line.number);
        for (const [rule, n] of Object.entries(redacted.counts))
          result.redactions[rule] = (result.redactions[rule] ?? 0) + n;
      }
      buffer.push(line.newline ? `${text}\n` : text);
      buffered += text.length;
      if (buffered >= FLUSH_BYTES) await flush();
    }
    await flush();
    if (!out) return { ...result, status: result.lines.length ? 'would-redact' : 'clean' };
    await out.sync();
    await out.close();
    if (!result.lines.length) {
      await unlink(temp);
      return result;
    }
    // The client appends to live sessions: if the file moved under us, keep it and report.
    const now = await stat(file);
    if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
      await unlink(temp);
      return {
        ...result,
        status: 'busy',
        error: 'the file changed while it was scrubbed (a running session?); run again',
      };
    }
    if (process.getuid?.() === 0) await chown(temp, before.uid, before.gid).catch(() => undefined);
    await utimes(temp, before.atime, before.mtime);
    await rename(temp, file);
    return { ...result, status: 'redacted' };
  } catch (err) {
    await out?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    return { ...result, status: 'error', error: (err as Error).message };
  }
}

export interface ScrubReport {
  retentionDays: number;
  dryRun: boolean;
  files: ScrubFileResult[];
}

/** Scrubs every transcript and history.jsonl on `machine`; with `expired`, removes transcripts past retention first. */
export async function scrubMachine(
  machine: Machine,
  inspector: Inspector,
  options: { dryRun?: boolean; expired?: boolean; progress?: Progress } = {},
): Promise<ScrubReport> {
  const dryRun = options.dryRun ?? false;
  const { paths, settings } = await readConfiguration(machine);
  const retentionDays = retentionOf(settings);
  const transcripts = await listFiles(paths.transcripts, (n) => n.endsWith('.jsonl'));
  const history = (await listFiles(dirname(paths.history), (n) => n === 'history.jsonl')).filter(
    (f) => f.path === paths.history,
  );
  const files: ScrubFileResult[] = [];
  const keep = [];
  for (const t of transcripts) {
    if (options.expired && ageDays(t, machine.now) > retentionDays) {
      const removed: ScrubFileResult = {
        file: t.path,
        status: dryRun ? 'would-remove' : 'removed',
        lines: [],
        redactions: {},
        unparseableLines: [],
      };
      if (!dryRun) {
        try {
          await unlink(t.path);
        } catch (err) {
          Object.assign(removed, {
            status: 'error',
            error: (err as NodeJS.ErrnoException).code ?? String(err),
          });
        }
      }
      files.push(removed);
    } else keep.push(t);
  }
  const queue = [...keep, ...history];
  const total = queue.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const f of queue) {
    options.progress?.(done, total, f.path);
    files.push(await scrubFile(f.path, inspector, dryRun));
    done += f.size;
  }
  options.progress?.(total, total, '');
  return { retentionDays, dryRun, files };
}
