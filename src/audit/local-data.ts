/** What Claude Code keeps on disk: transcripts, prompt history and queued telemetry, inspected by streaming. */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { digest, finding } from './finding.js';
import { isJson } from './jsonl.js';
import { readLines } from './lines.js';
import { scanLine } from './jsonl.js';
import type { Finding, Inspector, MachinePaths } from './types.js';

const DAY_MS = 86_400_000;

export interface LocalFile {
  path: string;
  size: number;
  mtimeMs: number;
  mode: number;
}

/** Every regular file under `dir` whose name passes `keep`; a missing directory is empty. */
export async function listFiles(
  dir: string,
  keep: (name: string) => boolean = () => true,
): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && keep(e.name)) {
        try {
          const s = await stat(p);
          out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs, mode: s.mode });
        } catch {
          // Vanished while walking (the client's own sweep): nothing to report.
        }
      }
    }
  };
  await walk(dir);
  return out;
}

export function ageDays(file: LocalFile, now: Date): number {
  return (now.getTime() - file.mtimeMs) / DAY_MS;
}

export interface LocalDataSummary {
  transcripts: { files: number; bytes: number; stale: number };
  history?: { bytes: number; oldest?: string; secrets: number };
  telemetry: { files: number; bytes: number };
}

export type Progress = (done: number, total: number, file: string) => void;

/** Inspects local data against the effective retention; every secret and personal datum as a finding, masked. */
export async function inspectLocalData(input: {
  paths: MachinePaths;
  retentionDays: number;
  now: Date;
  inspector: Inspector;
  progress?: Progress;
}): Promise<{ findings: Finding[]; summary: LocalDataSummary }> {
  const { paths, retentionDays, now, inspector } = input;
  const findings: Finding[] = [];
  const transcripts = await listFiles(paths.transcripts, (n) => n.endsWith('.jsonl'));
  const history = (await listFiles(dirname(paths.history), (n) => n === 'history.jsonl')).find(
    (f) => f.path === paths.history,
  );
  const queue = [...transcripts, ...(history ? [history] : [])];
  const total = queue.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const summary: LocalDataSummary = {
    transcripts: { files: transcripts.length, bytes: transcripts.reduce((n, f) => n + f.size, 0), stale: 0 },
    telemetry: { files: 0, bytes: 0 },
  };

  for (const file of queue) {
    input.progress?.(done, total, file.path);
    const isHistory = file === history;
    const result = await inspectContent(file.path, inspector, isHistory);
    findings.push(...result.findings);
    if (isHistory) {
      const secrets = result.findings.filter((f) => f.id === 'secret-in-transcript').length;
      summary.history = {
        bytes: file.size,
        secrets,
        ...(result.oldest ? { oldest: result.oldest.toISOString() } : {}),
      };
      const oldestDays = ((result.oldest?.getTime() ?? file.mtimeMs) - now.getTime()) / -DAY_MS;
      if (secrets || oldestDays > retentionDays) {
        findings.push(
          finding({
            id: 'history-unswept',
            severity: secrets ? 'medium' : 'low',
            message:
              `Prompt history ${file.path} is never swept by Claude Code's cleanupPeriodDays (${retentionDays} days)` +
              (oldestDays > retentionDays ? `; its oldest entry is ${Math.floor(oldestDays)} days old` : '') +
              (secrets ? `; it holds ${secrets} secret(s)` : '') +
              '.',
            file: file.path,
            fix: 'Run `sluice scrub` to redact secrets; trim or delete the file on a schedule; set CLAUDE_CODE_SKIP_PROMPT_HISTORY=1 to stop writing it.',
          }),
        );
      }
    }
    done += file.size;
  }
  input.progress?.(total, total, '');

  const stale = staleFindings(transcripts, paths, retentionDays, now);
  summary.transcripts.stale = stale.files;
  findings.push(...stale.findings);

  const telemetry = await listFiles(paths.telemetry);
  summary.telemetry = { files: telemetry.length, bytes: telemetry.reduce((n, f) => n + f.size, 0) };
  if (telemetry.length) {
    findings.push(
      finding({
        id: 'queued-telemetry',
        severity: 'low',
        message: `${telemetry.length} queued telemetry file(s) (${summary.telemetry.bytes} bytes) wait under ${paths.telemetry} to be sent to Anthropic (environment details, model, session id).`,
        file: paths.telemetry,
        fix: 'Set DISABLE_TELEMETRY=1 or CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 in the managed settings env, then delete the queued files.',
      }),
    );
  }
  return { findings, summary };
}

