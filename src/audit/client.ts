/**
 * The Claude Code a machine would run, and its version, read from the installed files: the
 * executable is never run (a project can put anything called `claude` on a path).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import type { Machine } from './types.js';

export type ClientVia = 'PATH' | 'native installer' | 'local install' | 'project node_modules';

export interface InstalledClient {
  /** The `claude` found (before following links). */
  path: string;
  /** The file it leads to. */
  target: string;
  version: string | null;
  via: ClientVia;
}

/** What the audit knows of the client: found installs, and the version it evaluates for. */
export interface ClientInfo {
  /** The version the profile carries: `--client-version`, else the first install found, else none. */
  version: string | null;
  source: 'flag' | 'installed' | 'unknown';
  /** Every install found, the one a shell runs first. */
  installs: InstalledClient[];
}

const VERSION = /^\d+\.\d+\.\d+$/;
const PACKAGES = /^@anthropic-ai\/claude-code(-[a-z0-9-]+)?$/;

/** Where the client looks installed, the one a shell runs first. */
function candidates(machine: Machine): { path: string; via: ClientVia }[] {
  const dirs = (machine.env.PATH ?? '').split(delimiter).filter(Boolean);
  const home = resolve(machine.home);
  return [
    ...dirs.map((d) => ({ path: join(resolve(d), 'claude'), via: 'PATH' as const })),
    { path: join(home, '.local', 'bin', 'claude'), via: 'native installer' },
    { path: join(home, '.claude', 'local', 'claude'), via: 'local install' },
    { path: join(resolve(machine.project), 'node_modules', '.bin', 'claude'), via: 'project node_modules' },
  ];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The version of the install at `target`: the native installer's file name, or its npm package. */
async function versionAt(target: string): Promise<string | null> {
  if (basename(dirname(target)) === 'versions' && VERSION.test(basename(target))) return basename(target);
  let dir = dirname(target);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      if (typeof pkg.name === 'string' && PACKAGES.test(pkg.name))
        return typeof pkg.version === 'string' && VERSION.test(pkg.version) ? pkg.version : null;
    } catch {
      // No package.json here, or not JSON: look one folder up.
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Every `claude` on the machine's PATH and in the usual install places, without duplicates. */
export async function findClients(machine: Machine): Promise<InstalledClient[]> {
  const found: InstalledClient[] = [];
  for (const { path, via } of candidates(machine)) {
    if (!(await isFile(path))) continue;
    const target = await realpath(path).catch(() => path);
    if (found.some((c) => c.target === target)) continue;
    found.push({ path, target, via, version: await versionAt(target) });
  }
  return found;
}

/** The version to evaluate for, and what the audit must say it assumed. */
export function clientInfo(
  installs: InstalledClient[],
  flag: string | undefined,
): { client: ClientInfo; assumptions: string[] } {
  if (flag) return { client: { version: flag, source: 'flag', installs }, assumptions: [] };
  const first = installs[0];
  if (!first)
    return {
      client: { version: null, source: 'unknown', installs },
      assumptions: [
        'no Claude Code found (PATH, ~/.local/bin, ~/.claude/local, the project’s node_modules): its version is unknown, so the flows take the reading where more data leaves; pass --client-version',
      ],
    };
  const assumptions: string[] = [];
  if (first.version === null)
    assumptions.push(
      `the Claude Code at ${first.path} does not say its version: the flows take the reading where more data leaves; pass --client-version`,
    );
  const others = installs.filter((c) => c !== first && c.version !== first.version);
  if (others.length)
    assumptions.push(
      `client version ${first.version ?? 'unknown'} from ${first.path} (the first a shell finds); also installed: ${others.map((c) => `${c.version ?? 'unknown'} at ${c.path}`).join(', ')}`,
    );
  return {
    client: { version: first.version, source: first.version ? 'installed' : 'unknown', installs },
    assumptions,
  };
}
