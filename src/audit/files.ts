/** Finding and reading the files Claude Code reads; a file that cannot be read becomes a finding, never a crash. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { finding } from './finding.js';
import type { Finding, Machine, MachinePaths } from './types.js';

/** Resolves every path the client reads on `machine`. */
export async function locate(machine: Machine): Promise<MachinePaths> {
  const home = resolve(machine.home);
  const project = resolve(machine.project);
  const configDirEnv = machine.useConfigDirEnv === false ? undefined : machine.env.CLAUDE_CONFIG_DIR;
  const configDir = configDirEnv ? resolve(configDirEnv) : join(home, '.claude');
  // With CLAUDE_CONFIG_DIR the global config moves into that directory too.
  const globalConfig = configDirEnv ? join(configDir, '.claude.json') : join(home, '.claude.json');
  const managed = resolve(machine.managed);
  const managedIsFile = managed.endsWith('.json') || (await isFile(managed));
  const managedDir = managedIsFile ? dirname(managed) : managed;
  return {
    configDir,
    globalConfig,
    userSettings: join(configDir, 'settings.json'),
    projectSettings: join(project, '.claude', 'settings.json'),
    localSettings: join(project, '.claude', 'settings.local.json'),
    projectMcp: join(project, '.mcp.json'),
    managedDir,
    managedSettings: managedIsFile ? managed : join(managedDir, 'managed-settings.json'),
    managedDropIns: join(managedDir, 'managed-settings.d'),
    managedMcp: join(managedDir, 'managed-mcp.json'),
    transcripts: join(configDir, 'projects'),
    history: join(configDir, 'history.jsonl'),
    telemetry: join(configDir, 'telemetry'),
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export type JsonRead =
  | { status: 'missing' }
  | { status: 'ok'; data: Record<string, unknown> }
  | { status: 'error'; finding: Finding };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a JSON-object file the way the client needs it; `missing` when absent, a finding when unusable. */
export async function readJsonObject(file: string, what = 'settings file'): Promise<JsonRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    const reason = code === 'EISDIR' ? 'it is a directory, not a file' : describeError(err);
    return { status: 'error', finding: unreadable(file, what, reason) };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { status: 'error', finding: malformed(file, what, 'not valid UTF-8') };
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { status: 'error', finding: malformed(file, what, `not valid JSON: ${parserReason(err)}`) };
  }
  if (!isRecord(data)) {
    const found = data === null ? 'null' : Array.isArray(data) ? 'an array' : `a ${typeof data}`;
    return { status: 'error', finding: malformed(file, what, `expected a JSON object, found ${found}`) };
  }
  return { status: 'ok', data };
}

/** The `*.json` files of a drop-in directory, alphabetically; hidden and other files are ignored as the client does. */
export async function listDropIns(dir: string): Promise<{ files: string[]; finding?: Finding }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { files: [] };
    return { files: [], finding: unreadable(dir, 'managed drop-in directory', describeError(err)) };
  }
  const files = names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
  return { files };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** V8 quotes a slice of the input in some parse errors; that slice may hold a secret, so drop it. */
function parserReason(err: unknown): string {
  return (err as Error).message.replace(/, ".*$/s, '');
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}

function unreadable(file: string, what: string, reason: string): Finding {
  return finding(
    {
      id: 'settings-unreadable',
      severity: 'medium',
      message: `Cannot read ${what} ${basename(file)}: ${reason}. Claude Code cannot apply it either.`,
      file,
      fix: `Make ${file} a readable regular file holding a JSON object, or remove it.`,
    },
    reason,
  );
}

function malformed(file: string, what: string, reason: string): Finding {
  return finding(
    {
      id: 'settings-malformed',
      severity: 'medium',
      message: `The ${what} ${basename(file)} is ${reason}. Claude Code skips it, so its rules (deny rules included) do not apply.`,
      file,
      fix: `Fix the JSON in ${file} (check with \`node -e "JSON.parse(require('fs').readFileSync(process.argv[1]))" ${file}\`).`,
    },
    reason.replace(/ at position \d+.*$/, ''),
  );
}