/** One stale finding per project folder: the client sweeps by file mtime, so a stale file means the sweep lags. */
function staleFindings(
  transcripts: LocalFile[],
  paths: MachinePaths,
  retentionDays: number,
  now: Date,
): { files: number; findings: Finding[] } {
  const findings: Finding[] = [];
  let stale = 0;
  const staleByDir = new Map<string, LocalFile[]>();
  for (const t of transcripts) {
    if (ageDays(t, now) > retentionDays) {
      const dir = dirname(t.path);
      staleByDir.set(dir, [...(staleByDir.get(dir) ?? []), t]);
    }
  }
  for (const [dir, files] of staleByDir) {
    stale += files.length;
    const oldest = Math.max(...files.map((f) => ageDays(f, now)));
    findings.push(
      finding({
        id: 'stale-transcript',
        severity: 'medium',
        message: `${files.length} transcript(s) in ${relative(paths.transcripts, dir) || '.'} are older than the ${retentionDays}-day retention (oldest ${Math.floor(oldest)} days); Claude Code has not swept them.`,
        file: files.length === 1 ? files[0]!.path : dir,
        fix: 'Run `sluice scrub --expired` to remove them, or start Claude Code so its sweep runs.',
      }),
    );
  }
  return { files: stale, findings };
}

interface Seen {
  rule: string;
  preview: string;
  firstLine: number;
  lines: number;
}

async function inspectContent(
  path: string,
  inspector: Inspector,
  isHistory: boolean,
): Promise<{ findings: Finding[]; oldest?: Date }> {
  const secrets = new Map<string, Seen>();
  const pii = new Map<string, Seen>();
  let oldest: Date | undefined;
  const where = isHistory ? 'prompt history (never swept by the client)' : 'transcript';
  for await (const line of readLines(path)) {
    const { detections } = scanLine(line.text, inspector);
    const lineSeen = new Set<string>();
    for (const d of detections) {
      const table = d.kind === 'secret' ? secrets : pii;
      // Secrets: one finding per distinct value; personal data: one per detector, to stay readable.
      const key = d.kind === 'secret' ? `${d.rule}\u0000${digest(d.value)}` : d.rule;
      if (lineSeen.has(key)) continue;
      lineSeen.add(key);
      const seen = table.get(key);
      if (seen) seen.lines++;
      else
        table.set(key, { rule: d.rule, preview: inspector.mask(d.value), firstLine: line.number, lines: 1 });
    }
    if (isHistory && isJson(line.text)) {
      const ts = (JSON.parse(line.text) as { timestamp?: unknown }).timestamp;
      const date = typeof ts === 'number' || typeof ts === 'string' ? new Date(ts) : undefined;
      if (date && !Number.isNaN(date.getTime()) && (!oldest || date < oldest)) oldest = date;
    }
  }
  const findings: Finding[] = [];
  for (const [key, s] of secrets) {
    const more = s.lines > 1 ? ` and ${s.lines - 1} more line(s)` : '';
    findings.push(
      finding(
        {
          id: 'secret-in-transcript',
          severity: 'high',
          message: `A ${s.rule} secret (${s.preview}) is stored in plaintext in this ${where}, line ${s.firstLine}${more}.`,
          file: path,
          line: s.firstLine,
          rule: s.rule,
          fix: 'Rotate the credential; run `sluice scrub` to redact it in place; deny the Read tool on .env-style files.',
        },
        key,
      ),
    );
  }
  for (const [key, s] of pii) {
    const more = s.lines > 1 ? ` and ${s.lines - 1} more line(s)` : '';
    findings.push(
      finding(
        {
          id: 'pii-in-transcript',
          severity: 'medium',
          message: `Personal data (${s.rule}, e.g. ${s.preview}) is stored in this ${where}, line ${s.firstLine}${more}.`,
          file: path,
          line: s.firstLine,
          rule: s.rule,
          fix: 'Shorten cleanupPeriodDays, remove the session when it is no longer needed (`sluice scrub --expired`), keep personal data out of prompts.',
        },
        key,
      ),
    );
  }
  return { findings, ...(oldest ? { oldest } : {}) };
}
