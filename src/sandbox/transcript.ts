/**
 * A session's transcript at its end: received from inside the sandbox (untrusted bytes, bounded),
 * scrubbed by the guard (every string value of every JSON line; secrets always, personal data too
 * under `redacted`), and kept as files of mode 0600 in a 0700 folder per org, or not kept at all.
 * Kept transcripts older than the org's retention are removed when the next session of the org ends.
 */
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PlaceholderVault, redact, scan } from '../guard/index.js';

export interface TranscriptFile {
  /** The path under ~/.claude/projects, as the sandbox named it. */
  name: string;
  bytes: Buffer;
}

export interface TranscriptReceiver {
  /**
   * What was handed over, once the sandbox has ended: the files of a complete hand-over (which
   * the runner waits to see acknowledged before it exits), or none when it did not complete.
   */
  finish(): Promise<{ files: TranscriptFile[]; complete: boolean; truncated: boolean }>;
}

/** Listens on `path` for one hand-over: `{"file":…,"bytes":n}` lines, each followed by n bytes. */
export async function receiveTranscripts(path: string, maxBytes: number): Promise<TranscriptReceiver> {
  const files: TranscriptFile[] = [];
  let truncated = false;
  let complete = false;
  let total = 0;
  const server: Server = createServer((socket) => {
    server.close();
    let buf = Buffer.alloc(0);
    let want: { name: string; bytes: number } | null = null;
    const reject = () => {
      files.length = 0;
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        truncated = true;
        return reject();
      }
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!want) {
          const nl = buf.indexOf(10);
          if (nl < 0) break;
          want = parseHeader(buf.subarray(0, nl).toString('utf8'));
          buf = buf.subarray(nl + 1);
          if (!want) return reject();
        }
        if (buf.length < want.bytes) break;
        files.push({ name: want.name, bytes: buf.subarray(0, want.bytes) });
        buf = buf.subarray(want.bytes);
        want = null;
      }
    });
    socket.on('end', () => {
      if (want || buf.length) return reject();
      complete = true;
      socket.end('ok\n');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    finish: async () => {
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
      return { files: complete ? files : [], complete, truncated };
    },
  };
}

function parseHeader(line: string): { name: string; bytes: number } | null {
  try {
    const h = JSON.parse(line) as { file?: unknown; bytes?: unknown };
    if (typeof h.file !== 'string' || !Number.isSafeInteger(h.bytes) || (h.bytes as number) < 0) return null;
    return { name: h.file, bytes: h.bytes as number };
  } catch {
    return null;
  }
}

/** A file name for a transcript path from inside: its segments joined by `__`, nothing but safe characters. */
export function safeName(name: string): string {
  const flat = name
    .split('/')
    .filter((s) => s && s !== '.' && s !== '..')
    .join('__')
    .replace(/[^A-Za-z0-9._-]/g, '_');
  return (flat || 'transcript').slice(0, 200);
}

/** `text` (JSONL) with the kinds in `kinds` replaced by placeholders in every string; counts by rule. */
export function scrubTranscript(
  text: string,
  kinds: ('secret' | 'pii')[],
): { text: string; redactions: Record<string, number> } {
  const vault = new PlaceholderVault();
  const redactions: Record<string, number> = {};
  const clean = (value: string): string => {
    const found = scan(value, { kinds });
    for (const d of found) redactions[d.rule] = (redactions[d.rule] ?? 0) + 1;
    return found.length ? redact(value, found, vault) : value;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const lines = text.split('\n').map((line) => {
    if (!line.trim()) return line;
    try {
      return JSON.stringify(walk(JSON.parse(line)));
    } catch {
      // Not JSON (a cut line): scrubbed as text.
      return clean(line);
    }
  });
  return { text: lines.join('\n'), redactions };
}

/** Writes scrubbed transcripts to `dir/<session>/`; returns the folder and the redaction counts. */
export async function keepTranscripts(
  dir: string,
  session: string,
  files: TranscriptFile[],
  kinds: ('secret' | 'pii')[],
): Promise<{ folder: string; redactions: Record<string, number> }> {
  const folder = join(dir, session);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await chmod(folder, 0o700);
  const redactions: Record<string, number> = {};
  for (const f of files) {
    const scrubbed = scrubTranscript(f.bytes.toString('utf8'), kinds);
    for (const [rule, n] of Object.entries(scrubbed.redactions))
      redactions[rule] = (redactions[rule] ?? 0) + n;
    await writeFile(join(folder, safeName(f.name)), scrubbed.text, { mode: 0o600, flag: 'wx' });
  }
  return { folder, redactions };
}

/** Removes kept session folders under `dir` last written before `before`; returns how many went. */
export async function sweepTranscripts(dir: string, before: Date): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => null);
    if (s?.isDirectory() && s.mtime < before) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
